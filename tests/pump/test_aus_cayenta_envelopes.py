"""AUS and Cayenta pump envelopes, element by element (the WSDL READMEs' tables), through real HTTP."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from payments import delivery, services
from payments.outbox_models import OutboxEvent, OutboxStatus

from .conftest import AUS_NS, CAYENTA_NS, last_request, shape

GUID = "1c24b6e3-32eb-43f3-9d0f-4a8d3c1b2e01"
PAID = datetime(2026, 11, 20, 9, 15, tzinfo=ZoneInfo("America/Chicago"))


def _pump(biller: Any) -> dict[str, int]:
    return delivery.pump_biller_run(biller.pk).as_dict()


def _leaves(sim: Any) -> list[tuple[str, str]]:
    """(element, text) of the last request's operation children, operation name dropped."""
    return [(path.split("/", 1)[1], text) for path, text in shape(last_request(sim))]


def _changed_at(event_type: str) -> str:
    """The change time as the partner gets it: the change log's moment in the biller's zone (Chicago)."""
    moment = datetime.fromisoformat(OutboxEvent.objects.get(event_type=event_type).payload["changed_at"])
    return moment.astimezone(ZoneInfo("America/Chicago")).isoformat()


# --- AUS --------------------------------------------------------------------------------------------


@pytest.fixture
def aus(pump_biller: Callable[..., Any]) -> Any:
    return pump_biller("aus", 123)


def test_aus_add_pending_payment(aus: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                                 sims: dict[str, Any]) -> None:
    pay(account_for(aus, "1001"), "75.00", fee="2.95", payment_guid=GUID, approval_code="A01 - Approved 100",
        invoice_number="INV1001", paid_at=PAID)
    assert _pump(aus)["delivered"] == 1
    assert _leaves(sims["aus"]) == [
        ("UserName", "InvoiceCloud"),
        ("Password", "pay-s3cret"),  # settings 12/13 on the wire; masked in what we keep
        ("AccountNumber", "1001"),
        ("Amount", "75.00"),
        ("ConvenienceFee", "2.95"),
        ("PaymentDate", "2026-11-20T09:15:00-06:00"),
        ("PaymentMethod", "CC"),
        ("ConfirmationNumber", GUID),
        ("AuthorizationCode", "A01 - Approved 100"),
        ("InvoiceNumber", "INV1001"),
    ]
    assert last_request(sims["aus"]).tag == f"{{{AUS_NS}}}AddPendingPayment"
    assert sims["aus"].soap_actions[-1] == f"{AUS_NS}/AddPendingPayment"
    event = OutboxEvent.objects.get()
    assert event.partner_reference == "AUS-1"
    attempt = event.delivery_attempts.get()
    assert "pay-s3cret" not in attempt.request_xml and "********" in attempt.request_xml


@pytest.mark.parametrize(("active", "enrolled"), [(True, "true"), (False, "false")])
def test_aus_update_payment_plan(aus: Any, account_for: Callable[..., Any], sims: dict[str, Any],
                                 active: bool, enrolled: str) -> None:
    account = account_for(aus, "1002")
    if not active:
        services.autopay_set(account=account, active=True, actor="payer")
        OutboxEvent.objects.all().delete()
    services.autopay_set(account=account, active=active, actor="payer")
    assert _pump(aus)["delivered"] == 1
    assert _leaves(sims["aus"]) == [
        ("UserName", "InvoiceCloud"), ("Password", "autopay-s3cret"), ("AccountNumber", "1002"),
        ("AutoPayEnrolled", enrolled), ("ChangeDate", _changed_at("autopay_change")), ("PaymentMethod", "ACH"),
    ]
    assert sims["aus"].soap_actions[-1] == f"{AUS_NS}/UpdatePaymentPlan"


def test_aus_update_cis_link_table_ebill(aus: Any, account_for: Callable[..., Any], sims: dict[str, Any]) -> None:
    services.paperless_set(account=account_for(aus, "1003", email="erin@example.com"), active=True, actor="payer")
    assert _pump(aus)["delivered"] == 1
    assert _leaves(sims["aus"]) == [
        ("UserName", "InvoiceCloud"), ("Password", "paperless-s3cret"), ("AccountNumber", "1003"),
        ("EBillEnrolled", "true"), ("EmailAddress", "erin@example.com"),
        ("ChangeDate", _changed_at("paperless_change")),
    ]
    assert sims["aus"].soap_actions[-1] == f"{AUS_NS}/UpdateCisLinkTableEBillAndLinkRegistration"


# --- Cayenta ----------------------------------------------------------------------------------------


@pytest.fixture
def cayenta(pump_biller: Callable[..., Any]) -> Any:
    return pump_biller("cayenta", 1368, settings={114: "1"}, pump_ach_rejects=True)


@pytest.mark.parametrize(("kind", "tran_type", "tender", "code"), [
    ("payment", "1", "card", "CC"), ("payment", "1", "ach", "ACH"), ("credit", "6", "card", "CC"),
])
def test_cayenta_add_ar_item(cayenta: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                             sims: dict[str, Any], kind: str, tran_type: str, tender: str, code: str) -> None:
    pay(account_for(cayenta, "2001"), "150.00", fee="3.00", tender=tender, kind=kind, payment_guid=GUID,
        approval_code="OK123", invoice_number="B2001", paid_at=PAID)
    assert _pump(cayenta)["delivered"] == 1
    assert _leaves(sims["cayenta"]) == [
        ("USER_ID", "InvoiceCloud"), ("PASSWORD", "pay-s3cret"), ("ACCOUNT_NO", "2001"), ("TRAN_TYPE", tran_type),
        ("AMOUNT", "150.00"), ("TRAN_DATE", "2026-11-20T09:15:00-06:00"), ("TENDER_TYPE", code),
        ("REFERENCE_NO", GUID), ("AUTH_CODE", "OK123"), ("COMMENT", "B2001"),
    ]
    assert sims["cayenta"].soap_actions[-1] == f"{CAYENTA_NS}/AddARItem"
    assert OutboxEvent.objects.get().partner_reference == "CAY-1"


def test_cayenta_add_returned_check(cayenta: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                                   sims: dict[str, Any]) -> None:
    payment = pay(account_for(cayenta, "2002"), "75.40", tender="ach", payment_guid=GUID, paid_at=PAID)
    services.ach_reject_record(payment=payment, return_code="r01", reason="Insufficient funds",
                               rejected_at=datetime(2026, 11, 22, 8, tzinfo=ZoneInfo("America/Chicago")))
    assert _pump(cayenta)["delivered"] == 2
    assert sims["cayenta"].operations() == ["AddARItem", "AddReturnedCheck"]  # in creation order
    assert _leaves(sims["cayenta"]) == [
        ("USER_ID", "InvoiceCloud"), ("PASSWORD", "pay-s3cret"), ("ACCOUNT_NO", "2002"), ("AMOUNT", "75.40"),
        ("RETURN_DATE", "2026-11-22"), ("REFERENCE_NO", GUID), ("RETURN_CODE", "R01"),
        ("COMMENT", "Insufficient funds"),
    ]


def test_cayenta_void_payment(cayenta: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                              sims: dict[str, Any]) -> None:
    payment = pay(account_for(cayenta, "2003"), "99.99", fee="1.00", payment_guid=GUID, paid_at=PAID)
    void = services.payment_void(payment=payment, reason="Payer paid twice")
    assert _pump(cayenta)["delivered"] == 2
    assert sims["cayenta"].operations() == ["AddARItem", "VoidPayment"]
    voided = void.voided_at.astimezone(ZoneInfo("America/Chicago")).isoformat()
    assert _leaves(sims["cayenta"]) == [
        ("USER_ID", "InvoiceCloud"), ("PASSWORD", "pay-s3cret"), ("ACCOUNT_NO", "2003"), ("AMOUNT", "99.99"),
        ("VOID_DATE", voided), ("REFERENCE_NO", GUID), ("COMMENT", "Payer paid twice"),
    ]


@pytest.mark.parametrize(("kind", "operation", "alert", "password"), [
    ("autopay", "_PostAutopayChangeXML", "AUTOP", "autopay-s3cret"),
    ("paperless", "_PostPaperLessChangeXML", "EBILL", "paperless-s3cret"),
])
def test_cayenta_change_logs(cayenta: Any, account_for: Callable[..., Any], sims: dict[str, Any], kind: str,
                             operation: str, alert: str, password: str) -> None:
    setter = services.autopay_set if kind == "autopay" else services.paperless_set
    setter(account=account_for(cayenta, "2004", email="dev@example.com"), active=True, actor="payer")
    assert _pump(cayenta)["delivered"] == 1
    assert _leaves(sims["cayenta"]) == [
        ("USER_ID", "InvoiceCloud"), ("PASSWORD", password), ("ACCOUNT_NO", "2004"), ("ALERT_CODE", alert),
        ("ENROLLED", "Y"), ("CHANGE_DATE", _changed_at(f"{kind}_change")), ("EMAIL", "dev@example.com"),
    ]
    assert sims["cayenta"].soap_actions[-1] == f"{CAYENTA_NS}/{operation}"


def test_unknown_account_fault_is_dead_at_once(cayenta: Any, account_for: Callable[..., Any],
                                               pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    pay(account_for(cayenta, "9999"), "10.00")
    assert _pump(cayenta) == {"delivered": 0, "retrying": 0, "dead": 1, "unknown": 0, "skipped": 0}
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.DEAD and event.attempts == 1
    assert "Unknown account 9999" in event.last_error
    attempt = event.delivery_attempts.get()
    assert attempt.status_code == 500 and "faultstring" in attempt.response_xml and "********" in attempt.request_xml


def test_missing_endpoint_setting_is_dead_with_a_clear_reason(pump_biller: Callable[..., Any],
                                                              account_for: Callable[..., Any],
                                                              pay: Callable[..., Any]) -> None:
    from billers.services import biller_setting_delete

    biller = pump_biller("aus", 124)
    biller_setting_delete(biller=biller, number=11)
    pay(account_for(biller, "1001"), "10.00")
    assert _pump(biller)["dead"] == 1
    assert OutboxEvent.objects.get().last_error == \
        "advanced setting 11 (payments endpoint URL) is not set for biller 124"


def test_amounts_exclude_the_convenience_fee_for_every_partner(aus: Any, account_for: Callable[..., Any],
                                                               pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    pay(account_for(aus, "1001"), "100.00", fee="4.25")
    _pump(aus)
    assert dict(_leaves(sims["aus"]))["Amount"] == "100.00"
    assert OutboxEvent.objects.get().payload["amount"] == str(Decimal("104.25"))
