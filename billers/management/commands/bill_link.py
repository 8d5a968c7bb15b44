"""python manage.py bill_link --biller BID INVOICE_NUMBER [--out FILE]

Link mode with a URL (Daffron): prints the URL (with --out, also fetches the PDF into FILE).
PDF from a web service (AUS, Cayenta), extraction and template modes: writes the PDF to --out FILE.
Exits 1 with the reason when there is no bill to show.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billers.bills import BillResult, BillUnavailable, bill_for, proxy_stream
from billers.models import Biller, Invoice


def _write(result: BillResult, out: Path) -> int:
    """Write the bill's PDF to ``out``; return its size in bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if result.url:
        with out.open("wb") as sink:
            for chunk in proxy_stream(result.url):
                sink.write(chunk)
    elif result.content is not None:
        out.write_bytes(result.content)
    else:
        assert result.path is not None
        shutil.copyfile(result.path, out)
    return out.stat().st_size


class Command(BaseCommand):
    help = "Print the bill link of an invoice (link mode) or write its PDF to --out (every mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("invoice_number")
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("--out", type=Path, metavar="FILE", help="Write the PDF here.")

    def handle(self, *args: Any, **options: Any) -> None:
        bid, number, out = options["biller"], options["invoice_number"], options["out"]
        if not Biller.objects.filter(bid=bid).exists():
            raise CommandError(f"No biller with BID {bid}.")
        invoice = (
            Invoice.objects.select_related("biller__partner", "account")
            .filter(biller__bid=bid, invoice_number=number)
            .first()
        )
        if invoice is None:
            raise CommandError(f"Biller {bid} has no invoice {number}.")
        try:
            result = bill_for(invoice)
            if result.url:
                self.stdout.write(result.url)
            if out is not None:
                size = _write(result, out)
                self.stderr.write(f"{out}: {size} bytes ({result.source})")
            elif not result.url:
                raise CommandError(
                    f"Invoice {number} has no link: its bill comes from {result.source}; give --out FILE."
                )
        except BillUnavailable as exc:
            raise CommandError(f"No bill for invoice {number}: {exc.message}") from None
