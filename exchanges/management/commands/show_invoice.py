"""python manage.py show_invoice --biller BID INVOICE_NUMBER: the stored invoice as BIF-keyed JSON."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billers.models import Invoice
from exchanges.intake_selectors import invoice_as_bif


class Command(BaseCommand):
    help = ("Print a stored invoice as JSON keyed by BIF field names: its header fields, \"customer\" "
            "(the CR fields) and \"details\" (a list of ID rows). Empty fields are left out.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("invoice_number")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            invoice = Invoice.objects.select_related("account").get(
                biller__bid=options["biller"], invoice_number=options["invoice_number"])
        except Invoice.DoesNotExist:
            raise CommandError(f"Biller {options['biller']} has no invoice {options['invoice_number']!r}.") from None
        self.stdout.write(json.dumps(invoice_as_bif(invoice), indent=2))
