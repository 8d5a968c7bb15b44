"""Daffron GetPayableItemsList mapping (SPEC section 3), against the MultiSpeak simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from partners.daffron import multispeak as ms
from partners.daffron import rtdr as daffron
from partners.simulators import SimulatorHandle
from partners.soap import CallResult, OutcomeUnknown, SoapError

from .conftest import FAST, settings_for


def fetch(handle: SimulatorHandle, account: str, **kwargs: Any) -> Any:
    return daffron.fetch_balance(settings_for(handle), account, timeout=FAST, **kwargs)


@pytest.fixture
def extra_accounts(daffron_sim: SimulatorHandle) -> Iterator[dict[str, dict[str, Any]]]:
    """Accounts a test adds to the simulator's fixtures; removed afterwards."""
    added: dict[str, dict[str, Any]] = {}
    yield added
    for number in added:
        daffron_sim.fixtures.pop(number, None)


def add_account(handle: SimulatorHandle, added: dict[str, dict[str, Any]], number: str, **data: Any) -> str:
    added[number] = data
    handle.fixtures[number] = data
    return number


def test_sums_current_and_past_due_over_all_items(daffron_sim: SimulatorHandle) -> None:
    result = fetch(daffron_sim, "35909001")
    assert result.balance_due == Decimal("155.25")
    assert result.past_due == Decimal("25.05")
    assert result.due_date == date(2025, 7, 12)  # the earliest of the items
    assert (result.block_cc, result.block_ach, result.cash_only) == (False, False, False)
    assert len(result.raw["items"]) == 2


@pytest.mark.parametrize(("account", "balance"), [("267002", "4.93"), ("267003", "18.40")])
def test_prepaid_remaining_balance_replaces_current_amounts(
    daffron_sim: SimulatorHandle, account: str, balance: str
) -> None:
    # 267002 has the extensions after the item's fields (the seed), 267003 before them (the schema).
    assert fetch(daffron_sim, account).balance_due == Decimal(balance)


@pytest.mark.parametrize(
    ("account", "blocks"),
    [
        ("3001", (True, True, True)),  # only cashPayment: cash only, both blocked
        ("3003", (False, False, False)),  # no allowableTransactionTypes list: nothing blocked by it
        ("3004", (False, True, False)),  # only creditCardPayment: ACH blocked
        ("3005", (True, False, False)),  # ECHECKPAYMENT + CashPayment (any case): CC blocked
        ("3002", (True, False, False)),  # preventCreditCard = Y (extensions first)
    ],
)
def test_payment_blocks(daffron_sim: SimulatorHandle, account: str, blocks: tuple[bool, bool, bool]) -> None:
    result = fetch(daffron_sim, account)
    assert (result.block_cc, result.block_ach, result.cash_only) == blocks


def test_prevent_credit_card_read_when_extensions_come_last(
    daffron_sim: SimulatorHandle, extra_accounts: dict[str, dict[str, Any]]
) -> None:
    number = add_account(
        daffron_sim,
        extra_accounts,
        "4001",
        items=[{"currentAmount": "5"}],
        allowable=["creditCardPayment", "achPayment"],
        extensions=[("preventCreditCard", "y", "string")],
        extensions_at="last",
    )
    result = fetch(daffron_sim, number)
    assert (result.block_cc, result.block_ach) == (True, False)


def test_extensions_on_the_result_itself_are_read(
    daffron_sim: SimulatorHandle, extra_accounts: dict[str, dict[str, Any]]
) -> None:
    number = add_account(
        daffron_sim,
        extra_accounts,
        "4002",
        items=[{"currentAmount": "9.00"}],
        allowable=None,
        extensions=[("remainingBalance", "2.50", "decimal")],
        extensions_at="result",
    )
    assert fetch(daffron_sim, number).balance_due == Decimal("2.50")


def test_empty_allowable_list_blocks_both(
    daffron_sim: SimulatorHandle, extra_accounts: dict[str, dict[str, Any]]
) -> None:
    number = add_account(daffron_sim, extra_accounts, "4003", items=[{"currentAmount": "1"}], allowable=[])
    result = fetch(daffron_sim, number)
    assert (result.block_cc, result.block_ach) == (True, True)


def test_unknown_elements_are_tolerated_and_listed(daffron_sim: SimulatorHandle) -> None:
    result = fetch(daffron_sim, "3005")
    assert result.balance_due == Decimal("15.00")  # "1.5E1" read as a Decimal
    assert result.past_due == Decimal("0.50")
    assert result.raw["unknown"] == ["payableItem/serviceCategory"]


def test_no_payable_items_means_nothing_due(
    daffron_sim: SimulatorHandle, extra_accounts: dict[str, dict[str, Any]]
) -> None:
    number = add_account(daffron_sim, extra_accounts, "4004", items=[], allowable=None)
    result = fetch(daffron_sim, number)
    assert (result.balance_due, result.past_due, result.due_date) == (Decimal("0.00"), Decimal("0.00"), None)


@pytest.mark.parametrize(
    ("field", "value"), [("currentAmount", "abc"), ("pastDueAmount", "NaN"), ("dueDate", "soon")]
)
def test_unreadable_values_are_malformed_and_transient(
    daffron_sim: SimulatorHandle, extra_accounts: dict[str, dict[str, Any]], field: str, value: str
) -> None:
    number = add_account(daffron_sim, extra_accounts, "4005", items=[{field: value}], allowable=None)
    with pytest.raises(SoapError) as caught:
        fetch(daffron_sim, number)
    error = caught.value
    assert error.permanent is False and not isinstance(error, OutcomeUnknown)
    assert value in error.response_xml and 'Pwd="********"' in error.request_xml


def test_operation_name_and_soap_action_are_configurable(daffron_sim: SimulatorHandle) -> None:
    action = "http://www.multispeak.org/Version_3.0/PayableItemsList"
    result = fetch(daffron_sim, "35909001", options={"operation": "PayableItemsList", "soap_action": action})
    fetch(daffron_sim, "35909001")
    assert result.balance_due == Decimal("155.25")
    assert daffron_sim.operations() == ["PayableItemsList", "GetPayableItemsList"]
    assert daffron_sim.soap_actions == [action, "http://www.multispeak.org/Version_3.0/GetPayableItemsList"]


def test_operation_name_alone_defaults_its_soap_action(daffron_sim: SimulatorHandle) -> None:
    fetch(daffron_sim, "3003", options={"operation": "PayableItemsList"})
    assert daffron_sim.soap_actions == ["http://www.multispeak.org/Version_3.0/PayableItemsList"]


# The seed's sample answer, values filled in, read without the simulator.
SEED_ANSWER = b"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <GetPayableItemsListResponse xmlns="http://www.multispeak.org/Version_3.0">
      <GetPayableItemsListResult>
        <payableItem>
          <pastDueAmount>10.1</pastDueAmount><currentAmount>100.05</currentAmount>
          <description>Electric</description><chargeCode>E</chargeCode>
          <dueDate>2025-08-01T00:00:00-05:00</dueDate><disconnectDate>2025-08-20T00:00:00</disconnectDate>
          <lastPaymentAmount>50</lastPaymentAmount><lastPaymentDate>2025-07-01T00:00:00</lastPaymentDate>
          <extensionsList>
            <extensionsItem><extName>preventCreditCard</extName><extValue>Y</extValue><extType>string</extType></extensionsItem>
          </extensionsList>
        </payableItem>
        <payableItem><pastDueAmount>0.2</pastDueAmount><currentAmount>0.30</currentAmount></payableItem>
        <allowableTransactionTypes>
          <transactionType>creditCardPayment</transactionType><transactionType>cashPayment</transactionType>
        </allowableTransactionTypes>
      </GetPayableItemsListResult>
    </GetPayableItemsListResponse>
  </soap:Body>
</soap:Envelope>"""


def test_seed_sample_answer_maps_per_spec() -> None:
    body = etree.fromstring(SEED_ANSWER).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    result_element = ms.result_of(body[0])
    assert result_element is not None
    result = daffron.to_balance(
        "1001", daffron.read_payable_items(result_element), CallResult(body[0], "", "", 1.0)
    )
    assert (result.balance_due, result.past_due) == (Decimal("100.35"), Decimal("10.30"))
    assert result.due_date == date(2025, 8, 1)
    assert (result.block_cc, result.block_ach, result.cash_only) == (True, True, False)
    assert result.raw["unknown"] == []
