"""Check the operations alert conditions now, list them, or install the every-5-minutes schedule."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from exchanges.alerts import current_conditions, ensure_schedules, raise_alerts


class Command(BaseCommand):
    help = ("Raise, refresh and resolve operations alerts now and mail new ones (as the schedule does); "
            "--dry-run lists what is wrong without writing or mailing; --schedule installs the every-5-minutes "
            "django-q2 schedule (idempotent).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print the current conditions, one a line.")
        parser.add_argument("--schedule", action="store_true", help="Create or update the schedule only.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            self.stdout.write(f"schedule {ensure_schedules()}")
            return
        if options["dry_run"]:
            for condition in current_conditions(timezone.now()):
                self.stdout.write(f"{condition.kind}\t{condition.key}\t{condition.message}")
            return
        self.stdout.write(raise_alerts())
