"""A partner failure never fails the lookup: last known balance, stale with the reason, an Exchange."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from billers.balances import account_balance
from billers.models import Account
from billers.rtdr_models import RtdrHealth
from exchanges.models import Exchange, ExchangeStatus

pytestmark = pytest.mark.django_db

FAILURES = [
    ("slow", "timeout"),
    ("fault", "SOAP fault"),
    ("malformed", "malformed response"),
    ("http500", "HTTP error"),
]


@pytest.mark.parametrize("partner,number", [("aus", "1001"), ("cayenta", "2001"), ("daffron", "35909001")])
@pytest.mark.parametrize("mode,category", FAILURES)
def test_partner_failure_returns_last_known_balance_marked_stale(
    rtdr_biller, account_of, sims, settings, partner, number, mode, category
):
    account = account_of(rtdr_biller(partner), number, balance_due="77.70", past_due="7.00", block_cc=True)
    sims[partner].mode = mode
    view = account_balance(account)
    assert view.stale is True
    assert view.stale_reason.startswith(f"{category}: ")
    assert (view.balance_due, view.past_due, view.block_cc, view.source) == (
        Decimal("77.70"), Decimal("7.00"), True, "invoice file")
    stored = Account.objects.get(pk=account.pk)
    assert (stored.balance_due, stored.balance_source) == (Decimal("77.70"), "invoice file")

    exchange = Exchange.objects.get(biller=account.biller)
    assert exchange.status == ExchangeStatus.FAILED
    assert exchange.message.endswith(view.stale_reason)
    assert exchange.errors[0]["message"] == view.stale_reason and exchange.errors[0]["permanent"] is False
    raw = (settings.DATA_DIR / exchange.raw_path).read_text()
    record = json.loads(raw)
    assert record["outcome"] == "failed" and record["error"] == view.stale_reason
    assert number in record["request"]  # the request envelope is kept
    assert "s3cret" not in raw  # password masked
    if mode in ("fault", "http500", "malformed"):
        assert record["response"]  # whatever came back is kept too
    health = RtdrHealth.objects.get(biller=account.biller)
    assert (health.failure_count, health.consecutive_failures, health.last_error) == (1, 1, view.stale_reason)


def test_connection_refused_is_stale_with_the_reason(rtdr_biller, account_of):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = account_of(rtdr_biller("aus", {8: f"http://127.0.0.1:{port}/aus"}), "1001")
    view = account_balance(account)
    assert view.stale and view.stale_reason.startswith("connection error: ")
    assert Exchange.objects.get().status == ExchangeStatus.FAILED


def test_unknown_account_is_rejected_and_does_not_count_against_the_endpoint(rtdr_biller, account_of):
    account = account_of(rtdr_biller("cayenta"), "9999")
    view = account_balance(account)
    assert view.stale and view.stale_reason.startswith("SOAP fault: ") and "not found" in view.stale_reason
    health = RtdrHealth.objects.get(biller=account.biller)
    assert (health.rejected_count, health.failure_count, health.consecutive_failures) == (1, 0, 0)
    assert Exchange.objects.get().errors[0]["permanent"] is True


def test_invalid_setting_28_is_reported_as_misconfigured(rtdr_biller, account_of, sims):
    from billers.models import BillerSetting

    account = account_of(rtdr_biller("cayenta"), "2001")
    # Admin validates 28; a value stored before that rule (or by hand in the database) still must not crash.
    BillerSetting.objects.filter(biller=account.biller, definition__number=28).update(value='{"everything": ["Z"]}')
    view = account_balance(account)
    assert view.stale and view.stale_reason.startswith("misconfigured: advanced setting 28")
    assert not sims["cayenta"].calls


def test_unexpected_error_in_the_partner_module_is_stale_not_raised(rtdr_biller, account_of, monkeypatch):
    from billers import rtdr

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setitem(rtdr.RTDR_FETCHERS, "aus", broken)
    account = account_of(rtdr_biller("aus"), "1001")
    view = account_balance(account)
    assert view.stale and view.stale_reason.startswith("unexpected error: ")
