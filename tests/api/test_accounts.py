"""IVR and kiosk lookups: by account number, and the AUS search by customer + location number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billers.balances import stored_balance
from billers.models import Account, Invoice
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


def test_lookup_returns_balance_due_date_minimum_and_open_invoices(api, biller):
    response = api(biller, scopes="ivr").get(url(biller.bid, "accounts/70010001"))
    assert response.status_code == 200
    body = response.json()
    assert body["balance_due"] == "120.50" and body["past_due"] == "20.00"
    assert body["due_date"] == "2026-11-25"  # the latest open invoice's
    assert body["minimum_payment"] == "25.00"
    assert body["stale"] is False and body["stale_reason"] == "" and body["balance_source"] == "invoice file"
    assert body["blocked_tenders"] == []
    assert [i["invoice_number"] for i in body["open_invoices"]] == ["INV-10", "INV-11"]  # INV-09 is paid
    assert body["open_invoices"][1] == {
        "invoice_number": "INV-11",
        "invoice_date": "2026-11-01",
        "due_date": "2026-11-25",
        "total_amount_due": "100.50",
        "balance_due": "100.50",
        "past_due": None,
        "minimum_amount_due": "25.00",
    }


def test_blocked_tenders_follow_the_account_flags(api, biller):
    client = api(biller, scopes="kiosk")
    Account.objects.filter(account_number="70010001").update(block_cc=True)
    body = client.get(url(biller.bid, "accounts/70010001")).json()
    assert body["blocked_tenders"] == ["visa", "mastercard", "discover", "amex"]
    Account.objects.filter(account_number="70010001").update(block_cc=False, block_ach=True)
    assert client.get(url(biller.bid, "accounts/70010001")).json()["blocked_tenders"] == ["ach", "echeck"]


def test_lookup_passes_on_a_stale_balance(api, biller, monkeypatch):
    calls = []

    def fake_balance(account, *, refresh=True):
        calls.append(refresh)
        return stored_balance(account, stale=True, reason="RTDR timed out after 5 s")

    monkeypatch.setattr("billers.api.accounts.account_balance", fake_balance)
    body = api(biller).get(url(biller.bid, "accounts/70010001")).json()
    assert calls == [True]
    assert body["stale"] is True and body["stale_reason"] == "RTDR timed out after 5 s"


def test_unknown_account_is_404(api, biller):
    response = api(biller).get(url(biller.bid, "accounts/99999999"))
    assert response.status_code == 404
    assert response.json() == {"detail": f"Account 99999999 not found for biller {biller.bid}."}


def test_minimum_payment_is_null_without_an_open_invoice(api, biller):
    Account.objects.filter(account_number="70010001").update(balance_due=Decimal(0))
    biller.invoices.update(balance_due=Decimal(0))
    body = api(biller).get(url(biller.bid, "accounts/70010001")).json()
    assert body["open_invoices"] == [] and body["due_date"] is None and body["minimum_payment"] is None


@pytest.fixture
def aus(make_biller):
    """A Harris Advanced AUS biller (no RTDR endpoint configured): one customer at two locations."""
    biller = make_biller("aus", 123)
    for number, location, balance in (("12300002", "L0002", "94.12"), ("12300003", "L0003", "10.00")):
        account = Account.objects.create(
            biller=biller,
            account_number=number,
            customer_number="C0002",
            location_number=location,
            balance_due=Decimal(balance),
        )
        Invoice.objects.create(
            biller=biller,
            account=account,
            invoice_number=f"I{number}",
            invoice_date=date(2026, 11, 1),
            due_date=date(2026, 11, 25),
            total_amount_due=Decimal(balance),
            balance_due=Decimal(balance),
        )
    return biller


def test_aus_search_by_customer_and_location_number(api, aus):
    client = api(aus, scopes="ivr")
    response = client.get(url(123, "accounts"), {"customer_number": "C0002", "location_number": "L0002"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["account_number"] for r in results] == ["12300002"]
    assert results[0]["balance_due"] == "94.12" and len(results[0]["open_invoices"]) == 1
    assert results[0]["stale"] is False
    empty = client.get(url(123, "accounts"), {"customer_number": "C0002", "location_number": "L0009"})
    assert empty.json() == {"results": []}


def test_aus_search_names_the_missing_parameter(api, aus):
    response = api(aus).get(url(123, "accounts"), {"customer_number": "C0002"})
    assert response.status_code == 400
    assert response.json() == {"location_number": ["This field is required."]}


def test_search_is_only_for_aus_billers(api, biller):
    response = api(biller).get(
        url(biller.bid, "accounts"), {"customer_number": "C1", "location_number": "L1"}
    )
    assert response.status_code == 404
    assert "Harris Advanced AUS" in response.json()["detail"]
