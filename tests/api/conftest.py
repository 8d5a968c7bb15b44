"""Fixtures of the API tests: demo billers, keys and clients that send them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from billers.api.call_log import call_log_writer
from billers.api.key_cache import api_key_cache_clear
from billers.api.keys import NewKey, api_key_create
from billers.models import Account, Biller, Invoice


@pytest.fixture(autouse=True)
def _fast_hashes_and_fresh_throttle(settings):
    """Fast password hashes; no throttle counts and no remembered keys from an earlier test (ids are
    reused); call log rows handed to the writer (calls made outside the test's transaction, from
    threads) written and its connection closed, so the test database can be flushed or dropped."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    api_key_cache_clear()
    yield
    call_log_writer.stop()
    cache.clear()
    api_key_cache_clear()


@pytest.fixture
def demo(catalogue) -> dict[int, Biller]:
    from billers.demo import seed_demo

    return {b.bid: b for b in seed_demo()}


@pytest.fixture
def make_key(db) -> Callable[..., NewKey]:
    def make(*billers: Biller, scopes: str = "ivr", **kwargs) -> NewKey:
        return api_key_create(
            vendor=kwargs.pop("vendor", "IVR Tech"), billers=list(billers), scopes=scopes.split(","), **kwargs
        )

    return make


def client_for(raw: str | None) -> APIClient:
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def api(make_key) -> Callable[..., APIClient]:
    """``api(biller, scopes="ivr")`` -> a client sending a new key for ``biller``."""

    def make(*billers: Biller, scopes: str = "ivr", **kwargs) -> APIClient:
        client = client_for(make_key(*billers, scopes=scopes, **kwargs).raw)
        return client

    return make


@pytest.fixture
def biller(make_biller) -> Biller:
    """A bare inHance biller (no RTDR) with one account and two invoices."""
    b = make_biller("inhance", 7001)
    account = Account.objects.create(
        biller=b,
        account_number="70010001",
        name="Pat Doe",
        customer_number="C1",
        location_number="L1",
        email="pat@example.com",
        phone="5550199",
        balance_due=Decimal("120.50"),
        past_due=Decimal("20.00"),
        balance_source="invoice file",
    )
    for number, month, amount, minimum in (("INV-10", 10, "20.00", None), ("INV-11", 11, "100.50", "25.00")):
        Invoice.objects.create(
            biller=b,
            account=account,
            invoice_number=number,
            invoice_date=date(2026, month, 1),
            due_date=date(2026, month, 25),
            total_amount_due=Decimal(amount),
            balance_due=Decimal(amount),
            minimum_amount_due=minimum and Decimal(minimum),
        )
    Invoice.objects.create(
        biller=b,
        account=account,
        invoice_number="INV-09",
        invoice_date=date(2026, 9, 1),
        due_date=date(2026, 9, 25),
        total_amount_due=Decimal("50.00"),
        balance_due=Decimal(0),
    )
    return b


@pytest.fixture
def other_biller(make_biller) -> Biller:
    b = make_biller("daffron", 7002)
    Account.objects.create(biller=b, account_number="70020001", name="Other Person")
    return b


def url(bid: int, tail: str) -> str:
    return f"/api/v1/billers/{bid}/{tail}"
