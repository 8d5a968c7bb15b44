"""The demo billers' accounts answer through the simulators' demo fixtures (what ``make run`` serves)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from billers.balances import account_balance
from billers.demo import DEMO_BILLERS, _account_number, seed_demo, simulator_url
from billers.models import Account
from billers.services import biller_setting_set
from partners.simulators.demo import FIXTURES

pytestmark = pytest.mark.django_db


def test_demo_fixtures_cover_every_demo_rtdr_account():
    for spec in DEMO_BILLERS:
        if spec.partner in FIXTURES:
            numbers = {_account_number(spec, i) for i in range(5)}
            assert numbers == set(FIXTURES[spec.partner]), spec.bid
            assert spec.settings[8] == simulator_url(spec.partner, spec.partner)


def test_demo_billers_get_fresh_balances_from_the_simulators(catalogue, sims):
    seed_demo()
    expected = {
        "12300005": ("124.12", "124.12", True, True),  # AUS cash only
        "136800002": ("94.12", "0.00", False, True),  # Cayenta NOACH in the demo's setting 28
        "136800005": ("124.12", "40.00", True, True),  # Cayenta CASH
        "035910-002": ("14.93", "0.00", False, False),  # Daffron prepaid
        "035912-004": ("114.12", "12.50", False, True),  # Daffron card only
    }
    for partner, bid in (("aus", 123), ("cayenta", 1368), ("daffron", 2778)):
        accounts = Account.objects.filter(biller__bid=bid).select_related("biller__partner")
        biller_setting_set(biller=accounts[0].biller, number=8, value=sims[partner].url)  # the test's port
        for account in accounts:
            view = account_balance(account)
            assert not view.stale, (account.account_number, view.stale_reason)
            if account.account_number in expected:
                balance, past_due, block_cc, block_ach = expected[account.account_number]
                assert (view.balance_due, view.past_due, view.block_cc, view.block_ach) == (
                    Decimal(balance), Decimal(past_due), block_cc, block_ach), account.account_number
