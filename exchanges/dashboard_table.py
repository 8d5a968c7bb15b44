"""The dashboard's partner and biller table as HTML, from one declarative list of columns.

Each column is (heading, CSS class, cell function); a cell function takes a ``Row`` and returns
escaped HTML. Rendering rows this way costs a tenth of a template include per row, which matters at
a hundred rows and more.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from exchanges.dashboard import Figure, Row

QUIET_DASH = mark_safe('<span class="ops-quiet">—</span>')


def ago(then: datetime, now: datetime) -> str:
    """A short age: ``45 s``, ``12 min``, ``5 h``, ``3 d``."""
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def figure(f: Figure) -> SafeString:
    """A count linked to the list behind it; bold when not zero (the column's class colours it)."""
    shown = f"{f.value:,}" if isinstance(f.value, int) else str(f.value or 0)
    if not f.url:
        return format_html("{}", shown)
    return format_html('<a href="{}" class="{}">{}</a>', f.url, "fig nonzero" if f.value else "fig", shown)


def _label(row: Row, now: datetime) -> SafeString:
    link = format_html('<a href="{}">{}</a>', row.url, row.label)
    if row.biller_id is None:
        return format_html('{} <span class="ops-quiet">{} biller{}</span>', link, row.billers, pluralize(row.billers))
    if row.status != "live":
        return format_html('{} <span class="ops-badge">{}</span> <a class="ops-checklist" href="{}">onboarding '
                           "checklist</a>", link, row.status, row.checklist_url)
    return link


def _problems(row: Row, now: datetime) -> SafeString:
    if not row.problems:
        return QUIET_DASH
    return format_html_join("", '<span class="ops-problem">{}</span>', ((p,) for p in row.problems))


def _last_import(row: Row, now: datetime) -> SafeString:
    failed = mark_safe(' <span class="ops-badge bad">last failed</span>') if row.import_failed else ""
    if row.last_import_at is None:
        return format_html('<a href="{}" class="ops-quiet">none</a>{}', row.last_import.url, failed)
    shown = f"{timezone.localtime(row.last_import_at):%Y-%m-%d %H:%M}"
    return format_html('<a href="{}">{}</a><br><span class="ops-quiet">{} ago</span>{}', row.last_import.url, shown,
                       ago(row.last_import_at, now), failed)


def _rtdr_rate(row: Row, now: datetime) -> SafeString:
    if not row.rtdr_rate.url or row.rtdr_rate.value is None:
        return QUIET_DASH
    return format_html('<a href="{}">{}</a>', row.rtdr_rate.url, f"{100 * row.rtdr_rate.value:.1f}%")


def _p95(row: Row, now: datetime) -> SafeString:
    return QUIET_DASH if row.rtdr_p95 is None else format_html("{}", f"{row.rtdr_p95:,.0f} ms")


def _breaker(row: Row, now: datetime) -> SafeString:
    if not row.breaker:
        return QUIET_DASH
    return format_html('<span class="ops-breaker {}">{}</span>', row.breaker, row.breaker.replace("_", "-"))


def _count(name: str) -> Callable[[Row, datetime], SafeString]:
    return lambda row, now: figure(getattr(row, name))


#: (heading, cell class, cell) in display order.
COLUMNS: list[tuple[str, str, Callable[[Row, datetime], SafeString]]] = [
    ("Problems", "ops-problems", _problems),
    ("Last successful invoice import", "ops-import", _last_import),
    ("RTDR success", "num", _rtdr_rate),
    ("RTDR p95", "num", _p95),
    ("Breaker", "", _breaker),
    ("Outbox depth", "num", _count("depth")),
    ("Retrying", "num warn", _count("retrying")),
    ("Unknown", "num warn", _count("unknown")),
    ("Dead", "num bad", _count("dead")),
    ("Exports", "num", _count("exports")),
    ("Downloads", "num", _count("downloads")),
    ("Failing connections", "num warn", _count("failing_connections")),
    ("Alerts", "num bad", _count("alerts")),
]


def header() -> SafeString:
    cells = format_html_join("", '<th class="{}">{}</th>', ((cls if "num" in cls else "", h) for h, cls, _ in COLUMNS))
    return format_html("<tr><th>Partner / biller</th>{}</tr>", cells)


def rows_html(rows: list[Row], now: datetime, kind: str) -> SafeString:
    """One ``<tr>`` per row (``kind`` "partner" or "biller"), with ``data-biller`` = the BID on billers."""
    out = []
    for row in rows:
        data = format_html(' data-biller="{}"', row.bid) if row.biller_id else ""
        cells = format_html_join("", '<td class="{}">{}</td>', ((cls, cell(row, now)) for _, cls, cell in COLUMNS))
        out.append(format_html('<tr class="ops-row ops-{} severity-{}"{}><th scope="row">{}</th>{}</tr>', kind,
                               row.severity, data, _label(row, now), cells))
    return mark_safe("\n".join(out))  # each row built by format_html above
