"""The circuit breaker and health figures of each biller's RTDR endpoint (``RtdrHealth`` rows).

After ``failures`` consecutive failed calls (timeouts, connection errors, SOAP faults, HTTP errors,
malformed answers) whose run started less than ``window`` ago, the breaker opens: calls are skipped
until ``opened_until`` (``cooldown`` later). The first caller after that claims a half-open trial with a
conditional UPDATE (one caller only, across processes); a trial the partner answers closes the
breaker, a failed one opens it again for another cool-down. A permanent answer (unknown account,
invalid request) proves the endpoint is up: it resets the run of failures like a success.

Each process trusts what it last read of a breaker for ``RTDR_BREAKER_RECHECK`` seconds (default 1).
While open, lookups in that time skip without touching the database (their count is added to
``skipped_count`` at the next check): a dead partner costs an IVR lookup microseconds, and an admin
closing the breaker (or a new endpoint in setting 8) takes effect everywhere within that second. While
closed, the row is not read again before each call (see ``health_for``).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from billers.models import Biller
from billers.rtdr_models import BreakerState, RtdrHealth

logger = logging.getLogger(__name__)

#: How many recent outcomes the failure rate and the p95 latency are computed over.
RECENT_SAMPLES = 50
#: A half-open trial that has not reported after its timeouts plus this margin is presumed lost.
TRIAL_MARGIN = timedelta(seconds=5)


class Outcome(StrEnum):
    OK = "ok"  # the partner answered with a balance
    REJECTED = "rejected"  # the partner (or our configuration) refused this request: retrying cannot help
    FAILED = "failed"  # timeout, connection error, SOAP fault, HTTP error, malformed answer


@dataclass(frozen=True)
class BreakerConfig:
    """Breaker thresholds and call timeouts, from Django settings (``RTDR_*``)."""

    failures: int
    window: timedelta
    cooldown: timedelta
    connect_timeout: float
    read_timeout: float
    recheck: float = 1.0

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def trial_timeout(self) -> timedelta:
        return timedelta(seconds=self.connect_timeout + self.read_timeout) + TRIAL_MARGIN


def breaker_config() -> BreakerConfig:
    """Return the RTDR settings, with the defaults documented in ``docs/rtdr.md``."""
    return BreakerConfig(
        failures=max(1, int(getattr(settings, "RTDR_BREAKER_FAILURES", 5))),
        window=timedelta(seconds=float(getattr(settings, "RTDR_BREAKER_WINDOW", 60))),
        cooldown=timedelta(seconds=float(getattr(settings, "RTDR_BREAKER_COOLDOWN", 60))),
        connect_timeout=float(getattr(settings, "RTDR_CONNECT_TIMEOUT", 2.0)),
        read_timeout=float(getattr(settings, "RTDR_READ_TIMEOUT", 5.0)),
        recheck=float(getattr(settings, "RTDR_BREAKER_RECHECK", 1.0)),
    )


def endpoint_key(url: str) -> str:
    """Return ``url`` as the health key: stripped, without user info (no credentials in admin), <= 500."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text[:500]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))[:500]


def health_for(*, biller: Biller, endpoint: str, config: BreakerConfig | None = None) -> RtdrHealth:
    """Return the health row of ``biller``'s ``endpoint`` (an ``endpoint_key``), creating it if new.

    With ``config.recheck`` > 0, a row this process read as closed less than ``recheck`` seconds ago is
    reused without a query: the success UPDATE only applies while the breaker is still closed, and a
    failure always locks and re-reads the row, so a stale copy never moves the breaker wrongly.
    """
    key, recheck = (biller.pk, endpoint), config.recheck if config else 0.0
    if recheck > 0:
        with _seen_lock:
            seen = _seen_closed.get(key)
        if seen and seen[0].breaker_state == BreakerState.CLOSED and time.monotonic() - seen[1] < recheck:
            return seen[0]
    health, _ = RtdrHealth.objects.get_or_create(biller=biller, endpoint=endpoint)
    if recheck > 0:
        with _seen_lock:
            _seen_closed[key] = (health, time.monotonic())
    return health


@dataclass
class _SeenOpen:
    """A breaker this process found open: skip until ``until`` without asking again for ``recheck``."""

    health_pk: int
    until: datetime
    seen_at: float  # time.monotonic()
    skipped: int = 0


_seen_open: dict[int, _SeenOpen] = {}  # biller id -> its open breaker, as this process last saw it
_seen_closed: dict[tuple[int, str], tuple[RtdrHealth, float]] = {}  # (biller id, endpoint) -> row, read at
_seen_lock = threading.Lock()


def breaker_open_here(*, biller_id: int, now: datetime, config: BreakerConfig) -> bool:
    """Return True (and count a skip) when this process saw the biller's breaker open within ``recheck``.

    No database access; when the memory is too old it is dropped and its skips are written.
    """
    with _seen_lock:
        seen = _seen_open.get(biller_id)
        if seen is None:
            return False
        if now < seen.until and time.monotonic() - seen.seen_at < config.recheck:
            seen.skipped += 1
            return True
        del _seen_open[biller_id]
    if seen.skipped:
        RtdrHealth.objects.filter(pk=seen.health_pk).update(skipped_count=F("skipped_count") + seen.skipped)
    return False


def breaker_forget(biller_id: int | None = None) -> None:
    """Drop this process's memory of breakers (one biller's, or all); unwritten skips are lost."""
    with _seen_lock:
        if biller_id is None:
            _seen_open.clear()
            _seen_closed.clear()
        else:
            _seen_open.pop(biller_id, None)
            for key in [key for key in _seen_closed if key[0] == biller_id]:
                del _seen_closed[key]


def breaker_skipped(*, health: RtdrHealth, now: datetime, config: BreakerConfig) -> None:
    """Count a call skipped by the breaker, and remember here that it is open (see ``breaker_open_here``)."""
    RtdrHealth.objects.filter(pk=health.pk).update(skipped_count=F("skipped_count") + 1)
    if config.recheck <= 0:
        return
    until = health.opened_until if health.breaker_state == BreakerState.OPEN and health.opened_until else now
    until = max(until, now + timedelta(seconds=config.recheck))  # a trial running elsewhere: ask again soon
    with _seen_lock:
        _seen_open[health.biller_id] = _SeenOpen(health.pk, until, time.monotonic())


def breaker_admit(*, health: RtdrHealth, now: datetime, config: BreakerConfig) -> bool:
    """Return True when a call may go out now: the breaker is closed, or this caller won the trial.

    An open breaker past its cool-down, or a half-open one whose trial was lost, is claimed with a
    conditional UPDATE so that exactly one caller (in any process) makes the trial call.
    """
    state = health.breaker_state
    if state == BreakerState.CLOSED:
        return True
    rows = RtdrHealth.objects.filter(pk=health.pk)
    if state == BreakerState.OPEN:
        if health.opened_until is not None and now < health.opened_until:
            return False
        rows = rows.filter(breaker_state=BreakerState.OPEN).filter(
            Q(opened_until__isnull=True) | Q(opened_until__lte=now)
        )
    else:
        rows = rows.filter(breaker_state=BreakerState.HALF_OPEN).filter(
            Q(trial_started_at__isnull=True) | Q(trial_started_at__lte=now - config.trial_timeout)
        )
    claimed = rows.update(breaker_state=BreakerState.HALF_OPEN, trial_started_at=now) == 1
    if claimed:
        health.breaker_state, health.trial_started_at = BreakerState.HALF_OPEN, now
        logger.info("RTDR breaker half-open for %s %s: trial call", health.biller_id, health.endpoint)
    return claimed


def health_record(
    *,
    health: RtdrHealth,
    outcome: Outcome,
    duration_ms: float,
    error: str,
    now: datetime,
    config: BreakerConfig,
) -> RtdrHealth:
    """Record one call's outcome on the health row, move the breaker, and return the row.

    A success on a closed breaker (the common case) is one conditional UPDATE; its ``recent`` sample
    list is built from ``health`` as read before the call, so concurrent calls may drop one another's
    samples (the figures are a sample, not an audit). Anything else locks the row and decides there.
    Runs in the caller's transaction when there is one (no savepoint), else in its own.
    """
    sample = [0 if outcome == Outcome.FAILED else 1, round(duration_ms, 1)]
    if outcome == Outcome.OK and _successes_while_closed(health, [(duration_ms, now)]):
        return health
    with transaction.atomic(savepoint=False):
        row = RtdrHealth.objects.select_for_update().get(pk=health.pk)
        row.recent = [*row.recent, sample][-RECENT_SAMPLES:]
        row.last_latency_ms = sample[1]
        if outcome == Outcome.FAILED:
            _record_failure(row, error, now, config)
        else:
            _record_answer(row, outcome, error, now)
        row.save()
    for field in RtdrHealth._meta.concrete_fields:  # the caller's copy (maybe this process's memory) follows
        setattr(health, field.attname, getattr(row, field.attname))
    return row


def health_successes_record(
    *, health: RtdrHealth, samples: list[tuple[float, datetime]], config: BreakerConfig
) -> None:
    """Record answered calls, ``(duration_ms, finished_at)`` in order, made while the breaker was closed.

    One conditional UPDATE when it still is (the write-behind batch of ``billers.rtdr``); otherwise each
    is recorded as ``health_record`` would have, closing a breaker another process opened meanwhile.
    """
    if not _successes_while_closed(health, samples):
        for duration_ms, now in samples:
            health_record(health=health, outcome=Outcome.OK, duration_ms=duration_ms, error="", now=now,
                          config=config)


def _successes_while_closed(health: RtdrHealth, samples: list[tuple[float, datetime]]) -> bool:
    """Add ``samples`` as successes with one UPDATE if the breaker is closed; return whether it was.

    The ``recent`` list is built from ``health`` as this process last read it, so concurrent calls may
    drop one another's samples (the figures are a sample, not an audit).
    """
    if health.breaker_state != BreakerState.CLOSED:
        return False
    latency, now = round(samples[-1][0], 1), samples[-1][1]
    recent = [*health.recent, *([1, round(ms, 1)] for ms, _ in samples)][-RECENT_SAMPLES:]
    fields = {"last_success_at": now, "last_latency_ms": latency, "consecutive_failures": 0,
              "streak_started_at": None, "recent": recent, "updated_at": now}
    if not RtdrHealth.objects.filter(pk=health.pk, breaker_state=BreakerState.CLOSED).update(
            success_count=F("success_count") + len(samples), **fields):
        return False
    for name, value in fields.items():
        setattr(health, name, value)
    return True


def _record_answer(row: RtdrHealth, outcome: Outcome, error: str, now: datetime) -> None:
    if outcome == Outcome.OK:
        row.success_count += 1
        row.last_success_at = now
    else:
        row.rejected_count += 1
        row.last_error = f"rejected: {error}"[:2000]
    if row.breaker_state != BreakerState.CLOSED:
        logger.info("RTDR breaker closed for %s %s", row.biller_id, row.endpoint)
    row.breaker_state = BreakerState.CLOSED
    row.consecutive_failures, row.streak_started_at = 0, None
    row.opened_at = row.opened_until = row.trial_started_at = None


def _record_failure(row: RtdrHealth, error: str, now: datetime, config: BreakerConfig) -> None:
    row.failure_count += 1
    row.last_failure_at = now
    row.last_error = error[:2000]
    if row.streak_started_at is None or now - row.streak_started_at > config.window:
        row.streak_started_at, row.consecutive_failures = now, 1
    else:
        row.consecutive_failures += 1
    trial_failed = row.breaker_state == BreakerState.HALF_OPEN
    tripped = row.breaker_state == BreakerState.CLOSED and row.consecutive_failures >= config.failures
    if trial_failed or tripped:
        row.breaker_state = BreakerState.OPEN
        row.opened_at, row.opened_until, row.trial_started_at = now, now + config.cooldown, None
        logger.warning(
            "RTDR breaker open for %s %s until %s after %d failures: %s",
            row.biller_id, row.endpoint, row.opened_until.isoformat(), row.consecutive_failures, error,
        )


@transaction.atomic
def rtdr_breaker_reset(*, health: RtdrHealth) -> RtdrHealth:
    """Close the breaker by hand (admin action): the next lookup calls the partner again.

    Other processes notice within ``RTDR_BREAKER_RECHECK`` seconds; this one at once.
    """
    breaker_forget(health.biller_id)
    RtdrHealth.objects.filter(pk=health.pk).update(
        breaker_state=BreakerState.CLOSED, consecutive_failures=0, streak_started_at=None,
        opened_at=None, opened_until=None, trial_started_at=None,
    )
    health.refresh_from_db()
    return health
