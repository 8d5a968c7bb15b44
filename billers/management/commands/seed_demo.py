"""python manage.py seed_demo: one live demo biller per partner (idempotent)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billers.catalogue import load_catalogue
from billers.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo billers 123 (aus), 1368 (cayenta), 1966 (inhance), 2778 (daffron), 4411 (flexibill)."

    def handle(self, *args: Any, **options: Any) -> None:
        load_catalogue()
        for biller in seed_demo():
            self.stdout.write(f"{biller.bid:>5}  {biller.name}  ({biller.partner.name})")
