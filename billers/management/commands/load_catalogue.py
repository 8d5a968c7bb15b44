"""python manage.py load_catalogue: create or update the partner catalogue from the partners package."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand

from billers.catalogue import load_catalogue


class Command(BaseCommand):
    help = "Load the five partners, their capability matrices, setting and BIF definitions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(asdict(load_catalogue())))
