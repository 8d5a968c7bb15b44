"""Fixtures for the data pump tests: partner simulators, billers wired to them, accounts and payments."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from partners.simulators import SimulatorHandle
from tests.simulators import running_simulators, simulators_reset

PROJECT = Path(__file__).resolve().parents[2]
CB_SERVER_WSDL = PROJECT.parent / "shared" / "multispeak" / "CB_Server_v3.0ac.wsdl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MSP = "http://www.multispeak.org/Version_3.0"
AUS_NS = "urn:billbridge:aus:1"
CAYENTA_NS = "urn:billbridge:cayenta:1"
PASSWORDS = {13: "pay-s3cret", 16: "paperless-s3cret", 19: "autopay-s3cret"}
#: Accounts the simulators know besides their defaults (the seed's examples).
DAFFRON_ACCOUNTS = {"1001": {"items": []}, "35909001": {"items": []}}
SEED_LOG_TIME = datetime(2020, 8, 6, 0, 1, 32, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture(scope="session")
def _simulators() -> Iterator[dict[str, SimulatorHandle]]:
    with running_simulators({"daffron": DAFFRON_ACCOUNTS}) as handles:
        yield handles


@pytest.fixture
def sims(_simulators: dict[str, SimulatorHandle]) -> dict[str, SimulatorHandle]:
    return simulators_reset(_simulators, slow_seconds=1.0)


@pytest.fixture(autouse=True)
def _fast_pump(settings: Any) -> None:
    """Short timeouts, no real waiting through a backoff, fast password hashing for admin users."""
    settings.PUMP_CONNECT_TIMEOUT = 0.5
    settings.PUMP_READ_TIMEOUT = 0.4
    settings.PUMP_MAX_ATTEMPTS = 3
    settings.PUMP_BACKOFF_SECONDS = 30.0
    settings.PUMP_LEASE_SECONDS = 60.0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # admin users, fast


@pytest.fixture
def pump_biller(make_biller: Callable[..., Any], sims: dict[str, SimulatorHandle]) -> Callable[..., Any]:
    """Return ``make(partner, bid, settings={...}, **fields)``: a live biller whose endpoints 11-19 are the simulator."""
    from billers.services import biller_setting_set

    def make(partner: str, bid: int = 9100, settings: dict[int, str] | None = None, **fields: Any) -> Any:
        fields.setdefault("time_zone", "America/Chicago")
        biller = make_biller(partner, bid, **fields)
        values: dict[int, str] = {}
        for url, user, password in ((11, 12, 13), (14, 15, 16), (17, 18, 19)):
            values.update({url: sims[partner].url, user: "InvoiceCloud", password: PASSWORDS[password]})
        values.update(settings or {})
        for number, value in values.items():
            if value is not None:
                biller_setting_set(biller=biller, number=number, value=value)
        return biller

    return make


@pytest.fixture
def account_for() -> Callable[..., Any]:
    """Return ``make(biller, number, custom4=..., **fields)``: an account with one invoice (Custom4 set)."""
    from billers.models import Account, Invoice

    def make(biller: Any, number: str, *, custom4: str = "321045080002", invoice_number: str = "",
             invoice_header: dict[str, str] | None = None, invoice_type_id: int | None = None, **fields: Any) -> Any:
        fields.setdefault("email", "payer@example.com")
        account = Account.objects.create(biller=biller, account_number=number, name="Payer", **fields)
        Invoice.objects.create(
            biller=biller, account=account, invoice_number=invoice_number or f"INV{number.replace('-', '')}",
            invoice_date=date(2024, 8, 1), due_date=date(2024, 8, 25), total_amount_due=Decimal("156.25"),
            invoice_type_id=invoice_type_id, header={"Custom4": custom4, **(invoice_header or {})},
        )
        return account

    return make


@pytest.fixture
def pay() -> Callable[..., Any]:
    """Return ``pay(account, amount="232.10", tender="card", **fields)`` through ``payment_record``."""
    from payments.services import payment_record

    def make(account: Any, amount: str = "232.10", tender: str = "card", **fields: Any) -> Any:
        fields.setdefault("channel", "web")
        fields.setdefault("approval_code", "A01 - Approved (EXACT MATCH)")
        fields.setdefault("source_id", 0)
        fee = Decimal(fields.pop("fee", "0"))
        return payment_record(account=account, amount=Decimal(amount) + fee, convenience_fee=fee, tender=tender,
                              **fields)

    return make


def last_request(handle: SimulatorHandle) -> etree._Element:
    """Return the body element of the last request the simulator received."""
    root = etree.fromstring(handle.calls[-1][1].encode())
    return next(c for c in root.find(f"{{{SOAP_ENV}}}Body") if isinstance(c.tag, str))


def header_of(handle: SimulatorHandle) -> etree._Element | None:
    root = etree.fromstring(handle.calls[-1][1].encode())
    return root.find(f"{{{SOAP_ENV}}}Header")


def shape(element: etree._Element) -> list[tuple[str, str]]:
    """Return (path, text) for every leaf element under ``element``, in document order, namespaces dropped."""
    out: list[tuple[str, str]] = []

    def walk(node: etree._Element, prefix: str) -> None:
        kids = [c for c in node if isinstance(c.tag, str)]
        path = f"{prefix}/{etree.QName(node).localname}" if prefix else etree.QName(node).localname
        if not kids:
            out.append((path, (node.text or "").strip()))
        for kid in kids:
            walk(kid, path)

    walk(element, "")
    return out
