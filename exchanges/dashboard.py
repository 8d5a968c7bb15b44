"""Selectors of the operations dashboard: per-biller and per-partner figures, problem rows first.

Every figure comes from a fixed number of grouped queries (``values("biller_id").annotate(...)``),
whatever the number of billers: ``biller_table`` runs nine queries for 10 billers or for 10,000.
Each figure carries the URL of the admin list behind it, filtered with the lookups those admins
accept (their ``list_filter`` names, or local fields, which Django always allows).

Windows keep each query on an index: exports and downloads of the last ``RECENT_DAYS``, the latest
invoice imports of the last ``IMPORT_WINDOW`` (then the history of the billers not seen in it).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Q, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from billers.models import Biller, BillerStatus
from exchanges.alerts import group_key
from exchanges.dashboard_models import Alert, AlertKind
from exchanges.models import Exchange, ExchangeKind, ExchangeStatus

RECENT_DAYS = 7
IMPORT_WINDOW = timedelta(days=3)
#: Longer id lists go to the database as a subquery (SQLite allows 32,766 parameters, Oracle 1,000).
IN_LIST_MAX = 5000
DEFAULT_ROWS = 50
INVOICE_KINDS = (ExchangeKind.INVOICES, ExchangeKind.REPLACEMENTS)
IMPORT_OK = (ExchangeStatus.SUCCEEDED, ExchangeStatus.PARTIAL)
#: Outbox statuses still waiting for the partner (the queue's depth); ``unknown`` needs an IM's decision.
OUTBOX_WAITING = ("pending", "delivering", "retrying", "unknown")
RTDR_LOW_SUCCESS = 0.9
BREAKER_RANK = {"open": 2, "half_open": 1, "closed": 0}


@dataclass
class Figure:
    """A number on the dashboard and the admin list behind it ("" when there is none)."""

    value: Any
    url: str = ""

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass
class Row:
    """One biller's (or one partner's) line of the dashboard."""

    label: str
    partner: str
    status: str = BillerStatus.LIVE
    biller_id: int | None = None
    partner_id: int | None = None
    billers: int = 1
    last_import_at: datetime | None = None
    last_import: Figure = field(default_factory=lambda: Figure(None))
    import_failed: bool = False
    rtdr_rate: Figure = field(default_factory=lambda: Figure(None))
    rtdr_p95: float | None = None
    breaker: str = ""
    depth: Figure = field(default_factory=lambda: Figure(0))
    retrying: Figure = field(default_factory=lambda: Figure(0))
    unknown: Figure = field(default_factory=lambda: Figure(0))
    dead: Figure = field(default_factory=lambda: Figure(0))
    exports: Figure = field(default_factory=lambda: Figure(0))
    downloads: Figure = field(default_factory=lambda: Figure(0))
    failing_connections: Figure = field(default_factory=lambda: Figure(0))
    alerts: Figure = field(default_factory=lambda: Figure(0))
    url: str = ""
    checklist_url: str = ""
    problems: list[str] = field(default_factory=list)
    severity: int = 0
    bid: int | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class BillerTable:
    """The dashboard's table: partner rows, then the biller rows shown (problems first)."""

    partners: list[Row]
    billers: list[Row]
    total_billers: int
    problem_billers: int
    hidden: int
    since: datetime
    choices: list[tuple[int, str]] = field(default_factory=list)


@lru_cache(maxsize=64)
def _reverse(name: str, prefix: str) -> str:
    return reverse(name)


def _url(name: str, args: list[Any] | None = None, **params: Any) -> str:
    """``reverse(name)`` (cached) with ``params`` as the query string (None values left out)."""
    if args:
        base = reverse(name, args=args)
    else:
        base = _reverse(name, get_script_prefix())
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return base + (f"?{query}" if query else "")


def _scoped(qs: QuerySet, biller_ids: set[int] | None, path: str = "biller_id") -> QuerySet:
    return qs if biller_ids is None else qs.filter(**{f"{path}__in": biller_ids})


def _p95(durations: list[float]) -> float | None:
    ordered = sorted(durations)
    if not ordered:
        return None
    return float(ordered[max(0, -(-95 * len(ordered) // 100) - 1)])


# ---- the grouped queries ---------------------------------------------------------------------


def _import_figures(qs: QuerySet) -> dict[int, dict[str, Any]]:
    grouped = qs.order_by().values(owner=group_key("biller_id")).annotate(
        last=Max("id"), failed=Max("id", filter=Q(status=ExchangeStatus.FAILED)),
        ok_at=Max("created_at", filter=Q(status__in=IMPORT_OK)))
    return {r["owner"]: r for r in grouped}


def _last_imports(scope: set[int] | None, biller_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Per biller: when its last successful invoice import came, and whether its latest attempt failed.

    Two grouped queries: the last ``IMPORT_WINDOW`` through the created_at index (most billers import
    daily), then the whole history of the billers without a success in it, through the (biller,
    kind, status) index. Scanning the whole history of every biller instead costs 90 ms on
    PostgreSQL at a million rows (a sequential scan).
    """
    invoices = Exchange.objects.filter(kind__in=INVOICE_KINDS)
    # all billers: no biller condition, or SQLite seeks every biller's history instead of the window
    found = _import_figures(_scoped(invoices.filter(created_at__gte=now - IMPORT_WINDOW), scope))
    missing = [b for b in biller_ids if found.get(b, {}).get("ok_at") is None]
    if missing:
        # the biller IN list also gives SQLite an equality on the index's first column to seek on
        older = _import_figures(invoices.filter(biller_id__in=missing) if len(missing) <= IN_LIST_MAX
                                else invoices.filter(biller_id__in=Biller.objects.values("id")))
        for biller_id, figures in older.items():
            recent = found.get(biller_id)
            found[biller_id] = {**figures, **({k: recent[k] for k in ("last", "failed")} if recent else {})}
    wanted = set(biller_ids)
    return {b: {"ok_at": f["ok_at"], "failed": f["failed"] is not None and f["failed"] == f["last"]}
            for b, f in found.items() if b in wanted}


def _outbox(biller_ids: set[int] | None) -> dict[int, dict[str, int]]:
    from payments.outbox_models import OutboxEvent, OutboxStatus

    counts: dict[int, dict[str, int]] = defaultdict(dict)
    qs = OutboxEvent.objects.filter(status__in=[*OUTBOX_WAITING, OutboxStatus.DEAD])
    for r in _scoped(qs, biller_ids).order_by().values("biller_id", "status").annotate(n=Count("id")):
        counts[r["biller_id"]][r["status"]] = r["n"]
    return counts


def _rtdr(biller_ids: set[int] | None) -> dict[int, dict[str, Any]]:
    """Per biller: the recent call samples of all its endpoints and the worst breaker state."""
    from billers.rtdr_models import RtdrHealth

    found: dict[int, dict[str, Any]] = {}
    for h in _scoped(RtdrHealth.objects.all(), biller_ids).values("biller_id", "breaker_state", "recent"):
        entry = found.setdefault(h["biller_id"], {"samples": [], "breaker": "closed"})
        if isinstance(h["recent"], list):  # [[ok, ms], ...] as billers.rtdr_health writes it
            entry["samples"] += h["recent"]
        if BREAKER_RANK.get(h["breaker_state"], 0) > BREAKER_RANK.get(entry["breaker"], 0):
            entry["breaker"] = h["breaker_state"]
    return found


def _exports(biller_ids: set[int] | None, since: datetime) -> tuple[dict[int, int], dict[int, int]]:
    from payments.batch_models import ExportDownload, ExportFile

    produced = _scoped(ExportFile.objects.filter(generated_at__gte=since), biller_ids).order_by().values(
        "biller_id").annotate(n=Count("id"))
    downloaded = _scoped(ExportDownload.objects.filter(downloaded_at__gte=since), biller_ids,
                         "file__biller_id").order_by().values("file__biller_id").annotate(n=Count("id"))
    return ({r["biller_id"]: r["n"] for r in produced}, {r["file__biller_id"]: r["n"] for r in downloaded})


def _failing_connections(biller_ids: set[int] | None) -> dict[int, int]:
    from exchanges.transport_models import Connection

    qs = _scoped(Connection.objects.filter(enabled=True).exclude(last_error=""), biller_ids)
    return {r["biller_id"]: r["n"] for r in qs.order_by().values("biller_id").annotate(n=Count("id"))}


def _open_alerts(biller_ids: set[int] | None) -> dict[int, dict[str, int]]:
    qs = _scoped(Alert.objects.filter(resolved_at__isnull=True, biller__isnull=False), biller_ids)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for r in qs.order_by().values("biller_id", "kind").annotate(n=Count("id")):
        counts[r["biller_id"]][r["kind"]] = r["n"]
    return counts


# ---- rows ------------------------------------------------------------------------------------


def _judge(row: Row, alert_kinds: dict[str, int]) -> None:
    """Name the row's problems and its severity (2: act now, 1: watch)."""
    urgent = [("dead pump events", bool(row.dead)), ("RTDR breaker open", row.breaker in ("open", "half_open")),
              ("last import failed", row.import_failed),
              ("file missing", bool(alert_kinds.get(AlertKind.MISSING_FILE)))]
    # retrying alone is the pump doing its job; it becomes a problem when the events go dead
    watch = [("unknown outcomes", bool(row.unknown)), ("connection failing", bool(row.failing_connections)),
             ("RTDR success low", row.rtdr_rate.value is not None and row.rtdr_rate.value < RTDR_LOW_SUCCESS)]
    row.problems = [name for name, hit in urgent + watch if hit]
    row.severity = 2 if any(hit for _, hit in urgent) else 1 if row.problems else 0


@dataclass(frozen=True)
class _Links:
    """How a row's links filter: by biller or by partner (the exchange admin names the partner directly)."""

    filt: dict[str, Any]
    exchange_filt: dict[str, Any]
    since: str


def _figures(row: Row, data: dict[str, Any], links: _Links | None) -> None:
    """Fill a row's figures from its slice of the grouped query results; with ``links``, their URLs too.

    Rows are judged and sorted on their values first; only the rows shown get links (URL building
    is most of the cost of a row).
    """
    def url(name: str, **params: Any) -> str:
        return _url(name, **params, **links.filt) if links else ""

    outbox = data["outbox"]
    changelist = "admin:payments_outboxevent_changelist"
    row.depth = Figure(sum(outbox.get(s, 0) for s in OUTBOX_WAITING),
                       url(changelist, status__in=",".join(OUTBOX_WAITING)))
    for name in ("retrying", "unknown", "dead"):
        setattr(row, name, Figure(outbox.get(name, 0), url(changelist, status__exact=name)))
    samples = data["samples"]
    rate = (sum(1 for ok, _ in samples if ok) / len(samples)) if samples else None
    row.rtdr_rate = Figure(rate, url("admin:billers_rtdrhealth_changelist") if data["has_rtdr"] else "")
    if links:  # only the rows shown need it: no problem depends on it
        row.rtdr_p95 = _p95([ms for _, ms in samples if isinstance(ms, int | float)])
    row.breaker = data["breaker"]
    row.last_import_at, row.import_failed = data["import_at"], data["import_failed"]
    row.last_import = Figure(data["import_at"], _url("admin:exchanges_exchange_changelist",
                                                     kind__in=",".join(INVOICE_KINDS), **links.exchange_filt)
                             if links else "")
    row.exports = Figure(data["exports"], url("admin:payments_exportfile_changelist",
                                              generated_at__gte=links.since if links else None))
    row.failing_connections = Figure(data["failing"], url("admin:exchanges_connection_changelist", status="failing"))
    row.alerts = Figure(data["alerts"], url("admin:exchanges_alert_changelist", state="open"))
    row.data = data


def _biller_links(row: Row, since: str) -> None:
    _figures(row, row.data, _Links({"biller__id__exact": row.biller_id}, {"biller__id__exact": row.biller_id}, since))
    row.url = _url("admin:billers_biller_change", args=[row.biller_id])
    # the downloads admin filters by biller only through its search (=file__biller__bid)
    row.downloads.url = _url("admin:payments_exportdownload_changelist", q=row.bid, downloaded_at__gte=since)
    if row.status != BillerStatus.LIVE:
        row.checklist_url = row.url


def biller_table(*, biller_ids: set[int] | None = None, now: datetime | None = None,
                 limit: int | None = DEFAULT_ROWS) -> BillerTable:
    """The dashboard table for all billers (``biller_ids`` None) or the given ones.

    Returns partner rows (sums over their billers) and biller rows, problem rows first (the most
    urgent first), cut to ``limit`` rows (None: all) so the page stays fast in a wide outage;
    ``hidden`` says how many rows were left out. Eight queries, nine when some billers had no
    successful import lately (``_last_imports``), whatever the number of billers.
    """
    now = now or timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    billers = list(_scoped(Biller.objects.all(), biller_ids, "pk").values(
        "id", "bid", "name", "status", "partner_id", "partner__name").order_by("bid"))
    imports = _last_imports(biller_ids, [b["id"] for b in billers], now)
    outbox, rtdr = _outbox(biller_ids), _rtdr(biller_ids)
    exports, downloads = _exports(biller_ids, since)
    failing, alerts = _failing_connections(biller_ids), _open_alerts(biller_ids)

    rows: list[Row] = []
    by_partner: dict[int, list[Row]] = {}
    for b in billers:
        bid = b["id"]
        health = rtdr.get(bid, {})
        data = {"outbox": outbox.get(bid, {}), "samples": health.get("samples", []), "has_rtdr": bid in rtdr,
                "breaker": health.get("breaker", ""), "import_at": imports.get(bid, {}).get("ok_at"),
                "import_failed": imports.get(bid, {}).get("failed", False), "exports": exports.get(bid, 0),
                "failing": failing.get(bid, 0), "alerts": sum(alerts.get(bid, {}).values())}
        row = Row(label=f"{b['bid']} {b['name']}", partner=b["partner__name"], status=b["status"], biller_id=bid,
                  partner_id=b["partner_id"], bid=b["bid"])
        _figures(row, data, None)
        row.downloads = Figure(downloads.get(bid, 0))
        _judge(row, alerts.get(bid, {}))
        rows.append(row)
        by_partner.setdefault(b["partner_id"], []).append(row)

    iso = since.isoformat()
    partners = [_partner_row(members, iso) for members in by_partner.values()]
    partners.sort(key=lambda r: (-r.severity, r.label))
    rows.sort(key=lambda r: (-r.severity, -len(r.problems), r.bid or 0))
    problem = sum(1 for r in rows if r.severity)
    shown = rows if limit is None else rows[:limit]
    for row in shown:
        _biller_links(row, iso)
    return BillerTable(partners=partners, billers=shown, total_billers=len(rows), problem_billers=problem,
                       hidden=len(rows) - len(shown), since=since,
                       choices=[(b["id"], f"{b['bid']} {b['name']}") for b in billers])


def _partner_row(members: list[Row], since: str) -> Row:
    """Sum a partner's biller rows; links filter by partner (the downloads admin has no partner filter)."""
    first = members[0]
    outbox: dict[str, int] = defaultdict(int)
    for r in members:
        for status, n in r.data["outbox"].items():
            outbox[status] += n
    dates = [r.last_import_at for r in members if r.last_import_at]
    breakers = [r.breaker for r in members if r.breaker]
    data = {"outbox": outbox, "samples": [s for r in members for s in r.data["samples"]], "has_rtdr": bool(breakers),
            "breaker": max(breakers, key=lambda s: BREAKER_RANK.get(s, 0)) if breakers else "",
            "import_at": max(dates) if dates else None, "import_failed": any(r.import_failed for r in members),
            "exports": sum(r.exports.value for r in members),
            "failing": sum(r.failing_connections.value for r in members),
            "alerts": sum(r.alerts.value for r in members)}
    row = Row(label=first.partner, partner=first.partner, partner_id=first.partner_id, billers=len(members),
              url=_url("admin:billers_biller_changelist", partner__id__exact=first.partner_id))
    _figures(row, data, _Links({"biller__partner__id__exact": first.partner_id},
                               {"partner__id__exact": first.partner_id}, since))
    row.downloads = Figure(sum(r.downloads.value for r in members))
    troubled = sum(1 for r in members if r.severity)
    row.problems = [f"{troubled} of {len(members)} with problems"] if troubled else []
    row.severity = max(r.severity for r in members)
    return row
