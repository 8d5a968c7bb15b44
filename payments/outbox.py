"""The outbox: events waiting for delivery to the biller's partner (or for export / download).

``record_event`` runs inside the transaction of the payment or change (``payments.events.emit``), so
an event exists exactly when its change does; its delivery task is enqueued only once that
transaction commits. The manual actions an IM takes in admin (resend, skip, mark delivered) are
here too: each requires a reason and records who and when.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from payments.outbox_models import ManualAction, OutboxEvent, OutboxStatus
from payments.outbox_payloads import snapshot
from payments.outbox_rules import decide

logger = logging.getLogger(__name__)

#: Manual action -> the statuses it may be applied to (never to an event in flight).
ACTION_FROM: dict[str, frozenset[str]] = {
    ManualAction.RESEND: frozenset({OutboxStatus.DEAD, OutboxStatus.UNKNOWN, OutboxStatus.RETRYING,
                                    OutboxStatus.SKIPPED}),
    ManualAction.SKIP: frozenset({OutboxStatus.PENDING, OutboxStatus.RETRYING, OutboxStatus.UNKNOWN,
                                  OutboxStatus.DEAD}),
    ManualAction.MARK_DELIVERED: frozenset({OutboxStatus.UNKNOWN, OutboxStatus.DEAD, OutboxStatus.RETRYING}),
}


def record_event(*, event_type: str, biller: Any, obj: Any) -> OutboxEvent:
    """Create the outbox event for ``obj`` in the current transaction and return it.

    The status is decided now (``payments.outbox_rules.decide``): ``pending`` for a partner call,
    ``for_export`` / ``for_download``, or ``not_applicable`` with the reason. A pending event's
    delivery is enqueued when the transaction commits (once per biller and transaction).
    Raises KeyError for an unknown event type; IntegrityError if the same event is recorded twice.
    """
    payload, key = snapshot(event_type, obj)
    decision = decide(biller, event_type, payload)
    now = timezone.now()
    event = OutboxEvent.objects.create(
        biller=biller,
        event_type=event_type,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        account_number=str(payload.get("account_number", ""))[:60],
        endpoint=decision.endpoint,
        idempotency_key=key,
        payload=payload,
        status=decision.status,
        status_reason=decision.reason[:300],
        auto_resend=decision.auto_resend,
        next_attempt_at=now if decision.status == OutboxStatus.PENDING else None,
    )
    if decision.status == OutboxStatus.PENDING:
        enqueue_on_commit(biller.pk)
    return event


def _enqueue(biller_id: int) -> None:
    from payments.tasks import enqueue_pump

    enqueue_pump(biller_id)


def enqueue_on_commit(biller_id: int) -> None:
    """Enqueue ``pump_biller(biller_id)`` when the current transaction commits, once per transaction."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Django keeps (savepoint ids, callback, robust) tuples; a rolled-back savepoint drops its own.
        for entry in connection.run_on_commit:
            if getattr(entry[1], "pump_biller_id", None) == biller_id:
                return
    callback = functools.partial(_enqueue, biller_id)
    callback.pump_biller_id = biller_id  # type: ignore[attr-defined]
    transaction.on_commit(callback, robust=True)


# --- manual actions ------------------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required for every manual action on outbox events.")
    return reason


Events = QuerySet[OutboxEvent] | Iterable[OutboxEvent]


def _ids(events: Events) -> list[int]:
    if isinstance(events, QuerySet):
        return list(events.values_list("pk", flat=True))
    return [e.pk for e in events]


def _manual_update(ids: list[int], action: str, actor: Any, reason: str, **changes: Any) -> int:
    """Apply ``changes`` to the events whose status allows ``action``; return how many changed.

    The update is conditional (allowed status, never ``delivering``), so an event a worker is
    sending is left alone; a worker holding a claim on one loses it (its next step checks the claim).
    """
    reason = _require_reason(reason)
    now = timezone.now()
    return OutboxEvent.objects.filter(pk__in=ids, status__in=ACTION_FROM[action]).update(
        manual_action=action, manual_by=actor if getattr(actor, "pk", None) else None, manual_at=now,
        manual_reason=reason, claimed_by="", lease_expires_at=None, **changes,
    )


@transaction.atomic
def outbox_event_resend(*, events: Events, actor: Any, reason: str) -> int:
    """Queue dead, unknown, retrying or skipped events again now; return how many were queued.

    The attempt count starts again from 0 (every earlier attempt stays recorded). ValidationError
    without a reason.
    """
    ids = _ids(events)
    count = _manual_update(ids, ManualAction.RESEND, actor, reason, status=OutboxStatus.PENDING,
                           status_reason="", attempts=0, next_attempt_at=timezone.now(), sending_at=None)
    billers = OutboxEvent.objects.filter(pk__in=ids, status=OutboxStatus.PENDING).values_list("biller_id", flat=True)
    for biller_id in set(billers):
        enqueue_on_commit(biller_id)
    return count


@transaction.atomic
def outbox_event_skip(*, events: Events, actor: Any, reason: str) -> int:
    """Never send these events (pending, retrying, unknown or dead); return how many were skipped."""
    return _manual_update(_ids(events), ManualAction.SKIP, actor, reason, status=OutboxStatus.SKIPPED,
                          status_reason=_require_reason(reason)[:300], next_attempt_at=None)


@transaction.atomic
def outbox_event_mark_delivered(*, events: Events, actor: Any, reason: str) -> int:
    """Record that the partner has these events (checked in its system); return how many changed."""
    return _manual_update(_ids(events), ManualAction.MARK_DELIVERED, actor, reason, status=OutboxStatus.DELIVERED,
                          delivered_at=timezone.now(), next_attempt_at=None)


@transaction.atomic
def outbox_events_settle(*, events: QuerySet[OutboxEvent], note: str = "") -> int:
    """Mark ``for_export`` / ``for_download`` events delivered (file written, download acknowledged).

    For the exports and the download API; returns how many changed. Already settled events are left alone.
    """
    routed = events.filter(status__in=[OutboxStatus.FOR_EXPORT, OutboxStatus.FOR_DOWNLOAD])
    return routed.update(status=OutboxStatus.DELIVERED, delivered_at=timezone.now(), status_reason=note[:300])
