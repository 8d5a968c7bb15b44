"""python manage.py import_file --biller BID PATH [--kind invoices|replacements|balances|expirations]"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billers.models import Biller
from exchanges.intake import INTAKE_KINDS, exchange_summary, import_file
from exchanges.models import ExchangeSource, ExchangeStatus


class Command(BaseCommand):
    help = ("Import a partner file for a biller through its partner's parser. Prints one JSON object last: "
            "exchange, status, counts and errors. Exits 1 only when the file was rejected (status failed).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("path")
        parser.add_argument("--kind", choices=[str(k) for k in INTAKE_KINDS], default="invoices")
        parser.add_argument("--name", help="file name to check and record (default: the path's name)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            biller = Biller.objects.select_related("partner").get(bid=options["biller"])
        except Biller.DoesNotExist:
            raise CommandError(f"No biller with BID {options['biller']}.") from None
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        exchange = import_file(biller=biller, stream_or_path=path, file_name=options["name"] or path.name,
                               kind=options["kind"], source=ExchangeSource.COMMAND, actor="import_file command")
        self.stdout.write(json.dumps(exchange_summary(exchange)))
        if exchange.status == ExchangeStatus.FAILED:
            raise SystemExit(1)
