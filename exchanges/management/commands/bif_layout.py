"""python manage.py bif_layout [--json]: the canonical BIF columns per row type."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from partners.bif_fields import FIELDS, ROW_TYPE_NAMES, layout


class Command(BaseCommand):
    help = "Print the BIF columns per row type (FH, IH, CR, ID), RowType first, in file order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help='{"FH": [field names], "IH": [...], ...}')

    def handle(self, *args: Any, **options: Any) -> None:
        columns = layout()
        if options["json"]:
            self.stdout.write(json.dumps(columns))
            return
        spec = {(f.row_type, f.name): f for f in FIELDS}
        for row_type, names in columns.items():
            self.stdout.write(f"{row_type} ({ROW_TYPE_NAMES[row_type]}): {len(names)} columns")
            for position, name in enumerate(names, 1):
                field = spec[(row_type, name)]
                note = f"  {field.note}" if field.note else ""
                self.stdout.write(f"  {position:3d}  {name:<26} FileSpecID {field.file_spec_id}{note}")
