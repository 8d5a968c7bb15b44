"""python manage.py biller_settings BID [--set NUMBER=VALUE ...] [--unset NUMBER ...] [--json]"""
from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from billers.models import Biller
from billers.selectors import settings_listing
from billers.services import biller_setting_delete, biller_setting_set


def _assignment(text: str) -> tuple[int, str]:
    number, sep, value = text.partition("=")
    if not sep or not number.strip().isdigit():
        raise CommandError(f"--set expects NUMBER=VALUE, got {text!r}")
    return int(number), value


class Command(BaseCommand):
    help = "Print a biller's advanced settings (secrets masked), or set them with admin's validation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bid", type=int)
        parser.add_argument("--set", action="append", default=[], metavar="NUMBER=VALUE")
        parser.add_argument("--unset", action="append", default=[], type=int, metavar="NUMBER")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            biller = Biller.objects.get(bid=options["bid"])
        except Biller.DoesNotExist:
            raise CommandError(f"No biller with BID {options['bid']}.") from None
        assignments = [_assignment(a) for a in options["set"]]
        try:
            with transaction.atomic():
                for number, value in assignments:
                    biller_setting_set(biller=biller, number=number, value=value)
                for number in options["unset"]:
                    biller_setting_delete(biller=biller, number=number)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        rows = settings_listing(biller)
        if options["json"]:
            self.stdout.write(json.dumps({"bid": biller.bid, "settings": rows}, indent=2))
            return
        self.stdout.write(f"{biller.bid} {biller.name} ({biller.partner.name})")
        for row in rows:
            self.stdout.write(f"{row['number']:>5}  {row['name'][:50]:<50}  {row['value']}")
        if not rows:
            self.stdout.write("  (no settings)")
