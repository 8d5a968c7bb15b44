"""Admin of the RTDR area: per-biller endpoint health (breaker, failure rate, p95) and "refresh balance".

The refresh page, ``/admin/billers/account/<id>/refresh-balance/``, is routed by ``billers.rtdr_urls``
(included from ``config/urls.py`` ahead of the admin site) and wrapped in ``admin.site.admin_view``.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billers.balances import stored_balance
from billers.models import Account
from billers.rtdr import offers_rtdr, refresh_balance
from billers.rtdr_health import rtdr_breaker_reset
from billers.rtdr_models import BreakerState, RtdrHealth
from billers.scoping import BillerScopedAdmin, scoped_biller_ids
from exchanges.models import Exchange, ExchangeKind

STATE_COLOURS = {BreakerState.CLOSED: "#2e7d32", BreakerState.OPEN: "#c62828", BreakerState.HALF_OPEN: "#ef6c00"}


@admin.register(RtdrHealth)
class RtdrHealthAdmin(BillerScopedAdmin):
    list_display = ["biller", "partner", "endpoint", "breaker", "last_success_at", "last_failure_at",
                    "failure_rate_shown", "p95_shown", "consecutive_failures", "success_count", "failure_count",
                    "rejected_count", "skipped_count"]
    list_filter = ["breaker_state", "biller__partner", "last_failure_at"]
    search_fields = ["=biller__bid", "biller__name", "endpoint", "last_error"]
    list_select_related = ["biller__partner"]
    actions = ["reset_breaker"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by RTDR calls only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RtdrHealth._meta.fields] + ["failure_rate_shown", "p95_shown"]

    @admin.display(description="partner", ordering="biller__partner__name")
    def partner(self, obj: RtdrHealth) -> str:
        return str(obj.biller.partner)

    @admin.display(description="breaker", ordering="breaker_state")
    def breaker(self, obj: RtdrHealth) -> str:
        opened = obj.breaker_state == BreakerState.OPEN and obj.opened_until is not None
        until = f" until {timezone.localtime(obj.opened_until):%Y-%m-%d %H:%M:%S %Z}" if opened else ""
        return format_html('<strong style="color:{}">{}</strong>{}',
                           STATE_COLOURS.get(obj.breaker_state, "inherit"), obj.get_breaker_state_display(), until)

    @admin.display(description="failure rate (recent)")
    def failure_rate_shown(self, obj: RtdrHealth) -> str:
        rate = obj.failure_rate
        return "—" if rate is None else f"{rate:.0%} of {len(obj.recent)}"

    @admin.display(description="p95 latency")
    def p95_shown(self, obj: RtdrHealth) -> str:
        p95 = obj.p95_latency_ms
        return "—" if p95 is None else f"{p95:.0f} ms"

    @admin.action(description="Close the breaker (call the partner again now)", permissions=["change"])
    def reset_breaker(self, request: HttpRequest, queryset: QuerySet[RtdrHealth]) -> None:
        for health in queryset:
            rtdr_breaker_reset(health=health)
        self.message_user(request, f"Breaker closed for {len(queryset)} endpoint(s).", messages.SUCCESS)


def _account_for(request: HttpRequest, pk: int) -> Account:
    """Return the account if the user may see it; 404 outside the user's billers, 403 without view rights."""
    account = get_object_or_404(Account.objects.select_related("biller__partner"), pk=pk)
    ids = scoped_biller_ids(request.user)
    if ids is not None and account.biller_id not in ids:
        raise Http404("No such account.")
    if not request.user.has_perm("billers.view_account"):
        raise PermissionDenied
    return account


def _refresh_balance_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the stored balance and recent RTDR calls; POST: refresh from the partner, then show it."""
    account = _account_for(request, pk)
    here = reverse("billers_account_refresh_balance", args=[account.pk])
    if request.method == "POST":
        view = refresh_balance(account, write_behind=False)  # the call is listed on the next page
        if view.stale:
            messages.warning(request, f"Partner not reached; showing the last known balance: {view.stale_reason}")
        elif offers_rtdr(account.biller):
            messages.success(request, f"Balance refreshed from the partner: {view.balance_due}.")
        else:
            messages.info(request, f"{account.biller.partner} has no RTDR; the stored balance is shown.")
        return HttpResponseRedirect(here)
    exchanges = (
        Exchange.objects.filter(biller=account.biller, kind=ExchangeKind.RTDR, counts__account=account.account_number)
        .order_by("-created_at")[:10]
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Refresh balance: {account.account_number}",
        "opts": Account._meta,
        "account": account,
        "balance": stored_balance(account),
        "offers_rtdr": offers_rtdr(account.biller),
        "exchanges": exchanges,
        "health": RtdrHealth.objects.filter(biller=account.biller),
        "account_url": reverse("admin:billers_account_change", args=[account.pk]),
    }
    return TemplateResponse(request, "admin/billers/rtdr/refresh_balance.html", context)


#: Staff login, CSRF and no caching as for every admin page.
refresh_balance_view = admin.site.admin_view(_refresh_balance_view)
