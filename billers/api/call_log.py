"""The API call log: one ``ApiCallLog`` row per call, written in batches a moment after the answer.

A lookup takes about a millisecond of CPU; a transaction of its own for the log row (BEGIN, INSERT,
COMMIT, through the ORM) added a sixth to that, and a commit round trip on PostgreSQL. So a call made
outside any transaction hands its row to a background writer (``billers.write_behind``) that inserts
everything handed over within ``settings.API_CALL_LOG_DELAY`` seconds (default 0.1) with one bulk
INSERT, in a transaction that does not wait for its WAL flush on PostgreSQL. Every call is still
logged: the writer is flushed at process exit (a gunicorn worker's graceful stop or restart included);
only a killed process (SIGKILL, a crash) loses the rows of its last tenth of a second. A batch the
database refuses is tried once more, then dropped and logged with its size; a batch naming a key or
biller deleted in the meantime is stored with that id cleared, as the foreign key's SET NULL would.

A call inside a transaction (tests, or ATOMIC_REQUESTS), or with
``settings.API_CALL_LOG_WRITE_BEHIND = False``, writes its row before answering.
The key's ``last_used_at`` rides along: at most one UPDATE per key a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billers.api.keys import api_key_touch_due
from billers.api_models import ApiCallLog, ApiKey
from billers.models import Biller
from billers.write_behind import WriteBehind

logger = logging.getLogger(__name__)

DEFAULT_DELAY = 0.1
MAX_BID = 2**31 - 1
LOG_COLUMNS = frozenset(f.attname for f in ApiCallLog._meta.concrete_fields if not f.primary_key)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as the log keeps it (route pattern, never the concrete path, body or key)."""

    key_id: int | None
    biller_id: int | None
    bid: int | None
    method: str
    path: str
    status: int
    latency_ms: Decimal
    at: datetime
    touch_key: bool  # the key's last_used_at is due for an update

    def row(self) -> ApiCallLog:
        return ApiCallLog(**{f.name: getattr(self, f.name) for f in fields(self) if f.name in LOG_COLUMNS})


def _bid(value: Any) -> int | None:
    try:
        bid = int(value)
    except (TypeError, ValueError):
        return None
    return bid if 0 < bid <= MAX_BID else None


def _insert(records: list[CallRecord]) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A log row may be lost in a crash; no call need wait for its WAL flush.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ApiCallLog.objects.bulk_create([r.row() for r in records])
        used = {r.key_id: r.at for r in records if r.touch_key and r.key_id is not None}
        for key_id, at in used.items():
            ApiKey.objects.filter(pk=key_id).update(last_used_at=at)


def _without_deleted_ids(records: list[CallRecord]) -> list[CallRecord]:
    """The records with the ids of keys or billers deleted since the call cleared (as SET_NULL would)."""
    keys = set(ApiKey.objects.filter(pk__in={r.key_id for r in records}).values_list("pk", flat=True))
    billers = set(Biller.objects.filter(pk__in={r.biller_id for r in records}).values_list("pk", flat=True))
    return [
        replace(
            r,
            key_id=r.key_id if r.key_id in keys else None,
            biller_id=r.biller_id if r.biller_id in billers else None,
            touch_key=r.touch_key and r.key_id in keys,
        )
        for r in records
    ]


def calls_record(records: list[CallRecord]) -> None:
    """Store ``records`` in one transaction (one bulk INSERT, the due ``last_used_at`` updates)."""
    try:
        _insert(records)
    except IntegrityError:
        _insert(_without_deleted_ids(records))


call_log_writer: WriteBehind[CallRecord] = WriteBehind(
    "api-call-log",
    calls_record,
    delay=lambda: float(getattr(settings, "API_CALL_LOG_DELAY", DEFAULT_DELAY)),
)


def call_log_flush(timeout: float = 30.0) -> bool:
    """Wait until every call handed to the writer is stored; False on timeout."""
    return call_log_writer.flush(timeout)


def call_log_write(
    *,
    key: ApiKey | None,
    biller: Biller | None,
    bid: Any,
    method: str,
    path: str,
    status: int,
    latency_ms: float,
) -> None:
    """Record one call (see the module docstring for when); never raises: a logging failure must not
    turn an answer into a 500."""
    try:
        now = timezone.now()
        record = CallRecord(
            key_id=key.pk if key is not None else None,
            biller_id=biller.pk if biller is not None else None,
            bid=_bid(bid),
            method=method[:8],
            path=path[:200],
            status=status,
            latency_ms=Decimal(f"{min(latency_ms, 9999999):.2f}"),
            at=now,
            touch_key=key is not None and api_key_touch_due(key, now),
        )
        behind = getattr(settings, "API_CALL_LOG_WRITE_BEHIND", True)
        if behind and not connection.in_atomic_block:
            call_log_writer.submit(record)
        else:
            calls_record([record])
    except Exception:
        logger.exception("API call log not written for %s %s", method, path)
