"""Closing each biller's business day into a batch at its batch close time, in its own time zone.

Business day D of a biller ends at ``batch_close_time`` (default 23:59) on D in the biller's zone; its
batch holds the payments paid in ``[end of D-1, end of D)`` (the previous batch's end when there is
one, so no payment falls between two batches). ``close_due_batches`` is the django-q2 task: every run
closes the days whose end has passed (catching up missed days), generates their export files,
uploads them to the biller's SFTP drop, and reconciles recent batches. Running it twice changes
nothing the second time.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from billers.models import Biller, BillerStatus
from payments.batch_models import Batch, BatchExportStatus, ReconciliationStatus
from payments.export_delivery import deliver_due
from payments.exports import batch_export, batch_payments
from payments.models import PaymentKind
from payments.reconciliation import batch_reconcile

log = logging.getLogger(__name__)

CLOSE_GRACE = timedelta(minutes=2)  # payments recorded a moment after they were paid still make it in
MAX_CATCH_UP_DAYS = 31  # after an outage, close at most this many missed days per biller
RECHECK_DAYS = 7  # batches younger than this are reconciled again until they agree
RECONCILE_EVERY = timedelta(minutes=30)  # how often a batch that does not agree yet is checked again
EXPORT_STALE = timedelta(minutes=30)  # an export "running" longer than this was left by a dead worker
SCHEDULE_NAME = "Close due batches, export and deliver files"
SCHEDULE_FUNC = "payments.batches.close_due_batches"
SCHEDULE_MINUTES = 5


def close_instant(biller: Biller, day: date) -> datetime:
    """When business day ``day`` ends: the biller's close time on ``day`` in its zone (aware)."""
    return datetime.combine(day, biller.batch_close_time, ZoneInfo(biller.time_zone))


def due_business_date(biller: Biller, now: datetime) -> date:
    """The latest business day whose end (plus the grace) is at or before ``now``."""
    day = now.astimezone(ZoneInfo(biller.time_zone)).date()
    while close_instant(biller, day) + CLOSE_GRACE > now:
        day -= timedelta(days=1)
    return day


def _totals(batch: Batch) -> dict[str, Any]:
    """Counts and amounts of the batch's payments, by tender and by channel, and its credits."""
    payments = batch_payments(batch).filter(kind=PaymentKind.PAYMENT)
    totals: dict[str, Any] = {}
    for dimension in ("tender", "channel"):
        rows = payments.values(dimension).annotate(n=Count("pk"), amount=Sum("amount")).order_by(dimension)
        totals[dimension] = {r[dimension]: {"count": r["n"], "amount": f"{r['amount']:.2f}"} for r in rows}
    agg = payments.aggregate(n=Count("pk"), amount=Sum("amount"), fees=Sum("convenience_fee"))
    credits = batch_payments(batch).filter(kind=PaymentKind.CREDIT).aggregate(n=Count("pk"), amount=Sum("amount"))
    return {
        "payment_count": agg["n"], "payment_total": agg["amount"] or Decimal(0),
        "fee_total": agg["fees"] or Decimal(0), "credit_count": credits["n"],
        "credit_total": credits["amount"] or Decimal(0), "totals": totals,
    }


def batch_close(*, biller: Biller, business_date: date, now: datetime | None = None) -> Batch:
    """Close the biller's business day: create its batch with totals; return the (existing) batch.

    Idempotent: a day already closed is returned unchanged. ValueError if the day has not ended yet.
    """
    now = now or timezone.now()
    end = close_instant(biller, business_date)
    if end > now:
        raise ValueError(f"biller {biller.bid}: business day {business_date} ends at {end.isoformat()}, "
                         "it cannot be closed before")
    existing = Batch.objects.filter(biller=biller, business_date=business_date).first()
    if existing:
        return existing
    previous = Batch.objects.filter(biller=biller, business_date__lt=business_date).order_by("-business_date").first()
    start = close_instant(biller, business_date - timedelta(days=1))
    if previous and previous.business_date == business_date - timedelta(days=1):
        start = previous.period_end
    start = min(start, end)
    batch = Batch(biller=biller, business_date=business_date, period_start=start, period_end=end, closed_at=now)
    for name, value in _totals(batch).items():
        setattr(batch, name, value)
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:  # closed meanwhile by another worker
        return Batch.objects.get(biller=biller, business_date=business_date)
    return batch


def days_to_close(biller: Biller, now: datetime) -> list[date]:
    """Business days of the biller that have ended and have no batch yet, oldest first.

    A biller without any batch starts with its latest ended day; missed days are caught up, at most
    MAX_CATCH_UP_DAYS of them.
    """
    due = due_business_date(biller, now)
    last = Batch.objects.filter(biller=biller).order_by("-business_date").values_list("business_date", flat=True)
    last_day = last.first()
    first = due if last_day is None else max(last_day + timedelta(days=1), due - timedelta(MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((due - first).days + 1)]


def _claimable(now: datetime) -> Q:
    """Exports waiting, or left running by a worker that died (older than EXPORT_STALE)."""
    return Q(export_status=BatchExportStatus.PENDING) | Q(
        export_status=BatchExportStatus.RUNNING, export_started_at__lt=now - EXPORT_STALE)


def _claim_export(batch: Batch, now: datetime) -> bool:
    """Claim the batch's export (conditional update): False if another worker has it or it is done."""
    return bool(Batch.objects.filter(_claimable(now), pk=batch.pk)
                .update(export_status=BatchExportStatus.RUNNING, export_started_at=now))


def batch_export_claimed(batch: Batch, now: datetime) -> int | None:
    """Generate the batch's files if its export is claimable (claimed here); return the file count.

    None when another worker has the export or it is done.
    """
    if not _claim_export(batch, now):
        return None
    try:
        return len(batch_export(batch=batch))
    except Exception:
        Batch.objects.filter(pk=batch.pk).update(export_status=BatchExportStatus.PENDING)
        raise


def close_due_batches(now: datetime | None = None) -> dict[str, Any]:
    """The scheduled task: close every ended day, export, upload, reconcile. Returns counts.

    Idempotent: closed days are skipped, exports are claimed once, each file content is uploaded once.
    One biller's or batch's failure is logged and listed; the others go on.
    """
    now = now or timezone.now()
    summary: dict[str, Any] = {"closed": 0, "files": 0, "delivered": 0, "delivery_failed": 0,
                               "reconciled": 0, "errors": []}
    for biller in Biller.objects.exclude(status=BillerStatus.RETIRED).select_related("partner"):
        try:
            for day in days_to_close(biller, now):
                batch_close(biller=biller, business_date=day, now=now)
                summary["closed"] += 1
        except Exception as exc:  # one biller's problem must not stop the others
            log.exception("closing batches of biller %s failed", biller.bid)
            summary["errors"].append(f"{biller.bid}: {exc}")
    recent = Batch.objects.filter(business_date__gte=(now - timedelta(days=RECHECK_DAYS)).date())
    exported: list[int] = []
    for batch in recent.filter(_claimable(now)).select_related("biller__partner").order_by("business_date", "pk"):
        try:
            files = batch_export_claimed(batch, now)
            if files is not None:
                exported.append(batch.pk)
                summary["files"] += files
        except Exception as exc:
            log.exception("exporting batch %s failed", batch.pk)
            summary["errors"].append(f"batch {batch}: {exc}")
    for delivery in deliver_due(now):
        summary["delivered" if delivery.status == "succeeded" else "delivery_failed"] += 1
    unsettled = recent.exclude(reconciliation_status=ReconciliationStatus.AGREES).filter(
        Q(pk__in=exported) | Q(reconciled_at__isnull=True) | Q(reconciled_at__lte=now - RECONCILE_EVERY))
    for batch in unsettled.select_related("biller__partner").order_by("business_date", "pk"):
        try:
            batch_reconcile(batch=batch, now=now)
            summary["reconciled"] += 1
        except Exception as exc:
            log.exception("reconciling batch %s failed", batch.pk)
            summary["errors"].append(f"batch {batch}: {exc}")
    return summary


def ensure_schedules() -> list[str]:
    """Register (or refresh) the django-q2 schedule of ``close_due_batches``; return the schedule names.

    Idempotent: one schedule per function, duplicates removed, the next run left as it is.
    """
    from django_q.models import Schedule

    schedules = list(Schedule.objects.filter(func=SCHEDULE_FUNC).order_by("pk"))
    if schedules:
        keep, extra = schedules[0], schedules[1:]
        for s in extra:
            s.delete()
        changed = (keep.name, keep.schedule_type, keep.minutes, keep.repeats) != (
            SCHEDULE_NAME, Schedule.MINUTES, SCHEDULE_MINUTES, -1)
        if changed:
            keep.name, keep.schedule_type, keep.minutes, keep.repeats = (
                SCHEDULE_NAME, Schedule.MINUTES, SCHEDULE_MINUTES, -1)
            keep.save()
    else:
        Schedule.objects.create(name=SCHEDULE_NAME, func=SCHEDULE_FUNC, schedule_type=Schedule.MINUTES,
                                minutes=SCHEDULE_MINUTES, repeats=-1)
    return [SCHEDULE_NAME]
