"""The delivery engine's per-event statements, as plain SQL.

These run twice per delivered event (mark the next one ``delivering``; write the outcome and the
attempt row). Through the ORM they cost more CPU than the partner call itself, so they are written
once here, portable between SQLite and PostgreSQL (``%s`` parameters through Django's cursor,
datetimes adapted by the backend). Every statement keeps the conditions that make a claim safe:
the claim token and the status.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from payments.outbox_models import DeliveryAttempt, OutboxEvent, OutboxStatus

EVENTS = OutboxEvent._meta.db_table
ATTEMPTS = DeliveryAttempt._meta.db_table
CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.RETRYING, OutboxStatus.UNKNOWN)
_EVENT_COLUMNS = {f.name: f.column for f in OutboxEvent._meta.concrete_fields}
_ATTEMPT_FIELDS = [f for f in DeliveryAttempt._meta.concrete_fields if not f.primary_key]


def _value(field_name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _mark_sql(event_id: int, token: str, now: datetime, lease_until: datetime) -> tuple[str, list[Any]]:
    placeholders = ", ".join(["%s"] * len(CLAIMABLE))
    sql = (
        f"UPDATE {EVENTS} SET status = %s, sending_at = %s, attempts = attempts + 1, lease_expires_at = %s "
        f"WHERE id = %s AND claimed_by = %s AND status IN ({placeholders}) AND lease_expires_at > %s"
    )
    return sql, [OutboxStatus.DELIVERING, _value("", now), _value("", lease_until), event_id, token, *CLAIMABLE,
                 _value("", now)]


def mark_sending(event_id: int, token: str, now: datetime, lease_until: datetime) -> bool:
    """Make a claimed event ``delivering`` (attempts + 1, ``sending_at`` = now); return whether it was ours."""
    with connection.cursor() as cursor:
        cursor.execute(*_mark_sql(event_id, token, now, lease_until))
        return cursor.rowcount == 1


def renew_lease(token: str, lease_until: datetime) -> None:
    """Extend the lease of the events ``token`` still holds but has not started."""
    placeholders = ", ".join(["%s"] * len(CLAIMABLE))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {EVENTS} SET lease_expires_at = %s WHERE claimed_by = %s AND status IN ({placeholders})",
            [_value("", lease_until), token, *CLAIMABLE],
        )


def _finish_sql(event_id: int, token: str, changes: dict[str, Any]) -> tuple[str, list[Any]]:
    changes = {**changes, "lease_expires_at": None, "sending_at": None}
    assignments = ", ".join(f"{_EVENT_COLUMNS[name]} = %s" for name in changes)
    params = [_value(name, value) for name, value in changes.items()]
    sql = f"UPDATE {EVENTS} SET {assignments} WHERE id = %s AND claimed_by = %s AND status = %s"
    return sql, [*params, event_id, token, OutboxStatus.DELIVERING]


def finish(event_id: int, token: str, changes: dict[str, Any]) -> bool:
    """Write the outcome of an event this token is delivering; return whether it was still ours."""
    with connection.cursor() as cursor:
        cursor.execute(*_finish_sql(event_id, token, changes))
        return cursor.rowcount == 1


def _attempt_sql(values: dict[str, Any]) -> tuple[str, list[Any]]:
    columns, params = [], []
    for field in _ATTEMPT_FIELDS:
        key = field.attname
        columns.append(field.column)
        params.append(_value(key, values.get(key, field.get_default())))
    sql = f"INSERT INTO {ATTEMPTS} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    return sql, params


def insert_attempt(values: dict[str, Any]) -> None:
    """Insert one DeliveryAttempt row (``values`` by field name; ``event`` as ``event_id``)."""
    with connection.cursor() as cursor:
        cursor.execute(*_attempt_sql(values))


def finish_and_mark(event_id: int, token: str, changes: dict[str, Any], attempt: dict[str, Any],
                    next_id: int | None, now: datetime, lease_until: datetime) -> bool:
    """Write an event's outcome and attempt, and mark the next claimed event ``delivering``.

    Returns whether the next event was marked (False without one). On PostgreSQL the three statements
    go in one round trip (client-side binding allows several statements per execute).
    """
    statements = [_finish_sql(event_id, token, changes), _attempt_sql(attempt)]
    if next_id is not None:
        statements.insert(0, _mark_sql(next_id, token, now, lease_until))
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            counts = []
            for sql, params in statements:
                cursor.execute(sql, params)
                counts.append(cursor.rowcount)
        return next_id is not None and counts[0] == 1
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params])
        marked = cursor.rowcount  # the first result: the mark, when there is one
        while cursor.nextset():
            pass
    return next_id is not None and marked == 1
