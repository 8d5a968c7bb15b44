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


postgres_only = pytest.mark.skipif("os.environ.get('DATABASE_URL', '').split(':')[0] not in ('postgres', 'postgresql')")


def _dangling_invoice(biller_id: int) -> None:
    """Insert an invoice whose account does not exist (its foreign-key check is deferred to the end)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billers_invoice (biller_id, account_id, invoice_number, record_type, invoice_format_guid, "
            "invoice_date, due_date, total_amount_due, payment_expiration_message, active, header, customer, "
            "details, created_at, updated_at) VALUES (%s, 987654321, 'DANGLING', 'N', '', '2026-11-01', "
            "'2026-11-21', 1, '', true, '{}', '{}', '[]', now(), now())", [biller_id])


def _check_deferred_constraints() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgres_only
def test_a_merge_skips_the_per_row_reference_checks_where_the_role_may(intake_biller):
    """Tests run as a superuser: inside the block no foreign-key check is queued; after it they are again."""
    from django.db import IntegrityError, transaction

    from billers.loading_sql import reference_checks_skipped

    biller = intake_biller("daffron")
    with transaction.atomic():
        with reference_checks_skipped(biller.pk) as skipped:
            _dangling_invoice(biller.pk)
        assert skipped
        _check_deferred_constraints()  # nothing was queued: no error
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM billers_invoice WHERE invoice_number = 'DANGLING'")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SELECT current_setting('session_replication_role')")
            assert cursor.fetchone()[0] == "origin"
    with pytest.raises(IntegrityError), transaction.atomic():  # outside the block: checked as usual
        _dangling_invoice(biller.pk)
        _check_deferred_constraints()


@postgres_only
def test_a_role_without_the_privilege_keeps_the_reference_checks(intake_biller):
    from django.db import transaction

    from billers.loading_sql import may_skip_triggers, reference_checks_skipped

    biller = intake_biller("daffron")
    assert may_skip_triggers()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE ROLE bb_plain_loader NOLOGIN")  # rolled back with the test
        cursor.execute("GRANT SELECT ON billers_biller TO bb_plain_loader")
        cursor.execute("SET LOCAL ROLE bb_plain_loader")
        assert not may_skip_triggers()
        with reference_checks_skipped(biller.pk) as skipped:
            cursor.execute("SELECT current_setting('session_replication_role')")
            assert cursor.fetchone()[0] == "origin"
        assert not skipped
        cursor.execute("RESET ROLE")


@postgres_only
def test_a_big_merge_leaves_the_reference_checks_on_for_the_rest_of_its_transaction(load_sample, tmp_path):
    """The setting is back before the merge returns: what else its transaction writes (the quarantined
    records ``on_merge`` stores) is checked as usual."""
    from django.db import connection as conn

    seen = []
    path = write_bif(tmp_path / "2778_11202026.BIF", invoice_rows("INV-1", "A-1", "JANE DOE", "10.00"))
    with conn.execute_wrapper(lambda execute, sql, params, many, context: seen.append(sql) or
                              execute(sql, params, many, context)):
        exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded", exchange.errors
    settings = [sql for sql in seen if "session_replication_role" in sql and "set_config" in sql]
    assert len(settings) == 2, settings  # replica for the merge statements, origin after them
    insert = next(i for i, sql in enumerate(seen) if sql.startswith("INSERT INTO billers_invoice"))
    assert seen.index(settings[0]) < insert < seen.index(settings[1])
