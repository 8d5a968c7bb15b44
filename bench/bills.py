"""Bill rendering speed: 500 one-page bills from templates/bills/utility_default.html with weasyprint.

    .venv/bin/python bench/bills.py                      # 500 bills, one worker per CPU
    .venv/bin/python bench/bills.py --bills 200 --workers 1 --max-tasks 50

The parent builds each bill's HTML (Django template, as ``render_bills`` does); a pool of worker
processes, each replaced after ``--max-tasks`` bills (weasyprint does not give memory back), turns
HTML into PDF. Prints bills/s overall and per worker (target: 10 bills/s per core), the workers' CPU
time per bill (bills/s per core when the machine is shared: wall-clock figures then say little), the p50/p95 of
one bill, the peak RSS of one worker and of the parent, and the average PDF size. Invoices are built
in memory (no database); DATA_DIR is a scratch directory. Writes the last PDF to --keep if given.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

TARGET_PER_CORE = 10.0
SERVICES = (("Water", "gal", Decimal("0.0086")), ("Sewer", "gal", Decimal("0.0065")), ("Trash", "", None))
NAMES = ("Alice Moreno", "Ben Carter", "Chloe Nguyen", "Dev Patel", "Erin Walsh", "Farah Khan", "Gus Olsen")


def _setup() -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-bills-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _details(i: int) -> list[dict[str, str]]:
    usage = 3000 + (i * 37) % 4000
    rows = []
    for n, (service, unit, rate) in enumerate(SERVICES):
        amount = (Decimal(usage) * rate).quantize(Decimal("0.01")) if rate else Decimal("16.10")
        row = {"CustomField1": f"{n + 1:03d}", "CustomField3": service, "CustomField10": str(amount),
               "CustomField83": unit}
        if rate and n == 0:  # the water meter; sewer is billed on water usage
            previous = 40000 + i * 11
            row.update({"CustomField4": f"RES-{service[0]}1", "CustomField5": f"{service[0]}-{700000 + i}",
                        "CustomField6": str(previous + usage), "CustomField7": str(previous),
                        "CustomField8": "1", "CustomField9": str(usage)})
        elif rate:
            row.update({"CustomField4": f"RES-{service[0]}1", "CustomField9": str(usage)})
        if n == 0:
            for k in range(1, 14):
                row[f"CustomField{12 + 2 * k}"] = str(usage + ((i + k) * 131) % 1500 - 700)
                month = date(2026, 11, 1) - timedelta(days=30 * k)
                row[f"CustomField{13 + 2 * k}"] = month.strftime("%m/%y")
        rows.append(row)
    return rows


def build_invoices(count: int) -> list[Any]:
    """Return ``count`` unsaved invoices (with biller and account) whose data varies with i."""
    from billers.models import Account, Biller, Invoice
    from partners.bif import CR_FIELDS, ID_FIELDS, packed

    biller = Biller(bid=4411, name="Harris County Co-op")
    invoices = []
    for i in range(count):
        name = NAMES[i % len(NAMES)]
        account = Account(biller=biller, account_number=f"{1000 + i:010d}MCS", name=name,
                          address1=f"{10 + i % 90} Oak St", city="Springfield", state="VA", zip="20110")
        details = _details(i)
        past_due = Decimal("12.50") if i % 5 == 0 else None
        total = sum(Decimal(d["CustomField10"]) for d in details) + (past_due or 0)
        invoices.append(Invoice(
            biller=biller, account=account, invoice_number=f"{1000 + i}1126", invoice_date=date(2026, 11, 1),
            due_date=date(2026, 11, 25), total_amount_due=total, balance_due=total,
            past_due=past_due, details=[packed(detail, ID_FIELDS) for detail in details],
            header={"Custom6": "10/01/2026", "Custom7": "10/31/2026", "Custom12": "30",
                    "Custom20": "Water main flushing runs November 10-14; water may look cloudy.",
                    "Custom24": "Sign up for AutoPay and paperless billing on our website."},
            customer=packed({"AccountNumber": account.account_number, "CustomerName": name}, CR_FIELDS),
        ))
    return invoices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-tasks", type=int, help="bills per worker before it is replaced (default: as in production)")
    parser.add_argument("--keep", type=Path, help="write the last PDF here")
    args = parser.parse_args(argv)
    _setup()
    from billers.bill_pdf import MAX_TASKS_PER_CHILD, RenderPool
    from billers.bill_render import DEFAULT_TEMPLATE, TEMPLATES_DIR, bill_html, stylesheet_text

    args.max_tasks = args.max_tasks or MAX_TASKS_PER_CHILD
    started = time.perf_counter()
    jobs = [(inv.invoice_number, bill_html(inv, DEFAULT_TEMPLATE)) for inv in build_invoices(args.bills)]
    html_seconds = time.perf_counter() - started

    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sizes, times, failures, last = [], [], 0, b""
    with RenderPool(TEMPLATES_DIR, stylesheet_text(), workers=args.workers,
                    max_tasks_per_child=args.max_tasks) as pool:
        for _key, pdf, error, ms in pool.render(jobs):
            if pdf is None:
                failures += 1
                print(f"failed: {error}", file=sys.stderr)
                continue
            sizes.append(len(pdf))
            times.append(ms)
            last = pdf
    seconds = time.perf_counter() - started  # pool closed: workers reaped, their peak RSS counted

    workers = max(args.workers, 1)
    rate = len(sizes) / seconds
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    cpu_rate = len(sizes) / cpu_seconds if cpu_seconds else 0.0
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times, default=0)
    print(f"{len(sizes)} bills ({failures} failed) in {seconds:.1f} s with {args.workers} workers "
          f"(replaced every {args.max_tasks} bills; {os.cpu_count()} CPUs)")
    print(f"  {rate:.1f} bills/s, {rate / workers:.1f} bills/s per worker "
          f"(target {TARGET_PER_CORE:.0f} per core: {'met' if rate / workers >= TARGET_PER_CORE else 'NOT met'})")
    print(f"  CPU: {cpu_seconds * 1000 / max(len(sizes), 1):.0f} ms per bill in the workers = {cpu_rate:.1f} bills/s "
          f"per fully available core (target {TARGET_PER_CORE:.0f}: {'met' if cpu_rate >= TARGET_PER_CORE else 'NOT met'};"
          f" load average now {os.getloadavg()[0]:.1f})")
    print(f"  one bill: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms (in a worker, first bills "
          f"of each worker included); HTML in the parent: {html_seconds * 1000 / max(len(jobs), 1):.1f} ms/bill")
    print(f"  peak RSS: {child_peak:.0f} MB per worker, {parent_peak:.0f} MB parent; "
          f"PDF {statistics.mean(sizes) / 1024:.1f} KiB on average")
    if args.keep and last:
        args.keep.write_bytes(last)
        print(f"  last PDF written to {args.keep}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
