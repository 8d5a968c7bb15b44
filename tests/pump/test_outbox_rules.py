"""What record_event decides for every partner and event type, and that it happens in the payment's transaction."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from payments import events, services
from payments.models import ChangeKind, Payment
from payments.outbox_models import OutboxEvent, OutboxStatus

S = OutboxStatus


def _last(event_type: str | None = None) -> OutboxEvent:
    rows = OutboxEvent.objects.order_by("-id")
    return (rows.filter(event_type=event_type) if event_type else rows).first()


@pytest.fixture
def biller_with_account(pump_biller: Callable[..., Any], account_for: Callable[..., Any]) -> Callable[..., Any]:
    counter = iter(range(9200, 9300))

    def make(partner: str, **fields: Any) -> tuple[Any, Any]:
        biller = pump_biller(partner, next(counter), **fields)
        return biller, account_for(biller, {"aus": "1001", "cayenta": "2001"}.get(partner, "1001"))

    return make


def _all_kinds(account: Any, pay: Callable[..., Any], **payment: Any) -> dict[str, OutboxEvent]:
    """Record one of every event type for ``account``; return the events by type."""
    card = pay(account, "20.00", **payment)
    ach = pay(account, "30.00", tender="ach", approval_code="ACH-1")
    services.payment_void(payment=card, reason="twice")
    services.ach_reject_record(payment=ach, return_code="R01")
    pay(account, "5.00", kind="credit", approval_code="CR-1")
    services.autopay_set(account=account, active=True, actor="payer")
    services.paperless_set(account=account, active=True, actor="payer")
    services.contact_change(account=account, kind=ChangeKind.EMAIL, new_value="new@example.com", actor="payer")
    services.contact_change(account=account, kind=ChangeKind.PHONE, new_value="5550199", actor="payer")
    scheduled = services.scheduled_payment_create(account=account, amount=Decimal(9), scheduled_for=date(2026, 12, 1))
    services.scheduled_payment_update(scheduled=scheduled, amount=Decimal(10))
    services.scheduled_payment_cancel(scheduled=scheduled)
    return {e.event_type: e for e in OutboxEvent.objects.filter(biller=account.biller).order_by("id")}


def _statuses(found: dict[str, OutboxEvent]) -> dict[str, str]:
    return {kind: event.status for kind, event in found.items()}


def test_aus_decisions(biller_with_account: Callable[..., Any], pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("aus")
    found = _all_kinds(account, pay)
    assert _statuses(found) == {
        events.PAYMENT: S.PENDING, events.CREDIT: S.NOT_APPLICABLE, events.VOID: S.NOT_APPLICABLE,
        events.ACH_REJECT: S.NOT_APPLICABLE, events.AUTOPAY_CHANGE: S.PENDING, events.PAPERLESS_CHANGE: S.PENDING,
        events.EMAIL_CHANGE: S.NOT_APPLICABLE, events.PHONE_CHANGE: S.NOT_APPLICABLE,
        events.SCHEDULED_NEW: S.NOT_APPLICABLE, events.SCHEDULED_UPDATE: S.NOT_APPLICABLE,
        events.SCHEDULED_CANCEL: S.NOT_APPLICABLE,
    }
    assert "not supported by Harris Advanced AUS" in found[events.VOID].status_reason
    assert "ACH" in found[events.ACH_REJECT].status_reason
    assert "Phone" in found[events.PHONE_CHANGE].status_reason
    assert {found[events.PAYMENT].endpoint, found[events.AUTOPAY_CHANGE].endpoint,
            found[events.PAPERLESS_CHANGE].endpoint} == {"payments", "autopay", "paperless"}


def test_aus_cloudstore_payments_are_not_pumped(biller_with_account: Callable[..., Any],
                                                pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("aus")
    pay(account, channel="cloudstore")
    assert _last().status == S.NOT_APPLICABLE and "CloudStore" in _last().status_reason


def test_cayenta_decisions(biller_with_account: Callable[..., Any], pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("cayenta", settings={114: "1"}, pump_ach_rejects=True)
    assert _statuses(_all_kinds(account, pay)) == {
        events.PAYMENT: S.PENDING, events.CREDIT: S.PENDING, events.VOID: S.PENDING, events.ACH_REJECT: S.PENDING,
        events.AUTOPAY_CHANGE: S.PENDING, events.PAPERLESS_CHANGE: S.PENDING, events.EMAIL_CHANGE: S.NOT_APPLICABLE,
        events.PHONE_CHANGE: S.NOT_APPLICABLE, events.SCHEDULED_NEW: S.NOT_APPLICABLE,
        events.SCHEDULED_UPDATE: S.NOT_APPLICABLE, events.SCHEDULED_CANCEL: S.NOT_APPLICABLE,
    }
    assert set(OutboxEvent.objects.filter(event_type__in=[events.PAYMENT, events.CREDIT, events.VOID,
                                                          events.ACH_REJECT]).values_list("endpoint", flat=True)) \
        == {"payments"}  # one queue: a void or reject never overtakes its payment


@pytest.mark.parametrize("setting_114", [None, "0"])
def test_cayenta_credits_need_setting_114(biller_with_account: Callable[..., Any], pay: Callable[..., Any],
                                          setting_114: str | None) -> None:
    _, account = biller_with_account("cayenta", settings={114: setting_114} if setting_114 else {})
    pay(account, kind="credit")
    assert _last().status == S.NOT_APPLICABLE and "114" in _last().status_reason


def test_cayenta_posconnect_payments_and_their_voids_are_not_pumped(biller_with_account: Callable[..., Any],
                                                                    pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("cayenta", pump_ach_rejects=True)
    payment = pay(account, channel="posconnect", tender="ach")
    assert _last().status == S.NOT_APPLICABLE and "POSConnect" in _last().status_reason
    services.payment_void(payment=payment, reason="x")
    assert _last().status == S.NOT_APPLICABLE and "payment itself was not pumped" in _last().status_reason


def test_cayenta_ach_rejects_only_where_allowed_and_never_c_codes(biller_with_account: Callable[..., Any],
                                                                  pay: Callable[..., Any]) -> None:
    _, closed = biller_with_account("cayenta")
    services.ach_reject_record(payment=pay(closed, tender="ach"), return_code="R01")
    assert _last().status == S.NOT_APPLICABLE and "pump_ach_rejects" in _last().status_reason
    _, open_ = biller_with_account("cayenta", pump_ach_rejects=True)
    services.ach_reject_record(payment=pay(open_, tender="ach", approval_code="X2"), return_code="R02")
    assert _last().status == S.PENDING
    services.ach_reject_record(payment=pay(open_, tender="ach", approval_code="X3"), return_code="c05")
    assert _last().status == S.NOT_APPLICABLE and "C-code" in _last().status_reason


def test_daffron_decisions(biller_with_account: Callable[..., Any], pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("daffron", post_scheduled_payments=True)
    found = _all_kinds(account, pay)
    assert _statuses(found) == {
        events.PAYMENT: S.PENDING, events.CREDIT: S.NOT_APPLICABLE, events.VOID: S.NOT_APPLICABLE,
        events.ACH_REJECT: S.NOT_APPLICABLE, events.AUTOPAY_CHANGE: S.PENDING, events.PAPERLESS_CHANGE: S.PENDING,
        events.EMAIL_CHANGE: S.NOT_APPLICABLE, events.PHONE_CHANGE: S.NOT_APPLICABLE,
        events.SCHEDULED_NEW: S.PENDING, events.SCHEDULED_UPDATE: S.PENDING, events.SCHEDULED_CANCEL: S.PENDING,
    }
    assert found[events.PAYMENT].auto_resend is True  # transactionId lets Daffron detect duplicates
    assert found[events.AUTOPAY_CHANGE].auto_resend is False and found[events.PAPERLESS_CHANGE].auto_resend is False
    assert found[events.SCHEDULED_NEW].endpoint == "autopay" and found[events.PAPERLESS_CHANGE].endpoint == "paperless"


def test_flexibill_events_are_for_export(make_biller: Callable[..., Any], account_for: Callable[..., Any],
                                         pay: Callable[..., Any]) -> None:
    account = account_for(make_biller("flexibill", 4411), "0000001000MCS")
    found = _all_kinds(account, pay)
    assert _statuses(found) == {
        events.PAYMENT: S.FOR_EXPORT, events.CREDIT: S.NOT_APPLICABLE, events.VOID: S.NOT_APPLICABLE,
        events.ACH_REJECT: S.NOT_APPLICABLE, events.AUTOPAY_CHANGE: S.FOR_EXPORT,
        events.PAPERLESS_CHANGE: S.FOR_EXPORT, events.EMAIL_CHANGE: S.FOR_EXPORT,
        events.PHONE_CHANGE: S.NOT_APPLICABLE, events.SCHEDULED_NEW: S.NOT_APPLICABLE,
        events.SCHEDULED_UPDATE: S.NOT_APPLICABLE, events.SCHEDULED_CANCEL: S.NOT_APPLICABLE,
    }
    assert found[events.PAYMENT].next_attempt_at is None  # never claimed by the pump


def test_inhance_events_are_for_download(make_biller: Callable[..., Any], account_for: Callable[..., Any],
                                         pay: Callable[..., Any]) -> None:
    account = account_for(make_biller("inhance", 1966), "196600001")
    found = _all_kinds(account, pay)
    downloads = {k for k, e in found.items() if e.status == S.FOR_DOWNLOAD}
    assert downloads == {events.PAYMENT, events.CREDIT, events.AUTOPAY_CHANGE, events.PAPERLESS_CHANGE,
                         events.EMAIL_CHANGE, events.PHONE_CHANGE}
    assert {e.status for k, e in found.items() if k not in downloads} == {S.NOT_APPLICABLE}


def test_payload_is_a_snapshot_of_the_change(biller_with_account: Callable[..., Any], pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("daffron", post_scheduled_payments=True)
    payment = pay(account, "50.00", fee="1.50", channel="kiosk", kiosk_id="K9", source_id=2)
    event = OutboxEvent.objects.get(event_type=events.PAYMENT)
    assert event.idempotency_key == str(payment.payment_guid) and event.obj == payment
    assert event.account_number == "1001"
    assert {k: event.payload[k] for k in ("amount", "convenience_fee", "net_amount", "kiosk_id", "source_id")} == \
        {"amount": "51.50", "convenience_fee": "1.50", "net_amount": "50.00", "kiosk_id": "K9", "source_id": 2}
    scheduled = services.scheduled_payment_create(account=account, amount=Decimal(9), scheduled_for=date(2026, 12, 1))
    services.scheduled_payment_update(scheduled=scheduled, amount=Decimal(12))
    amounts = [e.payload["amount"] for e in OutboxEvent.objects.filter(event_type__startswith="scheduled").order_by("id")]
    assert amounts == ["9.00", "12.00"]  # each event says what was true when it was recorded


def test_the_event_is_written_in_the_payments_transaction(biller_with_account: Callable[..., Any],
                                                          pay: Callable[..., Any]) -> None:
    _, account = biller_with_account("daffron")
    with pytest.raises(RuntimeError), transaction.atomic():
        pay(account)
        assert OutboxEvent.objects.count() == 1
        raise RuntimeError("the caller fails after recording the payment")
    assert Payment.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_delivery_is_enqueued_on_commit_once_per_biller(biller_with_account: Callable[..., Any],
                                                        pay: Callable[..., Any],
                                                        django_capture_on_commit_callbacks: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from payments import tasks

    enqueued: list[int] = []
    monkeypatch.setattr(tasks, "enqueue_pump", enqueued.append)
    biller, account = biller_with_account("daffron")
    other, other_account = biller_with_account("aus")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        pay(account)
        pay(account, approval_code="2")
        pay(other_account, approval_code="3")
        pay(account, channel="web", kind="credit")  # not applicable: no delivery needed
        assert enqueued == []  # nothing before the commit
    assert sorted(enqueued) == sorted([biller.pk, other.pk])


def test_a_rolled_back_savepoint_does_not_lose_the_enqueue(biller_with_account: Callable[..., Any],
                                                           pay: Callable[..., Any],
                                                           django_capture_on_commit_callbacks: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from payments import tasks

    enqueued: list[int] = []
    monkeypatch.setattr(tasks, "enqueue_pump", enqueued.append)
    biller, account = biller_with_account("daffron")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            pay(account)
            raise RuntimeError("inner failure")
        pay(account, approval_code="kept")
    assert enqueued == [biller.pk]
    assert OutboxEvent.objects.count() == 1
