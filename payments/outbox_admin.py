"""Admin of the outbox: events, their attempts and envelopes, and the IM's manual actions.

Resend, skip and mark delivered go through an intermediate page that requires a reason; the
services in ``payments.outbox`` record who did it and when. Everything is read-only otherwise.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from lxml import etree

from billers.scoping import BillerScopedAdmin
from partners.soap import safe_parser
from payments import outbox
from payments.outbox_models import DeliveryAttempt, ManualAction, OutboxEvent

ACTION_TEMPLATE = "admin/payments/outboxevent/action_reason.html"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=2000,
        help_text="Required: what you checked (e.g. in the partner's system) and why.",
    )


def _pre(text: str) -> str:
    if not text:
        return "—"
    return format_html('<pre style="white-space: pre-wrap; max-width: 110em">{}</pre>', text)


def _pretty_xml(xml: str) -> str:
    try:
        return etree.tostring(etree.fromstring(xml.encode(), safe_parser()), pretty_print=True, encoding="unicode")
    except (etree.XMLSyntaxError, ValueError):  # not XML (an HTML error page): show as stored
        return xml


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-id"]
    fields = ["number", "started_at", "duration_ms", "outcome", "operation", "status_code", "error", "worker"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _manual(action: str, service: Callable[..., int], verb: str) -> Callable[..., HttpResponse | None]:
    """Return an admin action that asks for a reason, then calls ``service`` on the selected events."""

    def run(modeladmin: OutboxEventAdmin, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            selected = queryset.count()
            try:
                done = service(events=queryset, actor=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                modeladmin.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return None
            modeladmin.message_user(request, f"{done} event(s) {verb}.", messages.SUCCESS)
            if done < selected:
                modeladmin.message_user(
                    request, f"{selected - done} event(s) left unchanged: their status does not allow it "
                             f"(allowed from: {', '.join(sorted(outbox.ACTION_FROM[action]))}).", messages.WARNING)
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"{ManualAction(action).label}: give a reason",
            "opts": modeladmin.model._meta,
            "form": form,
            "events": queryset[:200],
            "count": queryset.count(),
            "action": request.POST.get("action", ""),
            "action_label": ManualAction(action).label,
            "allowed": ", ".join(sorted(outbox.ACTION_FROM[action])),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)

    run.__name__ = f"{action}_events"
    return admin.action(description=f"{ManualAction(action).label} selected events (asks for a reason)",
                        permissions=["change"])(run)


@admin.register(OutboxEvent)
class OutboxEventAdmin(BillerScopedAdmin):
    list_display = ["id", "biller", "partner", "event_type", "account_number", "endpoint", "status", "attempts",
                    "next_attempt_at", "created_at", "delivered_at", "short_error"]
    list_filter = ["status", "event_type", "biller__partner", ("biller", admin.RelatedOnlyFieldListFilter),
                   "endpoint", "manual_action", "created_at"]
    search_fields = ["=id", "=idempotency_key", "account_number", "=biller__bid", "biller__name", "last_error",
                     "status_reason", "partner_reference", "manual_reason"]
    list_select_related = ["biller__partner"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = [
        _manual(ManualAction.RESEND, outbox.outbox_event_resend, "queued for delivery again"),
        _manual(ManualAction.SKIP, outbox.outbox_event_skip, "skipped"),
        _manual(ManualAction.MARK_DELIVERED, outbox.outbox_event_mark_delivered, "marked delivered"),
    ]
    fieldsets = [
        (None, {"fields": ["biller", "event_type", "object_link", "account_number", "endpoint", "idempotency_key",
                           "status", "status_reason", "auto_resend", "partner_reference"]}),
        ("Delivery", {"fields": ["attempts", "next_attempt_at", "last_error", "created_at", "delivered_at",
                                 "claimed_by", "claimed_at", "lease_expires_at", "sending_at"]}),
        ("Last attempt", {"fields": ["last_request", "last_response"]}),
        ("Manual action", {"fields": ["manual_action", "manual_by", "manual_at", "manual_reason"]}),
        ("Payload (what the partner receives)", {"fields": ["payload_shown"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in OutboxEvent._meta.fields] + [
            "object_link", "last_request", "last_response", "payload_shown"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # events are recorded by the payment and change services only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the outbox is the delivery record

    @admin.display(description="partner", ordering="biller__partner__name")
    def partner(self, obj: OutboxEvent) -> str:
        return str(obj.biller.partner)

    @admin.display(description="last error")
    def short_error(self, obj: OutboxEvent) -> str:
        text = obj.last_error or obj.status_reason
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description="object")
    def object_link(self, obj: OutboxEvent) -> str:
        label = f"{obj.content_type.model} #{obj.object_id}"
        try:
            url = reverse(f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    def _last_attempt(self, obj: OutboxEvent) -> DeliveryAttempt | None:
        if not hasattr(obj, "_last_attempt_cache"):
            obj._last_attempt_cache = obj.delivery_attempts.exclude(request_xml="").order_by("-id").first()
        return obj._last_attempt_cache

    @admin.display(description="request envelope (secrets masked)")
    def last_request(self, obj: OutboxEvent) -> str:
        attempt = self._last_attempt(obj)
        return _pre(_pretty_xml(attempt.request_xml)) if attempt else "—"

    @admin.display(description="response envelope")
    def last_response(self, obj: OutboxEvent) -> str:
        attempt = self._last_attempt(obj)
        return _pre(_pretty_xml(attempt.response_xml)) if attempt else "—"

    @admin.display(description="payload")
    def payload_shown(self, obj: OutboxEvent) -> str:
        return _pre(json.dumps(obj.payload, indent=2, sort_keys=True))


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(BillerScopedAdmin):
    biller_path = "event__biller"
    list_display = ["id", "event", "number", "outcome", "operation", "status_code", "duration_ms", "started_at",
                    "worker"]
    list_filter = ["outcome", "operation", "event__event_type", "event__biller__partner", "started_at"]
    search_fields = ["=event__id", "=event__idempotency_key", "event__account_number", "error", "=event__biller__bid"]
    list_select_related = ["event"]
    date_hierarchy = "started_at"
    fields = ["event", "number", "outcome", "operation", "endpoint_url", "status_code", "started_at", "finished_at",
              "duration_ms", "worker", "error", "request_shown", "response_shown"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="request envelope (secrets masked)")
    def request_shown(self, obj: DeliveryAttempt) -> str:
        return _pre(_pretty_xml(obj.request_xml))

    @admin.display(description="response envelope")
    def response_shown(self, obj: DeliveryAttempt) -> str:
        return _pre(_pretty_xml(obj.response_xml))
