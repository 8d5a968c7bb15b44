"""python manage.py render_bills --biller BID --out DIR [--limit N] [--workers N] [--force]

Renders the bills of the biller's active invoices (newest first) from its template, through the
render cache, in a pool of recycled worker processes; writes ``<invoice number>.pdf`` into DIR.
The run is recorded as a bill job (admin: Bill jobs). Exits 1 when no bill could be rendered.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billers.bill_batch import render_batch
from billers.bill_models import BillJob, BillJobStatus, BillMode
from billers.bills import bill_setup_for
from billers.models import Biller


class Command(BaseCommand):
    help = "Render a biller's bills from its template into a folder (cached, in recycled workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("--out", type=Path, required=True, metavar="DIR")
        parser.add_argument("--limit", type=int, metavar="N", help="Only the N newest invoices.")
        parser.add_argument("--workers", type=int, metavar="N", help="Render processes (default: CPUs; 0: none).")
        parser.add_argument("--force", action="store_true", help="Render again even when cached.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            biller = Biller.objects.get(bid=options["biller"])
        except Biller.DoesNotExist:
            raise CommandError(f"No biller with BID {options['biller']}.") from None
        mode = bill_setup_for(biller).mode
        if mode != BillMode.TEMPLATE:
            raise CommandError(
                f"Biller {biller.bid} serves bills by {BillMode(mode).label}; render_bills is for template billers."
            )
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        verbosity = options["verbosity"]

        def progress(job: BillJob) -> None:
            if verbosity > 1:
                self.stderr.write(f"{job.progress_done}/{job.progress_total} bills")

        started = time.monotonic()
        job = render_batch(
            biller=biller, out_dir=options["out"], limit=options["limit"], workers=options["workers"],
            force=options["force"], progress=progress,
        )
        seconds = time.monotonic() - started
        counts = job.counts
        rate = counts.get("rendered", 0) / seconds if seconds else 0.0
        self.stdout.write(
            f"job {job.pk} {job.status}: {counts.get('invoices', 0)} invoices, {counts.get('rendered', 0)} "
            f"rendered, {counts.get('cached', 0)} cached, {counts.get('failed', 0)} failed in {seconds:.1f} s "
            f"({rate:.1f} rendered/s) -> {options['out']}"
        )
        for error in job.errors[:20]:
            self.stderr.write(f"  {error['item']}: {error['message']}")
        if job.status == BillJobStatus.FAILED:
            raise CommandError(job.message)
