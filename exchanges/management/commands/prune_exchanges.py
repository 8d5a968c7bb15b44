"""python manage.py prune_exchanges [--days N] [--dry-run]: remove old raw payloads, keep the rows."""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from exchanges.intake_retention import prune_raw_files


class Command(BaseCommand):
    help = ("Delete raw exchange payloads older than EXCHANGE_RETENTION_DAYS (or --days) from DATA_DIR; the "
            "exchange rows stay, with raw_pruned_at set. Prints a JSON summary.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="default: settings.EXCHANGE_RETENTION_DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be removed")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.EXCHANGE_RETENTION_DAYS
        result = prune_raw_files(older_than_days=days, dry_run=options["dry_run"])
        self.stdout.write(json.dumps(result))
