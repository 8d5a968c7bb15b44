"""Row factories for the dashboard and alert tests: exchanges, outbox events, RTDR health, exports."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

_keys = itertools.count(1)


def exchange(biller: Any, *, kind: str = "invoices", status: str = "succeeded", at: datetime | None = None,
             **fields: Any) -> Any:
    """An Exchange of ``biller`` created (and finished) at ``at`` (default now)."""
    from exchanges.models import Exchange

    at = at or timezone.now()
    fields.setdefault("finished_at", at if status not in ("pending", "running") else None)
    fields.setdefault("source", "sftp")
    x = Exchange.objects.create(biller=biller, partner_id=biller.partner_id, kind=kind, status=status, **fields)
    Exchange.objects.filter(pk=x.pk).update(created_at=at)
    x.created_at = at
    return x


def event(biller: Any, *, status: str = "pending", event_type: str = "payment", at: datetime | None = None,
          **fields: Any) -> Any:
    """An OutboxEvent of ``biller`` in ``status`` created at ``at`` (default now)."""
    from payments.outbox_models import OutboxEvent

    e = OutboxEvent.objects.create(
        biller=biller, event_type=event_type, content_type=ContentType.objects.get_for_model(biller),
        object_id=biller.pk, idempotency_key=f"key-{next(_keys)}", status=status, endpoint="payments", **fields)
    if at is not None:
        OutboxEvent.objects.filter(pk=e.pk).update(created_at=at)
        e.created_at = at
    return e


def health(biller: Any, *, recent: list[list[float]], breaker: str = "closed", **fields: Any) -> Any:
    from billers.rtdr_models import RtdrHealth

    return RtdrHealth.objects.create(biller=biller, endpoint=f"https://rtdr.example/{biller.bid}",
                                     breaker_state=breaker, recent=recent, **fields)


def export_file(biller: Any, *, at: datetime | None = None, day: date | None = None, name: str = "",
                path: str = "exports/x") -> Any:
    """An ExportFile (and its batch) generated at ``at`` (the file itself is not written)."""
    from payments.batch_models import Batch, ExportFile

    at = at or timezone.now()
    day = day or at.date()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    batch, _ = Batch.objects.get_or_create(biller=biller, business_date=day,
                                           defaults={"period_start": start, "period_end": start + timedelta(days=1)})
    return ExportFile.objects.create(batch=batch, biller=biller, kind="payments",
                                     file_name=name or f"ICPayments_{biller.bid}_{next(_keys)}.txt",
                                     path=path, sha256="0" * 64, generated_at=at)


def download(export: Any, *, user: Any = None, at: datetime | None = None) -> Any:
    from payments.batch_models import ExportDownload

    return ExportDownload.objects.create(file=export, user=user, username=getattr(user, "username", "someone"),
                                         downloaded_at=at or timezone.now())


def connection(biller: Any, **fields: Any) -> Any:
    from exchanges.transport_models import Connection

    fields.setdefault("kind", "folder")
    fields.setdefault("name", f"{biller.bid} invoices")
    return Connection.objects.create(biller=biller, inbox_folder="in", archive_folder="archive", error_folder="error",
                                     **fields)
