"""django-q2 tasks of the data pump: deliver one biller's events, and the every-minute sweep.

Tasks take ids and return a short summary. ``pump_biller`` is enqueued when a transaction that
recorded a pending event commits (``payments.outbox.enqueue_on_commit``); ``pump_due`` runs every
minute (``ensure_schedules``) to pick up retries that fell due and events of workers that died.
"""
from __future__ import annotations

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from payments import delivery

PUMP_BILLER = "payments.tasks.pump_biller"
PUMP_DUE = "payments.tasks.pump_due"
SCHEDULE_NAME = "data pump: due events"


def enqueue_pump(biller_id: int) -> str:
    """Enqueue ``pump_biller(biller_id)``; return the task id."""
    return str(async_task(PUMP_BILLER, biller_id, group=f"pump-{biller_id}"))


def pump_biller(biller_id: int) -> dict[str, int]:
    """Deliver the biller's due events within the task time budget; return the counts.

    When the budget runs out with work left, the task enqueues itself again.
    """
    started = timezone.now()
    cfg = delivery.config()
    summary = delivery.pump_biller_run(biller_id, cfg=cfg, time_budget=cfg.task_seconds)
    delivery.record_run(biller_id, summary, started)
    if summary.more:
        enqueue_pump(biller_id)
    return {**summary.as_dict(), "recovered": summary.recovered}


def pump_due() -> dict[str, int]:
    """Settle events of lost workers and enqueue ``pump_biller`` for every biller with due events."""
    recovered = delivery.recover_expired()
    billers = delivery.billers_with_due_events()
    for biller_id in billers:
        enqueue_pump(biller_id)
    return {"recovered": recovered, "billers": len(billers)}


def ensure_schedules() -> Schedule:
    """Create or update the every-minute ``pump_due`` schedule (idempotent); return it."""
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": PUMP_DUE, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return schedule
