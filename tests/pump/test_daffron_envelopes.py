"""Daffron envelopes, element by element against the seed's examples, through real HTTP to the simulator."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from payments import delivery, services
from payments.outbox_models import OutboxEvent, OutboxStatus

from .conftest import MSP, header_of, last_request, shape

GUID = "e4deba7f-86e7-4850-8226-d6a2fbfb0ab6"
APPROVAL = "A01 - Approved (EXACT MATCH)"
COMMIT = "CommitPaymentTransaction/transactions/paymentTransaction"
#: The seed's WriteAccountHistoryComments example: 2020-08-06T00:01:32-05:00.
SEED_MOMENT = datetime(2020, 8, 6, 5, 1, 32, tzinfo=UTC)


@pytest.fixture
def daffron(pump_biller: Callable[..., Any]) -> Any:
    return pump_biller("daffron", 2778, settings={131: "{}"})


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Freeze django.utils.timezone.now at the seed example's moment."""
    monkeypatch.setattr(timezone, "now", lambda: SEED_MOMENT)
    return SEED_MOMENT


def _pump(biller: Any) -> dict[str, int]:
    return delivery.pump_biller_run(biller.pk).as_dict()


def _tender(body: Any) -> dict[str, str]:
    """Return {leaf path under the tender: text} of a one-payment commit request."""
    return {path.split("/tender/", 1)[1]: text for path, text in shape(body) if "/tender/" in path}


def test_commit_payment_matches_the_seed_example(daffron: Any, account_for: Callable[..., Any],
                                                 pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    account = account_for(daffron, "35909-001")
    pay(account, "232.10", fee="2.95", payment_guid=GUID)
    assert _pump(daffron)["delivered"] == 1
    body = last_request(sims["daffron"])
    assert shape(body) == [
        (f"{COMMIT}/accountNumber", "35909001"),
        (f"{COMMIT}/creditCardPayment/tender/extensionsList/extensionsItem/extName", "transactionId"),
        (f"{COMMIT}/creditCardPayment/tender/extensionsList/extensionsItem/extValue", GUID),
        (f"{COMMIT}/creditCardPayment/tender/extensionsList/extensionsItem/extType", "string"),
        (f"{COMMIT}/creditCardPayment/tender/amount", "232.1"),  # without the 2.95 fee, setting 35 absent = 1
        (f"{COMMIT}/creditCardPayment/tender/authorizationCode", APPROVAL),
        (f"{COMMIT}/creditCardPayment/tender/paymentMode", "WEB"),
    ]
    header = header_of(sims["daffron"])[0]
    assert header.get("UserID") == "InvoiceCloud" and header.get("Pwd") == "pay-s3cret"
    assert sims["daffron"].soap_actions[-1] == f"{MSP}/CommitPaymentTransaction"
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.DELIVERED and event.delivered_at and event.attempts == 1
    attempt = event.delivery_attempts.get()
    assert 'Pwd="********"' in attempt.request_xml and "pay-s3cret" not in attempt.request_xml
    assert "<responseCode>Success</responseCode>" in attempt.response_xml
    assert attempt.operation == "CommitPaymentTransaction" and attempt.status_code == 200


@pytest.mark.parametrize(("tender", "array"), [("card", "creditCardPayment"), ("ach", "achPayment"),
                                               ("echeck", "eCheckPayment"), ("cash", "cashPayment")])
def test_each_tender_goes_in_its_payment_array(daffron: Any, account_for: Callable[..., Any],
                                               pay: Callable[..., Any], sims: dict[str, Any],
                                               tender: str, array: str) -> None:
    pay(account_for(daffron, "1001"), "10.00", tender=tender)
    _pump(daffron)
    transaction = last_request(sims["daffron"]).find(f".//{{{MSP}}}paymentTransaction")
    assert [child.tag.split("}")[1] for child in transaction] == ["accountNumber", array]


@pytest.mark.parametrize(("version", "amount", "sent"), [
    (None, "232.10", "232.1"), ("1", "232.10", "232.1"), ("2", "232.10", "232.10"),
    ("1", "230.00", "230"), ("2", "230", "230.00"),
])
def test_setting_35_formats_the_amount(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                       pay: Callable[..., Any], sims: dict[str, Any], version: str | None,
                                       amount: str, sent: str) -> None:
    biller = pump_biller("daffron", 2779, settings={35: version} if version else {})
    pay(account_for(biller, "1001"), amount, fee="3.50")
    _pump(biller)
    assert _tender(last_request(sims["daffron"]))["amount"] == sent


def test_transaction_id_is_the_approval_code_without_setting_131(pump_biller: Callable[..., Any],
                                                                  account_for: Callable[..., Any],
                                                                  pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    biller = pump_biller("daffron", 2780)
    pay(account_for(biller, "1001"), payment_guid=GUID, approval_code="18")
    _pump(biller)
    tender = _tender(last_request(sims["daffron"]))
    assert tender["extensionsList/extensionsItem/extValue"] == "18"
    assert tender["authorizationCode"] == "18"


def test_transaction_id_is_the_payment_guid_with_setting_131(daffron: Any, account_for: Callable[..., Any],
                                                             pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    long_code = "A01 - Approved (EXACT MATCH) - a very long processor message that runs on"
    pay(account_for(daffron, "1001"), payment_guid=GUID, approval_code=long_code)
    _pump(daffron)
    tender = _tender(last_request(sims["daffron"]))
    assert tender["extensionsList/extensionsItem/extValue"] == GUID
    # The full approval code, cut at 50, never with the GUID appended (ITG-3305 undid ITG-3014).
    assert tender["authorizationCode"] == long_code[:50]
    assert GUID[:8] not in tender["authorizationCode"]


@pytest.mark.parametrize(("tender", "channel", "source", "mode"), [
    ("card", "web", 0, "WEB"), ("card", "csr", 2, "CSRWEB"), ("card", "pos", 8, "POS"),
    ("ach", "ivr", 2, "ACHIVR"), ("echeck", "web", 0, "ACHWEB"), ("ach", "web", 5, "WEB"),
    ("card", "web", None, "WEB"), ("ach", "obd", 2, "OBD"), ("echeck", "obd", 0, "OBD"), ("cash", "pos", 8, "WEB"),
])
def test_payment_mode_from_settings_64_65_and_obd(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                                  pay: Callable[..., Any], sims: dict[str, Any], tender: str,
                                                  channel: str, source: int | None, mode: str) -> None:
    biller = pump_biller("daffron", 2781, settings={64: "0(WEB)|2(CSRWEB)|8(POS)", 65: "0(ACHWEB)|2(ACHIVR)"})
    pay(account_for(biller, "1001"), tender=tender, channel=channel, source_id=source)
    _pump(biller)
    assert _tender(last_request(sims["daffron"]))["paymentMode"] == mode


def test_kiosk_payments_carry_the_kiosk_id_as_biller_reference(daffron: Any, account_for: Callable[..., Any],
                                                               pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    pay(account_for(daffron, "1001"), channel="kiosk", kiosk_id="BHappy", payment_guid=GUID)
    _pump(daffron)
    items = last_request(sims["daffron"]).findall(f".//{{{MSP}}}extensionsItem")
    pairs = [(i.findtext(f"{{{MSP}}}extName"), i.findtext(f"{{{MSP}}}extValue")) for i in items]
    assert pairs == [("transactionId", GUID), ("billerReference", "BHappy")]


def test_web_payments_carry_no_biller_reference(daffron: Any, account_for: Callable[..., Any],
                                                pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    pay(account_for(daffron, "1001"), kiosk_id="BHappy")  # a kiosk id on a web payment is not a kiosk payment
    _pump(daffron)
    names = [e.text for e in last_request(sims["daffron"]).iter(f"{{{MSP}}}extName")]
    assert names == ["transactionId"]


SKIP_DONATIONS = '{ "Daffron": { "DataPumpConfigs": { "SkipDonationTypes": true } } }'


@pytest.mark.parametrize(("config", "header", "type_id", "sent"), [
    (SKIP_DONATIONS, {"InvoiceTypeDesc": "Donation - Operation Round Up"}, None, False),
    ('{"Daffron": {"DataPumpConfigs": {"SkipDonationTypes": true, "DonationInvoiceTypeIds": [77]}}}', {}, 77, False),
    (SKIP_DONATIONS, {"InvoiceTypeDesc": "Utility"}, 42, True),
    ('{"Daffron": {"DataPumpConfigs": {"SkipDonationTypes": false}}}', {"InvoiceTypeDesc": "Donation"}, None, True),
    ("{}", {"InvoiceTypeDesc": "Donation"}, None, True),
])
def test_donation_invoice_types_are_skipped_per_setting_131(
    pump_biller: Callable[..., Any], account_for: Callable[..., Any], pay: Callable[..., Any],
    sims: dict[str, Any], config: str, header: dict[str, str], type_id: int | None, sent: bool,
) -> None:
    biller = pump_biller("daffron", 2495, settings={131: config})
    account = account_for(biller, "1001", invoice_number="D1", invoice_header=header, invoice_type_id=type_id)
    pay(account, invoice_number="D1")
    event = OutboxEvent.objects.get()
    _pump(biller)
    event.refresh_from_db()
    if sent:
        assert event.status == OutboxStatus.DELIVERED
        assert sims["daffron"].operations() == ["CommitPaymentTransaction"]
    else:
        assert event.status == OutboxStatus.NOT_APPLICABLE
        assert "SkipDonationTypes" in event.status_reason
        assert sims["daffron"].calls == []


# --- WriteAccountHistoryComments -------------------------------------------------------------------

COMMENT = "WriteAccountHistoryComments/comments/historyComment"


@pytest.mark.parametrize(("active", "comment"), [(True, "AUTOPAY ON"), (False, "AUTOPAY OFF")])
def test_autopay_comment_matches_the_seed_example(daffron: Any, account_for: Callable[..., Any],
                                                  sims: dict[str, Any], frozen: datetime,
                                                  active: bool, comment: str) -> None:
    account = account_for(daffron, "1001", custom4="321045080002")
    if not active:
        services.autopay_set(account=account, active=True, actor="payer")
        OutboxEvent.objects.all().delete()
    services.autopay_set(account=account, active=active, actor="payer")
    assert _pump(daffron)["delivered"] == 1
    assert shape(last_request(sims["daffron"])) == [
        (f"{COMMENT}/customerID", "1001"),
        (f"{COMMENT}/serviceLocationID", "321045080002"),
        (f"{COMMENT}/logTime", "2020-08-06T00:01:32-05:00"),
        (f"{COMMENT}/comment", comment),
    ]
    assert sims["daffron"].soap_actions[-1] == f"{MSP}/WriteAccountHistoryComments"
    header = header_of(sims["daffron"])[0]
    assert (header.get("UserID"), header.get("Pwd")) == ("InvoiceCloud", "autopay-s3cret")  # settings 18/19


def test_customer_id_is_base_and_sub_together(daffron: Any, account_for: Callable[..., Any],
                                              sims: dict[str, Any]) -> None:
    services.autopay_set(account=account_for(daffron, "35909-001"), active=True, actor="payer")
    _pump(daffron)
    assert dict(shape(last_request(sims["daffron"])))[f"{COMMENT}/customerID"] == "35909001"


def test_service_location_falls_back_to_the_account_location(daffron: Any, account_for: Callable[..., Any],
                                                             sims: dict[str, Any]) -> None:
    account = account_for(daffron, "1001", custom4="", location_number="L778")
    services.autopay_set(account=account, active=True, actor="payer")
    _pump(daffron)
    assert dict(shape(last_request(sims["daffron"])))[f"{COMMENT}/serviceLocationID"] == "L778"


def test_history_comment_without_any_location_is_dead_not_sent(daffron: Any, account_for: Callable[..., Any],
                                                               sims: dict[str, Any]) -> None:
    services.autopay_set(account=account_for(daffron, "1001", custom4=""), active=True, actor="payer")
    assert _pump(daffron)["dead"] == 1
    assert "serviceLocationID" in OutboxEvent.objects.get().last_error
    assert sims["daffron"].calls == []


@pytest.mark.parametrize(("change", "comment"), [
    ("new", "SCHED_PAY 08152024 156.25 121940013401"),
    ("cancel", "SCHED_PAY_CNCL 08152024 156.25 121940013401"),
    ("update", "SCHED_PAY_UPDT 08152024 156.25 121940013401"),
])
def test_scheduled_payment_comments(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                    sims: dict[str, Any], frozen: datetime, change: str, comment: str) -> None:
    biller = pump_biller("daffron", 2661, post_scheduled_payments=True)
    account = account_for(biller, "1001", invoice_number="121940013401")
    amount = Decimal("100.00") if change == "update" else Decimal("156.25")
    scheduled = services.scheduled_payment_create(account=account, amount=amount, scheduled_for=date(2024, 8, 15),
                                                  invoice_number="121940013401")
    if change != "new":
        OutboxEvent.objects.all().delete()
        if change == "cancel":
            services.scheduled_payment_cancel(scheduled=scheduled)
        else:
            services.scheduled_payment_update(scheduled=scheduled, amount=Decimal("156.25"))
    assert _pump(biller)["delivered"] == 1
    assert shape(last_request(sims["daffron"])) == [
        (f"{COMMENT}/customerID", "1001"),
        (f"{COMMENT}/serviceLocationID", "321045080002"),
        (f"{COMMENT}/logTime", "2020-08-06T00:01:32-05:00"),
        (f"{COMMENT}/comment", comment),
    ]


def test_scheduled_payments_are_not_posted_without_the_switch(daffron: Any, account_for: Callable[..., Any],
                                                              sims: dict[str, Any]) -> None:
    services.scheduled_payment_create(account=account_for(daffron, "1001"), amount=Decimal(5),
                                      scheduled_for=date(2024, 8, 15))
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.NOT_APPLICABLE and "post_scheduled_payments" in event.status_reason
    _pump(daffron)
    assert sims["daffron"].calls == []


# --- ModifyCBDataForCustomer -------------------------------------------------------------------------


@pytest.mark.parametrize(("active", "flag"), [(True, "Y"), (False, "N")])
def test_paperless_matches_the_seed_example(daffron: Any, account_for: Callable[..., Any], sims: dict[str, Any],
                                            active: bool, flag: str) -> None:
    account = account_for(daffron, "1001")
    if not active:
        services.paperless_set(account=account, active=True, actor="payer")
        OutboxEvent.objects.all().delete()
    services.paperless_set(account=account, active=active, actor="payer")
    assert _pump(daffron)["delivered"] == 1
    body = last_request(sims["daffron"])
    assert body.find(f".//{{{MSP}}}customer").get("objectID") == "1001"
    assert shape(body) == [
        ("ModifyCBDataForCustomer/customerData/customer/extensionsList/extensionsItem/extName", "EBILL"),
        ("ModifyCBDataForCustomer/customerData/customer/extensionsList/extensionsItem/extValue", flag),
        ("ModifyCBDataForCustomer/customerData/customer/extensionsList/extensionsItem/extType", "string"),
    ]
    header = header_of(sims["daffron"])[0]
    assert (header.get("UserID"), header.get("Pwd")) == ("InvoiceCloud", "paperless-s3cret")  # settings 15/16


def test_paperless_is_sent_only_on_a_real_change(daffron: Any, account_for: Callable[..., Any],
                                                 sims: dict[str, Any]) -> None:
    from payments.events import PAPERLESS_CHANGE
    from payments.models import ChangeLog
    from payments.outbox import record_event

    account = account_for(daffron, "1001")
    services.paperless_set(account=account, active=True, actor="payer")
    assert services.paperless_set(account=account, active=True, actor="payer") is None  # no change, no event
    same = ChangeLog.objects.create(biller=daffron, account=account, kind="paperless", old_value="1", new_value="1",
                                    changed_at=timezone.now())
    record_event(event_type=PAPERLESS_CHANGE, biller=daffron, obj=same)
    statuses = list(OutboxEvent.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.NOT_APPLICABLE]
    _pump(daffron)
    assert sims["daffron"].operations() == ["ModifyCBDataForCustomer"]


def test_unknown_customer_in_the_error_array_is_dead(daffron: Any, account_for: Callable[..., Any],
                                                     sims: dict[str, Any]) -> None:
    services.paperless_set(account=account_for(daffron, "4242"), active=True, actor="payer")
    assert _pump(daffron)["dead"] == 1
    event = OutboxEvent.objects.get()
    assert "Unknown customer 4242" in event.last_error
    assert "errorObject" in event.delivery_attempts.get().response_xml
