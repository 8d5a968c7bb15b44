"""Cayenta GetAccountBalance mapping: setting 28 block codes, setting 107 past-due column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partners.base import PartnerError
from partners.cayenta import rtdr as cayenta
from partners.simulators import SimulatorHandle

from .conftest import FAST, settings_for


@pytest.mark.parametrize(
    ("account", "blocks"),
    [
        ("2001", (False, False, False)),  # no indicator code
        ("2002", (False, True, False)),  # "A": block ACH
        ("2003", (True, False, False)),  # "C": block CC
        ("2004", (True, True, True)),  # "X": cash only blocks both
    ],
)
def test_block_codes_from_setting_28(
    cayenta_sim: SimulatorHandle, account: str, blocks: tuple[bool, ...]
) -> None:
    result = cayenta.fetch_balance(settings_for(cayenta_sim), account, timeout=FAST)
    assert (result.block_cc, result.block_ach, result.cash_only) == blocks


def test_maps_balance_past_due_and_due_date(cayenta_sim: SimulatorHandle) -> None:
    result = cayenta.fetch_balance(settings_for(cayenta_sim), "2002", timeout=FAST)
    assert result.balance_due == Decimal("75.40")
    assert result.past_due == Decimal("12.30")
    assert result.due_date == date(2025, 7, 20)
    assert result.raw["columns"] == {"PASTDUE_AMT": "12.30"}


def test_setting_107_names_the_past_due_column(cayenta_sim: SimulatorHandle) -> None:
    default = cayenta.fetch_balance(settings_for(cayenta_sim), "2005", timeout=FAST)
    named = cayenta.fetch_balance(settings_for(cayenta_sim, {107: "ARREARS_AMT"}), "2005", timeout=FAST)
    assert (default.past_due, named.past_due) == (Decimal("0.00"), Decimal("40.00"))


def test_missing_past_due_column_means_zero(cayenta_sim: SimulatorHandle) -> None:
    result = cayenta.fetch_balance(settings_for(cayenta_sim, {107: "NO_SUCH_COL"}), "2001", timeout=FAST)
    assert result.past_due == Decimal("0.00")


def test_codes_match_trimmed_and_case_insensitively(cayenta_sim: SimulatorHandle) -> None:
    settings = settings_for(cayenta_sim, {28: '{"block_cc": [" c "]}'})
    assert cayenta.fetch_balance(settings, "2003", timeout=FAST).block_cc is True


def test_no_setting_28_blocks_nothing(cayenta_sim: SimulatorHandle) -> None:
    result = cayenta.fetch_balance({8: cayenta_sim.url}, "2004", timeout=FAST)
    assert (result.block_cc, result.block_ach, result.cash_only) == (False, False, False)


@pytest.mark.parametrize("bad", ["not json", '["A"]', '{"block_everything": ["A"]}', '{"block_cc": "C"}'])
def test_invalid_setting_28_is_permanent_and_sends_nothing(cayenta_sim: SimulatorHandle, bad: str) -> None:
    with pytest.raises(PartnerError) as caught:
        cayenta.fetch_balance(settings_for(cayenta_sim, {28: bad}), "2001", timeout=FAST)
    assert caught.value.permanent is True
    assert cayenta_sim.calls == []


def test_unreadable_amount_is_malformed(cayenta_sim: SimulatorHandle) -> None:
    cayenta_sim.fixtures["2999"] = {
        "balance": "1.00",
        "due_date": None,
        "block_code": "",
        "columns": {"PASTDUE_AMT": "lots"},
    }
    try:
        with pytest.raises(PartnerError) as caught:
            cayenta.fetch_balance(settings_for(cayenta_sim), "2999", timeout=FAST)
    finally:
        del cayenta_sim.fixtures["2999"]
    assert caught.value.permanent is False
    assert "PASTDUE_AMT" in str(caught.value)
    assert "lots" in caught.value.response_xml  # type: ignore[attr-defined]
