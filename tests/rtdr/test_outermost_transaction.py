"""A lookup outside any transaction commits its own (on PostgreSQL without waiting for the WAL flush)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billers.balances import account_balance
from billers.models import Account
from exchanges.models import Exchange, ExchangeStatus


@pytest.mark.django_db(transaction=True)
def test_lookup_in_its_own_transaction_commits_account_exchange_and_health(rtdr_biller, account_of):
    account = account_of(rtdr_biller("aus"), "1002")
    with CaptureQueriesContext(connection) as queries:
        view = account_balance(account)
    assert not view.stale and view.balance_due == Decimal("310.75")
    assert Account.objects.get(pk=account.pk).balance_source == "rtdr"
    assert Exchange.objects.get().status == ExchangeStatus.SUCCEEDED
    relaxed = [q for q in queries.captured_queries if "synchronous_commit" in q["sql"]]
    assert len(relaxed) == (1 if connection.vendor == "postgresql" else 0)


@pytest.mark.django_db
def test_lookup_inside_a_callers_transaction_keeps_its_durability(rtdr_biller, account_of):
    account = account_of(rtdr_biller("aus"), "1002")  # the test runs inside a transaction: the caller's
    with CaptureQueriesContext(connection) as queries:
        assert not account_balance(account).stale
    assert not [q for q in queries.captured_queries if "synchronous_commit" in q["sql"]]
