"""Mutated sample files never crash a parser: FileRejected, or records that are valid or explain why not."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partners.aus.invoices import parse as aus
from partners.bif import BifInvoice, FieldError, FileRejected, InvalidInvoice, invoice_errors
from partners.cayenta.invoices import parse as cayenta
from partners.daffron.invoices import parse as daffron
from partners.flexibill.balances import (
    BalanceAdjustment,
    InvalidRow,
    PaymentExpiration,
    parse_balances,
    parse_expirations,
)
from partners.flexibill.invoices import parse as flexibill

from .conftest import sample_bytes

PARSERS: dict[str, Callable[..., Iterator[Any]]] = {
    "daffron_2778_11202026.BIF": partial(daffron, bid=2778),
    "flexibill_4411.BIF": partial(flexibill, bid=4411),
    "flexibill_4411.BRF": partial(flexibill, bid=4411, kind="replacements"),
    "123_20261120_UB.TXT": partial(aus, bid=123),
    "billheader_20261120.xml": partial(cayenta, bid=1368),
    "flexibill_4411.BAF": partial(parse_balances, bid=4411),
    "flexibill__MCS_11202026000001.SPF": partial(parse_expirations, bid=4411),
}
INTERESTING = [
    b"|",
    b"\n",
    b"\r",
    b" ",
    b"0",
    b"9",
    b"/",
    b"-",
    b".",
    b"<",
    b">",
    b"&",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"IH|",
    b"CR|",
    b"ID|",
    b"FH|",
    b"HDR",
    b"D  ",
    b"<bill>",
    b"</bill>",
    b"<!DOCTYPE x>",
    b"\xef\xbb\xbf",
]

mutation = st.one_of(
    st.tuples(st.just("replace"), st.floats(0, 1), st.binary(min_size=1, max_size=3)),
    st.tuples(
        st.just("insert"), st.floats(0, 1), st.one_of(st.sampled_from(INTERESTING), st.binary(max_size=4))
    ),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40).map(lambda n: b"x" * n)),
    st.tuples(
        st.sampled_from(["drop_line", "dup_line", "swap_lines", "cut_line"]),
        st.floats(0, 1),
        st.binary(max_size=1),
    ),
)


def mutate(data: bytes, steps: list[tuple[str, float, bytes]]) -> bytes:
    for kind, where, payload in steps:
        if kind in ("replace", "insert", "delete"):
            at = int(where * len(data))
            cut = {"replace": len(payload), "insert": 0, "delete": len(payload)}[kind]
            data = data[:at] + (b"" if kind == "delete" else payload) + data[at + cut :]
            continue
        lines = data.split(b"\n")
        at = int(where * (len(lines) - 1))
        if kind == "drop_line":
            del lines[at]
        elif kind == "dup_line":
            lines.insert(at, lines[at])
        elif kind == "swap_lines" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif kind == "cut_line":
            lines[at] = lines[at][: len(lines[at]) // 2]
        data = b"\n".join(lines)
    return data


def check_errors(errors: list[FieldError]) -> None:
    assert errors
    for error in errors:
        assert (
            isinstance(error, FieldError) and error.line >= 0 and error.field and isinstance(error.value, str)
        )


def check_record(record: Any) -> None:
    if isinstance(record, BifInvoice):
        assert invoice_errors(record) == []  # read_bif's fast pre-check never lets a bad invoice through
        assert record.invoice_number and record.account_number and record.record_type in ("N", "R")
        _ = (record.invoice_date, record.due_date, record.total_amount_due)  # typed accessors work
        assert isinstance(record.header, dict) and all(isinstance(d, dict) for d in record.details)
    elif isinstance(record, (InvalidInvoice, InvalidRow)):
        assert record.line >= 1
        check_errors(record.errors)
    else:
        assert isinstance(record, (BalanceAdjustment, PaymentExpiration)) and record.line >= 1


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_sample_is_rejected_or_parsed_with_explanations(name, steps):
    data = mutate(sample_bytes(name), steps)
    try:
        records = list(PARSERS[name](io.BytesIO(data), file_name=name))
    except FileRejected as exc:
        check_errors(exc.errors)
        return
    for record in records:
        check_record(record)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_samples_parse_cleanly(name):
    records = list(PARSERS[name](io.BytesIO(sample_bytes(name)), file_name=name))
    assert records and all(not isinstance(r, (InvalidInvoice, InvalidRow)) for r in records)
