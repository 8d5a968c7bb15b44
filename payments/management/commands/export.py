"""Write one biller's export file(s) for a business day into a folder.

    python manage.py export --biller 4411 --kind payments --date 2026-11-20 --out /tmp/out

The day's batch is closed first if it has ended and is still open. The files are also kept with the
batch (under DATA_DIR/exports/, as the scheduled close does) and copied into --out. The last line
printed is one JSON object: {"files": [...], "rows": N, "total": "123.45"}.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billers.models import Biller
from payments.batch_models import Batch, ExportKind
from payments.batches import batch_close, due_business_date
from payments.exports import ExportRefused, export_generate, export_kinds, file_path


class Command(BaseCommand):
    help = "Write a biller's export file(s) of one business day (payments or a change log) into --out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("--kind", required=True, choices=ExportKind.values)
        parser.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD",
                            help="Business day (default: the biller's latest ended day).")
        parser.add_argument("--out", type=Path, required=True, metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        biller = Biller.objects.select_related("partner").filter(bid=options["biller"]).first()
        if biller is None:
            raise CommandError(f"No biller with BID {options['biller']}.")
        kind = options["kind"]
        if kind not in export_kinds(biller):
            takes = ", ".join(export_kinds(biller)) or "no export files"
            raise CommandError(f"Biller {biller.bid} ({biller.partner.name}) takes no {kind} export; it takes: "
                               f"{takes}.")
        now = timezone.now()
        day = options["date"] or due_business_date(biller, now)
        batch = Batch.objects.filter(biller=biller, business_date=day).first()
        if batch is None:
            try:
                batch = batch_close(biller=biller, business_date=day, now=now)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        try:
            files = export_generate(batch=batch, kind=kind)
        except ExportRefused as exc:
            raise CommandError(f"File refused, nothing written: {exc}") from exc
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for f in files:
            target = out / f.file_name
            shutil.copyfile(file_path(f), target)
            written.append(str(target))
            self.stdout.write(f"{target}: {f.row_count} rows, total {f.total}, SHA-256 {f.sha256}")
        if not files:
            self.stdout.write(f"No {ExportKind(kind).label.lower()} for biller {biller.bid} on {day}: "
                              "no file written.")
        rows = sum(f.row_count for f in files)
        total = sum((f.total for f in files), Decimal(0))
        self.stdout.write(json.dumps({"files": written, "rows": rows, "total": f"{total:.2f}"}))
