"""Harris inHance web services: invoice file upload, balances, downloads and acknowledgements."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billers.api_models import DownloadAck
from billers.models import Account
from payments.models import ChangeLog, Payment
from payments.outbox_models import OutboxEvent
from payments.services import contact_change, payment_record
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def inhance(api, biller):
    return api(biller, scopes="inhance", vendor="Harris inHance")


@dataclass
class FakeExchange:
    pk: int
    status: str
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


@pytest.fixture
def intake(monkeypatch):
    """A stand-in for ``exchanges.intake`` recording its calls (the real one is another area's)."""
    calls = []
    module = types.ModuleType("exchanges.intake")

    def import_file(*, biller, stream_or_path, file_name, kind, source, actor):
        content = (
            stream_or_path.read() if hasattr(stream_or_path, "read") else Path(stream_or_path).read_bytes()
        )
        calls.append(
            {
                "biller": biller,
                "file_name": file_name,
                "kind": kind,
                "source": source,
                "actor": actor,
                "content": content,
            }
        )
        return module.answer

    module.import_file = import_file
    module.answer = FakeExchange(41, "succeeded", {"invoices": 2}, [])
    monkeypatch.setitem(sys.modules, "exchanges.intake", module)
    return module, calls


def upload(client, bid, content=b"FH|1|2\n", **data):
    return client.post(
        url(bid, "invoice-files"),
        {"file": SimpleUploadedFile("7001_20261120.BIF", content), **data},
        format="multipart",
    )


def test_invoice_file_is_handed_to_the_intake(inhance, biller, intake):
    _, calls = intake
    response = upload(inhance, biller.bid)
    assert response.status_code == 201
    assert response.json() == {"exchange": 41, "status": "succeeded", "counts": {"invoices": 2}, "errors": []}
    assert calls[0]["biller"] == biller and calls[0]["source"] == "api" and calls[0]["kind"] == "invoices"
    assert calls[0]["file_name"] == "7001_20261120.BIF" and calls[0]["content"] == b"FH|1|2\n"
    assert calls[0]["actor"].startswith("API Harris inHance")


def test_rejected_and_duplicate_files_answer_422_and_200(inhance, biller, intake):
    module, _ = intake
    module.answer = FakeExchange(
        42, "failed", {}, [{"line": 1, "field": "InvoiceCount", "message": "mismatch"}]
    )
    rejected = upload(inhance, biller.bid)
    assert rejected.status_code == 422 and rejected.json()["errors"][0]["field"] == "InvoiceCount"
    module.answer = FakeExchange(41, "duplicate")
    assert upload(inhance, biller.bid, kind="replacements").status_code == 200


def test_invoice_file_needs_a_file(inhance, biller, intake):
    response = inhance.post(url(biller.bid, "invoice-files"), {"kind": "invoices"}, format="multipart")
    assert response.status_code == 400 and list(response.json()) == ["file"]


def test_invoice_file_is_503_while_the_intake_is_missing(inhance, biller, monkeypatch):
    monkeypatch.setitem(sys.modules, "exchanges.intake", None)  # import raises ImportError
    response = upload(inhance, biller.bid)
    assert response.status_code == 503 and "not available" in response.json()["detail"]


def test_balance_updates_are_stored_with_their_source(inhance, biller):
    body = {
        "balances": [
            {"account_number": "70010001", "balance_due": "10.00", "past_due": "0", "block_ach": True},
            {"account_number": "nope", "balance_due": "1.00"},
        ]
    }
    response = inhance.post(url(biller.bid, "balances"), body, format="json")
    assert response.status_code == 200 and response.json() == {"updated": 1, "not_found": ["nope"]}
    account = Account.objects.get(account_number="70010001")
    assert (account.balance_due, account.past_due, account.block_ach, account.block_cc) == (
        Decimal("10.00"),
        Decimal(0),
        True,
        False,
    )
    assert account.balance_source == "inhance web service" and account.balance_updated_at is not None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"balances": ["This field is required."]}),
        ({"balances": []}, {"balances": {"non_field_errors": ["This list may not be empty."]}}),
        (
            {"balances": [{"account_number": "1"}]},
            {"balances": {"0": {"balance_due": ["This field is required."]}}},
        ),
    ],
)
def test_balance_errors_name_the_field(inhance, biller, body, errors):
    response = inhance.post(url(biller.bid, "balances"), body, format="json")
    assert response.status_code == 400 and response.json() == errors


@pytest.fixture
def recorded(biller, other_biller):
    """Three payments and two changes for the biller, one payment for another biller."""
    account = Account.objects.get(account_number="70010001")
    payments = [
        payment_record(
            account=account,
            amount=Decimal(f"{10 + i}.00"),
            tender="card",
            card_brand="visa",
            channel="web",
            approval_code=f"A{i}",
        )
        for i in range(3)
    ]
    contact_change(account=account, kind="email", new_value="new@example.com", actor="payer")
    contact_change(account=account, kind="phone", new_value="5550000", actor="payer")
    foreign = payment_record(
        account=other_biller.accounts.get(),
        amount=Decimal("5.00"),
        tender="ach",
        channel="web",
        approval_code="X",
    )
    return payments, list(ChangeLog.objects.filter(biller=biller).order_by("pk")), foreign


def test_payment_download_pages_oldest_first_until_acknowledged(inhance, biller, recorded):
    payments, _, foreign = recorded
    first = inhance.get(url(biller.bid, "downloads/payments"), {"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [p["payment_guid"] for p in page["results"]] == [str(p.payment_guid) for p in payments[:2]]
    assert page["results"][0]["net_amount"] == "10.00" and page["results"][0]["tender"] == "visa"
    second = inhance.get(page["next"]).json()
    assert [p["id"] for p in second["results"]] == [payments[2].pk] and second["next"] is None
    # nothing acknowledged yet: the next download hands out the same payments again (never lost)
    assert len(inhance.get(url(biller.bid, "downloads/payments")).json()["results"]) == 3
    ack = inhance.post(
        url(biller.bid, "downloads/acknowledgements"),
        {"payments": [payments[0].pk, payments[1].pk, foreign.pk]},
        format="json",
    )
    assert ack.status_code == 200
    assert ack.json() == {
        "acknowledged": {"payments": 2, "changes": 0},
        "already_acknowledged": {"payments": 0, "changes": 0},
        "unknown": {"payments": [foreign.pk], "changes": []},
    }
    left = inhance.get(url(biller.bid, "downloads/payments")).json()["results"]
    assert [p["id"] for p in left] == [payments[2].pk]
    events = {e.object_id: e.status for e in OutboxEvent.objects.filter(biller=biller, event_type="payment")}
    assert events == {payments[0].pk: "delivered", payments[1].pk: "delivered", payments[2].pk: "for_download"}
    assert OutboxEvent.objects.get(object_id=foreign.pk, event_type="payment").status != "delivered"
    again = inhance.post(
        url(biller.bid, "downloads/acknowledgements"), {"payments": [payments[0].pk]}, format="json"
    )
    assert again.json()["already_acknowledged"] == {"payments": 1, "changes": 0}
    assert DownloadAck.objects.filter(biller=biller).count() == 2


def test_change_download_hands_out_changes_until_acknowledged(inhance, biller, recorded):
    _, changes, _ = recorded
    body = inhance.get(url(biller.bid, "downloads/changes")).json()
    assert [(c["kind"], c["new_value"]) for c in body["results"]] == [
        ("email", "new@example.com"),
        ("phone", "5550000"),
    ]
    inhance.post(url(biller.bid, "downloads/acknowledgements"), {"changes": [changes[0].pk]}, format="json")
    settled = OutboxEvent.objects.filter(biller=biller, object_id__in=[c.pk for c in changes]).exclude(
        event_type="payment").values_list("object_id", "status")
    assert dict(settled) == {changes[0].pk: "delivered", changes[1].pk: "for_download"}
    assert [c["kind"] for c in inhance.get(url(biller.bid, "downloads/changes")).json()["results"]] == [
        "phone"
    ]
    contact_change(
        account=Account.objects.get(account_number="70010001"),
        kind="email",
        new_value="z@example.com",
        actor="payer",
    )
    assert [c["kind"] for c in inhance.get(url(biller.bid, "downloads/changes")).json()["results"]] == [
        "phone",
        "email",
    ]


def test_acknowledgement_needs_ids(inhance, biller):
    response = inhance.post(url(biller.bid, "downloads/acknowledgements"), {"payments": ["x"]}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["payments"]
    empty = inhance.post(url(biller.bid, "downloads/acknowledgements"), {}, format="json")
    assert empty.status_code == 400 and list(empty.json()) == ["non_field_errors"]


def test_download_paging_parameters_are_validated(inhance, biller):
    response = inhance.get(url(biller.bid, "downloads/payments"), {"limit": 0})
    assert response.status_code == 400 and list(response.json()) == ["limit"]


def test_payment_download_is_per_biller(api, other_biller, recorded):
    body = api(other_biller, scopes="inhance").get(url(other_biller.bid, "downloads/payments")).json()
    assert [p["id"] for p in body["results"]] == [recorded[2].pk]
    assert Payment.objects.count() == 4
