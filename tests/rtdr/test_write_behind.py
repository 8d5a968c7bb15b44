"""Answered lookups are stored by the background writer; failures and in-transaction lookups at once."""
from __future__ import annotations

import io
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from billers.balances import account_balance
from billers.models import Account, BillerSetting
from billers.rtdr import rtdr_writer
from billers.rtdr_models import RtdrHealth
from billers.selectors import setting_values_recent, settings_forget
from billers.services import biller_setting_set
from billers.write_behind import WriteBehind
from exchanges.models import Exchange, ExchangeStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def write_behind(settings, catalogue):
    settings.RTDR_WRITE_BEHIND = True
    settings.RTDR_WRITE_DELAY = 0.2  # long enough to catch the rows still unwritten
    settings.RTDR_BREAKER_RECHECK = 1.0  # the closed breaker is read once, as in production
    yield settings
    rtdr_writer.stop()  # its connection closed: the test database can be dropped


def test_answer_is_returned_at_once_and_stored_in_one_batch(rtdr_biller, account_of, settings):
    biller = rtdr_biller("aus")
    accounts = [account_of(biller, number) for number in ("1001", "1002", "1003")]
    views = [account_balance(account) for account in accounts]

    assert [v.stale for v in views] == [False] * 3
    assert views[1].balance_due == Decimal("310.75") and views[1].source == "rtdr"
    assert rtdr_writer.pending() == 3
    assert not Exchange.objects.exists()  # not yet: the writer waits RTDR_WRITE_DELAY for more

    assert rtdr_writer.flush()
    stored = Account.objects.get(pk=accounts[1].pk)
    assert stored.balance_due == Decimal("310.75") and stored.balance_source == "rtdr"
    exchanges = list(Exchange.objects.order_by("started_at"))
    assert [e.status for e in exchanges] == [ExchangeStatus.SUCCEEDED] * 3
    assert [e.counts["account"] for e in exchanges] == ["1001", "1002", "1003"]
    envelopes = json.loads((Path(settings.DATA_DIR) / exchanges[0].raw_path).read_text())
    assert envelopes["operation"] == "GetAccountData" and "s3cret-rtdr-pw" not in json.dumps(envelopes)
    health = RtdrHealth.objects.get(biller=biller)
    assert health.success_count == 3 and len(health.recent) == 3 and health.consecutive_failures == 0


def test_a_failure_is_written_at_once_after_the_answers_before_it(rtdr_biller, account_of, sims):
    biller = rtdr_biller("aus")
    account = account_of(biller, "1002")
    account_balance(account)
    account_balance(account)
    sims["aus"].mode = "fault"

    view = account_balance(account)

    assert view.stale and rtdr_writer.pending() == 0
    health = RtdrHealth.objects.get(biller=biller)
    assert (health.success_count, health.failure_count, health.consecutive_failures) == (2, 1, 1)
    assert Exchange.objects.filter(status=ExchangeStatus.FAILED).count() == 1
    assert Account.objects.get(pk=account.pk).balance_due == Decimal("310.75")  # the answers' balance


def test_a_lookup_inside_a_transaction_is_written_in_it(rtdr_biller, account_of):
    account = account_of(rtdr_biller("cayenta"), "2001")
    with transaction.atomic():
        assert not account_balance(account).stale
        assert rtdr_writer.pending() == 0
        assert Exchange.objects.filter(status=ExchangeStatus.SUCCEEDED).count() == 1


def test_rtdr_command_stores_the_call_before_it_ends(rtdr_biller, account_of):
    account_of(rtdr_biller("daffron"), "3001")
    out = io.StringIO()
    call_command("rtdr", "--biller", "7778", "3001", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue().strip().splitlines()[-1])["source"] == "rtdr"
    assert rtdr_writer.pending() == 0
    assert Exchange.objects.get().counts["account"] == "3001"


def test_settings_saved_here_apply_at_once_others_within_the_ttl(rtdr_biller, sims, account_of):
    biller = rtdr_biller("aus")
    assert setting_values_recent(biller, 60)[9] == "InvoiceCloud"
    biller_setting_set(biller=biller, number=9, value="ChangedHere")  # a save in this process
    assert setting_values_recent(biller, 60)[9] == "ChangedHere"

    BillerSetting.objects.filter(biller=biller, definition__number=9).update(value="ChangedElsewhere")
    assert setting_values_recent(biller, 60)[9] == "ChangedHere"  # another process's change: not yet
    assert setting_values_recent(biller, 0.000001)[9] == "ChangedElsewhere"  # after the TTL
    settings_forget()


def test_writer_retries_a_failed_batch_once_then_drops_it_with_an_error(caplog):
    batches: list[list[int]] = []

    def write(batch: list[int]) -> None:
        batches.append(list(batch))
        if batch[0] < 0:
            raise RuntimeError("database down")

    writer: WriteBehind[int] = WriteBehind("test-writer", write, delay=lambda: 0.05)
    writer.submit(1)
    writer.submit(2)
    assert writer.flush(timeout=5)
    assert batches == [[1, 2]]

    with caplog.at_level(logging.ERROR, logger="billers.write_behind"):
        writer.submit(-1)
        assert writer.flush(timeout=5)
    assert batches[1:] == [[-1], [-1]]
    assert "1 records could not be written and were dropped" in caplog.text
    writer.submit(3)  # the thread survived
    assert writer.flush(timeout=5) and batches[-1] == [3]
    writer.stop()
    writer.submit(4)  # a record after stop starts the thread again
    assert writer.flush(timeout=5) and batches[-1] == [4]
    writer.stop()
