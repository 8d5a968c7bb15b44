"""RTDR speed: lookups through ``account_balance`` against the loopback simulators, next to bare HTTP.

    python -m bench.rtdr                    # 2,000 lookups per partner (aus, cayenta, daffron), SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rtdrarea python -m bench.rtdr --lookups 2000

For each partner it prints p50/p99 of ours (settings read, breaker check, SOAP call, account update,
Exchange row, envelopes file, health row) next to a bare ``requests.post`` of the same envelope, and
the overhead at p50 (target < 2 ms), split into the SOAP layer (``fetch_balance`` alone: zeep or lxml,
mapping) and ours (database and envelopes file); how many times a WSDL was parsed (once per WSDL, none after the
first call); and, with the partner down and the breaker open, p50/p99 of the lookups (target p99 < 5 ms).
It builds a throwaway database (``test_``-style, tables without migrations) and a DATA_DIR of its own,
both removed at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PARTNERS = ("aus", "cayenta", "daffron")
#: Simulator fixture accounts each lookup cycles through (see partners/simulators/<partner>.py).
ACCOUNTS = {
    "aus": ("1001", "1002", "1003"),
    "cayenta": ("2001", "2002", "2003", "2004"),
    "daffron": ("35909001", "267002", "3001", "3002", "3004"),
}
CAYENTA_BLOCKS = '{"block_ach": ["A"], "block_cc": ["C"], "cash_only": ["X"]}'
OVERHEAD_TARGET_MS = 2.0
BREAKER_TARGET_MS = 5.0


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile ``share`` (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Run ``call``; return (wall-clock ms, CPU ms of this thread: the in-process simulator excluded)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


@dataclass
class Figures:
    """Per lookup (wall ms, thread CPU ms): ours (account_balance), the partner module alone, bare POST."""

    partner: str
    ours: list[tuple[float, float]]
    fetch: list[tuple[float, float]]
    bare: list[tuple[float, float]]
    stale: int

    HEADER = (f"{'partner':<8} {'clock':<10} {'ours p50':>9} {'ours p99':>9} {'bare p50':>9} {'bare p99':>9} "
              f"{'overhead p50':>13} {'of which SOAP':>14} {'of which DB+file':>17}   (ms)")

    def p(self, which: str, clock: int, share: float) -> float:
        return percentile([sample[clock] for sample in getattr(self, which)], share)

    def overhead_p50(self, clock: int = 0) -> float:
        return self.p("ours", clock, 0.5) - self.p("bare", clock, 0.5)

    def lines(self) -> list[str]:
        rows = []
        for clock, name in ((0, "wall"), (1, "thread CPU")):
            o50, b50, f50 = (self.p(w, clock, 0.5) for w in ("ours", "bare", "fetch"))
            rows.append(f"{self.partner:<8} {name:<10} {o50:>9.2f} {self.p('ours', clock, 0.99):>9.2f} {b50:>9.2f} "
                        f"{self.p('bare', clock, 0.99):>9.2f} {o50 - b50:>13.2f} {f50 - b50:>14.2f} {o50 - f50:>17.2f}")
        return rows


def _setup_django() -> str:
    """Set Django up over a DATA_DIR of the bench's own (its 12,000 envelope files go there); return it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    data_dir = os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="rtdr-bench-")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # one log line per SOAP call would be timed too
    import django

    django.setup()
    return data_dir


def _database() -> tuple[Any, str]:
    """Create a throwaway database with every table (no migrations); return what teardown needs."""
    from django.conf import settings
    from django.db import connections
    from django.test.utils import setup_databases

    test = connections["default"].settings_dict.setdefault("TEST", {})
    test["MIGRATE"] = False
    if connections["default"].vendor == "sqlite":
        test["NAME"] = os.path.join(str(settings.DATA_DIR), "rtdr-bench.sqlite3")  # a real file, not :memory:
    else:
        test["NAME"] = f"{connections['default'].settings_dict['NAME']}_rtdrbench"
    return setup_databases(verbosity=0, interactive=False), connections["default"].vendor


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _biller(partner: str, bid: int, endpoint: str) -> Any:
    from billers.models import Account, Biller, Partner
    from billers.services import biller_setting_set

    biller = Biller.objects.create(bid=bid, name=f"Bench {partner}", partner=Partner.objects.get(code=partner))
    values: dict[int, str] = {8: endpoint, 9: "InvoiceCloud", 10: "bench-secret-pw"}
    if partner == "cayenta":
        values[28] = CAYENTA_BLOCKS
    for number, value in values.items():
        biller_setting_set(biller=biller, number=number, value=value)
    for account_number in ACCOUNTS[partner]:
        Account.objects.create(biller=biller, account_number=account_number)
    return list(Account.objects.filter(biller=biller).select_related("biller__partner"))


def _bench_partner(partner: str, handle: Any, accounts: list[Any], lookups: int) -> Figures:
    import requests

    from billers.balances import account_balance
    from billers.rtdr import RTDR_FETCHERS
    from billers.selectors import setting_values

    for account in accounts:  # warm-up: WSDL parse, connections, first queries
        account_balance(account)
    envelope, action = handle.calls[-1][1].encode("utf-8"), handle.soap_actions[-1]
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    values, fetch_balance = setting_values(accounts[0].biller), RTDR_FETCHERS[partner]
    ours: list[tuple[float, float]] = []
    fetch: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    views: list[Any] = []
    for i in range(lookups):  # interleaved, so drift in the machine's load hits all three alike
        account = accounts[i % len(accounts)]
        ours.append(timed(lambda: views.append(account_balance(account))))  # noqa: B023
        fetch.append(timed(lambda: fetch_balance(values, account.account_number, timeout=(2.0, 5.0))))  # noqa: B023
        bare.append(timed(lambda: requests.post(handle.url, data=envelope, headers=headers, timeout=(2.0, 5.0))))
    from billers.rtdr import rtdr_writer
    from exchanges.models import Exchange

    started = time.perf_counter()
    rtdr_writer.flush()
    stored = Exchange.objects.filter(biller=accounts[0].biller).count()
    print(f"{partner:<8} stored {stored} exchanges ({len(accounts) + lookups} lookups; the background writer "
          f"finished {(time.perf_counter() - started) * 1000:.0f} ms after the last lookup)")
    return Figures(partner, ours, fetch, bare, sum(view.stale for view in views))


def _bench_breaker_open(partner: str, accounts: list[Any], lookups: int) -> tuple[list[float], int, str]:
    from billers.balances import account_balance
    from billers.rtdr_models import RtdrHealth

    opening = 0
    while RtdrHealth.objects.filter(biller=accounts[0].biller, breaker_state="open").count() == 0:
        account_balance(accounts[0])  # connection refused: a failure each, until the breaker opens
        opening += 1
    times, reasons = [], set()
    for i in range(lookups):
        account = accounts[i % len(accounts)]
        times.append(timed(lambda: reasons.add(account_balance(account).stale_reason))[0])  # noqa: B023
    return times, opening, " | ".join(sorted(reasons))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rtdr", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lookups", type=int, default=2000, help="lookups per partner (default 2000)")
    parser.add_argument("--partner", choices=PARTNERS, action="append", help="default: all three")
    args = parser.parse_args(argv)
    partners = tuple(args.partner or PARTNERS)
    data_dir = _setup_django()

    from django.test.utils import teardown_databases

    from billers.catalogue import load_catalogue
    from partners import soap
    from partners.simulators import serve

    parses: list[str] = []

    class CountingDocument(soap.Document):  # type: ignore[misc]
        def __init__(self, location: str, *rest: Any, **kwargs: Any) -> None:
            parses.append(os.path.basename(str(location)))
            super().__init__(location, *rest, **kwargs)

    soap.Document = CountingDocument  # type: ignore[misc]
    soap.clear_cache()
    old_config, vendor = _database()
    handles = {p: serve(p) for p in partners}
    try:
        load_catalogue()
        print(f"RTDR bench: {args.lookups} lookups per partner through account_balance, database {vendor}, "
              f"simulators on 127.0.0.1 (in process)")
        print(Figures.HEADER)
        figures: list[Figures] = []
        for offset, partner in enumerate(partners):
            accounts = _biller(partner, 8100 + offset, handles[partner].url)
            first_parses = len(parses)
            figures.append(_bench_partner(partner, handles[partner], accounts, args.lookups))
            print("\n".join(figures[-1].lines()), f"(stale: {figures[-1].stale})", flush=True)
            assert len(parses) - first_parses <= 1, f"WSDL parsed again for {partner}: {parses}"
        print(f"WSDL parses: {len(parses)} in {sum(2 * len(f.ours) for f in figures) + 12} calls "
              f"({', '.join(parses)}): one per WSDL, none after its first call")
        print(f"\nPartner down (connection refused), breaker open: {args.lookups} lookups per partner")
        worst = 0.0
        for offset, partner in enumerate(partners):
            down = _biller(partner, 8200 + offset, f"http://127.0.0.1:{_free_port()}/{partner}")
            times, opening, reasons = _bench_breaker_open(partner, down, args.lookups)
            worst = max(worst, percentile(times, 0.99))
            print(f"{partner:<8} opened after {opening} failed calls; p50 {percentile(times, 0.5):.2f} ms, "
                  f"p99 {percentile(times, 0.99):.2f} ms, max {max(times):.2f} ms; reason: {reasons}")
        overhead = max(f.overhead_p50() for f in figures)
        cpu = max(f.overhead_p50(1) for f in figures)
        print(f"\nTargets: overhead p50 < {OVERHEAD_TARGET_MS} ms: worst {overhead:.2f} ms wall ({cpu:.2f} ms CPU) "
              f"{'met' if overhead < OVERHEAD_TARGET_MS else 'MISSED'}; breaker-open p99 < {BREAKER_TARGET_MS} ms: "
              f"worst {worst:.2f} ms {'met' if worst < BREAKER_TARGET_MS else 'MISSED'}")
    finally:
        from billers.rtdr import rtdr_writer

        rtdr_writer.stop()  # written, and its connection closed before the database is dropped
        for handle in handles.values():
            handle.stop()
        teardown_databases(old_config, verbosity=0)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
