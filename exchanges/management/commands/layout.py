"""python manage.py layout PARTNER [--json] [--biller BID]: a partner's file layouts."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchanges.intake_layouts import LAYOUTS, partner_layout


class Command(BaseCommand):
    help = ("Print a partner's file layouts: per record type, each field's name, its position (column, "
            "start-end and width, or XML path) and the BIF field it maps to.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner", choices=sorted(LAYOUTS))
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--biller", type=int, metavar="BID", help="AUS: show this biller's own column table")

    def handle(self, *args: Any, **options: Any) -> None:
        mapping = None
        if options["biller"] is not None:
            from billers.models import Biller
            from exchanges.intake_mapping import mapping_of

            biller = Biller.objects.filter(bid=options["biller"]).first()
            if biller is None:
                raise CommandError(f"No biller with BID {options['biller']}.")
            mapping = mapping_of(biller)
        layouts = partner_layout(options["partner"], mapping=mapping)
        if options["json"]:
            self.stdout.write(json.dumps(layouts))
            return
        for record, fields in layouts.items():
            self.stdout.write(f"{record}: {len(fields)} fields")
            for field in fields:
                where = (f"{field['start']:>4}-{field['end']:<4} width {field['width']:>3}" if "start" in field
                         else f"column {field['column']:>3}" if "column" in field else field.get("path", ""))
                extra = f"  ({field['note']})" if field.get("note") else ""
                if "rule" in field:
                    extra = f"  from {field['from']}: {field['rule']}"
                self.stdout.write(f"  {field['name']:<26} {where:<24} -> {field['bif_field'] or '-'}{extra}")
