"""The set-based merge of a staged file: last row wins, stored rows updated, new rows inserted, staging removed."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from billers.models import Account, Invoice

pytestmark = pytest.mark.django_db

GUID = "E7A1C2D4-5B6F-4A8B-9C0D-2778A1B2C3D4"
FORMAT = "BA1CEC36-997C-48E3-8406-437640EDFF84"


def invoice_rows(number: str, account: str, name: str, total: str, email: str = "") -> list[str]:
    return [f"IH|N|{FORMAT}|{number}|11/01/2026|11/21/2026|{total}",
            f"CR|{account}|{name}|1 MAIN ST||MANASSAS|VA|20110||{email}",
            f"ID|1|{account}|ELECTRIC|RS1||||||{total}"]


def write_bif(path: Path, *invoices: list[str]) -> Path:
    total = sum(Decimal(rows[0].rsplit("|", 1)[1]) for rows in invoices)
    lines = [f"FH|{GUID}|11/20/2026|{len(invoices)}|{total:.2f}", *(row for rows in invoices for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_repeating_an_account_and_an_invoice_keeps_the_last_rows(load_sample, tmp_path):
    path = write_bif(tmp_path / "2778_11202026.BIF",
                     invoice_rows("INV-1", "A-1", "FIRST NAME", "10.00"),
                     invoice_rows("INV-2", "A-1", "SECOND NAME", "20.00"),
                     invoice_rows("INV-1", "A-1", "LAST NAME", "30.00", "last@example.com"))
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded", exchange.errors
    counts = exchange.counts
    assert (counts["accounts_created"], counts["accounts_updated"], counts["invoices_created"],
            counts["invoices_updated"]) == (1, 0, 2, 0)
    account = Account.objects.get(account_number="A-1")
    assert (account.name, account.email) == ("LAST NAME", "last@example.com")
    assert Invoice.objects.get(invoice_number="INV-1").total_amount_due == Decimal("30.00")
    assert Invoice.objects.get(invoice_number="INV-2").account == account


def test_stored_rows_are_updated_and_new_ones_inserted(load_sample, tmp_path):
    load_sample("daffron", write_bif(tmp_path / "2778_11202026.BIF",
                                     invoice_rows("INV-1", "A-1", "JANE DOE", "10.00"),
                                     invoice_rows("INV-2", "A-2", "JOHN DOE", "20.00")))
    Account.objects.filter(account_number="A-1").update(block_ach=True, customer_number="C-9")
    Invoice.objects.filter(invoice_number="INV-1").update(payment_expiration_message="Pay at the office")
    exchange = load_sample("daffron", write_bif(tmp_path / "2778_12202026.BIF",
                                                invoice_rows("INV-1", "A-1", "JANE DOE", "11.00"),
                                                invoice_rows("INV-1", "A-1", "NEW TENANT", "12.00"),
                                                invoice_rows("INV-3", "A-3", "NEW ACCOUNT", "30.00")))
    assert exchange.status == "succeeded", exchange.errors
    counts = exchange.counts
    assert (counts["accounts_created"], counts["accounts_updated"], counts["accounts_conveyed"]) == (1, 1, 1)
    assert (counts["invoices_created"], counts["invoices_updated"]) == (1, 1)
    account = Account.objects.get(account_number="A-1")
    assert (account.name, account.block_ach, account.customer_number) == ("NEW TENANT", True, "C-9")
    invoice = Invoice.objects.get(invoice_number="INV-1")
    assert invoice.total_amount_due == Decimal("12.00")
    assert invoice.payment_expiration_message == "Pay at the office"  # not in the file: kept
    assert Invoice.objects.get(invoice_number="INV-3").account.name == "NEW ACCOUNT"
    assert Invoice.objects.count() == 3 and Account.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_staging_leaves_nothing_behind(intake_biller, tmp_path, monkeypatch):
    """Outside a transaction SQLite stages into a scratch file of its own (PostgreSQL keeps its COPY
    running between batches): the file loads, and the scratch file is gone afterwards."""
    from billers import loading
    from billers import loading_sql
    from exchanges.intake import import_file

    monkeypatch.setattr(loading, "BATCH", 2)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made = []
    monkeypatch.setattr(loading_sql, "_scratch_dir", lambda: made.append(1) or str(scratch))
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i % 3}", f"NAME {i}", "5.00")
                                                       for i in range(7)))
    exchange = import_file(biller=intake_biller("daffron"), stream_or_path=path, file_name=path.name,
                           source="command")
    assert exchange.status == "succeeded", exchange.errors
    assert (exchange.counts["invoices_created"], exchange.counts["accounts_created"]) == (7, 3)
    assert Account.objects.get(account_number="A-0").name == "NAME 6"  # the last of A-0's rows
    assert os.listdir(scratch) == []
    assert made == ([1] if connection.vendor == "sqlite" else [])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert [row[1] for row in cursor.execute("PRAGMA database_list")] == ["main", "temp"]


def test_scratch_files_left_by_a_killed_load_are_removed(tmp_path):
    from billers.loading_sql import SCRATCH_STALE_AFTER, _remove_stale_scratch

    stale, live, other = (tmp_path / name for name in ("bb_stage_3_x.sqlite3", "bb_stage_4_y.sqlite3", "keep.sqlite3"))
    for path in (stale, live, other):
        path.write_bytes(b"")
    old = os.stat(live).st_mtime - SCRATCH_STALE_AFTER - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    _remove_stale_scratch(str(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3")) == ["bb_stage_4_y.sqlite3", "keep.sqlite3"]
