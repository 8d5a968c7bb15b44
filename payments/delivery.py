"""The delivery engine: claims outbox events, sends them through the partner's pump, records the outcome.

Exactly once in effect, built from these rules:

- **Claim.** A worker claims the first events of one queue (biller + endpoint) with a conditional
  ``UPDATE ... WHERE status IN (pending, retrying, unknown) AND next_attempt_at <= now AND no live
  lease`` and uses the row count; claims of one queue are serialized (PostgreSQL advisory lock,
  SQLite IMMEDIATE transactions), so two workers never hold the same event.
- **Order.** A queue's events go out in id (creation) order: the claim stops at the first open
  event that is not claimable (retrying or unknown not yet due, waiting for an IM, or in flight).
- **Mark, then send.** Before the call the event becomes ``delivering`` (attempt counted,
  ``sending_at`` set, lease renewed) in its own commit; the outcome is written with the attempt row.
- **Outcome.** Delivered; temporary failure -> ``retrying`` with exponential backoff and jitter,
  ``dead`` after ``PUMP_MAX_ATTEMPTS``; permanent -> ``dead`` at once; no answer after sending ->
  ``unknown``, resent automatically only where the partner detects duplicates by our key
  (``auto_resend``: Daffron payments), else left for an IM.
- **Lost workers.** A worker killed mid-delivery leaves ``delivering`` with a lease that expires;
  :func:`recover_expired` then treats it as an unknown outcome (resent with the same idempotency
  key where that is safe). Claimed events it never started just become claimable again.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from billers.models import Biller
from billers.selectors import setting_values
from partners import pump_common as pc
from partners.base import PartnerError
from partners.soap import OutcomeUnknown
from payments import delivery_sql as sql
from payments.outbox_models import AttemptOutcome, DeliveryAttempt, OutboxEvent, OutboxStatus
from payments.outbox_rules import PUMPS

logger = logging.getLogger(__name__)

S = OutboxStatus
CLAIMABLE = (S.PENDING, S.RETRYING, S.UNKNOWN)
OPEN = (S.PENDING, S.DELIVERING, S.RETRYING, S.UNKNOWN)
ADVISORY_NAMESPACE = 0x50554D50  # "PUMP"


@dataclass(frozen=True)
class PumpConfig:
    """Delivery knobs from Django settings (``PUMP_*``, see config/settings.py)."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 60.0
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    batch_size: int = 50
    task_seconds: float = 240.0

    @property
    def event_lease(self) -> timedelta:
        """How long one send may take before its event counts as lost: both timeouts and a margin."""
        return timedelta(seconds=self.connect_timeout + self.read_timeout + 2)

    @property
    def batch_lease(self) -> timedelta:
        """How long claimed, not yet started events stay reserved (renewed while the batch runs)."""
        return max(timedelta(seconds=self.lease_seconds), self.event_lease + timedelta(seconds=2))

    @property
    def renew_below(self) -> timedelta:
        """Renew the batch lease when less than this is left: the next send could outlast it."""
        return self.event_lease + timedelta(seconds=1)


def config() -> PumpConfig:
    """Return the :class:`PumpConfig` from Django settings (defaults where unset)."""
    defaults = PumpConfig()
    return PumpConfig(**{
        name: type(getattr(defaults, name))(getattr(django_settings, f"PUMP_{name.upper()}", getattr(defaults, name)))
        for name in PumpConfig.__dataclass_fields__
    })


def worker_id() -> str:
    """Return host:pid:thread of the running worker (kept on claims and attempts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def backoff(attempts: int, cfg: PumpConfig, rng: random.Random | None = None) -> timedelta:
    """Return the wait before the next try after ``attempts`` tries: exponential, capped, jittered.

    The delay ``d = min(max, base * 2**(attempts-1))`` is drawn from ``[d/2, d]`` so retries of many
    events spread out instead of arriving together.
    """
    delay = min(cfg.backoff_max_seconds, cfg.backoff_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + (rng or random).uniform(0, delay / 2))


@dataclass
class RunSummary:
    """Counts of one pump run (a task or the command)."""

    counts: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    recovered: int = 0
    more: bool = False  # stopped on the time budget with work left

    def as_dict(self) -> dict[str, int]:
        return {
            "delivered": self.counts[AttemptOutcome.DELIVERED],
            "retrying": self.counts[AttemptOutcome.RETRYING],
            "dead": self.counts[AttemptOutcome.DEAD],
            "unknown": self.counts[AttemptOutcome.UNKNOWN],
            "skipped": self.skipped,
        }

    @property
    def attempted(self) -> int:
        return sum(self.counts.values())


# --- claiming ------------------------------------------------------------------------------------


def claimable_q(now: datetime) -> Q:
    return Q(status__in=CLAIMABLE, next_attempt_at__lte=now) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )


def _blocking(now: datetime) -> Q:
    """Open events that stop their queue: in flight, waiting (not due or for an IM), or leased."""
    return (Q(status=S.DELIVERING) | Q(next_attempt_at__isnull=True) | Q(next_attempt_at__gt=now)
            | Q(lease_expires_at__gt=now))


def _lock_queue(biller_id: int, endpoint: str) -> None:
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"{biller_id}:{endpoint}".encode()) & 0x7FFFFFFF
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, key])


def claim(biller_id: int, endpoint: str, token: str, cfg: PumpConfig, now: datetime | None = None) -> int:
    """Claim up to ``cfg.batch_size`` head events of a queue for ``token``; return how many were claimed.

    Claims of one queue are serialized (advisory lock on PostgreSQL; on SQLite the IMMEDIATE
    transaction holds the write lock), and the UPDATE re-checks claimability row by row.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _lock_queue(biller_id, endpoint)
        queue = OutboxEvent.objects.filter(biller_id=biller_id, endpoint=endpoint, status__in=OPEN)
        blocker = queue.filter(_blocking(now)).aggregate(first=Min("id"))["first"]
        candidates = queue.filter(claimable_q(now))
        if blocker is not None:
            candidates = candidates.filter(id__lt=blocker)
        ids = list(candidates.order_by("id").values_list("id", flat=True)[: cfg.batch_size])
        if not ids:
            return 0
        return OutboxEvent.objects.filter(id__in=ids).filter(claimable_q(now)).update(
            claimed_by=token, claimed_at=now, lease_expires_at=now + cfg.batch_lease
        )


def release(token: str) -> int:
    """Give back the claimed events ``token`` did not start; return how many."""
    return OutboxEvent.objects.filter(claimed_by=token, status__in=CLAIMABLE).update(
        claimed_by="", lease_expires_at=None
    )


def recover_expired(*, biller_id: int | None = None, now: datetime | None = None) -> int:
    """Settle events left ``delivering`` by a worker that died (lease expired); return how many.

    The request may have reached the partner: the outcome is unknown. Events the partner dedupes
    (``auto_resend``) are due again at once, with the same idempotency key; the others wait for an IM.
    Each gets a ``lost`` attempt row.
    """
    now = now or timezone.now()
    cfg = config()
    lost = OutboxEvent.objects.filter(status=S.DELIVERING, lease_expires_at__lt=now)
    if biller_id is not None:
        lost = lost.filter(biller_id=biller_id)
    recovered = 0
    for event in lost.only("id", "auto_resend", "attempts", "claimed_by", "sending_at"):
        message = f"worker {event.claimed_by or '?'} lost during delivery (lease expired): outcome unknown"
        if event.auto_resend and event.attempts < cfg.max_attempts:
            changes: dict[str, Any] = {"status": S.UNKNOWN, "next_attempt_at": now}
        elif event.auto_resend:
            changes = {"status": S.DEAD, "next_attempt_at": None,
                       "last_error": f"gave up after {event.attempts} attempts; {message}"}
        else:
            changes = {"status": S.UNKNOWN, "next_attempt_at": None}
        changes.setdefault("last_error", message)
        with transaction.atomic():
            done = OutboxEvent.objects.filter(
                pk=event.pk, status=S.DELIVERING, lease_expires_at__lt=now, claimed_by=event.claimed_by
            ).update(lease_expires_at=None, sending_at=None, **changes)
            if done:
                DeliveryAttempt.objects.create(
                    event_id=event.pk, number=event.attempts, started_at=event.sending_at or now, finished_at=now,
                    outcome=AttemptOutcome.LOST, error=message, worker=event.claimed_by,
                )
                recovered += done
    if recovered:
        logger.warning("recovered %d event(s) from lost workers", recovered)
    return recovered


# --- one event -----------------------------------------------------------------------------------


def _mark_sending(event: OutboxEvent, token: str, cfg: PumpConfig, lease_until: datetime) -> tuple[bool, datetime]:
    """Make the event ``delivering`` (attempt counted, ``sending_at`` set); renew the batch lease if running low.

    Runs inside the caller's transaction, which must commit before the request goes out. Returns
    (still ours, batch lease end): False when an IM acted on the event or the claim was lost.
    """
    now = timezone.now()
    done = sql.mark_sending(event.pk, token, now, now + cfg.event_lease)
    if done and lease_until - now < cfg.renew_below:
        lease_until = now + cfg.batch_lease
        sql.renew_lease(token, lease_until)
    if done:
        event.attempts += 1
        event.sending_at = now
    return bool(done), lease_until


@dataclass
class Outcome:
    kind: str  # an AttemptOutcome
    changes: dict[str, Any]
    error: str = ""
    result: pc.PumpResult | None = None
    failure: Exception | None = None


def _failure_outcome(event: OutboxEvent, exc: Exception, cfg: PumpConfig, now: datetime) -> Outcome:
    """Map an exception from a pump to the event's next state."""
    message = str(exc) or exc.__class__.__name__
    unknown = isinstance(exc, OutcomeUnknown) or not isinstance(exc, PartnerError)
    if not isinstance(exc, PartnerError):
        logger.exception("unexpected error delivering outbox event %s", event.pk)
        message = f"unexpected error (outcome unknown): {exc.__class__.__name__}: {message}"
    exhausted = event.attempts >= cfg.max_attempts
    if isinstance(exc, PartnerError) and exc.permanent:
        return Outcome(AttemptOutcome.DEAD, {"status": S.DEAD, "next_attempt_at": None}, message, failure=exc)
    if unknown and not event.auto_resend:
        return Outcome(AttemptOutcome.UNKNOWN, {"status": S.UNKNOWN, "next_attempt_at": None}, message, failure=exc)
    if exhausted:
        message = f"gave up after {event.attempts} attempts: {message}"
        return Outcome(AttemptOutcome.DEAD, {"status": S.DEAD, "next_attempt_at": None}, message, failure=exc)
    status, kind = (S.UNKNOWN, AttemptOutcome.UNKNOWN) if unknown else (S.RETRYING, AttemptOutcome.RETRYING)
    return Outcome(kind, {"status": status, "next_attempt_at": now + backoff(event.attempts, cfg)}, message,
                   failure=exc)


def _send(event: OutboxEvent, module: ModuleType, ctx: pc.PumpContext, cfg: PumpConfig) -> Outcome:
    pump_event = pc.PumpEvent(event.event_type, event.payload, event.idempotency_key, event.created_at)
    try:
        result = module.deliver(pump_event, ctx)
    except Exception as exc:  # noqa: BLE001  every failure is recorded on the event; none may stop the batch
        return _failure_outcome(event, exc, cfg, timezone.now())
    changes = {"status": S.DELIVERED, "next_attempt_at": None, "delivered_at": timezone.now(),
               "partner_reference": result.reference[:100], "last_error": ""}
    return Outcome(AttemptOutcome.DELIVERED, changes, result=result)


def _attempt_row(event: OutboxEvent, token: str, outcome: Outcome, started: datetime,
                 elapsed_ms: float) -> dict[str, Any]:
    result, failure = outcome.result, outcome.failure
    return {
        "event_id": event.pk,
        "number": event.attempts,
        "started_at": started,
        "finished_at": timezone.now(),
        "duration_ms": round(elapsed_ms, 1),
        "outcome": outcome.kind,
        "operation": result.operation if result else "",
        "endpoint_url": result.endpoint_url if result else "",
        "status_code": result.status_code if result else getattr(failure, "status_code", None),
        "request_xml": result.request_xml if result else getattr(failure, "request_xml", ""),
        "response_xml": result.response_xml if result else getattr(failure, "response_xml", ""),
        "error": outcome.error,
        "worker": token,
    }


def _finish(event: OutboxEvent, token: str, outcome: Outcome, attempt: dict[str, Any],
            following: OutboxEvent | None, cfg: PumpConfig, lease_until: datetime) -> tuple[bool, datetime]:
    """Write the event's outcome and attempt row, and mark ``following`` delivering, in one commit.

    Returns (``following`` is ours and marked, batch lease end).
    """
    changes = dict(outcome.changes)
    if outcome.error:
        changes["last_error"] = outcome.error
    now = timezone.now()
    with transaction.atomic():
        marked = sql.finish_and_mark(event.pk, token, changes, attempt, following.pk if following else None,
                                     now, now + cfg.event_lease)
        if marked and lease_until - now < cfg.renew_below:
            lease_until = now + cfg.batch_lease
            sql.renew_lease(token, lease_until)
    if marked and following is not None:
        following.attempts += 1
        following.sending_at = now
    return marked, lease_until


BLOCKING = (AttemptOutcome.RETRYING, AttemptOutcome.UNKNOWN)


def deliver_claimed(token: str, module: ModuleType, ctx: pc.PumpContext, cfg: PumpConfig,
                    summary: RunSummary) -> bool:
    """Send the events claimed by ``token`` in order; return True when the queue is now blocked.

    Stops at the first event left retrying or unknown (it blocks the events behind it) and gives
    the rest back. A dead event does not block. One commit per event: the outcome of an event and
    the ``delivering`` mark of the next are written together, before the next request goes out.
    """
    lease_until = timezone.now() + cfg.batch_lease
    events = list(OutboxEvent.objects.filter(claimed_by=token, status__in=CLAIMABLE).order_by("id"))
    blocked = False
    try:
        with transaction.atomic():
            ours, lease_until = _mark_sending(events[0], token, cfg, lease_until) if events else (False, lease_until)
        for index, event in enumerate(events):
            following = events[index + 1] if index + 1 < len(events) else None
            if not ours:  # an IM acted on it, or the claim was lost: try the next one
                if following is not None:
                    with transaction.atomic():
                        ours, lease_until = _mark_sending(following, token, cfg, lease_until)
                continue
            started, clock = event.sending_at or timezone.now(), time.monotonic()
            outcome = _send(event, module, ctx, cfg)
            blocked = outcome.kind in BLOCKING
            attempt = _attempt_row(event, token, outcome, started, (time.monotonic() - clock) * 1000)
            ours, lease_until = _finish(event, token, outcome, attempt, None if blocked else following, cfg,
                                        lease_until)
            summary.counts[outcome.kind] += 1
            if blocked:
                break
    finally:
        release(token)
    return blocked


# --- a biller ------------------------------------------------------------------------------------


def context_for(biller: Biller, cfg: PumpConfig) -> pc.PumpContext:
    """Return the pump context of ``biller``: time zone, decrypted settings, timeouts."""
    return pc.PumpContext(bid=biller.bid, time_zone=biller.time_zone, settings=setting_values(biller),
                          connect_timeout=cfg.connect_timeout, read_timeout=cfg.read_timeout)


def due_endpoints(biller_id: int, now: datetime | None = None) -> list[str]:
    """Return the endpoints of the biller with an event that could be claimed now."""
    now = now or timezone.now()
    rows = OutboxEvent.objects.filter(biller_id=biller_id).filter(claimable_q(now))
    return sorted(set(rows.values_list("endpoint", flat=True)))


def billers_with_due_events(now: datetime | None = None) -> list[int]:
    """Return the ids of billers having events that could be claimed now."""
    now = now or timezone.now()
    return sorted(set(OutboxEvent.objects.filter(claimable_q(now)).values_list("biller_id", flat=True)))


def pump_biller_run(biller_id: int, *, cfg: PumpConfig | None = None, time_budget: float | None = None) -> RunSummary:
    """Deliver the biller's due events, queue by queue, in order; return the run's counts.

    ``time_budget`` (seconds) stops claiming new batches when spent; ``summary.more`` then says work
    is left. Events of partners without a pump (files, downloads) are never claimed.
    """
    cfg = cfg or config()
    summary = RunSummary()
    biller = Biller.objects.select_related("partner").get(pk=biller_id)
    module = PUMPS.get(biller.partner.code)
    summary.recovered = recover_expired(biller_id=biller_id)
    if module is None:
        return summary
    ctx = context_for(biller, cfg)
    deadline = time.monotonic() + time_budget if time_budget else None
    for endpoint in due_endpoints(biller_id):
        while True:
            if deadline is not None and time.monotonic() > deadline:
                summary.more = True
                break
            token = f"{worker_id()}:{uuid.uuid4().hex[:8]}"
            if not claim(biller_id, endpoint, token, cfg):
                break
            if deliver_claimed(token, module, ctx, cfg, summary):
                break
    summary.skipped = OutboxEvent.objects.filter(biller_id=biller_id, status__in=CLAIMABLE).count()
    return summary


def record_run(biller_id: int, summary: RunSummary, started_at: datetime, *, source: str = "soap") -> None:
    """Keep one ``Exchange`` (kind pump) for a run that attempted or recovered something."""
    if not summary.attempted and not summary.recovered:
        return
    from exchanges.models import Exchange, ExchangeKind, ExchangeStatus

    biller = Biller.objects.select_related("partner").get(pk=biller_id)
    counts = {**summary.as_dict(), "recovered": summary.recovered}
    failed = counts["dead"] + counts["retrying"] + counts["unknown"]
    status = (ExchangeStatus.SUCCEEDED if not failed
              else ExchangeStatus.FAILED if not counts["delivered"] else ExchangeStatus.PARTIAL)
    Exchange.objects.create(
        biller=biller, partner=biller.partner, kind=ExchangeKind.PUMP, source=source, status=status,
        counts=counts, progress_done=summary.attempted, progress_total=summary.attempted + summary.skipped,
        message=", ".join(f"{k} {v}" for k, v in counts.items() if v), started_at=started_at,
        finished_at=timezone.now(),
    )
