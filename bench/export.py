"""Benchmark: export one FlexiBill biller's day of 200,000 payments; print seconds and peak memory.

    .venv/bin/python bench/export.py                       # SQLite in a scratch DATA_DIR
    .venv/bin/python bench/export.py --payments 50000
    .venv/bin/python bench/export.py --postgres postgres://postgres@127.0.0.1:5432/postgres

It builds a scratch database (tables from the models, like the test suite), seeds two FlexiBill billers
on the same day, one with N payments and one with N/10 (over three CoDivs, half the invoices carrying
Custom2), closes their batches, then exports each in a fresh process that reports the wall time of
``export_generate``, the CPU time of that process (on SQLite the database work is in it too; on a busy
shared machine it is the steadier figure), and its peak resident memory above the process's baseline.
Flat memory shows as the same peak for N and N/10. Target: N = 200,000 in under 5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 20)
ZONE = "America/Chicago"
CODIVS = ("MCS", "ABC", "XYZ")
BRANDS = ("visa", "mastercard", "discover", "amex")


def setup_django(data_dir: str, database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def build_schema() -> None:
    """Tables straight from the models (as pytest --no-migrations does)."""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)


def seed(bid: int, payments: int, accounts: int) -> int:
    """Create a FlexiBill biller with ``payments`` payments on DAY; close its batch; return the batch id."""
    from billers.catalogue import load_catalogue
    from billers.models import Account, Biller, Invoice, Partner
    from payments.batches import batch_close, close_instant
    from payments.models import Payment

    if not Partner.objects.exists():
        load_catalogue()
    biller = Biller.objects.create(bid=bid, name=f"Bench {bid}", partner=Partner.objects.get(code="flexibill"),
                                   time_zone=ZONE)
    Account.objects.bulk_create(
        [Account(biller=biller, account_number=f"{i:010d}{CODIVS[i % 3]}", name=f"PAYER {i}") for i in range(accounts)],
        batch_size=2000)
    ids = list(Account.objects.filter(biller=biller).order_by("pk").values_list("pk", flat=True))
    Invoice.objects.bulk_create(
        [Invoice(biller=biller, account_id=pk, invoice_number=f"INV{bid}-{i}", invoice_date=DAY, due_date=DAY,
                 total_amount_due=Decimal("100.00"), header={"Custom2": f"{i:010d}"} if i % 2 else {})
         for i, pk in enumerate(ids)], batch_size=2000)
    invoices = list(Invoice.objects.filter(biller=biller).order_by("account_id").values_list("pk", flat=True))
    start = datetime.combine(DAY - timedelta(days=1), biller.batch_close_time, ZoneInfo(ZONE))
    step = (close_instant(biller, DAY) - start) / payments
    chunk = []
    for i in range(payments):
        card = i % 5 != 0
        fee = Decimal("2.95") if card else Decimal(0)
        chunk.append(Payment(
            biller=biller, account_id=ids[i % accounts], invoice_id=invoices[i % accounts],
            payment_guid=uuid.UUID(int=bid * 10**9 + i), amount=Decimal(1000 + (i * 7919) % 50000) / 100 + fee,
            convenience_fee=fee, tender="card" if card else "ach", card_brand=BRANDS[i % 4] if card else "",
            channel="web", approval_code=f"A01 - Approved {i % 1000}", check_number="" if card else f"{i:012d}",
            paid_at=start + step * i))
        if len(chunk) == 5000:
            Payment.objects.bulk_create(chunk)
            chunk = []
    Payment.objects.bulk_create(chunk)
    return batch_close(biller=biller, business_date=DAY, now=close_instant(biller, DAY) + timedelta(hours=1)).pk


def export_phase(batch_id: int) -> dict[str, object]:
    """Export in this (fresh) process; time and peak memory above the baseline."""
    from payments.batch_models import Batch
    from payments.exports import export_generate

    batch = Batch.objects.select_related("biller__partner").get(pk=batch_id)
    baseline = reset_peak_rss_kb()
    started, cpu_started = time.perf_counter(), time.process_time()
    files = export_generate(batch=batch, kind="payments")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = peak_rss_kb()
    return {"payments": sum(f.row_count for f in files), "files": len(files), "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(peak / 1024, 1), "above_baseline_mb": round((peak - baseline) / 1024, 1),
            "bytes": sum(f.size for f in files)}


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss_kb() -> int:
    """Reset the peak resident size (Linux: clear_refs 5) and return the current one, in KiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kb() -> int:
    """The peak resident size since the last reset (ru_maxrss where /proc is not there), in KiB."""
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def calibration() -> float:
    """Seconds for a fixed pure-Python loop: tells how busy the machine is while the bench runs."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def scratch_postgres(url: str) -> tuple[str, object]:
    """Create a scratch database next to ``url``; return its URL and a function dropping it."""
    import psycopg

    name = f"bench_export_{uuid.uuid4().hex[:8]}"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--postgres", metavar="URL", help="server to create a scratch database on")
    parser.add_argument("--phase", choices=["export"], help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "export":
        setup_django(args.data_dir, args.database_url)
        print(json.dumps(export_phase(args.batch)))
        return

    data_dir = tempfile.mkdtemp(prefix="bench_export_")
    database_url, drop = (scratch_postgres(args.postgres) if args.postgres else (None, lambda: None))
    try:
        setup_django(data_dir, database_url)
        build_schema()
        started = time.perf_counter()
        runs = [(4411, args.payments), (4412, max(args.payments // 10, 1))]
        batches = {bid: seed(bid, n, min(args.accounts, n)) for bid, n in runs}
        print(f"seeded {sum(n for _, n in runs)} payments in {time.perf_counter() - started:.1f}s "
              f"({'PostgreSQL' if database_url else 'SQLite'}, DATA_DIR {data_dir})")
        from django.db import connection, connections

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have after a day of payments
        connections.close_all()
        print(f"machine load check: a 10M-step Python loop took {calibration():.2f} s (grows with the load)")
        for bid, n in runs:
            cmd = [sys.executable, __file__, "--phase", "export", "--batch", str(batches[bid]), "--data-dir", data_dir]
            if database_url:
                cmd += ["--database-url", database_url]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            rate = result["payments"] / result["seconds"] if result["seconds"] else 0
            print(f"export {n:>7} payments: {result['seconds']:.2f} s ({rate:,.0f}/s; this process's CPU "
                  f"{result['cpu_seconds']:.2f} s), {result['files']} files, "
                  f"{result['bytes'] / 1e6:.1f} MB written, peak RSS {result['peak_rss_mb']} MB "
                  f"(+{result['above_baseline_mb']} MB over the process baseline)")
        print("target: 200,000 payments under 5 s, peak memory the same for N and N/10")
    finally:
        if database_url:
            from django.db import connections

            connections.close_all()
        drop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
