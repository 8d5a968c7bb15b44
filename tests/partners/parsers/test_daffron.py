"""Daffron invoice files: our pipe BIF named BID_MMDDYYYY."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bench.gen_invoices import daffron_bif
from partners.bif import BifInvoice, FileRejected, InvalidInvoice
from partners.daffron.invoices import parse

from .conftest import run, sample_bytes

SAMPLE = "daffron_2778_11202026.BIF"


def test_sample_parses_to_exact_values():
    records = run(parse, sample_bytes(SAMPLE), file_name=SAMPLE, bid=2778)
    assert all(isinstance(r, BifInvoice) for r in records)
    assert [r.invoice_number for r in records] == [
        "1234501458213",
        "2210402458214",
        "3056701458102",
        "4120001458215",
    ]
    assert [r.line for r in records] == [2, 7, 12, 17]
    assert sum(r.total_amount_due for r in records) == Decimal("473.60")
    first, second, replacement, credit = records
    assert first.invoice_date == date(2026, 11, 1) and first.due_date == date(2026, 11, 21)
    assert first.header["InvoiceFormatGuid"] == "BA1CEC36-997C-48E3-8406-437640EDFF84"
    assert (first.header["Custom2"], first.header["Custom3"], first.header["Custom4"]) == (
        "12345",
        "01",
        "40012",
    )
    assert (first.header["Custom9"], first.header["Custom10"]) == ("458213", "12345-458213")
    assert first.header["BalanceDue"] == "156.25" and first.header["PastDue"] == "0.00"
    assert first.customer == {
        "AccountNumber": "12345-01",
        "CustomerName": "JOHN Q SAMPLE",
        "Address1": "9027 CENTER ST",
        "City": "MANASSAS",
        "State": "VA",
        "Zip": "20110",
        "Phone": "7035551234",
        "EmailAddress": "jsample@example.com",
        "BlockPaymentsCC": "N",
        "DisplayAccountNumber": "12345-01",
    }
    assert [d["CustomField3"] for d in first.details] == ["ELECTRIC", "WATER", "REFUSE"]
    assert first.details[0] == {
        "CustomField1": "1",
        "CustomField2": "12345-01",
        "CustomField3": "ELECTRIC",
        "CustomField4": "RS1",
        "CustomField5": "E0451120",
        "CustomField6": "48213",
        "CustomField7": "47311",
        "CustomField8": "1",
        "CustomField9": "902",
        "CustomField10": "118.40",
    }
    assert second.header["PastDue"] == "48.10" and second.customer["Address2"] == "APT 4B"
    assert second.block_payments("BlockPaymentsCC") is True
    assert replacement.record_type == "R" and replacement.invoice_date == date(2026, 10, 1)
    assert credit.total_amount_due == Decimal("-12.40") and "Phone" not in credit.customer


@pytest.mark.parametrize(
    "name", ["2778_11202026", "2778_11202026.BIF", "daffron_2778_11202026.BIF", "/sftp/in/2778_11202026.txt"]
)
def test_accepts_bid_mmddyyyy_names(name):
    assert len(run(parse, sample_bytes(SAMPLE), file_name=name, bid=2778)) == 4


@pytest.mark.parametrize(
    "name, message",
    [
        ("2661_11202026.BIF", "names BID 2661"),
        ("2778.BIF", "naming convention"),
        ("2778_2026-11-20.BIF", "naming convention"),
        ("2778_13202026.BIF", "not a date"),
    ],
)
def test_rejects_a_name_for_another_biller_or_off_convention(name, message):
    with pytest.raises(FileRejected) as caught:
        run(parse, sample_bytes(SAMPLE), file_name=name, bid=2778)
    [error] = caught.value.errors
    assert (error.line, error.field) == (0, "file_name") and message in error.message


def test_rejects_non_utf8_bytes_naming_the_line():
    data = sample_bytes(SAMPLE).replace(b"JOHN Q SAMPLE", b"JOHN Q SAMPL\xc9")
    with pytest.raises(FileRejected) as caught:
        run(parse, data, file_name=SAMPLE, bid=2778)
    assert [(e.line, e.field) for e in caught.value.errors] == [(3, "encoding")]


def test_utf8_names_are_read():
    data = sample_bytes(SAMPLE).replace(b"JOHN Q SAMPLE", "JO\u00c3O PE\u00d1A".encode())
    [first, *_] = run(parse, data, file_name=SAMPLE, bid=2778)
    assert first.customer["CustomerName"] == "JO\u00c3O PE\u00d1A"


def test_a_bad_invoice_is_reported_and_the_others_are_kept():
    data = sample_bytes(SAMPLE).replace(b"|11/01/2026|11/21/2026|241.73|", b"|11/01/2026|11/31/2026|241.73|")
    records = run(parse, data, file_name=SAMPLE, bid=2778)
    assert [type(r) for r in records] == [BifInvoice, InvalidInvoice, BifInvoice, BifInvoice]
    assert [(e.line, e.field, e.value) for e in records[1].errors] == [(7, "InvoiceDueDate", "11/31/2026")]


def test_only_invoice_files():
    with pytest.raises(ValueError):
        run(parse, sample_bytes(SAMPLE), file_name=SAMPLE, bid=2778, kind="balances")


def test_generated_file_parses_back_to_the_same_count_and_total(tmp_path):
    path = tmp_path / "2778_11202026.BIF"
    count, total = daffron_bif(path, 2_000)
    records = run(parse, path.read_bytes(), file_name=path.name, bid=2778)
    assert all(isinstance(r, BifInvoice) for r in records)
    assert (len(records), sum(r.total_amount_due for r in records)) == (count, total)
    assert all(len(r.details) == 3 and r.customer["CustomerName"] for r in records)
    assert all(
        sum(Decimal(d["CustomField10"]) for d in r.details) == r.total_amount_due for r in records[:50]
    )
