"""FlexiBill daily balance (.BAF) and payment expiration (.SPF) files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from partners.bif import FileRejected
from partners.flexibill.balances import (
    BalanceAdjustment,
    InvalidRow,
    PaymentExpiration,
    parse_balances,
    parse_expirations,
)

from .conftest import run, sample_bytes

BAF, SPF = "flexibill_4411.BAF", "flexibill__MCS_11202026000001.SPF"
NOON_UTC = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def balances(data: bytes, name: str = BAF) -> list:
    return run(parse_balances, data, file_name=name, bid=4411, now=NOON_UTC)


def expirations(data: bytes, name: str = SPF) -> list:
    return run(parse_expirations, data, file_name=name, bid=4411)


def test_balance_sample_exact_values():
    rows = balances(sample_bytes(BAF))
    assert [(r.line, r.account_number, r.invoice_number, r.amount) for r in rows] == [
        (1, "0004411001MCS", "0004411001MCS0000091234", Decimal("158.37")),
        (2, "0004411002MCS", "0004411002MCS0000091235", Decimal("64.05")),  # -64.05 stored positive
        (3, "0004411004MCS", "0004411004MCS0000091237", Decimal("0.00")),
        (4, "0004411007MCS", "0004411007MCS0000091240", Decimal("1204.10")),
    ]
    assert all(isinstance(r, BalanceAdjustment) for r in rows)
    assert {(r.adjustment_type_id, r.invoice_type_id) for r in rows} == {(2, 42)}
    stamp = rows[0].adjusted_at
    assert stamp == NOON_UTC and stamp.utcoffset().total_seconds() == -6 * 3600  # US Central, standard time


def test_balance_time_defaults_to_now_in_us_central():
    [row, *_] = run(parse_balances, sample_bytes(BAF), file_name=BAF, bid=4411)
    assert str(row.adjusted_at.tzinfo) == "America/Chicago"


@pytest.mark.parametrize(
    "line, field",
    [
        ("A1|INV1|12,00", "AdjustmentAmount"),
        ("A1|INV1|", "AdjustmentAmount"),
        ("|INV1|1.00", "AccountNumber"),
        ("A1||1.00", "InvoiceNumber"),
        ("A1|INV1", "columns"),
        ("A1|INV1|1.00|x", "columns"),
    ],
)
def test_a_bad_balance_row_names_line_and_field(line, field):
    good, bad = balances(f"A0|INV0|1.00\n{line}\n".encode())
    assert isinstance(good, BalanceAdjustment)
    assert isinstance(bad, InvalidRow) and bad.line == 2 and bad.text == line
    assert field in [e.field for e in bad.errors] and {e.line for e in bad.errors} == {2}


@pytest.mark.parametrize("name", ["flexibill_2778.BAF", "flexibill_4411.TXT"])
def test_rejects_a_balance_file_for_another_biller_or_extension(name):
    with pytest.raises(FileRejected) as caught:
        balances(sample_bytes(BAF), name)
    assert [(e.line, e.field) for e in caught.value.errors] == [(0, "file_name")]


def test_rejects_non_utf8_balance_file():
    with pytest.raises(FileRejected) as caught:
        balances(b"A1|INV1|1.00\nA\xff|INV2|2.00\n")
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "encoding")]


def test_expiration_sample_exact_values():
    rows = expirations(sample_bytes(SPF))
    assert all(isinstance(r, PaymentExpiration) for r in rows)
    assert [(r.line, r.account_number, r.invoice_number, r.expires_on, r.message) for r in rows] == [
        (
            1,
            "0004411001MCS",
            "0004411001MCS0000091234",
            date(2026, 11, 29),
            "Payments after 11/29/2026 are not accepted online",
        ),
        (2, "0004411002MCS", "0004411002MCS0000091235", date(2026, 11, 30), "Account sent to collections"),
        (3, "0004411004MCS", "0004411004MCS0000091237", date(2026, 12, 31), ""),
    ]


@pytest.mark.parametrize(
    "line, field",
    [
        ("A1|77|2026-12-01|msg", "PaymentExpirationDate"),
        ("A1|77|02/30/2026", "PaymentExpirationDate"),
        ("A1|77|01/01/0001", "PaymentExpirationDate"),
        ("|77|12/01/2026", "AccountNumber"),
        ("A1||12/01/2026", "InvoiceNumber"),
        ("A1|77", "columns"),
        ("A1|77|12/01/2026|m|x", "columns"),
    ],
)
def test_a_bad_expiration_row_names_line_and_field(line, field):
    [bad] = expirations(f"\n{line}\n".encode())
    assert isinstance(bad, InvalidRow) and bad.line == 2
    assert field in [e.field for e in bad.errors]


@pytest.mark.parametrize(
    "name",
    ["_MCS_11202026.SPF", "MCS_11202026000001.SPF", "_MCS_13202026000001.SPF", "_MCS_11202026000001.TXT"],
)
def test_rejects_an_expiration_file_off_the_naming_convention(name):
    with pytest.raises(FileRejected) as caught:
        expirations(sample_bytes(SPF), name)
    assert [(e.line, e.field) for e in caught.value.errors] == [(0, "file_name")]
