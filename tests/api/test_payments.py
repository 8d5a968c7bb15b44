"""Payment posts: tender and channel mapping, validation naming fields, idempotency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billers.models import Account
from payments.models import Payment
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db

CARD = {
    "account_number": "70010001",
    "amount": "102.95",
    "convenience_fee": "2.95",
    "tender": "visa",
    "approval_code": "A01 - Approved 123456",
    "invoice_number": "INV-11",
}


@pytest.fixture
def emitted(monkeypatch):
    """Outbox events emitted by the services (the outbox itself belongs to another area)."""
    from payments import events

    seen = []
    real = events.emit

    def spy(*, event_type, biller, obj):
        seen.append((event_type, obj))
        real(event_type=event_type, biller=biller, obj=obj)

    monkeypatch.setattr(events, "emit", spy)
    return seen


def test_ivr_card_payment_is_recorded_with_its_outbox_event(api, biller, emitted):
    response = api(biller, scopes="ivr").post(url(biller.bid, "payments"), CARD, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get(payment_guid=body["payment_guid"])
    assert (payment.tender, payment.card_brand, payment.channel) == ("card", "visa", "ivr")
    assert payment.amount == Decimal("102.95") and payment.convenience_fee == Decimal("2.95")
    assert payment.invoice.invoice_number == "INV-11" and payment.approval_code == "A01 - Approved 123456"
    assert body["tender"] == "visa" and body["channel"] == "ivr" and body["amount"] == "102.95"
    assert emitted == [("payment", payment)]


@pytest.mark.parametrize(
    ("tender", "stored"),
    [
        ("mastercard", ("card", "mastercard")),
        ("amex", ("card", "amex")),
        ("discover", ("card", "discover")),
        ("ach", ("ach", "")),
        ("echeck", ("echeck", "")),
        ("cash", ("cash", "")),
    ],
)
def test_tenders_map_to_payment_tender_and_brand(api, biller, tender, stored):
    body = {**CARD, "tender": tender}
    response = api(biller).post(url(biller.bid, "payments"), body, format="json")
    assert response.status_code == 201
    payment = Payment.objects.get()
    assert (payment.tender, payment.card_brand) == stored


def test_kiosk_payment_needs_and_keeps_the_kiosk_id(api, biller):
    client = api(biller, scopes="kiosk")
    missing = client.post(url(biller.bid, "payments"), CARD, format="json")
    assert missing.status_code == 400 and missing.json() == {"kiosk_id": ["Required for kiosk payments."]}
    response = client.post(url(biller.bid, "payments"), {**CARD, "kiosk_id": "BHappy-07"}, format="json")
    assert response.status_code == 201
    payment = Payment.objects.get()
    assert (payment.channel, payment.kiosk_id) == ("kiosk", "BHappy-07")


def test_channel_comes_from_the_body_when_the_key_has_both_scopes(api, biller):
    client = api(biller, scopes="ivr,kiosk")
    ambiguous = client.post(url(biller.bid, "payments"), CARD, format="json")
    assert ambiguous.status_code == 400 and list(ambiguous.json()) == ["channel"]
    assert (
        client.post(url(biller.bid, "payments"), {**CARD, "channel": "ivr"}, format="json").status_code == 201
    )
    assert (
        client.post(url(biller.bid, "payments"), {**CARD, "channel": "csr"}, format="json").status_code == 201
    )
    assert sorted(Payment.objects.values_list("channel", flat=True)) == ["csr", "ivr"]


def test_an_ivr_key_cannot_post_kiosk_payments(api, biller):
    response = api(biller, scopes="ivr").post(
        url(biller.bid, "payments"), {**CARD, "channel": "kiosk", "kiosk_id": "K1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"channel": ["This API key has no kiosk scope."]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"tender": "bitcoin"}, "tender"),
        ({"channel": "fax"}, "channel"),
        ({"convenience_fee": "200.00"}, "convenience_fee"),
        ({"approval_code": ""}, "approval_code"),
        ({"account_number": "nope"}, "account_number"),
        ({"account_number": "x" * 61}, "account_number"),
    ],
)
def test_invalid_payments_get_400_naming_the_field(api, biller, change, field):
    body = {k: v for k, v in {**CARD, **change}.items() if v is not None}
    response = api(biller).post(url(biller.bid, "payments"), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Payment.objects.exists()


def test_malformed_json_is_a_400(api, biller):
    response = api(biller).post(url(biller.bid, "payments"), "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]


def test_blocked_tender_is_refused(api, biller):
    Account.objects.filter(account_number="70010001").update(block_ach=True)
    client = api(biller)
    response = client.post(url(biller.bid, "payments"), {**CARD, "tender": "echeck"}, format="json")
    assert response.status_code == 400 and response.json() == {
        "tender": ["echeck is blocked for this account."]
    }
    assert client.post(url(biller.bid, "payments"), CARD, format="json").status_code == 201


def test_same_idempotency_key_and_body_returns_the_first_result(api, biller):
    client = api(biller)
    first = client.post(url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="ivr-call-1")
    reordered = dict(reversed(list(CARD.items())))  # same body, other key order
    again = client.post(
        url(biller.bid, "payments"), reordered, format="json", HTTP_IDEMPOTENCY_KEY="ivr-call-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_refused(api, biller):
    client = api(biller)
    client.post(url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="ivr-call-2")
    response = client.post(
        url(biller.bid, "payments"),
        {**CARD, "amount": "50.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="ivr-call-2",
    )
    assert response.status_code == 422
    assert "already used for a different request" in response.json()["detail"]
    assert Payment.objects.count() == 1


def test_a_failed_request_keeps_its_idempotency_key_free(api, biller):
    client = api(biller)
    bad = client.post(
        url(biller.bid, "payments"), {**CARD, "tender": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="ivr-call-3"
    )
    assert bad.status_code == 400
    good = client.post(url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="ivr-call-3")
    assert good.status_code == 201 and Payment.objects.count() == 1


def test_idempotency_keys_are_per_api_key(make_key, biller):
    first, second = client_for(make_key(biller).raw), client_for(make_key(biller).raw)
    for client in (first, second):
        assert (
            client.post(
                url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="same"
            ).status_code
            == 201
        )
    assert Payment.objects.count() == 2


def test_without_idempotency_key_each_post_is_a_payment(api, biller):
    client = api(biller)
    for _ in range(2):
        assert client.post(url(biller.bid, "payments"), CARD, format="json").status_code == 201
    assert Payment.objects.count() == 2


def test_malformed_idempotency_key_is_a_400_naming_the_header(api, biller):
    response = api(biller).post(
        url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="has space"
    )
    assert response.status_code == 400 and list(response.json()) == ["Idempotency-Key"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_with_one_idempotency_key_make_one_payment(make_key, biller):
    """Six simultaneous identical posts: one payment, six identical 201 answers (PostgreSQL only)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    raw = make_key(biller).raw
    barrier, answers = threading.Barrier(6), []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            response = client_for(raw).post(
                url(biller.bid, "payments"), CARD, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(answers) == 6 and {status for status, _ in answers} == {201}
    assert len({body["payment_guid"] for _, body in answers}) == 1
    assert Payment.objects.count() == 1
