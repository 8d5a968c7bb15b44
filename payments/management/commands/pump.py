"""python manage.py pump --biller BID [--dry-run --out DIR] | pump --ensure-schedules

Delivers the biller's due outbox events now (the same engine as the ``pump_biller`` task) and prints
one JSON object last: {"delivered": N, "retrying": N, "dead": N, "skipped": N, "unknown": N}.
With ``--dry-run`` nothing is sent or changed: each due event's envelope is rendered (secrets
masked) into DIR, one file per event, and the JSON counts ``rendered`` instead.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billers.models import Biller
from partners import pump_common as pc
from partners.base import PartnerError
from payments import delivery
from payments.outbox_models import OutboxEvent
from payments.outbox_rules import PUMPS


def render_due(biller: Biller, out: Path) -> dict[str, Any]:
    """Write the envelope of every due event of ``biller`` into ``out``; return the counts and errors.

    A file is ``<event id>_<event type>_<operation>.xml``; an event that cannot be built is listed
    under ``errors`` (and counted as skipped), nothing is changed in the database.
    """
    cfg = delivery.config()
    module = PUMPS.get(biller.partner.code)
    counts: dict[str, Any] = {"delivered": 0, "retrying": 0, "dead": 0, "skipped": 0, "rendered": 0, "errors": []}
    if module is None:
        return counts
    out.mkdir(parents=True, exist_ok=True)
    ctx = delivery.context_for(biller, cfg)
    due = OutboxEvent.objects.filter(biller=biller).filter(delivery.claimable_q(timezone.now())).order_by("id")
    for event in due:
        pump_event = pc.PumpEvent(event.event_type, event.payload, event.idempotency_key, event.created_at)
        try:
            rendered = module.render(pump_event, ctx)
        except PartnerError as exc:
            counts["skipped"] += 1
            counts["errors"].append({"event": event.pk, "error": str(exc)})
            continue
        path = out / f"{event.pk}_{event.event_type}_{rendered.operation}.xml"
        path.write_text(f"<!-- {rendered.operation} -> {rendered.endpoint_url} -->\n{rendered.xml}\n")
        counts["rendered"] += 1
    return counts


class Command(BaseCommand):
    help = "Deliver (or, with --dry-run, render) a biller's due outbox events; print JSON counts last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, metavar="BID", help="The biller's BID.")
        parser.add_argument("--dry-run", action="store_true", help="Render envelopes to --out; send nothing.")
        parser.add_argument("--out", type=Path, help="Folder for the rendered envelopes (with --dry-run).")
        parser.add_argument("--ensure-schedules", action="store_true",
                            help="Create or update the every-minute pump_due schedule, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ensure_schedules"]:
            from payments.tasks import ensure_schedules

            schedule = ensure_schedules()
            self.stdout.write(json.dumps({"schedule": schedule.name, "func": schedule.func, "minutes": schedule.minutes}))
            return
        if options["biller"] is None:
            raise CommandError("--biller BID is required (or --ensure-schedules).")
        try:
            biller = Biller.objects.select_related("partner").get(bid=options["biller"])
        except Biller.DoesNotExist:
            raise CommandError(f"No biller with BID {options['biller']}.") from None
        if options["dry_run"]:
            if options["out"] is None:
                raise CommandError("--dry-run needs --out DIR for the rendered envelopes.")
            counts = render_due(biller, options["out"])
            for error in counts["errors"]:
                self.stderr.write(f"event {error['event']}: {error['error']}")
            self.stdout.write(json.dumps({k: v for k, v in counts.items() if k != "errors"}))
            return
        if biller.partner.code not in PUMPS:
            self.stderr.write(f"{biller.partner} is not pushed to: its events are exported or downloaded.")
        started = timezone.now()
        summary = delivery.pump_biller_run(biller.pk)
        delivery.record_run(biller.pk, summary, started, source="command")
        self.stdout.write(json.dumps(summary.as_dict()))
