"""``{% load ops_dashboard %}``: the operations dashboard on the admin index."""
from __future__ import annotations

from datetime import datetime

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from exchanges import dashboard_table
from exchanges.dashboard import Row

register = template.Library()


@register.simple_tag(takes_context=True)
def ops_dashboard(context: template.Context) -> SafeString:
    """Render ``admin/dashboard/dashboard.html`` for the request's user."""
    from exchanges.dashboard_views import dashboard_context

    request = context["request"]
    return render_to_string("admin/dashboard/dashboard.html", dashboard_context(request), request=request)


@register.simple_tag
def ops_table_header() -> SafeString:
    """The biller table's heading row (``exchanges.dashboard_table.COLUMNS``)."""
    return dashboard_table.header()


@register.simple_tag
def ops_table_rows(rows: list[Row], now: datetime, kind: str) -> SafeString:
    """The biller table's rows of one kind ("partner" or "biller")."""
    return dashboard_table.rows_html(rows, now, kind)
