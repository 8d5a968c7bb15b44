"""Data pump benchmark and fault harness: Daffron payments through a real django-q2 cluster.

    python bench/pump.py                                   # 10,000 payments, 2 workers, scratch SQLite
    python bench/pump.py --database-url postgres://postgres@127.0.0.1:5432/pumpbench
    python bench/pump.py --events 400 --kill-worker-after 150 --json     # fault run (tests use it)

It builds a scratch database (SQLite in a temporary DATA_DIR, or the PostgreSQL database named in
``--database-url``, dropped and created again), creates Daffron billers wired to a loopback Daffron
simulator, records the payments through ``payments.services.payment_record`` (one transaction per
500: the outbox events and the on-commit ``pump_biller`` tasks), then starts ``manage.py qcluster``
with the ORM broker and waits until every event is settled.

With ``--kill-worker-after N`` it slows the simulator a little once N events are delivered, SIGKILLs
the cluster worker that is sending an event at that moment, and plays the every-minute ``pump_due``
sweep each second until the lost lease expires and the event is resent.

Prints events/s (first send to last answer), per-event p50/p99 (send to answer, ms), and the
checks: zero losses (every payment GUID posted at the simulator and every event delivered), zero
duplicate posts (the simulator's ``duplicates`` are repeats it recognised by ``transactionId`` and did
not post again; a clean run has none, a fault run at most one per killed in-flight send).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 500  # payments per recording transaction


def _scratch_postgres(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to the server's ``postgres`` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _environment(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {
        "DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "Q_WORKERS": str(args.workers),
        "Q_SYNC": "0",
        "LOG_LEVEL": "WARNING",
        "PUMP_BATCH_SIZE": str(args.batch),
        "PUMP_LEASE_SECONDS": str(args.lease),
        "PUMP_CONNECT_TIMEOUT": str(min(1.0, args.read_timeout)),
        "PUMP_READ_TIMEOUT": str(args.read_timeout),
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    return env


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None) if "DATABASE_URL" not in env else None
    import django
    from django.apps import apps
    from django.conf import settings

    django.setup()
    from django.core.management import call_command

    # Migration files for every area are generated at the end of the project: build the tables from the models.
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    from billers.catalogue import load_catalogue

    load_catalogue()


def _billers(count: int, url: str, accounts: int) -> list[Any]:
    from decimal import Decimal

    from billers.models import Account, Biller, Invoice, Partner
    from billers.services import biller_setting_set

    partner = Partner.objects.get(code="daffron")
    billers = []
    for b in range(count):
        biller = Biller.objects.create(bid=7001 + b, name=f"Bench Daffron {b}", partner=partner,
                                       time_zone="America/New_York")
        settings = {11: url, 12: "InvoiceCloud", 13: "bench-secret", 35: "2", 131: "{}",
                    64: "0(WEB)|2(CSRWEB)|8(POS)", 65: "0(WEB)|2(CSRWEB)"}
        for number, value in settings.items():
            biller_setting_set(biller=biller, number=number, value=value)
        for i in range(accounts):
            account = Account.objects.create(biller=biller, account_number=_account_number(b, i), name=f"Payer {i}")
            Invoice.objects.create(biller=biller, account=account, invoice_number=f"B{b}I{i}",
                                   invoice_date="2026-11-01", due_date="2026-11-25", total_amount_due=Decimal(99),
                                   header={"Custom4": f"LOC{i}"})
        billers.append(biller)
    return billers


def _account_number(b: int, i: int) -> str:
    return f"{70 + b}{i:05d}-001"


def _record_payments(billers: list[Any], events: int) -> float:
    from decimal import Decimal

    from django.db import transaction

    from billers.models import Account
    from payments.services import payment_record

    accounts = {b.pk: list(Account.objects.filter(biller=b).order_by("id")) for b in billers}
    started = time.monotonic()
    done = 0
    while done < events:
        with transaction.atomic():
            for _ in range(min(BATCH, events - done)):
                biller = billers[done % len(billers)]
                pool = accounts[biller.pk]
                payment_record(account=pool[done % len(pool)], amount=Decimal("100.00") + done % 50,
                               convenience_fee=Decimal("2.95"), tender=("card", "ach", "echeck")[done % 3],
                               channel="web", approval_code=f"A01-{done}", source_id=done % 3)
                done += 1
    return time.monotonic() - started


def _start_cluster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:  # a file, not a pipe: a full pipe would block the workers
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=str(ROOT), env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
        )


def _stop_cluster(cluster: subprocess.Popen[bytes], grace: float) -> None:
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)  # the cluster stops its own workers gracefully
        try:
            cluster.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()


def _group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by the live processes of process group ``pgid`` (Linux /proc)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "comm)": state, ppid, pgrp, ..., utime (12), stime (13)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _settled() -> dict[str, int]:
    from django.db.models import Count

    from payments.outbox_models import OutboxEvent

    return dict(OutboxEvent.objects.values_list("status").annotate(n=Count("id")))


def _kill_a_sending_worker(sim: Any, timeout: float) -> dict[str, Any]:
    """Slow the simulator, SIGKILL the worker whose event is in flight, speed it up again."""
    from payments.outbox_models import OutboxEvent, OutboxStatus

    sim.slow_seconds, sim.mode = 0.3, "slow"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            event = OutboxEvent.objects.filter(status=OutboxStatus.DELIVERING).exclude(claimed_by="").first()
            if event is not None:
                pid = int(event.claimed_by.split(":")[1])
                os.kill(pid, signal.SIGKILL)
                return {"killed_pid": pid, "event": event.pk}
            time.sleep(0.02)
    finally:
        sim.mode = "ok"
    return {"killed_pid": None}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(sim: Any, events: int, record_s: float, wall_s: float, killed: dict[str, Any]) -> dict[str, Any]:
    from django.db.models import Max, Min

    from payments.models import Payment
    from payments.outbox_models import AttemptOutcome, DeliveryAttempt

    attempts = DeliveryAttempt.objects.filter(outcome=AttemptOutcome.DELIVERED)
    span = attempts.aggregate(first=Min("started_at"), last=Max("finished_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    durations = list(attempts.values_list("duration_ms", flat=True))
    posted = [xml for op, xml in sim.calls if op == "CommitPaymentTransaction"]
    guids = {str(g) for g in Payment.objects.values_list("payment_guid", flat=True)}
    seen = {g for g in guids if any(g in xml for xml in posted)} if len(posted) < 2000 else _seen_fast(posted, guids)
    statuses = _settled()
    lost_attempts = DeliveryAttempt.objects.filter(outcome=AttemptOutcome.LOST).count()
    return {
        "events": events,
        "workers": int(os.environ.get("Q_WORKERS", "2")),
        "database": "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
        "record_seconds": round(record_s, 2),
        "events_per_second": round(len(durations) / seconds, 1) if seconds else 0.0,
        "deliver_seconds": round(seconds, 2),
        "wall_seconds": round(wall_s, 2),
        "p50_ms": round(statistics.median(durations), 2) if durations else 0.0,
        "p99_ms": round(_percentile(durations, 0.99), 2),
        "statuses": statuses,
        "delivered": statuses.get("delivered", 0),
        "simulator_calls": len(posted),
        "simulator_duplicates": len(sim.duplicates),
        "posted_once": len(seen),
        "missing": len(guids - seen),
        "lost_attempts": lost_attempts,
        **killed,
    }


def _seen_fast(posted: list[str], guids: set[str]) -> set[str]:
    import re

    found: set[str] = set()
    pattern = re.compile(r"extValue>([0-9a-f-]{36})<")
    for xml in posted:
        found.update(pattern.findall(xml))
    return found & guids


def run(args: argparse.Namespace) -> dict[str, Any]:
    phases: dict[str, float] = {}
    clock = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="pumpbench-"))
    if args.database_url:
        _scratch_postgres(args.database_url)
    env = _environment(args, data_dir)
    _setup_django(env)
    from partners.daffron.pump import base_sub
    from partners.simulators import serve

    known = {base_sub(_account_number(b, i)): {"items": []} for b in range(args.billers) for i in range(args.accounts)}
    sim = serve("daffron", fixtures=known)
    phases["setup"] = time.monotonic() - clock
    try:
        billers = _billers(args.billers, sim.url, args.accounts)
        record_s = _record_payments(billers, args.events)
        started, cpu_self = time.monotonic(), time.process_time()
        log = data_dir / "qcluster.log"
        cluster = _start_cluster(env, log)
        killed: dict[str, Any] = {}
        swept = 0.0
        try:
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                statuses = _settled()
                delivered = statuses.get("delivered", 0)
                if args.kill_worker_after and not killed and delivered >= args.kill_worker_after:
                    killed = _kill_a_sending_worker(sim, timeout=5)
                if killed and delivered < args.events and time.monotonic() - swept > 1.0:
                    from django_q.tasks import async_task

                    from payments.tasks import PUMP_DUE

                    async_task(PUMP_DUE)  # what the every-minute schedule does, sooner
                    swept = time.monotonic()
                open_ = sum(statuses.get(s, 0) for s in ("pending", "delivering", "retrying", "unknown"))
                if not open_ and sum(statuses.values()) >= args.events:
                    break
                time.sleep(0.1)
            settled_s = time.monotonic() - started
        finally:
            cluster_cpu = _group_cpu_seconds(cluster.pid)
            stopping = time.monotonic()
            _stop_cluster(cluster, grace=0.5 if args.kill_worker_after else 15.0)
            phases["stop"] = time.monotonic() - stopping
        report = _report(sim, args.events, record_s, settled_s, killed)
        report["phases"] = {name: round(value, 2) for name, value in phases.items()}
        report["cluster_cpu_ms_per_event"] = round(cluster_cpu * 1000 / args.events, 2)
        report["harness_cpu_ms_per_event"] = round((time.process_time() - cpu_self) * 1000 / args.events, 2)
        report["load_average"] = os.getloadavg()[0]
        if report["delivered"] < args.events:
            report["cluster_log"] = log.read_text(errors="replace")[-2000:]
        return report
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--billers", type=int, default=2, help="Daffron billers the payments are spread over.")
    parser.add_argument("--accounts", type=int, default=200, help="accounts per biller")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="PUMP_BATCH_SIZE")
    parser.add_argument("--lease", type=float, default=2.0, help="PUMP_LEASE_SECONDS")
    parser.add_argument("--read-timeout", type=float, default=1.0, help="PUMP_READ_TIMEOUT")
    parser.add_argument("--database-url", default="", help="postgres://... scratch database (dropped, created)")
    parser.add_argument("--kill-worker-after", type=int, default=0, metavar="N")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", action="store_true", help="print only the JSON report")
    args = parser.parse_args(argv)
    report = run(args)
    if not args.json:
        print(f"{report['events']} Daffron payments, {report['workers']} workers, {report['database']}: "
              f"{report['events_per_second']} events/s, p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms; "
              f"posted once {report['posted_once']}, missing {report['missing']}, "
              f"duplicates {report['simulator_duplicates']}", file=sys.stderr)
    print(json.dumps(report))
    ok = report["missing"] == 0 and report["delivered"] == report["events"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
