"""AUS GetAccountData mapping and the IVR account search, against the AUS simulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partners.aus import rtdr as aus
from partners.simulators import SimulatorHandle
from partners.soap import CallResult, SoapError, load_document

from .conftest import FAST, settings_for


def test_maps_balance_past_due_and_due_date(aus_sim: SimulatorHandle) -> None:
    result = aus.fetch_balance(settings_for(aus_sim), "1002", timeout=FAST)
    assert result.balance_due == Decimal("310.75") and isinstance(result.balance_due, Decimal)
    assert result.past_due == Decimal("85.25")
    assert result.due_date == date(2025, 7, 10)
    assert (result.block_cc, result.block_ach, result.cash_only) == (False, False, False)
    assert result.raw["AccountNumber"] == "1002"


def test_cash_only_flag_sets_both_blocks(aus_sim: SimulatorHandle) -> None:
    result = aus.fetch_balance(settings_for(aus_sim), "1003", timeout=FAST)
    assert (result.block_cc, result.block_ach, result.cash_only) == (True, True, True)
    assert result.due_date is None


def test_credentials_are_optional_and_masked(aus_sim: SimulatorHandle) -> None:
    result = aus.fetch_balance({8: aus_sim.url}, "1001", timeout=FAST)
    assert result.balance_due == Decimal("125.50")
    assert "<ns0:Password>********</ns0:Password>" in result.request_xml


def _answer(account: str) -> CallResult:
    account_data = load_document(aus.WSDL_PATH).types.get_type("{urn:billbridge:aus:1}AccountData")
    data = account_data(
        AccountNumber=account, BalanceDue=Decimal("1.00"), PastDueAmount=Decimal(0), CashOnly=False
    )
    return CallResult(data, "<req/>", "<resp/>", 1.0, 200)


def test_answer_for_another_account_is_refused() -> None:
    with pytest.raises(ValueError, match="not '78'"):
        aus.to_balance("78", _answer("77"))


def test_leading_zeros_do_not_make_a_different_account() -> None:
    assert aus.to_balance("42", _answer("0042")).balance_due == Decimal("1.00")


def test_search_by_customer_and_location(aus_sim: SimulatorHandle) -> None:
    found = aus.search_accounts(settings_for(aus_sim), "C100", "L200", timeout=FAST)
    assert found.account_numbers == ("1001", "1002")
    assert aus.search_accounts(settings_for(aus_sim), "C100", "nowhere", timeout=FAST).account_numbers == ()


def test_unknown_account_is_permanent(aus_sim: SimulatorHandle) -> None:
    with pytest.raises(SoapError) as caught:
        aus.fetch_balance(settings_for(aus_sim), "404", timeout=FAST)
    assert caught.value.permanent is True
