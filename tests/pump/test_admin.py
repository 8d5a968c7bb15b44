"""Outbox admin: lists and filters, the last envelope, manual actions that need a reason, biller scoping."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from billers.models import BillerStaffScope
from payments import delivery, outbox
from payments.outbox_models import ManualAction, OutboxEvent, OutboxStatus

S = OutboxStatus
CHANGELIST = "admin:payments_outboxevent_changelist"


@pytest.fixture
def dead_events(pump_biller: Callable[..., Any], account_for: Callable[..., Any], pay: Callable[..., Any],
                sims: dict[str, Any]) -> list[OutboxEvent]:
    """Two dead Daffron payments (unknown account) and one delivered, with their attempts."""
    biller = pump_biller("daffron", 2778, settings={131: "{}"})
    pay(account_for(biller, "4242"), approval_code="dead-1")
    pay(account_for(biller, "4343"), approval_code="dead-2")
    pay(account_for(biller, "1001"), approval_code="fine")
    delivery.pump_biller_run(biller.pk)
    return list(OutboxEvent.objects.order_by("id"))


def _act(client: Any, action: str, events: list[OutboxEvent], **extra: str) -> Any:
    data = {"action": action, "_selected_action": [str(e.pk) for e in events], **extra}
    return client.post(reverse(CHANGELIST), data)


def test_changelist_filters_and_search(admin_client: Any, dead_events: list[OutboxEvent]) -> None:
    for query in ("", "?status__exact=dead", "?event_type__exact=payment", "?biller__partner__id__exact=1",
                  f"?biller__id__exact={dead_events[0].biller_id}", "?q=4242", "?manual_action__exact=skip"):
        assert admin_client.get(reverse(CHANGELIST) + query).status_code == 200
    page = admin_client.get(reverse(CHANGELIST) + "?status__exact=dead").content.decode()
    assert "4242" in page and "4343" in page and "Unknown account" in page
    assert ">1001<" not in page
    assert "resend_events" in page and "skip_events" in page and "mark_delivered_events" in page


def test_change_page_shows_the_last_envelopes_masked(admin_client: Any, dead_events: list[OutboxEvent]) -> None:
    page = admin_client.get(reverse("admin:payments_outboxevent_change", args=[dead_events[0].pk])).content.decode()
    assert "CommitPaymentTransaction" in page and "faultstring" in page
    assert "********" in page and "pay-s3cret" not in page
    assert "net_amount" in page  # the payload
    assert reverse("admin:payments_payment_change", args=[dead_events[0].object_id]) in page
    attempt = dead_events[0].delivery_attempts.get()
    assert admin_client.get(reverse("admin:payments_deliveryattempt_change", args=[attempt.pk])).status_code == 200
    assert admin_client.get(reverse("admin:payments_deliveryattempt_changelist") + "?q=4242").status_code == 200


@pytest.mark.parametrize("action", ["resend_events", "skip_events", "mark_delivered_events"])
def test_actions_ask_for_a_reason_first(admin_client: Any, dead_events: list[OutboxEvent], action: str) -> None:
    response = _act(admin_client, action, dead_events[:1])
    assert response.status_code == 200 and b'name="reason"' in response.content
    response = _act(admin_client, action, dead_events[:1], apply="1", reason="   ")
    assert response.status_code == 200 and b"This field is required" in response.content
    event = OutboxEvent.objects.get(pk=dead_events[0].pk)
    assert event.status == S.DEAD and event.manual_action == ""


def test_resend_records_who_when_and_why_and_delivers_again(admin_client: Any, superuser: Any,
                                                            dead_events: list[OutboxEvent], sims: dict[str, Any]) -> None:
    dead, _, delivered = dead_events
    response = _act(admin_client, "resend_events", [dead, delivered], apply="1",
                    reason="Account 4242 created in the CIS today")
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.manual_action, dead.manual_by) == \
        (S.PENDING, 0, ManualAction.RESEND, superuser)
    assert dead.manual_reason == "Account 4242 created in the CIS today" and dead.manual_at is not None
    delivered.refresh_from_db()
    assert delivered.status == S.DELIVERED and delivered.manual_action == ""  # delivered cannot be resent
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "1 event(s) queued for delivery again." in messages
    assert any("1 event(s) left unchanged" in m for m in messages)
    sims["daffron"].fixtures["4242"] = {"items": []}
    try:
        assert delivery.pump_biller_run(dead.biller_id).as_dict()["delivered"] == 1
    finally:
        del sims["daffron"].fixtures["4242"]
    assert dead.delivery_attempts.count() == 2  # the first, dead attempt stays recorded


def test_skip_and_mark_delivered_in_bulk(admin_client: Any, superuser: Any, dead_events: list[OutboxEvent]) -> None:
    first, second, _ = dead_events
    _act(admin_client, "skip_events", [first], apply="1", reason="Duplicate of a payment keyed by the CSR")
    _act(admin_client, "mark_delivered_events", [second], apply="1", reason="Seen posted in Daffron, receipt 88")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.manual_action, first.manual_by) == (S.SKIPPED, ManualAction.SKIP, superuser)
    assert first.status_reason == "Duplicate of a payment keyed by the CSR"
    assert (second.status, second.manual_action, second.delivered_at is not None) == \
        (S.DELIVERED, ManualAction.MARK_DELIVERED, True)


def test_services_refuse_a_blank_reason_and_events_in_flight(dead_events: list[OutboxEvent], superuser: Any) -> None:
    with pytest.raises(ValidationError):
        outbox.outbox_event_skip(events=dead_events, actor=superuser, reason="")
    OutboxEvent.objects.filter(pk=dead_events[0].pk).update(status=S.DELIVERING)
    assert outbox.outbox_event_mark_delivered(events=dead_events[:2], actor=superuser, reason="checked") == 1
    assert OutboxEvent.objects.get(pk=dead_events[0].pk).status == S.DELIVERING


def test_biller_staff_see_only_their_billers_events_and_no_actions(
    client: Any, django_user_model: Any, dead_events: list[OutboxEvent], pump_biller: Callable[..., Any],
    account_for: Callable[..., Any], pay: Callable[..., Any],
) -> None:
    other = pump_biller("aus", 123)
    pay(account_for(other, "1001"), approval_code="aus-payment")
    group = Group.objects.create(name="Biller 123 staff")
    group.permissions.set(Permission.objects.filter(codename__in=["view_outboxevent", "view_deliveryattempt"]))
    BillerStaffScope.objects.create(group=group, biller=other)
    user = django_user_model.objects.create_user("staff123", password="pw-for-tests-only", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    response = client.get(reverse(CHANGELIST))
    assert {e.biller_id for e in response.context["cl"].result_list} == {other.pk}
    assert "resend_events" not in response.content.decode()  # actions need the change permission
    response = client.get(reverse("admin:payments_outboxevent_change", args=[dead_events[0].pk]))
    assert response.status_code == 302  # not theirs: redirected away
