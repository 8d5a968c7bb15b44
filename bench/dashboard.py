"""Operations dashboard benchmark: render the admin index over 1,000 billers and 1,000,000 rows.

    python bench/dashboard.py                      # scratch SQLite: 10 billers, then 1,000 billers / 1M rows
    python bench/dashboard.py --billers 1000 --rows 1000000 --renders 7
    python bench/dashboard.py --database-url postgres://postgres@127.0.0.1:5432/dashboardbench

It builds a scratch database (SQLite in a temporary DATA_DIR, or the PostgreSQL database named in
``--database-url``, dropped and created again) with tables straight from the models, then fills it
in two steps with bulk SQL inserts (``executemany`` in large transactions): first ``--small``
billers with their share of the rows, then the rest up to ``--billers`` billers and ``--rows``
exchange + outbox event rows (half each) spread over 90 days, ids rising with time as in production:
invoice imports (1 % failed) and pump runs, RTDR calls with latencies for the rest of the exchanges;
outbox events mostly delivered, with retrying, unknown and dead ones at 2 % of the billers.
Each biller also gets an RTDR health row (50 recent samples), a transport connection, 30 days of
export files and some downloads.

After each step it renders ``/admin/`` with the test client as a superuser (one warm-up render, which
also fills the plots' cache of closed days, then ``--renders`` timed ones) and prints the median and
best milliseconds, the CPU time of this process (SQLite runs in it; on a busy machine wall time
includes waiting for a CPU), the number of SQL queries (``CaptureQueriesContext``) and the slowest
queries. The query count must be the same at both sizes. ``--cold`` clears the cache before each
timed render (two more queries per plot).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAYS = 90
CHUNK = 20_000
PARTNERS = ("aus", "cayenta", "inhance", "daffron", "flexibill")
#: Outbox statuses of a healthy biller's events, and of one whose partner is misbehaving (2 % of billers).
EVENT_STATUSES = ["delivered"] * 965 + ["for_export"] * 25 + ["pending"] * 5 + ["retrying"] * 3 + ["skipped"] * 2
TROUBLED_STATUSES = EVENT_STATUSES[:900] + ["retrying"] * 50 + ["dead"] * 30 + ["unknown"] * 20
TROUBLED_SHARE = 0.02


def _scratch_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup(database_url: str | None) -> None:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="dashboard-bench-")
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        _scratch_postgres(database_url)
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "0"  # as in production: no debug cursor, cached templates
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", run_syncdb=True, verbosity=0)
    from billers.catalogue import load_catalogue

    load_catalogue()


def _insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    sql = f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start:start + CHUNK])


class Filler:
    """Bulk rows for billers ``first..last``: ``per_biller_rows`` exchange + event rows each."""

    def __init__(self, now: datetime, seed: int = 7) -> None:
        from django.db import connection

        self.now, self.random = now, random.Random(seed)
        self.dt = connection.ops.adapt_datetimefield_value
        self.keys = 0
        self.troubled: set[int] = set()

    def billers(self, start: int, count: int) -> list[Any]:
        from billers.models import Biller, Partner

        partners = {p.code: p for p in Partner.objects.all()}
        made = [Biller(bid=10_000 + i, name=f"Bench Utility {i}", partner=partners[PARTNERS[i % 5]],
                       status="live" if i % 20 else "onboarding", time_zone="America/Chicago")
                for i in range(start, start + count)]
        Biller.objects.bulk_create(made, batch_size=500)
        found = list(Biller.objects.filter(bid__gte=10_000 + start, bid__lt=10_000 + start + count).order_by("bid"))
        self.troubled |= {b.pk for b in found if self.random.random() < TROUBLED_SHARE}
        return found

    def _times(self, n: int) -> list[datetime]:
        """``n`` instants over the last 90 days, oldest first (ids then rise with time)."""
        span = DAYS * 86400
        return sorted(self.now - timedelta(seconds=self.random.random() * span) for _ in range(n))

    def exchanges(self, billers: list[Any], count: int) -> None:
        columns = ["biller_id", "partner_id", "kind", "source", "status", "file_name", "checksum", "raw_path",
                   "counts", "errors", "progress_done", "progress_total", "message", "created_at", "started_at",
                   "finished_at"]
        rows = []
        for at in self._times(count):
            b = self.random.choice(billers)
            roll = self.random.random()
            if roll < 0.18:
                failed = self.random.random() < 0.01
                kind, status = "invoices", "failed" if failed else "succeeded"
                counts = json.dumps({"invoices": self.random.randint(50, 5000)}) if not failed else "{}"
                errors = json.dumps([{"line": 2, "field": "Amount", "message": "not a number"}] * 3) if failed else "[]"
                name = f"{b.bid}_{at:%Y%m%d}.BIF"
            elif roll < 0.36:
                kind, status, counts, errors, name = "pump", "succeeded", json.dumps({"delivered": 12}), "[]", ""
            else:
                ms = self.random.lognormvariate(5.3, 0.5)
                status = "failed" if ms > 2500 else "succeeded"
                kind, counts, errors, name = "rtdr", json.dumps({"duration_ms": round(ms, 1)}), "[]", ""
            when = self.dt(at)
            rows.append((b.pk, b.partner_id, kind, "sftp", status, name, "", "", counts, errors, 100, 100, "",
                         when, when, when))
        _insert("exchanges_exchange", columns, rows)

    def events(self, billers: list[Any], count: int) -> None:
        from django.contrib.contenttypes.models import ContentType

        from payments.models import Payment

        ct = ContentType.objects.get_for_model(Payment).pk
        columns = ["biller_id", "event_type", "content_type_id", "object_id", "account_number", "endpoint",
                   "idempotency_key", "payload", "status", "status_reason", "auto_resend", "attempts", "claimed_by",
                   "last_error", "partner_reference", "created_at", "delivered_at", "manual_action", "manual_reason",
                   "sending_at"]
        rows = []
        for at in self._times(count):
            b = self.random.choice(billers)
            status = self.random.choice(TROUBLED_STATUSES if b.pk in self.troubled else EVENT_STATUSES)
            self.keys += 1
            when = self.dt(at)
            rows.append((b.pk, "payment", ct, self.keys, f"{self.keys:010d}", "payments", f"bench-{self.keys}", "{}",
                         status, "", False, 1, "", "Fault: rejected" if status == "dead" else "", "", when,
                         when if status == "delivered" else None, "", "", None))
        _insert("payments_outboxevent", columns, rows)

    def per_biller(self, billers: list[Any]) -> None:
        """RTDR health, a connection, 30 days of export files and downloads for each biller."""
        from billers.rtdr_models import RtdrHealth
        from exchanges.transport_models import Connection
        from payments.batch_models import Batch, ExportDownload, ExportFile

        health = []
        for b in billers:
            if b.partner.code in ("aus", "cayenta", "daffron"):
                broken = self.random.random() < 0.01
                recent = [[0 if broken or self.random.random() < 0.02 else 1,
                           round(self.random.lognormvariate(5.3, 0.5), 1)] for _ in range(50)]
                health.append(RtdrHealth(biller=b, endpoint=f"https://rtdr.example/{b.bid}", recent=recent,
                                         breaker_state="open" if broken else "closed"))
        RtdrHealth.objects.bulk_create(health, batch_size=500)
        Connection.objects.bulk_create(
            [Connection(biller=b, name="invoices", kind="folder", inbox_folder="in", archive_folder="archive",
                        error_folder="error", last_error="connection refused" if self.random.random() < 0.01 else "")
             for b in billers], batch_size=500)
        exporting = [b for b in billers if b.partner.code in ("aus", "flexibill")]
        batches = []
        for b in exporting:
            for d in range(30):
                day = (self.now - timedelta(days=d)).date()
                start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                batches.append(Batch(biller=b, business_date=day, period_start=start,
                                     period_end=start + timedelta(days=1)))
        Batch.objects.bulk_create(batches, batch_size=500)
        files = [ExportFile(batch=batch, biller_id=batch.biller_id, kind="payments",
                            file_name=f"ICPayments_{batch.biller_id}_{batch.business_date:%Y%m%d}.txt", path="x",
                            sha256="0" * 64, generated_at=batch.period_end)
                 for batch in Batch.objects.filter(biller__in=exporting)]
        ExportFile.objects.bulk_create(files, batch_size=500)
        downloads = [ExportDownload(file=f, username="staff", downloaded_at=f.generated_at + timedelta(hours=2))
                     for f in ExportFile.objects.filter(biller__in=exporting) if self.random.random() < 0.5]
        ExportDownload.objects.bulk_create(downloads, batch_size=500)

    def running(self, billers: list[Any]) -> None:
        from exchanges.models import Exchange

        for b in billers[:5]:
            Exchange.objects.create(biller=b, partner_id=b.partner_id, kind="invoices", source="upload",
                                    status="running", progress_done=12_000, progress_total=40_000,
                                    started_at=self.now - timedelta(minutes=2), file_name=f"{b.bid}_big.BIF")


def fill(filler: Filler, start: int, count: int, rows: int) -> None:
    billers = filler.billers(start, count)
    filler.exchanges(billers, rows // 2)
    filler.events(billers, rows - rows // 2)
    filler.per_biller(billers)
    filler.running(billers)


def _rerun(captured: list[dict[str, str]]) -> list[tuple[float, str]]:
    """Each captured SELECT run again and fetched whole: (ms, sql). The debug cursor times ``execute``
    only, and SQLite computes rows while they are fetched, so its own figures undercount."""
    from django.db import DatabaseError, connection

    timed = []
    with connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            try:
                cursor.execute(sql)
                cursor.fetchall()
            except DatabaseError:  # an interpolated statement that does not run again as text: skip it
                continue
            timed.append(((time.perf_counter() - started) * 1000, sql))
    return timed


def measure(renders: int, profile: bool = False, cold: bool = False) -> dict[str, Any]:
    """Render /admin/ ``renders`` times after a warm-up; return timings and the queries of the last."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from billers.models import Biller
    from exchanges.models import Exchange
    from payments.outbox_models import OutboxEvent

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.com", "bench-only-pw")
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200  # warm-up: templates, URL resolvers, connection
    timings, cpu = [], []
    for _ in range(renders):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get("/admin/")
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200 and b'id="ops-dashboard"' in response.content
        captured = list(queries.captured_queries)  # the next request resets the connection's log
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, "/admin/")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    slowest = sorted(_rerun(captured), key=lambda q: -q[0])[:5]
    return {
        "billers": Biller.objects.count(), "rows": Exchange.objects.count() + OutboxEvent.objects.count(),
        "median_ms": round(statistics.median(timings), 1), "best_ms": round(min(timings), 1),
        "cpu_ms": round(statistics.median(cpu), 1),
        "queries": len(captured), "html_kb": round(len(response.content) / 1024),
        "slowest": [(round(ms, 1), sql[:140]) for ms, sql in slowest],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--billers", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="exchange + outbox event rows at full size")
    parser.add_argument("--small", type=int, default=10, help="billers of the first measurement")
    parser.add_argument("--renders", type=int, default=7)
    parser.add_argument("--database-url", help="a PostgreSQL URL (the database is dropped and created)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading (PostgreSQL always)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one render at full size")
    parser.add_argument("--cold", action="store_true", help="clear the plots' cache before each timed render")
    args = parser.parse_args()
    setup(args.database_url)
    from django.db import connection
    from django.utils import timezone

    filler = Filler(timezone.now())
    results = []
    for start, count in ((0, args.small), (args.small, args.billers - args.small)):
        load_started = time.perf_counter()
        fill(filler, start, count, args.rows * count // args.billers)
        if args.analyze or connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        loaded = time.perf_counter() - load_started
        result = measure(args.renders, profile=args.profile and start > 0, cold=args.cold)
        results.append(result)
        print(f"{connection.vendor}: {result['billers']:,} billers, {result['rows']:,} exchange+event rows "
              f"(loaded in {loaded:.0f} s): dashboard {result['median_ms']} ms median, {result['best_ms']} ms best, "
              f"{result['cpu_ms']} ms CPU in this process, {result['queries']} SQL queries, {result['html_kb']} KB; "
              f"slowest queries (run again and fetched):")
        for ms, sql in result["slowest"]:
            print(f"    {ms:7.1f} ms  {sql}")
    small, large = results
    verdict = "same" if small["queries"] == large["queries"] else "DIFFERENT"
    print(f"queries: {small['queries']} at {small['billers']} billers, {large['queries']} at {large['billers']} "
          f"billers ({verdict}); render at full size: {large['median_ms']} ms median, {large['best_ms']} ms best, "
          f"{large['cpu_ms']} ms CPU (target 300 ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
