"""Fixtures for the RTDR tests: loopback partner simulators over real HTTP and billers pointing at them."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from billers.models import Account, Biller
from billers.rtdr_health import breaker_forget
from billers.services import biller_setting_set
from partners.simulators import SimulatorHandle
from partners.simulators.demo import FIXTURES as DEMO_FIXTURES
from tests.simulators import running_simulators, simulators_reset

PASSWORD = "s3cret-rtdr-pw"
CAYENTA_BLOCKS = '{"block_ach": ["A", "NOACH"], "block_cc": ["C", "NOCC"], "cash_only": ["X", "CASH"]}'
BIDS = {"aus": 7123, "cayenta": 7368, "daffron": 7778}


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[str, SimulatorHandle]]:
    with running_simulators(DEMO_FIXTURES) as handles:
        yield handles


@pytest.fixture
def sims(_servers: dict[str, SimulatorHandle]) -> dict[str, SimulatorHandle]:
    """The three simulators, back in mode "ok" with no recorded calls."""
    return simulators_reset(_servers, slow_seconds=2.0)


@pytest.fixture(autouse=True)
def rtdr_settings(settings, tmp_path):
    """Fast timeouts, a small breaker, and a DATA_DIR of the test's own."""
    settings.RTDR_CONNECT_TIMEOUT = 0.5
    settings.RTDR_READ_TIMEOUT = 0.3
    settings.RTDR_BREAKER_FAILURES = 3
    settings.RTDR_BREAKER_WINDOW = 60
    settings.RTDR_BREAKER_COOLDOWN = 60
    settings.RTDR_BREAKER_RECHECK = 0  # every lookup reads the breaker from the database
    breaker_forget()  # billers' ids are reused between tests
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins
    return settings


@pytest.fixture
def rtdr_biller(make_biller, sims) -> Callable[..., Biller]:
    """Make a live biller of ``partner`` whose RTDR settings (8, 9, 10, and 28 for Cayenta) hit its simulator."""

    def make(partner: str, extra: dict[int, str] | None = None, bid: int | None = None) -> Biller:
        biller = make_biller(partner, bid or BIDS[partner])
        values = {8: sims[partner].url, 9: "InvoiceCloud", 10: PASSWORD}
        if partner == "cayenta":
            values[28] = CAYENTA_BLOCKS
        for number, value in {**values, **(extra or {})}.items():
            biller_setting_set(biller=biller, number=number, value=value)
        return biller

    return make


@pytest.fixture
def account_of() -> Callable[..., Account]:
    def make(biller: Biller, number: str, **fields) -> Account:
        defaults = {"balance_due": "11.11", "past_due": "0", "balance_source": "invoice file"}
        account = Account.objects.create(biller=biller, account_number=number, **{**defaults, **fields})
        return Account.objects.select_related("biller__partner").get(pk=account.pk)  # Decimal values, as callers have

    return make
