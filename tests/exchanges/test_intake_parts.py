"""Big invoice files read in slices by several processes at once: the same outcome as a serial read."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from bench.gen_invoices import daffron_bif, flexibill_bif
from billers.models import Account, Invoice
from exchanges.intake_models import QuarantinedRecord
from exchanges.intake_parts import cut, slice_reader
from tests.exchanges.test_intake_merge import invoice_rows, write_bif

pytestmark = pytest.mark.django_db(transaction=True)  # the readers see only committed tables


@pytest.fixture
def readers(settings):
    """readers(n): read every BIF and FlexiBill invoice file in n slices, whatever its size."""

    def use(count: int) -> None:
        settings.INTAKE_READERS = count
        settings.INTAKE_PARALLEL_MIN_BYTES = 0

    return use


def stored(biller) -> dict[str, tuple]:
    rows = Invoice.objects.filter(biller=biller).values_list(
        "invoice_number", "account__account_number", "account__name", "total_amount_due", "header", "customer",
        "details")
    return {row[0]: row[1:] for row in rows}


def test_cut_starts_every_slice_on_a_record_line_and_numbers_its_first_line(tmp_path):
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i}", "JANE", "1.00")
                                                       for i in range(10)))
    data = path.read_bytes()
    parts = cut(path, b"\nIH|", 3)
    assert [p.index for p in parts] == [0, 1, 2]
    assert parts[0].start == 0 and parts[-1].end is None
    for before, after in zip(parts, parts[1:]):
        assert before.end == after.start
        assert data[after.start:after.start + 3] == b"IH|"
        assert after.first_line == data[:after.start].count(b"\n") + 1
        with slice_reader(path, before) as stream:
            assert stream.read() == data[before.start:before.end]


def test_cut_gives_fewer_slices_when_the_file_has_fewer_records(tmp_path):
    path = write_bif(tmp_path / "2778_11202026.BIF", invoice_rows("INV-1", "A-1", "JANE", "1.00"))
    first_invoice = path.read_bytes().index(b"IH|")
    assert [(p.start, p.first_line) for p in cut(path, b"\nIH|", 4)] == [(0, 1), (first_invoice, 2)]


@pytest.mark.parametrize("partner, generate, count", [("daffron", daffron_bif, 400),
                                                       ("flexibill", flexibill_bif, 150)])
def test_a_file_read_in_slices_loads_what_a_serial_read_loads(readers, make_biller, tmp_path, partner, generate,
                                                              count):
    from exchanges.intake import import_file

    name = "2778_11202026.BIF" if partner == "daffron" else "flexibill_4411.BIF"
    biller = make_biller(partner, 2778 if partner == "daffron" else 4411)
    generate(tmp_path / name, count, biller.bid)
    loaded = {}
    for slices in (1, 3):
        readers(slices)
        Invoice.objects.all().delete()
        Account.objects.all().delete()
        exchange = import_file(biller=biller, stream_or_path=tmp_path / name, file_name=name, source="command",
                               duplicate_check=False)
        assert exchange.status == "succeeded", exchange.errors
        assert ("Read in 3 slices" in exchange.message) == (slices == 3)
        assert exchange.counts["invoices"] == exchange.counts["accounts_created"] == count
        assert exchange.progress_done == count
        loaded[slices] = stored(biller)
    assert len(loaded[3]) == count
    assert loaded[3] == loaded[1]


@pytest.mark.parametrize("partner", ["daffron", "flexibill", "inhance"])
def test_a_reader_reads_its_slice_without_loading_django(readers, make_biller, tmp_path, partner):
    """What a reader process is given (the load's state, the slices, the writer) unpickles and reads
    in an interpreter that never imports Django: a reader stays small."""
    import pickle
    import subprocess
    import sys

    from django.conf import settings

    from billers.loading_parts import _Job, _picklable
    from billers.loading_rows import Customizations, RowContext
    from billers.loading_run import LoadRun
    from billers.loading_sql import INVOICE_COLUMNS
    from billers.loading_writers import SqlitePartWriter
    from exchanges.intake_formats import format_for
    from exchanges.intake_parts import parts_of

    bid, name, generate = {"daffron": (2778, "2778_11202026.BIF", daffron_bif),
                           "flexibill": (4411, "flexibill_4411.BIF", flexibill_bif),
                           "inhance": (1966, "upload.BIF", daffron_bif)}[partner]
    biller = make_biller(partner, bid)
    generate(tmp_path / name, 30, bid)
    readers(3)
    parts = parts_of(format_for(partner, "invoices"), tmp_path / name, biller, name, "invoices")
    run = LoadRun(biller_id=biller.pk, kind="invoices", quarantine=False,
               row_context=RowContext(Customizations.build([]), None))
    job = pickle.dumps(_Job(run, _picklable(parts), SqlitePartWriter(str(tmp_path / "x"), INVOICE_COLUMNS), 10))
    script = ("import pickle, sys; import billers.loading_parts; job = pickle.load(sys.stdin.buffer); "
              "rows = job.run.invoice_rows(list(job.parts.read(job.parts.parts[1]))); "
              "print(len(rows), sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework'}))")
    done = subprocess.run([sys.executable, "-c", script], input=job, capture_output=True, cwd=settings.BASE_DIR,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(settings.BASE_DIR)}, check=True)
    second = parts.parts[1]
    lines = (tmp_path / name).read_bytes()[second.start:second.end].splitlines()
    invoices = sum(line.startswith(b"HDR" if partner == "flexibill" else b"IH|") for line in lines)
    assert invoices and done.stdout.decode() == f"{invoices} []\n"


def test_the_last_row_of_an_account_wins_across_slices(readers, load_sample, tmp_path):
    readers(2)
    invoices = [invoice_rows(f"INV-{i}", f"A-{i}", f"NAME {i}", "10.00") for i in range(30)]
    invoices[0] = invoice_rows("INV-0", "A-SAME", "FIRST TENANT", "10.00")
    invoices[-1] = invoice_rows("INV-0", "A-SAME", "LAST TENANT", "30.00")
    path = write_bif(tmp_path / "2778_11202026.BIF", *invoices)
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded", exchange.errors
    assert "Read in 2 slices" in exchange.message
    assert (exchange.counts["invoices_created"], exchange.counts["accounts_created"]) == (29, 29)
    assert Account.objects.get(account_number="A-SAME").name == "LAST TENANT"
    assert Invoice.objects.get(invoice_number="INV-0").total_amount_due == Decimal("30.00")


def stored_accounts_repeated_across_slices(tmp_path) -> Path:
    """A second file for the biller of ``first_file``: A-1 (stored) in both slices, A-2 (stored) once."""
    invoices = [invoice_rows(f"NEW-{i}", f"B-{i}", f"NAME {i}", "10.00") for i in range(30)]
    invoices[0] = invoice_rows("INV-1", "A-1", "MIDDLE TENANT", "11.00")
    invoices[5] = invoice_rows("INV-2", "A-2", "SECOND TENANT", "12.00")
    invoices[-1] = invoice_rows("INV-1", "A-1", "LAST TENANT", "13.00")
    return write_bif(tmp_path / "2778_11212026.BIF", *invoices)


def first_file(tmp_path) -> Path:
    return write_bif(tmp_path / "2778_11202026.BIF", invoice_rows("INV-1", "A-1", "FIRST TENANT", "10.00"),
                     invoice_rows("INV-2", "A-2", "SECOND TENANT", "10.00"))


@pytest.mark.parametrize("check_aside", ["works", "fails"])
def test_stored_rows_repeated_across_slices_take_the_last_row_and_count_once(readers, load_sample, tmp_path,
                                                                           monkeypatch, caplog, check_aside):
    from billers import loading_sql

    if check_aside == "fails":  # the repeat check fails on its own connection: it runs again on the merge's
        repeated = loading_sql.Stage.repeated

        def failing(self, *keys, cursor=None):
            if cursor is not None and type(cursor).__module__.startswith("psycopg"):  # not Django's cursor
                raise OSError("the connection dropped")
            return repeated(self, *keys, cursor=cursor)

        monkeypatch.setattr(loading_sql.Stage, "repeated", failing)
    assert load_sample("daffron", first_file(tmp_path)).status == "succeeded"
    readers(2)
    exchange = load_sample("daffron", stored_accounts_repeated_across_slices(tmp_path))
    assert exchange.status == "succeeded", exchange.errors
    assert "Read in 2 slices" in exchange.message
    counts = exchange.counts
    assert (counts["accounts_created"], counts["accounts_updated"], counts["accounts_conveyed"]) == (27, 2, 1)
    assert (counts["invoices_created"], counts["invoices_updated"]) == (27, 2)
    assert Account.objects.get(account_number="A-1").name == "LAST TENANT"
    assert Invoice.objects.get(invoice_number="INV-1").total_amount_due == Decimal("13.00")
    assert Invoice.objects.get(invoice_number="INV-2").total_amount_due == Decimal("12.00")
    failed = [r for r in caplog.records if "on a connection of its own failed" in r.getMessage()]
    assert bool(failed) == (check_aside == "fails" and connection.vendor == "postgresql")


def test_the_fh_count_is_checked_against_every_slice(readers, load_sample, tmp_path):
    readers(2)
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i}", "JANE", "1.00")
                                                       for i in range(20)))
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("|20|", "|21|")
    path.write_text("\n".join(lines) + "\n")
    exchange = load_sample("daffron", path)
    assert exchange.status == "failed"
    assert [(e["line"], e["field"], e["message"]) for e in exchange.errors] == [
        (1, "InvoiceCount", "the file has 20 invoices")]
    assert not Invoice.objects.exists() and not Account.objects.exists()


def test_bad_bytes_in_a_later_slice_reject_the_file_naming_their_line(readers, load_sample, tmp_path):
    readers(2)
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i}", "JANE", "1.00")
                                                       for i in range(20)))
    data = path.read_bytes().replace(b"INV-18|", b"INV-\xff8|")
    path.write_bytes(data)
    line = data[:data.index(b"\xff")].count(b"\n") + 1
    assert cut(path, b"\nIH|", 2)[1].first_line < line
    exchange = load_sample("daffron", path)
    assert exchange.status == "failed"
    assert [(e["line"], e["field"]) for e in exchange.errors] == [(line, "encoding")]
    assert not Invoice.objects.exists()


def test_quarantine_sets_aside_invalid_records_of_every_slice_with_their_lines(readers, load_sample, tmp_path):
    """Invalid invoices in both slices, one of them the last of the first slice and found only after
    parsing (an invoice number longer than the column): each set-aside record has exactly its lines."""
    readers(2)
    count = 24

    def build(bad: set[int]) -> Path:
        invoices = []
        for i in range(count):
            # 60 characters (the column's size) or 61 for a bad one: the cut stays where it was
            number = f"INV-{i:02d}".ljust(61 if i in bad else 60, "X")
            rows = invoice_rows(number, f"A-{i}", "JANE", "1.00")
            if i == 3:
                rows[0] = rows[0].replace("|11/01/2026|", "|13/01/2026|")  # found by the parser
            invoices.append(rows)
        return write_bif(tmp_path / "2778_11202026.BIF", *invoices)

    path = build(set())
    parts = cut(path, b"\nIH|", 2)
    first_of_second = (parts[1].first_line - 2) // 3  # the invoice the second slice starts with
    bad = {first_of_second - 1, count - 2}
    path = build(bad)
    assert cut(path, b"\nIH|", 2)[1].first_line == parts[1].first_line
    lines = path.read_text().splitlines()
    exchange = load_sample("daffron", path, policy="quarantine")
    assert exchange.status == "partial", exchange.errors
    assert "Read in 2 slices" in exchange.message
    assert exchange.counts["invoices"] == count - 3
    records = {r.line: r for r in QuarantinedRecord.objects.filter(exchange=exchange)}
    expected = {2 + 3 * i for i in (3, *bad)}
    assert set(records) == expected
    for first in expected:
        assert records[first].raw == "\n".join(lines[first - 1:first + 2])
    assert {e["line"] for e in exchange.errors} == expected


def test_a_file_loaded_inside_a_transaction_reads_its_slices_one_after_another(readers, settings, make_biller,
                                                                               tmp_path):
    from django.db import transaction

    from exchanges.intake import import_file

    readers(2)
    biller = make_biller("daffron", 2778)
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i}", "JANE", "1.00")
                                                       for i in range(20)))
    with transaction.atomic():
        exchange = import_file(biller=biller, stream_or_path=path, file_name=path.name, source="command")
    assert exchange.status == "succeeded", exchange.errors
    assert "slices" not in exchange.message
    assert Invoice.objects.filter(biller=biller).count() == 20


def test_postgresql_drops_shared_staging_tables_a_killed_load_left_behind(readers, load_sample, tmp_path):
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite stages in scratch files (their clean-up is tested with the loader)")
    readers(2)
    stale, recent = "bb_stage_1000_1_1", f"bb_stage_{int(time.time())}_1_1"
    with connection.cursor() as cursor:
        for table in (stale, recent):
            cursor.execute(f"CREATE UNLOGGED TABLE {table} (seq bigint)")
    path = write_bif(tmp_path / "2778_11202026.BIF", *(invoice_rows(f"INV-{i}", f"A-{i}", "JANE", "1.00")
                                                       for i in range(10)))
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded" and "Read in 2 slices" in exchange.message
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'bb_stage_%%'")
        assert [row[0] for row in cursor.fetchall()] == [recent]
        cursor.execute(f"DROP TABLE {recent}")
