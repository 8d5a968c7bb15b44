"""Selectors of the dashboard's live and historical parts: running exchanges with their progress, the
latest failures, and the daily and hourly series behind the plots (grouped queries; closed days cached).

All take ``biller_ids`` (None: every biller) so biller staff see only their own billers.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from exchanges.alerts import first_line
from exchanges.models import Exchange, ExchangeKind, ExchangeStatus

SERIES_DAYS = 14
#: How long closed days (and hours) of the plots are cached; ``settings.OPS_DASHBOARD_CACHE_SECONDS`` overrides.
CACHE_SECONDS = 600
RUNNING_WINDOW = timedelta(days=3)
FAILURE_WINDOW = timedelta(days=30)
FAILURES_SHOWN = 20
RUNNING_SHOWN = 50
INTAKE_KINDS = {ExchangeKind.INVOICES, ExchangeKind.REPLACEMENTS, ExchangeKind.BALANCES, ExchangeKind.EXPIRATIONS}
#: Upper bounds (ms) of the latency histogram an hour's p95 is read from.
LATENCY_BUCKETS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)
PUMP_EVENT_TYPES = ("payment", "credit", "void", "ach_reject")
#: How pump outcomes are grouped in the plot, in stacking order.
PUMP_OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivered": ("delivered",),
    "waiting": ("pending", "delivering", "retrying"),
    "unknown": ("unknown",),
    "dead": ("dead",),
    "skipped": ("skipped",),
}


def _scoped(qs: QuerySet, biller_ids: set[int] | None) -> QuerySet:
    return qs if biller_ids is None else qs.filter(biller_id__in=biller_ids)


# ---- running exchanges and failures ----------------------------------------------------------


def progress_of(x: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One exchange's progress as the page shows it: rows done/total, percent, rows/s, seconds left."""
    done, total = x["progress_done"] or 0, x["progress_total"]
    finished = x["status"] not in (ExchangeStatus.PENDING, ExchangeStatus.RUNNING)
    elapsed = (now - x["started_at"]).total_seconds() if x["started_at"] else None
    rate = done / elapsed if elapsed and elapsed > 0 and done else None
    percent: float | None = None
    if finished and x["status"] != ExchangeStatus.FAILED:
        percent = 100.0
    elif total:
        percent = min(100.0, 100.0 * done / total)
    left = (total - done) / rate if rate and total and not finished else None
    intake = x["kind"] in INTAKE_KINDS
    url = (reverse("admin:exchanges_invoiceupload_progress", args=[x["id"]]) if intake
           else reverse("admin:exchanges_exchange_change", args=[x["id"]]))
    return {
        "id": x["id"], "biller": f"{x['biller__bid']} {x['biller__name']}", "kind": x["kind"],
        "file_name": x["file_name"], "status": x["status"], "finished": finished, "done": done, "total": total,
        "percent": round(percent, 1) if percent is not None else None,
        "rate": round(rate, 1) if rate else None, "seconds_left": round(left) if left is not None else None,
        "started_at": x["started_at"].isoformat() if x["started_at"] else None, "url": url,
        # shown as is by the page and by its script, so both read the same
        "rows_text": f"{done:,} / {total:,}" if total else f"{done:,}",
        "rate_text": f"{rate:,.0f} rows/s" if rate and rate >= 10 else f"{rate:.1f} rows/s" if rate else "—",
        "left_text": "done" if finished else duration_text(left),
    }


def duration_text(seconds: float | None) -> str:
    """95 -> ``1 min 35 s``; 4000 -> ``1 h 6 min``; None -> ``—``."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s" if minutes else f"{secs} s"


RUNNING_FIELDS = ("id", "kind", "status", "file_name", "progress_done", "progress_total", "started_at",
                  "biller__bid", "biller__name")


def running_exchanges(*, biller_ids: set[int] | None = None, also: set[int] | None = None,
                      now: datetime | None = None) -> list[dict[str, Any]]:
    """Pending and running exchanges of the last 3 days (oldest first), plus ``also`` (ids the page
    already shows, so it sees them finish); one query. Returns ``progress_of`` dicts."""
    now = now or timezone.now()
    wanted = Q(status__in=[ExchangeStatus.PENDING, ExchangeStatus.RUNNING], created_at__gte=now - RUNNING_WINDOW)
    if also:
        wanted |= Q(id__in=sorted(also)[:RUNNING_SHOWN])
    rows = _scoped(Exchange.objects.filter(wanted), biller_ids).order_by("created_at", "id").values(*RUNNING_FIELDS)
    return [progress_of(x, now) for x in rows[: RUNNING_SHOWN * 2]]


def recent_failures(*, biller_ids: set[int] | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The last 20 failed exchanges of the last 30 days, newest first, each with its first error line.

    Only the first element of ``errors`` is read from the database (a failed file may hold thousands).
    """
    now = now or timezone.now()
    qs = _scoped(Exchange.objects.filter(status=ExchangeStatus.FAILED, created_at__gte=now - FAILURE_WINDOW),
                 biller_ids).annotate(first=KeyTransform("0", "errors"))
    rows = qs.order_by("-created_at", "-id").values("id", "kind", "file_name", "created_at", "message", "first",
                                                    "biller_id", "biller__bid", "biller__name")[:FAILURES_SHOWN]
    found = []
    for r in rows:
        first = r["first"]
        if isinstance(first, dict):
            where = f"line {first['line']}: " if first.get("line") not in (None, "") else ""
            fld = f"{first['field']}: " if first.get("field") else ""
            error = first_line(f"{where}{fld}{first.get('message', '')}")
        else:
            error = first_line(str(first) if first else r["message"])
        found.append({**r, "error": error or "no detail recorded",
                      "url": reverse("admin:exchanges_exchange_change", args=[r["id"]])})
    return found


# ---- series for the plots --------------------------------------------------------------------


def _days(now: datetime, days: int) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _day_starts(day_list: list[date]) -> list[datetime]:
    return [timezone.make_aware(datetime.combine(d, datetime.min.time())) for d in day_list]


def slot(field: str, starts: list[datetime]) -> Case:
    """The index of the slot (day, hour) holding ``field``: i where starts[i] <= field < starts[i + 1].

    Plain comparisons, so the database groups without calling a date function per row (SQLite's
    ``TruncDate`` is a Python callback: 20 µs a row). Rows before ``starts[0]`` must be filtered out.
    """
    whens = [When(**{f"{field}__lt": start}, then=Value(i)) for i, start in enumerate(starts[1:])]
    return Case(*whens, default=Value(len(starts) - 1), output_field=IntegerField())


def _range(qs: QuerySet, starts: list[datetime], end: datetime | None) -> QuerySet:
    qs = qs.filter(created_at__gte=starts[0])
    return qs.filter(created_at__lt=end) if end is not None else qs


def closed_and_current(name: str, biller_ids: set[int] | None, starts: list[datetime],
                       count: Callable[[list[datetime], datetime | None], dict[int, Any]]) -> dict[int, Any]:
    """``count(starts, end)`` -> {slot: figures} over every slot: the closed ones (all but the last)
    from the cache when there (``CACHE_SECONDS``), the current one always counted now.

    Closed days hardly change (an event retried into delivered or dead), and counting them is the
    bulk of the work: one query per series when cached, two when not.
    """
    scope = "all" if biller_ids is None else ",".join(map(str, sorted(biller_ids)))
    digest = hashlib.sha1(f"{name}|{scope}|{starts[0].isoformat()}|{starts[-1].isoformat()}".encode()).hexdigest()
    key = f"ops-dashboard:{name}:{digest}"
    seconds = getattr(settings, "OPS_DASHBOARD_CACHE_SECONDS", CACHE_SECONDS)
    closed = cache.get(key) if seconds else None
    if closed is None:
        closed = count(starts[:-1], starts[-1]) if len(starts) > 1 else {}
        if seconds:
            cache.set(key, closed, seconds)
    current = count(starts[-1:], None)
    return {**closed, **({len(starts) - 1: current[0]} if 0 in current else {})}


def invoices_per_day(*, biller_ids: set[int] | None = None, now: datetime | None = None,
                     days: int = SERIES_DAYS) -> list[tuple[date, int, int]]:
    """(day, invoices loaded, files) for each of the last ``days`` days, from the successful invoice
    imports' ``counts["invoices"]`` (``closed_and_current``)."""
    now = now or timezone.now()
    day_list = _days(now, days)
    base = _scoped(Exchange.objects.filter(kind__in=[ExchangeKind.INVOICES, ExchangeKind.REPLACEMENTS],
                                           status__in=[ExchangeStatus.SUCCEEDED, ExchangeStatus.PARTIAL]), biller_ids)

    def count(starts: list[datetime], end: datetime | None) -> dict[int, Any]:
        grouped = _range(base, starts, end).annotate(day=slot("created_at", starts)).order_by().values("day")
        totals = grouped.annotate(invoices=Sum(Cast(KeyTextTransform("invoices", "counts"), BigIntegerField())),
                                  files=Count("id"))
        return {r["day"]: (r["invoices"] or 0, r["files"]) for r in totals}

    by_day = closed_and_current("invoices", biller_ids, _day_starts(day_list), count)
    return [(d, *by_day.get(i, (0, 0))) for i, d in enumerate(day_list)]


def pump_per_day(*, biller_ids: set[int] | None = None, now: datetime | None = None,
                 days: int = SERIES_DAYS) -> tuple[list[date], dict[str, list[int]]]:
    """Payments (payments, credits, voids, ACH rejects) pumped per day of creation, by their outcome
    now (``PUMP_OUTCOMES``): (days, {outcome: counts per day}) (``closed_and_current``)."""
    from payments.outbox_models import OutboxEvent

    now = now or timezone.now()
    day_list = _days(now, days)
    # Type and outcome are grouped on as expressions, not filtered on: the only condition left is the
    # creation range, so the database walks the created_at index (an IN on status or type, or a
    # GROUP BY on those columns, leads SQLite's planner to their indexes, through the whole table).
    outcome = Case(*[When(status__in=g, then=Value(n)) for n, g in PUMP_OUTCOMES.items()], default=Value(""),
                   output_field=CharField())
    payment = Case(When(event_type__in=PUMP_EVENT_TYPES, then=Value(1)), default=Value(0),
                   output_field=IntegerField())
    base = _scoped(OutboxEvent.objects.all(), biller_ids)

    def count(starts: list[datetime], end: datetime | None) -> dict[int, Any]:
        grouped = _range(base, starts, end).annotate(day=slot("created_at", starts), outcome=outcome,
                                                     payment=payment)
        found: dict[int, dict[str, int]] = {}
        for r in grouped.order_by().values("day", "outcome", "payment").annotate(n=Count("id")):
            if r["payment"] and r["outcome"]:
                found.setdefault(r["day"], {})[r["outcome"]] = r["n"]
        return found

    by_day = closed_and_current("pump", biller_ids, _day_starts(day_list), count)
    series = {name: [by_day.get(i, {}).get(name, 0) for i in range(len(day_list))] for name in PUMP_OUTCOMES}
    return day_list, series


@dataclass
class LatencyHour:
    hour: datetime
    calls: int
    failed: int
    avg_ms: float | None
    p95_ms: float | None


def rtdr_latency(*, biller_ids: set[int] | None = None, now: datetime | None = None) -> list[LatencyHour]:
    """RTDR calls of the last 24 hours per hour: calls, failures, mean and p95 latency (ms).

    Counted grouped by (hour, latency bucket) (``closed_and_current``): the p95 is the upper bound of
    the bucket holding the 95th percentile (``LATENCY_BUCKETS``), exact enough for a plot and portable
    across databases.
    """
    now = now or timezone.now()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    starts = [first + timedelta(hours=i) for i in range(24)]
    ms = Cast(KeyTextTransform("duration_ms", "counts"), FloatField())
    bucket = Case(*[When(ms__lt=bound, then=Value(i)) for i, bound in enumerate(LATENCY_BUCKETS)],
                  default=Value(len(LATENCY_BUCKETS)), output_field=IntegerField())
    base = _scoped(Exchange.objects.filter(kind=ExchangeKind.RTDR), biller_ids)

    def count(slots: list[datetime], end: datetime | None) -> dict[int, Any]:
        grouped = (_range(base, slots, end).annotate(hour=slot("created_at", slots), ms=ms).annotate(bucket=bucket)
                   .order_by().values("hour", "bucket")
                   .annotate(n=Count("id"), total=Sum(F("ms")),
                             failed=Count("id", filter=~Q(status=ExchangeStatus.SUCCEEDED))))
        per_hour: dict[int, dict[str, Any]] = {}
        for r in grouped:
            h = per_hour.setdefault(r["hour"], {"n": 0, "total": 0.0, "failed": 0, "buckets": {}})
            h["n"] += r["n"]
            h["total"] += r["total"] or 0.0
            h["failed"] += r["failed"]
            h["buckets"][r["bucket"]] = r["n"]
        return per_hour

    per_hour = closed_and_current("rtdr", biller_ids, starts, count)
    hours = []
    for i, hour in enumerate(starts):
        h = per_hour.get(i)
        if not h:
            hours.append(LatencyHour(hour, 0, 0, None, None))
            continue
        seen, p95 = 0, None
        for b in sorted(h["buckets"]):
            seen += h["buckets"][b]
            if seen >= 0.95 * h["n"]:
                p95 = float(LATENCY_BUCKETS[b]) if b < len(LATENCY_BUCKETS) else float(LATENCY_BUCKETS[-1])
                break
        hours.append(LatencyHour(hour, h["n"], h["failed"], round(h["total"] / h["n"], 1), p95))
    return hours
