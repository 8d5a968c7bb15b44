"""The exchange record of an import: raw file kept, progress, re-run, retention; files from the bench generator."""
from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bench.gen_invoices import daffron_bif, flexibill_bif
from billers.models import Account, Invoice
from exchanges import storage
from exchanges.intake import rerun_exchange
from exchanges.models import Exchange
from tests.exchanges.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def test_raw_file_is_kept_with_checksum_and_size_even_when_rejected(load_sample, data_dir, tmp_path):
    path = tmp_path / "2779_11202026.BIF"
    path.write_bytes((SAMPLES / "daffron_2778_11202026.BIF").read_bytes())
    exchange = load_sample("daffron", path)
    assert exchange.status == "failed"
    kept = data_dir / exchange.raw_path
    created = timezone.localtime(exchange.created_at)
    assert exchange.raw_path == f"exchanges/{created:%Y/%m/%d}/{exchange.pk}_2779_11202026.BIF"
    assert kept.read_bytes() == path.read_bytes()
    assert exchange.raw_size == path.stat().st_size
    assert exchange.checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_prune_exchanges_removes_old_raw_files_and_keeps_rows(load_sample, data_dir, settings, capsys):
    settings.EXCHANGE_RETENTION_DAYS = 30
    old = load_sample("daffron", "daffron_2778_11202026.BIF")
    recent = load_sample("flexibill", "flexibill_4411.BIF")
    Exchange.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    call_command("prune_exchanges")
    summary = capsys.readouterr().out
    assert '"pruned": 1' in summary and '"older_than_days": 30' in summary
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.raw_pruned_at is not None and not (data_dir / old.raw_path).exists()
    assert old.checksum and old.raw_size and old.counts["invoices"] == 4  # the row stays whole
    assert recent.raw_pruned_at is None and (data_dir / recent.raw_path).exists()
    Exchange.objects.filter(pk=old.pk).update(status="failed")
    with pytest.raises(ValueError, match="no raw file"):
        rerun_exchange(Exchange.objects.get(pk=old.pk), actor="im")
    call_command("prune_exchanges")
    assert '"pruned": 0' in capsys.readouterr().out


def test_a_download_is_linked_into_the_store_not_copied(data_dir, tmp_path, monkeypatch):
    sample = (SAMPLES / "daffron_2778_11202026.BIF").read_bytes()
    download = Path(data_dir) / "payload"  # on the store's file system, as a transport's download is
    download.write_bytes(sample)
    stored = storage.store(download, exchange_id=7, file_name="2778_11202026.BIF", link=True)
    kept = storage.absolute(stored.relative_path)
    assert kept.stat().st_ino == download.stat().st_ino and kept.stat().st_nlink == 2  # no second copy written
    download.unlink()  # the caller drops its own name; the store's stays
    assert kept.read_bytes() == sample
    assert (stored.size, stored.sha256) == (len(sample), hashlib.sha256(sample).hexdigest())
    elsewhere = tmp_path / "payload"  # on another file system a hard link fails with EXDEV: copied instead
    elsewhere.write_bytes(sample)
    real_link = os.link

    def link(src, dst):
        if Path(src) == elsewhere:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    copied = storage.store(elsewhere, exchange_id=8, file_name="2778_11202026.BIF", link=True)
    kept = storage.absolute(copied.relative_path)
    assert kept.read_bytes() == sample and copied.sha256 == stored.sha256 and kept.stat().st_nlink == 1


def test_storage_refuses_paths_outside_the_store(data_dir):
    with pytest.raises(ValueError):
        storage.absolute("../billbridge.sqlite3")
    assert storage.safe_name("../../etc/pa ss|wd") == "pa_ss_wd"


def test_progress_is_recorded_every_batch(load_sample, monkeypatch, tmp_path):
    from billers import loading
    from exchanges import intake

    monkeypatch.setattr(loading, "BATCH", 1_000)
    seen = []
    original = intake._progress

    def spy(exchange, done):
        original(exchange, done)
        seen.append(Exchange.objects.values_list("progress_done", "progress_total", "status").get(pk=exchange.pk))

    monkeypatch.setattr(intake, "_progress", spy)
    path = tmp_path / "2778_11202026.BIF"
    daffron_bif(path, 3_500)
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded"
    assert seen == [(1000, 3500, "running"), (2000, 3500, "running"), (3000, 3500, "running"),
                    (3500, 3500, "running")]
    assert (exchange.progress_done, exchange.progress_total) == (3500, 3500)


def test_the_row_says_when_reading_is_over_and_the_merge_runs(load_sample, monkeypatch, tmp_path):
    from billers import loading_sql

    during = []
    original = loading_sql.merge_invoices

    def spy(stage, **kwargs):
        during.append(Exchange.objects.values_list("message", "progress_done").get(status="running"))
        return original(stage, **kwargs)

    monkeypatch.setattr(loading_sql, "merge_invoices", spy)
    path = tmp_path / "2778_11202026.BIF"
    daffron_bif(path, 1_200)
    exchange = load_sample("daffron", path)
    [(message, done)] = during
    assert message.endswith(". Read 1,200 records; merging them into accounts and invoices.") and done == 1_200
    assert exchange.status == "succeeded" and "merging" not in exchange.message
    during.clear()
    bad = tmp_path / "2778_11212026.BIF"  # the FH counts two invoices, the file has one
    bad.write_text("FH|G|11/20/2026|2|1.00\nIH|N||INV-1|11/01/2026|11/21/2026|1.00\nCR|A-1|JANE DOE\n")
    rejected = load_sample("daffron", bad)
    assert rejected.status == "failed" and during == [] and "merging" not in rejected.message


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_another_connection_while_loading(intake_biller, monkeypatch, tmp_path):
    """Progress is its own short write: a second connection reads it between batches."""
    from billers import loading
    from exchanges import intake
    from exchanges.intake import import_file

    monkeypatch.setattr(loading, "BATCH", 500)
    seen = []
    original = intake._progress
    params = connection.settings_dict

    def read_elsewhere(exchange_id: int) -> int:
        sql = "SELECT progress_done FROM exchanges_exchange WHERE id = %s"
        if connection.vendor == "postgresql":
            import psycopg

            with psycopg.connect(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432,
                                 user=params["USER"], dbname=params["NAME"]) as other:
                return other.execute(sql, [exchange_id]).fetchone()[0]
        other = sqlite3.connect(params["NAME"], uri=True, timeout=5)
        try:
            return other.execute(sql.replace("%s", "?"), [exchange_id]).fetchone()[0]
        finally:
            other.close()

    def spy(exchange, done):
        original(exchange, done)
        seen.append(read_elsewhere(exchange.pk))

    monkeypatch.setattr(intake, "_progress", spy)
    path = tmp_path / "2778_11202026.BIF"
    daffron_bif(path, 1_200)
    exchange = import_file(biller=intake_biller("daffron"), stream_or_path=path, file_name=path.name,
                           source="command")
    assert exchange.status == "succeeded"
    assert seen == [500, 1000, 1200]


def test_failed_exchange_is_rerun_from_its_raw_file(load_sample, intake_biller):
    from billers.models import BifCustomizationDefinition, BillerCustomization

    biller = intake_biller("daffron")
    custom = BillerCustomization.objects.create(
        biller=biller, value="later", definition=BifCustomizationDefinition.objects.get(name="InvoiceDueDate"))
    failed = load_sample("daffron", "daffron_2778_11202026.BIF")
    assert failed.status == "failed" and not Invoice.objects.exists()
    custom.delete()
    rerun = rerun_exchange(failed, actor="im")
    assert rerun.pk == failed.pk and rerun.status == "succeeded" and rerun.counts["invoices"] == 4
    assert "Re-run by im" in rerun.message and "before: failed" in rerun.message
    with pytest.raises(ValueError, match="only failed or pending"):
        rerun_exchange(rerun)


@pytest.mark.parametrize("partner", ["daffron", "flexibill"])
def test_generated_files_load_with_matching_counts_and_totals(load_sample, tmp_path, partner):
    generate = {"daffron": daffron_bif, "flexibill": flexibill_bif}[partner]
    path = tmp_path / {"daffron": "2778_11202026.BIF", "flexibill": "flexibill_4411.BIF"}[partner]
    count, total = generate(path, 2_500)
    exchange = load_sample(partner, path)
    assert exchange.status == "succeeded", exchange.errors[:3]
    assert exchange.counts["invoices"] == count == 2_500 and exchange.counts["accounts_created"] == count
    invoices = Invoice.objects.filter(biller=exchange.biller)
    assert invoices.count() == count
    assert sum(invoices.values_list("total_amount_due", flat=True), Decimal(0)) == total
    assert Account.objects.filter(biller=exchange.biller).count() == count
    assert all(len(details) == 3 for details in invoices.values_list("details", flat=True)[:50])
    again = load_sample(partner, path, name=path.name)
    assert again.status == "duplicate"
