"""Operations alerts: find what is wrong now, keep one ``Alert`` per outage, mail each outage once.

``raise_alerts()`` (a django-q2 task every 5 minutes, ``ensure_schedules()``) looks for four
conditions, each under a de-duplication key:

| kind | key | raised while | cleared when |
|---|---|---|---|
| missing_file | ``missing_file:window:<id>`` | the last due time of an arrival window (plus grace) has passed with no file of the connection's kind since 24 h before it | a file of that kind arrives |
| dead_event | ``dead_event:biller:<id>`` | the biller has dead pump events | none are dead any more (resent, skipped, marked delivered) |
| breaker_open | ``breaker_open:rtdr:<id>`` | an RTDR endpoint's breaker is open or half-open | it has been closed for ``RESOLVE_AFTER`` (no mail per flap) |
| import_failed | ``import_failed:<biller id>:<kind>`` | the biller's latest import of a kind (last 7 days) failed | a later import of that kind did not fail |

A condition found again refreshes its open alert (``last_seen``, ``count``, ``message``); a new key,
or a key whose previous alert was resolved, opens a new alert. Open alerts not mailed yet go out in
one mail per run (``ALERT_EMAILS``, else ``ADMINS`` through ``mail_admins``), so one outage sends one
mail however long it lasts and however many billers it hits at once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.urls import reverse
from django.utils import timezone

from exchanges.dashboard_models import Alert, AlertKind, ArrivalWindow
from exchanges.models import Exchange, ExchangeKind, ExchangeStatus

log = logging.getLogger(__name__)

TASK = "exchanges.alerts.raise_alerts"
SCHEDULE_NAME = "operations alerts"
SCHEDULE_MINUTES = 5
#: How long a cleared condition must stay clear before its alert resolves, per kind (breakers flap).
RESOLVE_AFTER: dict[str, timedelta] = {AlertKind.BREAKER_OPEN: timedelta(minutes=15)}
IMPORT_LOOKBACK = timedelta(days=7)
IMPORT_KINDS = (ExchangeKind.INVOICES, ExchangeKind.REPLACEMENTS, ExchangeKind.BALANCES, ExchangeKind.EXPIRATIONS)
ARRIVAL_LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class Condition:
    """Something wrong right now, named by the key its alert is de-duplicated on."""

    key: str
    kind: str
    biller_id: int | None
    message: str
    link: str = ""


def group_key(field: str) -> CombinedExpression:
    """``field + 0``: the same integer to group on, in an expression.

    Grouped by the bare column, SQLite's planner walks an index that starts with it (the exchanges'
    (biller, kind, status)) to get the rows in group order, looking every row up for the time
    condition: the whole table. Grouped by an expression, it uses the time range's index instead
    (740 ms against 10 ms at a million exchanges). PostgreSQL plans both the same.
    """
    return F(field) + Value(0)


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def first_error(exchange: Exchange) -> str:
    """An exchange's first recorded error as one line (``line 3: Amount: not a number``), else its message."""
    errors = exchange.errors or []
    if errors and isinstance(errors[0], dict):
        e = errors[0]
        where = f"line {e['line']}: " if e.get("line") not in (None, "") else ""
        field = f"{e['field']}: " if e.get("field") else ""
        return first_line(f"{where}{field}{e.get('message', '')}")
    if errors:
        return first_line(str(errors[0]))
    return first_line(exchange.message)


# ---- conditions ------------------------------------------------------------------------------


def dead_event_conditions() -> list[Condition]:
    """One condition per biller with dead pump events (two queries)."""
    from payments.outbox_models import OutboxEvent, OutboxStatus

    rows = list(OutboxEvent.objects.filter(status=OutboxStatus.DEAD).order_by()
                .values("biller_id", "biller__bid", "biller__name").annotate(n=Count("id"), latest=Max("id")))
    errors = dict(OutboxEvent.objects.filter(id__in=[r["latest"] for r in rows]).values_list("id", "last_error"))
    url = reverse("admin:payments_outboxevent_changelist")
    return [
        Condition(
            key=f"dead_event:biller:{r['biller_id']}", kind=AlertKind.DEAD_EVENT, biller_id=r["biller_id"],
            message=(f"{r['n']} dead pump event{'s' if r['n'] != 1 else ''} for biller {r['biller__bid']} "
                     f"{r['biller__name']}; latest #{r['latest']}: {first_line(errors.get(r['latest'], '')) or '-'}"),
            link=f"{url}?status__exact=dead&biller__id__exact={r['biller_id']}")
        for r in rows
    ]


def breaker_conditions() -> list[Condition]:
    """One condition per RTDR endpoint whose breaker is open or half-open (one query)."""
    from billers.rtdr_models import BreakerState, RtdrHealth

    rows = RtdrHealth.objects.filter(breaker_state__in=[BreakerState.OPEN, BreakerState.HALF_OPEN]).select_related(
        "biller")
    found = []
    for h in rows:
        since = f" since {h.opened_at:%Y-%m-%d %H:%M} UTC" if h.opened_at else ""
        found.append(Condition(
            key=f"breaker_open:rtdr:{h.pk}", kind=AlertKind.BREAKER_OPEN, biller_id=h.biller_id,
            message=(f"RTDR breaker {h.get_breaker_state_display().split(' (')[0].lower()} for biller {h.biller.bid} "
                     f"{h.biller.name}{since}: {first_line(h.last_error) or 'calls failing'}"),
            link=reverse("admin:billers_rtdrhealth_change", args=[h.pk])))
    return found


def failed_import_conditions(now: datetime) -> list[Condition]:
    """One condition per (biller, kind) whose latest import of the last 7 days failed (one query)."""
    latest = (Exchange.objects.filter(kind__in=IMPORT_KINDS, created_at__gte=now - IMPORT_LOOKBACK).order_by()
              .values(owner=group_key("biller_id"), of_kind=F("kind")).annotate(last=Max("id")).values("last"))
    failed = Exchange.objects.filter(id__in=Subquery(latest), status=ExchangeStatus.FAILED).select_related("biller")
    return [
        Condition(
            key=f"import_failed:{x.biller_id}:{x.kind}", kind=AlertKind.IMPORT_FAILED, biller_id=x.biller_id,
            message=(f"{x.get_kind_display()} import #{x.pk} {x.file_name} failed for biller {x.biller.bid} "
                     f"{x.biller.name}: {first_error(x) or 'no detail recorded'}"),
            link=reverse("admin:exchanges_exchange_change", args=[x.pk]))
        for x in failed
    ]


def last_due(window: ArrivalWindow, time_zone: str, now: datetime) -> tuple[date, datetime, datetime] | None:
    """The latest due day of ``window`` at or before ``now``: (local day, deadline, deadline + grace).

    None when no due day of the last week has passed its grace yet, or the window has no valid days.
    """
    try:
        zone, days = ZoneInfo(time_zone), window.days
    except (ValueError, KeyError):
        return None
    local_today = now.astimezone(zone).date()
    for back in range(ARRIVAL_LOOKBACK_DAYS + 1):
        day = local_today - timedelta(days=back)
        if day.isoweekday() not in days:
            continue
        deadline = datetime.combine(day, window.expected_by, tzinfo=zone)
        if deadline + timedelta(minutes=window.grace_minutes) <= now:
            return day, deadline, deadline + timedelta(minutes=window.grace_minutes)
    return None


def missing_file_conditions(now: datetime) -> list[Condition]:
    """One condition per enabled arrival window whose last due file has not come (two queries)."""
    windows = list(ArrivalWindow.objects.filter(enabled=True, connection__enabled=True)
                   .select_related("connection__biller"))
    due = []
    for window in windows:
        slot = last_due(window, window.connection.biller.time_zone, now)
        if slot:
            due.append((window, *slot))
    if not due:
        return []
    since_all = min(deadline for _, _, deadline, _ in due) - timedelta(hours=24)
    arrived = {
        (b, k): t for b, k, t in Exchange.objects.filter(
            created_at__gte=since_all, kind__in={w.connection.file_kind for w, *_ in due}).order_by()
        .values(owner=group_key("biller_id"), of_kind=F("kind")).annotate(t=Max("created_at"))
        .values_list("owner", "of_kind", "t")
    }
    found = []
    for window, day, deadline, _ in due:
        conn = window.connection
        last = arrived.get((conn.biller_id, conn.file_kind))
        if last is not None and last >= deadline - timedelta(hours=24):
            continue
        zone = conn.biller.time_zone
        found.append(Condition(
            key=f"missing_file:window:{window.pk}", kind=AlertKind.MISSING_FILE, biller_id=conn.biller_id,
            message=(f"No {conn.get_file_kind_display().lower()} file for biller {conn.biller.bid} {conn.biller.name} "
                     f"by {window.expected_by:%H:%M} {zone} on {day:%a %Y-%m-%d} (connection {conn.name or conn.pk}"
                     f"{'; last poll error: ' + first_line(conn.last_error, 120) if conn.last_error else ''})"),
            link=reverse("admin:exchanges_connection_change", args=[conn.pk])))
    return found


def current_conditions(now: datetime) -> list[Condition]:
    """Everything wrong at ``now``, one condition per key."""
    return [*missing_file_conditions(now), *dead_event_conditions(), *breaker_conditions(),
            *failed_import_conditions(now)]


# ---- alerts ----------------------------------------------------------------------------------


def _open_alert(condition: Condition, now: datetime) -> Alert | None:
    """Create the open alert of a new outage; None if another run opened it first."""
    try:
        with transaction.atomic():
            return Alert.objects.create(key=condition.key, kind=condition.kind, biller_id=condition.biller_id,
                                        message=condition.message, link=condition.link, first_seen=now,
                                        last_seen=now, count=1)
    except IntegrityError:  # the conditional unique key: a concurrent run opened it
        return None


def alerts_apply(conditions: Iterable[Condition], *, now: datetime) -> dict[str, int]:
    """Open, refresh and resolve alerts to match ``conditions``; return counts opened/refreshed/resolved."""
    wanted = {c.key: c for c in conditions}
    counts = {"opened": 0, "refreshed": 0, "resolved": 0}
    with transaction.atomic():
        current = {a.key: a for a in Alert.objects.select_for_update().filter(resolved_at__isnull=True)}
        refreshed = []
        for key, condition in wanted.items():
            alert = current.get(key)
            if alert is None:
                counts["opened"] += _open_alert(condition, now) is not None
                continue
            alert.last_seen, alert.count = now, alert.count + 1
            alert.message, alert.link, alert.biller_id = condition.message, condition.link, condition.biller_id
            refreshed.append(alert)
        Alert.objects.bulk_update(refreshed, ["last_seen", "count", "message", "link", "biller"])
        counts["refreshed"] = len(refreshed)
        cleared = [a.pk for key, a in current.items()
                   if key not in wanted and a.last_seen <= now - RESOLVE_AFTER.get(a.kind, timedelta(0))]
        counts["resolved"] = Alert.objects.filter(pk__in=cleared, resolved_at__isnull=True).update(resolved_at=now)
    return counts


def alert_recipients() -> list[str] | None:
    """``settings.ALERT_EMAILS`` (a list or a comma-separated string); None to use ``ADMINS``; [] for nobody."""
    configured = getattr(settings, "ALERT_EMAILS", None)
    if isinstance(configured, str):
        configured = [a.strip() for a in configured.split(",") if a.strip()]
    if configured:
        return list(configured)
    return None if getattr(settings, "ADMINS", None) else []


def _mail_body(alerts: list[Alert]) -> str:
    base = getattr(settings, "ALERT_BASE_URL", "").rstrip("/")
    lines = []
    for a in alerts:
        lines.append(f"- {a.get_kind_display()}: {a.message}")
        lines.append(f"  since {a.first_seen:%Y-%m-%d %H:%M} UTC" + (f"; {base}{a.link}" if a.link else ""))
    lines.append("")
    lines.append("One mail per outage: you will not be mailed again about these until they resolve and return.")
    return "\n".join(lines)


def mail_new_alerts(*, now: datetime) -> int:
    """Mail every open alert not mailed yet, in one message; return how many alerts it covered.

    Each alert is claimed (``emailed_at`` set where still empty) before sending, so concurrent runs never
    mail the same alert twice; a failed send releases the claim and the next run tries again.
    """
    recipients = alert_recipients()
    if recipients == []:
        return 0
    pending = Alert.objects.filter(resolved_at__isnull=True, emailed_at__isnull=True).order_by("id")
    claimed = [a for a in pending.select_related("biller")
               if Alert.objects.filter(pk=a.pk, emailed_at__isnull=True).update(emailed_at=now)]
    if not claimed:
        return 0
    kinds = sorted({a.get_kind_display().lower() for a in claimed})
    subject = f"{len(claimed)} new operations alert{'s' if len(claimed) > 1 else ''}: {', '.join(kinds)}"
    try:
        if recipients is None:
            mail_admins(subject, _mail_body(claimed), fail_silently=False)
        else:
            prefix = getattr(settings, "ALERT_SUBJECT_PREFIX", "[Billbridge] ")
            send_mail(prefix + subject, _mail_body(claimed), settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # any transport error: release the claim, the next run retries
        log.exception("alert mail to %s failed; %d alert(s) will be retried", recipients or "ADMINS", len(claimed))
        Alert.objects.filter(pk__in=[a.pk for a in claimed], emailed_at=now).update(emailed_at=None)
        return 0
    return len(claimed)


def raise_alerts(*, now: datetime | None = None) -> str:
    """The django-q2 task: apply the current conditions, mail new alerts; return a one-line summary."""
    now = now or timezone.now()
    counts = alerts_apply(current_conditions(now), now=now)
    counts["mailed"] = mail_new_alerts(now=now)
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def ensure_schedules() -> str:
    """Create or update the every-5-minutes ``raise_alerts`` schedule (idempotent); return what happened."""
    from django_q.models import Schedule

    values = {"func": TASK, "args": None, "kwargs": None, "schedule_type": Schedule.MINUTES,
              "minutes": SCHEDULE_MINUTES, "repeats": -1}
    schedule = Schedule.objects.filter(name=SCHEDULE_NAME).first()
    if schedule is None:
        Schedule.objects.create(name=SCHEDULE_NAME, **values)
        return "created"
    if all(getattr(schedule, k) == v for k, v in values.items()):
        return "unchanged"
    for key, value in values.items():
        setattr(schedule, key, value)
    schedule.save()
    return "updated"
