"""IVR lookup benchmark: the API under gunicorn (2 sync workers) on 100,000 accounts, against a bare view.

    python bench/api.py                                  # SQLite, then PostgreSQL; 30 s per run
    python bench/api.py --db sqlite --seconds 10 --connections 8
    python bench/api.py --db postgres --database-url postgres://postgres@127.0.0.1:5432/apiarea_bench

For each database it builds a scratch one (SQLite in a temporary DATA_DIR; the PostgreSQL database named
in ``--database-url`` is dropped and created again, and dropped at the end): the schema, the partner
catalogue, an inHance biller (no RTDR: the stored balance is the answer) with ``--accounts`` accounts and
one open invoice each, inserted with one INSERT ... SELECT over a generated series, and an API key with
the ivr scope. Then it starts ``gunicorn bench.api_server:application -w 2`` and, from a second process
(``wrk`` when installed, else this script's own threaded http.client driver, which competes with the
workers for the CPU: ``scripts/install_system_packages.sh --bench``), sends GET lookups of random accounts for ``--seconds``:
first ``/api/v1/billers/{bid}/accounts/{n}`` with the key, then the bare Django view
``/bare/billers/{bid}/accounts/{n}`` returning the same JSON (checked equal before the runs).

Prints requests/s, p50 and p99 (ms) of both, the workers' CPU per request, the ratio API/bare, and the
API call log count: every call is logged, the workers write the rows a moment after the answers and
what they still hold as they stop, so it is counted a second after the run and again after the stop.
The issue's target: 500 requests/s with p99 under 50 ms on each database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BID = 9100
FIRST_ACCOUNT = 10_000_000  # account numbers are FIRST_ACCOUNT + i, i = 1..N
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/apiarea_bench"
TARGET_RPS, TARGET_P99_MS = 500, 50.0


# ---- Scratch database (runs in a child process with the run's environment) ------------------------------


def _create_missing_tables() -> None:
    """Tables of models without a migration yet (migrations come at the end): built from the models."""
    from django.apps import apps
    from django.db import connection

    existing = set(connection.introspection.table_names())
    models = [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and m._meta.db_table not in existing
    ]
    with connection.schema_editor() as editor:
        for model in models:
            editor.create_model(model)


def _insert_series(model: type, count: int, expressions: dict[str, object], source: str = "") -> None:
    """INSERT ... SELECT one row per i in 1..count (or per row of ``source``).

    ``expressions`` maps field names to SQL (a str, ``%%`` for a percent sign) or to a value sent as a
    parameter; other fields get their defaults.
    """
    from django.db import connection
    from django.utils import timezone

    columns, values, params = [], [], []
    now = timezone.now()
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if isinstance(expressions.get(f.name), str):
            values.append(expressions[f.name])
            continue
        default = (
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        )
        default = expressions.get(f.name, default)
        values.append("%s")
        params.append(f.get_db_prep_save(default, connection))
    table = connection.ops.quote_name(model._meta.db_table)
    if source:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
    elif connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM generate_series(1, {int(count)}) AS seq(i)"
        )
    else:
        sql = (
            f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {int(count)}) "
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM seq"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def setup_database(accounts: int) -> dict[str, object]:
    """Schema, catalogue, biller, accounts and invoices, a key; return what the driver needs."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from billers.api.keys import api_key_create
    from billers.catalogue import load_catalogue
    from billers.models import Account, Biller, Invoice, Partner

    call_command("migrate", verbosity=0)
    _create_missing_tables()
    load_catalogue()
    started = time.perf_counter()
    with transaction.atomic():
        biller = Biller.objects.create(
            bid=BID, name="Bench Water (inHance)", partner=Partner.objects.get(code="inhance")
        )
        number = f"CAST({FIRST_ACCOUNT} + i AS TEXT)"
        _insert_series(
            Account,
            accounts,
            {
                "biller": str(biller.pk),
                "account_number": number,
                "display_account_number": number,
                "customer_number": f"CAST({FIRST_ACCOUNT} + i AS TEXT)",
                "name": "'BENCH PAYER ' || CAST(i AS TEXT)",
                "balance_due": "(i %% 500) + 0.25",
                "past_due": "CASE WHEN i %% 7 = 0 THEN 12.50 ELSE 0 END",
                "block_ach": "i %% 50 = 0",
                "balance_source": "'invoice file'",
            },
        )
        _insert_series(
            Invoice,
            accounts,
            {
                "biller": str(biller.pk),
                "account": "a.id",
                "invoice_number": "'I' || a.account_number",
                "invoice_date": date(2026, 11, 1),
                "due_date": date(2026, 11, 25),
                "total_amount_due": "a.balance_due",
                "balance_due": "a.balance_due",
                "minimum_amount_due": "10.00",
            },
            source=f"billers_account a WHERE a.biller_id = {int(biller.pk)}",
        )
    seconds = time.perf_counter() - started
    key = api_key_create(vendor="bench", billers=[biller], scopes=["ivr"], throttle_rate="1000000/s")
    return {
        "key": key.raw,
        "bid": BID,
        "accounts": Account.objects.filter(biller=biller).count(),
        "invoices": Invoice.objects.filter(biller=biller).count(),
        "insert_seconds": round(seconds, 2),
    }


def count_call_logs() -> int:
    import django

    django.setup()
    from billers.api_models import ApiCallLog

    return ApiCallLog.objects.count()


# ---- Load drivers (second process) ------------------------------------------------------------------------

WRK_SCRIPT = """
local first, n, prefix, header = 0, 0, "", ""
function init(args)
  first, n, prefix, header = tonumber(args[1]), tonumber(args[2]), args[3], args[4]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  if header ~= "-" then wrk.headers["Authorization"] = header end
end
function request()
  return wrk.format("GET", prefix .. tostring(first + math.random(1, n)))
end
"""


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def drive_wrk(base: str, prefix: str, header: str, accounts: int, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                script.name,
                base,
                "--",
                str(FIRST_ACCOUNT),
                str(accounts),
                prefix,
                header or "-",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    return {
        "driver": "wrk",
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _wrk_ms(latency["50"]),
        "p99_ms": _wrk_ms(latency["99"]),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def drive_python(base: str, prefix: str, header: str, accounts: int, seconds: int, connections: int) -> dict:
    """Threads with http.client connections (kept alive when the server allows) for ``seconds``."""
    parts = urlsplit(base)
    headers = {"Authorization": header} if header else {}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        rng = random.Random(slot)
        conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.perf_counter() < deadline:
            path = prefix + str(FIRST_ACCOUNT + rng.randint(1, accounts))
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures[slot] += 1
            except OSError:
                failures[slot] += 1
                conn.close()
                continue
            latencies[slot].append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for slot in latencies for x in slot)
    pick = lambda q: flat[min(len(flat) - 1, int(q * len(flat)))] if flat else float("nan")
    return {
        "driver": "python",
        "requests": len(flat),
        "rps": round(len(flat) / elapsed, 1),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "non_2xx": sum(failures),
        "socket_errors": "",
    }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def driver_name(args: argparse.Namespace) -> str:
    """``wrk`` when asked for or (auto) installed; else this script's Python driver.

    The Python driver spends about as much CPU per request as the server does, on a machine whose
    cores the workers need: its figures are a lower bound. ``scripts/install_system_packages.sh --bench`` gives the real
    ones (Debian's package).
    """
    if args.driver == "wrk" and not wrk_available():
        raise SystemExit("--driver wrk: wrk is not installed (scripts/install_system_packages.sh --bench installs it)")
    if args.driver == "python" or not wrk_available():
        return "python"
    return "wrk"


def drive(args: argparse.Namespace, base: str, prefix: str, header: str, accounts: int) -> dict:
    if driver_name(args) == "wrk":
        return drive_wrk(base, prefix, header, accounts, args.seconds, args.connections)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--drive",
            base,
            prefix,
            header or "-",
            str(accounts),
            "--seconds",
            str(args.seconds),
            "--connections",
            str(args.connections),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=args.seconds + 60,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---- One run per database ----------------------------------------------------------------------------------


def _scratch_postgres(url: str, *, create: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, header: str = "") -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Authorization": header} if header else {})
    response = conn.getresponse()
    return response.status, response.read()


def _workers_cpu_seconds(master: int) -> float:
    """User + system CPU seconds used so far by gunicorn's workers (Linux /proc)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def _measured(
    args: argparse.Namespace, server: subprocess.Popen, base: str, prefix: str, header: str, accounts: int
) -> dict:
    """One driver run, with the workers' CPU milliseconds per answered request."""
    before = _workers_cpu_seconds(server.pid)
    result = drive(args, base, prefix, header, accounts)
    used = _workers_cpu_seconds(server.pid) - before
    result["cpu_ms_per_request"] = round(used * 1000 / max(result["requests"], 1), 2)
    return result


def _count_logs(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--count-logs"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


def _stop(server: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM): the workers finish their request and flush their call log rows."""
    if server.poll() is None:
        server.terminate()
    server.wait(timeout=60)


def _wait_ready(port: int, server: subprocess.Popen, path: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            _get(port, path)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


def run_database(args: argparse.Namespace, database: str) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="apibench-"))
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    if args.conn_max_age is not None:
        env["BENCH_CONN_MAX_AGE"] = str(args.conn_max_age)
    if database == "postgres":
        env["DATABASE_URL"] = args.database_url
        _scratch_postgres(args.database_url, create=True)
    server = None
    try:
        setup = subprocess.run(
            [sys.executable, __file__, "--setup", "--accounts", str(args.accounts)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if setup.returncode:
            raise SystemExit(f"setup failed:\n{setup.stderr[-3000:]}")
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        raw_key = info.pop("key")  # never printed
        port = _free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen(
            [
                gunicorn,
                "bench.api_server:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(ROOT),
                "--log-level",
                "warning",
                "--backlog",
                "256",
            ],
            env=env,
            cwd=ROOT,
        )
        key_header = f"Api-Key {raw_key}"
        api_prefix, bare_prefix = f"/api/v1/billers/{BID}/accounts/", f"/bare/billers/{BID}/accounts/"
        sample = str(FIRST_ACCOUNT + min(4242, args.accounts))
        _wait_ready(port, server, bare_prefix + sample)
        api_status, api_body = _get(port, api_prefix + sample, key_header)
        bare_status, bare_body = _get(port, bare_prefix + sample)
        if (api_status, bare_status) != (200, 200) or json.loads(api_body) != json.loads(bare_body):
            raise SystemExit(f"API and bare view disagree: {api_status} {api_body[:300]!r} / {bare_status}")
        base = f"http://127.0.0.1:{port}"
        warm = argparse.Namespace(**{**vars(args), "seconds": min(3, args.seconds)})
        drive(warm, base, api_prefix, key_header, info["accounts"])
        drive(warm, base, bare_prefix, "", info["accounts"])
        logged_before = _count_logs(env)
        api = _measured(args, server, base, api_prefix, key_header, info["accounts"])
        logged = _count_logs(env)  # the workers write their rows a moment after the answers
        bare = _measured(args, server, base, bare_prefix, "", info["accounts"])
        _stop(server)
        logged_at_stop = _count_logs(env)  # and whatever they still held as they stopped
        return {
            "database": database,
            **info,
            "api": api,
            "bare": bare,
            "api_calls_logged": logged - logged_before,
            "api_calls_logged_at_stop": logged_at_stop - logged_before,
            "ratio": round(api["rps"] / bare["rps"], 3) if bare["rps"] else None,
        }
    finally:
        if server is not None:
            _stop(server)
        if database == "postgres":
            _scratch_postgres(args.database_url, create=False)
        shutil.rmtree(data_dir, ignore_errors=True)


def report(result: dict) -> None:
    load = os.getloadavg()[0]
    print(
        f"\n== {result['database']}: {result['accounts']:,} accounts, {result['invoices']:,} invoices "
        f"(inserted in {result['insert_seconds']} s), gunicorn 2 sync workers, "
        f"driver {result['api']['driver']}, "
        f"{os.cpu_count()} cores, load average {load:.1f}"
    )
    for name in ("api", "bare"):
        r = result[name]
        capacity = (os.cpu_count() or 1) * 1000 / r["cpu_ms_per_request"] if r["cpu_ms_per_request"] else 0
        print(
            f"  {name:<4} {r['rps']:>9,.1f} req/s   p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms   "
            f"{r['requests']:,} requests, non-2xx {r['non_2xx']} {r['socket_errors']}".rstrip()
        )
        print(
            f"       worker CPU {r['cpu_ms_per_request']:.2f} ms/request (all cores busy with it alone: "
            f"~{capacity:,.0f} req/s)"
        )
    api = result["api"]
    verdict = "meets" if api["rps"] >= TARGET_RPS and api["p99_ms"] < TARGET_P99_MS else "MISSES"
    print(
        f"  ratio API/bare: {result['ratio']}   {verdict} the target ({TARGET_RPS} req/s, "
        f"p99 < {TARGET_P99_MS:.0f} ms)\n"
        f"  API calls logged: {result['api_calls_logged']:,} a second after the run, "
        f"{result['api_calls_logged_at_stop']:,} once the workers stopped ({api['requests']:,} answered)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="What-if: keep database connections open this many seconds (0: one per request; "
        "the configuration keeps them 60 s).",
    )
    parser.add_argument("--json", action="store_true", help="Print the results as JSON too.")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count-logs", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--drive", nargs=4, metavar=("BASE", "PREFIX", "HEADER", "ACCOUNTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup_database(args.accounts)))
        return
    if args.count_logs:
        print(count_call_logs())
        return
    if args.drive:
        base, prefix, header, accounts = args.drive
        print(
            json.dumps(
                drive_python(
                    base,
                    prefix,
                    "" if header == "-" else header,
                    int(accounts),
                    args.seconds,
                    args.connections,
                )
            )
        )
        return
    if driver_name(args) == "python":
        print(
            "note: wrk is not installed (scripts/install_system_packages.sh --bench installs it); the Python driver takes CPU from the "
            "workers, so these figures are a lower bound",
            file=sys.stderr,
        )
    results = []
    for database in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        results.append(run_database(args, database))
        report(results[-1])
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
