"""Each partner over real HTTP (loopback simulator) mapped onto the Account; partners without RTDR."""
from __future__ import annotations

from decimal import Decimal

import pytest

from billers.balances import account_balance
from billers.models import Account
from billers.rtdr import refresh_balance
from exchanges.models import Exchange, ExchangeKind, ExchangeSource, ExchangeStatus

pytestmark = pytest.mark.django_db


def _fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


@pytest.mark.parametrize(
    ("number", "balance", "past_due", "blocks"),
    [
        ("1001", "125.50", "0.00", (False, False)),
        ("1002", "310.75", "85.25", (False, False)),
        ("1003", "64.00", "64.00", (True, True)),  # cash only blocks both ACH and CC
    ],
)
def test_aus_get_account_data_sets_balance_and_cash_only_blocks_both(
    rtdr_biller, account_of, sims, number, balance, past_due, blocks
):
    account = account_of(rtdr_biller("aus"), number, block_cc=not blocks[0], block_ach=not blocks[1])
    view = account_balance(account)
    assert (view.balance_due, view.past_due) == (Decimal(balance), Decimal(past_due))
    assert (view.block_cc, view.block_ach) == blocks
    assert (view.stale, view.stale_reason, view.source) == (False, "", "rtdr")
    stored = _fresh(account)
    assert (stored.balance_due, stored.past_due, stored.block_cc, stored.block_ach) == (
        Decimal(balance), Decimal(past_due), *blocks)
    assert stored.balance_source == "rtdr" and stored.balance_updated_at is not None
    assert sims["aus"].operations() == ["GetAccountData"]


@pytest.mark.parametrize(
    ("number", "blocks"),
    [("2001", (False, False)), ("2002", (False, True)), ("2003", (True, False)), ("2004", (True, True))],
)
def test_cayenta_block_codes_come_from_setting_28(rtdr_biller, account_of, number, blocks):
    account = account_of(rtdr_biller("cayenta"), number)
    view = refresh_balance(account)
    assert (view.block_cc, view.block_ach) == blocks
    assert (_fresh(account).block_cc, _fresh(account).block_ach) == blocks


def test_cayenta_past_due_column_is_named_by_setting_107(rtdr_biller, account_of):
    plain = account_of(rtdr_biller("cayenta"), "2005")
    assert refresh_balance(plain).past_due == Decimal("0.00")  # default column PASTDUE_AMT
    named = account_of(rtdr_biller("cayenta", {107: "ARREARS_AMT"}, bid=7369), "2005")
    view = refresh_balance(named)
    assert (view.balance_due, view.past_due) == (Decimal("88.00"), Decimal("40.00"))
    assert _fresh(named).past_due == Decimal("40.00")


@pytest.mark.parametrize(
    ("number", "balance", "past_due", "blocks"),
    [
        ("35909001", "155.25", "25.05", (False, False)),  # sums of currentAmount and pastDueAmount
        ("267002", "4.93", "0.00", (False, False)),  # prepaid: remainingBalance, extensions last
        ("267003", "18.40", "0.00", (False, False)),  # prepaid, extensions first (schema order)
        ("3001", "80.00", "80.00", (True, True)),  # cash only
        ("3002", "42.50", "0.00", (True, False)),  # preventCreditCard = Y
        ("3003", "10.00", "0.00", (False, False)),  # no allowableTransactionTypes: nothing blocked
        ("3004", "20.00", "0.00", (False, True)),  # card only: ACH blocked
        ("3005", "15.00", "0.50", (True, False)),  # eCheck and cash: CC blocked
    ],
)
def test_daffron_payable_items_map_to_the_account(rtdr_biller, account_of, sims, number, balance, past_due, blocks):
    account = account_of(rtdr_biller("daffron"), number)
    view = refresh_balance(account)
    assert (view.balance_due, view.past_due, (view.block_cc, view.block_ach)) == (
        Decimal(balance), Decimal(past_due), blocks)
    assert not view.stale
    stored = _fresh(account)
    assert (stored.balance_due, stored.past_due, stored.block_cc, stored.block_ach) == (
        Decimal(balance), Decimal(past_due), *blocks)
    request_xml = sims["daffron"].calls[-1][1]
    assert "MultiSpeakMsgHeader" in request_xml and 'UserID="InvoiceCloud"' in request_xml


def test_daffron_operation_and_soap_action_come_from_setting_131(rtdr_biller, account_of, sims):
    config = ('{"Daffron": {"RtdrConfigs": {"Operation": "PayableItemsList", '
              '"SoapAction": "http://www.multispeak.org/Version_3.0/PayableItemsList"}}}')
    account = account_of(rtdr_biller("daffron", {131: config}), "35909001")
    assert refresh_balance(account).balance_due == Decimal("155.25")
    assert sims["daffron"].operations() == ["PayableItemsList"]
    assert sims["daffron"].soap_actions == ["http://www.multispeak.org/Version_3.0/PayableItemsList"]


def test_success_is_an_exchange_with_masked_envelopes_on_disk(rtdr_biller, account_of, settings):
    account = account_of(rtdr_biller("aus"), "1002")
    refresh_balance(account)
    exchange = Exchange.objects.get(biller=account.biller)
    assert (exchange.kind, exchange.source, exchange.status) == (
        ExchangeKind.RTDR, ExchangeSource.SOAP, ExchangeStatus.SUCCEEDED)
    assert exchange.partner_id == account.biller.partner_id
    assert exchange.counts["account"] == "1002" and exchange.counts["balance_due"] == "310.75"
    assert "GetAccountData 1002: balance 310.75" in exchange.message
    assert exchange.started_at and exchange.finished_at and exchange.errors == []
    path = settings.DATA_DIR / exchange.raw_path
    assert exchange.raw_path.startswith("exchanges/rtdr/") and path.stat().st_size == exchange.raw_size
    import hashlib
    import json

    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == exchange.checksum
    record = json.loads(raw)
    assert "<" in record["request"] and "GetAccountData" in record["request"]
    assert "310.75" in record["response"]
    assert "s3cret" not in raw.decode() and "********" in record["request"]


def test_no_wsdl_is_parsed_after_the_first_call(rtdr_biller, account_of, monkeypatch):
    from partners import soap

    parses: list[str] = []
    original = soap.Document

    class CountingDocument(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            parses.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(soap, "Document", CountingDocument)
    soap.clear_cache()
    aus = account_of(rtdr_biller("aus"), "1001")
    cayenta = account_of(rtdr_biller("cayenta"), "2001")
    for _ in range(3):
        assert not refresh_balance(aus).stale
        assert not refresh_balance(cayenta).stale
    assert len(parses) == 2  # one per WSDL, for the whole process
    soap.clear_cache()


@pytest.mark.parametrize("partner", ["inhance", "flexibill"])
def test_partners_without_rtdr_return_the_stored_balance_with_its_source(make_biller, account_of, sims, partner):
    account = account_of(make_biller(partner, 7001), "0000001000MCS", balance_due="42.10", block_ach=True,
                         balance_source="balance file")
    view = account_balance(account)
    assert (view.balance_due, view.block_ach, view.stale, view.source) == (
        Decimal("42.10"), True, False, "balance file")
    assert not Exchange.objects.exists()
    assert all(not handle.calls for handle in sims.values())


def test_rtdr_biller_without_endpoint_returns_the_stored_balance(make_biller, account_of, sims):
    account = account_of(make_biller("aus", 7002), "1001", balance_source="")
    view = account_balance(account)
    assert (view.stale, view.source) == (False, "stored")
    assert not sims["aus"].calls and not Exchange.objects.exists()


def test_refresh_false_reads_the_stored_balance_without_calling(rtdr_biller, account_of, sims):
    account = account_of(rtdr_biller("aus"), "1001")
    view = account_balance(account, refresh=False)
    assert (view.balance_due, view.source, view.stale) == (Decimal("11.11"), "invoice file", False)
    assert not sims["aus"].calls


def test_rtdr_writes_blocks_even_where_setting_32_makes_them_read_only(rtdr_biller, account_of):
    account = account_of(rtdr_biller("aus", {32: "1"}), "1003")
    assert refresh_balance(account).block_cc is True
    stored = _fresh(account)
    assert (stored.block_cc, stored.block_ach) == (True, True)
