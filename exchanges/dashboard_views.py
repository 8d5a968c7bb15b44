"""The operations dashboard's context (rendered on the admin index) and its JSON progress endpoint.

``dashboard_context(request)`` gathers everything the page shows for the user's billers (biller
staff see only theirs); ``progress_json`` answers the page's poll every 2 seconds with the running
exchanges' progress, staff only.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone

from billers.scoping import scoped_biller_ids
from exchanges import dashboard_series as series
from exchanges.dashboard import DEFAULT_ROWS, biller_table
from exchanges.dashboard_models import Alert
from exchanges.dashboard_svg import lines, stacked_bars

OPEN_ALERTS_SHOWN = 50
POLL_MS = 2000
PUMP_COLOURS = {"delivered": "#2e7d32", "waiting": "#1e88e5", "unknown": "#f9a825", "dead": "#c62828",
                "skipped": "#9e9e9e"}
INVOICE_COLOURS = {"invoices": "#417690"}
LATENCY_COLOURS = {"mean": "#417690", "p95": "#e65100"}


def _scope(request: HttpRequest) -> set[int] | None:
    return scoped_biller_ids(request.user)


def _plot_billers(request: HttpRequest, scope: set[int] | None) -> tuple[set[int] | None, int | None]:
    """The plots' billers: ``?ops_biller=<id>`` within the user's scope, else the whole scope."""
    raw = request.GET.get("ops_biller", "")
    if raw.isdigit() and (scope is None or int(raw) in scope):
        return {int(raw)}, int(raw)
    return scope, None


def plots(biller_ids: set[int] | None, now: Any) -> dict[str, Any]:
    """The three plots as inline SVG, with their totals (three queries)."""
    invoices = series.invoices_per_day(biller_ids=biller_ids, now=now)
    labels = [f"{d:%m-%d}" for d, _, _ in invoices]
    days, pumped = series.pump_per_day(biller_ids=biller_ids, now=now)
    hours = series.rtdr_latency(biller_ids=biller_ids, now=now)
    hour_labels = [f"{timezone.localtime(h.hour):%H}h" for h in hours]
    return {
        "invoices_svg": stacked_bars(labels, {"invoices": [n for _, n, _ in invoices]}, INVOICE_COLOURS,
                                     title="Invoices loaded per day"),
        "invoices_total": sum(n for _, n, _ in invoices), "files_total": sum(f for _, _, f in invoices),
        "pump_svg": stacked_bars([f"{d:%m-%d}" for d in days], pumped, PUMP_COLOURS,
                                 title="Payments pumped per day by outcome"),
        "pump_legend": [(name, PUMP_COLOURS[name], sum(values)) for name, values in pumped.items()],
        "rtdr_svg": lines(hour_labels, {"mean": [h.avg_ms for h in hours], "p95": [h.p95_ms for h in hours]},
                          LATENCY_COLOURS, title="RTDR latency over the last 24 hours", unit="ms"),
        "rtdr_calls": sum(h.calls for h in hours), "rtdr_failed": sum(h.failed for h in hours),
        "latency_legend": list(LATENCY_COLOURS.items()),
    }


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """Everything the dashboard shows, for the request's user (a fixed number of queries)."""
    now = timezone.now()
    scope = _scope(request)
    show_all = request.GET.get("ops") == "all"
    table = biller_table(biller_ids=scope, now=now, limit=None if show_all else DEFAULT_ROWS)
    alerts = Alert.objects.filter(resolved_at__isnull=True).select_related("biller").order_by("-first_seen")
    if scope is not None:
        alerts = alerts.filter(biller_id__in=scope)
    plot_ids, plot_biller = _plot_billers(request, scope)
    return {
        "now": now, "table": table, "show_all": show_all,
        "alerts": list(alerts[:OPEN_ALERTS_SHOWN]),
        "alerts_url": reverse("admin:exchanges_alert_changelist") + "?state=open",
        "running": series.running_exchanges(biller_ids=scope, now=now),
        "failures": series.recent_failures(biller_ids=scope, now=now),
        "failures_url": reverse("admin:exchanges_exchange_changelist") + "?status__exact=failed",
        "progress_url": reverse("ops_progress"), "poll_ms": POLL_MS, "poll_seconds": POLL_MS // 1000,
        "plot_biller": plot_biller, "plots": plots(plot_ids, now),
        "series_days": series.SERIES_DAYS,
    }


def progress_json(request: HttpRequest) -> JsonResponse:
    """``GET /ops/progress.json?ids=1,2``: running exchanges (and the listed ones, to see them finish).

    403 for anyone but active staff; biller staff get only their billers' exchanges.
    """
    user = request.user
    if not (user.is_active and user.is_staff):
        return JsonResponse({"error": "staff only"}, status=403)
    also = {int(p) for p in request.GET.get("ids", "").split(",") if p.strip().isdigit()}
    now = timezone.now()
    rows = series.running_exchanges(biller_ids=_scope(request), also=also, now=now)
    return JsonResponse({"now": now.isoformat(), "exchanges": rows})
