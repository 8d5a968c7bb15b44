"""Benchmark invoice intake: generate a Daffron BIF and a FlexiBill .BIF of N invoices and import them.

    python bench/import_invoices.py --invoices 100000                     # SQLite (a scratch file)
    python bench/import_invoices.py --invoices 100000 --postgres          # a scratch PostgreSQL database
    python bench/import_invoices.py --invoices 100000 --postgres postgres://postgres@127.0.0.1:5432/x

Each invoice has a customer record and three detail rows. Printed per file: our import (through
``exchanges.intake.import_file``, the same path as SFTP/upload/API) in invoices/s; the bare parse
(read and split only); django-import-export's ModelResource over the same invoice rows (bulk mode, on
at most --iex-sample rows: it is ~100x slower, its rate is measured on the sample); the two ratios;
and the peak RSS of the process up to the end of our imports (generation included). Targets (issue
3): SQLite 20,000 invoices/s, PostgreSQL 30,000 invoices/s, peak memory under 300 MB whatever N.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ReaderPeaks(logging.Handler):
    """Collects, from the intake's log line of each exchange, its slices and its biggest reader's peak
    resident memory (each reader measures its own, fork-to-exec pages left out)."""

    pattern = re.compile(r"\((\d+) slices, readers' peak (\d+) MB\)")

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []  # (slices, MB)

    def emit(self, record: logging.LogRecord) -> None:
        if found := self.pattern.search(record.getMessage()):
            self.seen.append((int(found[1]), int(found[2])))


def setup(args: argparse.Namespace, work: Path) -> str | None:
    """Point Django at a scratch database, create the tables from the models; return a PG db to drop."""
    os.environ["DATA_DIR"] = str(work / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    scratch = None
    if args.postgres is not None:
        import psycopg

        url = args.postgres or os.environ.get("DATABASE_URL") or DEFAULT_PG
        scratch = f"bench_intake_{uuid.uuid4().hex[:8]}"
        base = url.rsplit("/", 1)[0]
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["DATABASE_URL"] = f"{base}/{scratch}"
    else:
        os.environ.pop("DATABASE_URL", None)
    import django
    from django.conf import settings

    django.setup()

    class NoMigrations(dict):
        def __contains__(self, item: object) -> bool:
            return True

        def __getitem__(self, item: str) -> None:
            return None

    settings.MIGRATION_MODULES = NoMigrations()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    from billers.catalogue import load_catalogue

    load_catalogue()
    return scratch


def drop(args: argparse.Namespace, scratch: str | None) -> None:
    if scratch is None:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def bare_parse(path: Path, partner: str) -> float:
    """Seconds to read the file and split every line into its fields (nothing else)."""
    started = time.perf_counter()
    if partner == "daffron":
        with open(path, encoding="utf-8") as f:
            for line in f:
                line.rstrip("\n").split("|")
    else:
        from partners.flexibill.invoices import DETAIL_RECORD, HDR_RECORD

        hdr, det = HDR_RECORD.slices, DETAIL_RECORD.slices
        with open(path, encoding="utf-8") as f:
            for line in f:
                [line[s] for s in (hdr if line.startswith("HDR") else det)]
    return time.perf_counter() - started


def import_export_rate(biller_bid: int, source_biller, sample: int) -> tuple[int, float]:
    """Import ``sample`` of the loaded invoices' rows into a fresh biller through a ModelResource."""
    import json

    import tablib
    from import_export import resources

    from billers.models import Biller, Invoice

    class InvoiceResource(resources.ModelResource):
        class Meta:
            model = Invoice
            fields = ("biller", "account", "invoice_number", "record_type", "invoice_format_guid", "invoice_date",
                      "due_date", "total_amount_due", "balance_due", "past_due", "header", "customer", "details")
            import_id_fields = ("biller", "invoice_number")
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True

    target = Biller.objects.create(bid=biller_bid, name="import-export bench", partner=source_biller.partner)
    rows = Invoice.objects.filter(biller=source_biller).order_by("pk").values_list(
        "account_id", "invoice_number", "record_type", "invoice_format_guid", "invoice_date", "due_date",
        "total_amount_due", "balance_due", "past_due", "header", "customer", "details")[:sample]
    data = tablib.Dataset(headers=["biller", "account", "invoice_number", "record_type", "invoice_format_guid",
                                   "invoice_date", "due_date", "total_amount_due", "balance_due", "past_due",
                                   "header", "customer", "details"])
    for r in rows:
        data.append([target.pk, r[0], r[1], r[2], r[3], r[4].isoformat(), r[5].isoformat(), str(r[6]),
                     "" if r[7] is None else str(r[7]), "" if r[8] is None else str(r[8]),
                     json.dumps(r[9]), json.dumps(r[10]), json.dumps(r[11])])
    started = time.perf_counter()
    result = InvoiceResource().import_data(data, use_transactions=True, raise_errors=True)
    elapsed = time.perf_counter() - started
    assert not result.has_errors()
    return len(data), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--postgres", nargs="?", const="", default=None, help="PostgreSQL URL (scratch db made)")
    parser.add_argument("--iex-sample", type=int, default=5_000, help="rows given to django-import-export")
    parser.add_argument("--partners", default="daffron,flexibill")
    args = parser.parse_args(argv)
    n = args.invoices
    with tempfile.TemporaryDirectory(prefix="bench_intake_") as tmp:
        work = Path(tmp)
        scratch = setup(args, work)
        try:
            return run(args, work, n)
        finally:
            drop(args, scratch)


def run(args: argparse.Namespace, work: Path, n: int) -> int:
    from django.db import connection

    from billers.models import Biller, Invoice, Partner
    from exchanges.intake import import_file

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("django").setLevel(logging.WARNING)
    peaks = ReaderPeaks()
    logging.getLogger("exchanges.intake").addHandler(peaks)
    print(f"database: {connection.vendor}; invoices per file: {n:,}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    files = {"daffron": (work / "2778_11202026.BIF", 2778), "flexibill": (work / "flexibill_4411.BIF", 4411)}
    results = []
    for partner in args.partners.split(","):
        path, bid = files[partner]
        started = time.perf_counter()
        # In a process of its own: this one's peak memory is then the import's, not the generator's.
        subprocess.run([sys.executable, "-m", "bench.gen_invoices", partner, str(path), str(n)], cwd=ROOT, check=True,
                       stderr=subprocess.DEVNULL)
        count = n
        print(f"{partner}: generated {count:,} invoices ({path.stat().st_size / 1e6:,.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        biller = Biller.objects.create(bid=bid, name=f"bench {partner}", partner=Partner.objects.get(code=partner))
        print(f"{partner}: peak RSS before the import {peak_mb():,.0f} MB", flush=True)
        started, cpu = time.perf_counter(), time.process_time()
        exchange = import_file(biller=biller, stream_or_path=path, file_name=path.name, source="command")
        ours, cpu = time.perf_counter() - started, time.process_time() - cpu
        loaded = Invoice.objects.filter(biller=biller).count()
        assert exchange.status == "succeeded" and loaded == count, (exchange.status, exchange.errors[:3], loaded)
        print(f"{partner}: ours {ours:.2f} s = {count / ours:,.0f} invoices/s (this process's CPU {cpu:.2f} s = "
              f"{count / cpu:,.0f} invoices/CPU-s), peak RSS so far {peak_mb():,.0f} MB", flush=True)
        print(f"{partner}: counts {exchange.counts}", flush=True)
        results.append((partner, biller, path, count, ours))
    ours_peak = peak_mb()
    for partner, biller, path, count, ours in results:
        bare = bare_parse(path, partner)
        rows, iex = import_export_rate(biller.bid + 100_000, biller, min(args.iex_sample, count))
        ours_rate, iex_rate = count / ours, rows / iex
        print(f"{partner}: bare parse {bare:.2f} s = {count / bare:,.0f} invoices/s; django-import-export "
              f"{iex_rate:,.0f} invoices/s (on {rows:,} rows)")
        print(f"{partner}: ratio ours/django-import-export = {ours_rate / iex_rate:.1f}x faster; "
              f"ours/bare parse = {ours / bare:.1f}x the time of the bare parse")
    slices, reader = max(peaks.seen, key=lambda seen: seen[1], default=(0, 0))
    print(f"peak RSS during our imports: {ours_peak:,.0f} MB (this process)"
          + (f"; {reader:,} MB the biggest reader process, so at most {ours_peak + slices * reader:,.0f} MB "
             f"for this process and its {slices} readers together" if slices else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
