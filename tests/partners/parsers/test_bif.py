"""The canonical pipe BIF: reading, validating, writing, decoding."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from partners.bif import (
    CR_FIELDS,
    ID_FIELDS,
    IH_FIELDS,
    BifInvoice,
    FileRejected,
    InvalidInvoice,
    decode_lines,
    invoice_errors,
    normalize_date,
    normalize_flag,
    parse_amount,
    parse_date,
    write_bif,
)
from partners.bif_fields import layout
from partners.bif_reader import read_bif

from .conftest import sample_bytes


def row(row_type: str, names: tuple[str, ...], **values: str) -> str:
    """One BIF row with ``values`` by field name, trailing empty columns omitted."""
    return "|".join([row_type, *(values.get(name, "") for name in names)]).rstrip("|")


def ih(**values: str) -> str:
    base = {
        "RecordType": "N",
        "InvoiceNumber": "INV-1",
        "InvoiceDate": "11/01/2026",
        "InvoiceDueDate": "11/21/2026",
        "TotalAmountDue": "10.00",
    }
    return row("IH", IH_FIELDS, **{**base, **values})


def cr(**values: str) -> str:
    return row("CR", CR_FIELDS, **{"AccountNumber": "A-1", "CustomerName": "JANE DOE", **values})


def detail(**values: str) -> str:
    return row("ID", ID_FIELDS, **values)


def bif(*rows: str, count: int | None = None, total: str | None = None) -> list[str]:
    """A BIF file's lines: FH (count/total computed from the IH rows unless given) and ``rows``."""
    headers = [r.split("|") for r in rows if r.startswith("IH|")]
    if count is None:
        count = len(headers)
    if total is None:
        total = str(sum(parse_amount(h[6]) or 0 for h in headers if len(h) > 6))
    return [f"FH|GUID-1|11/20/2026|{count}|{total}", *rows]


def read(lines: list[str]) -> list:
    return list(read_bif(lines, file_name="t.BIF"))


def only_errors(lines: list[str]) -> list:
    [record] = read(lines)
    assert isinstance(record, InvalidInvoice)
    return record.errors


def test_columns_follow_the_catalogue_layout():
    assert ("RowType", *IH_FIELDS) == tuple(layout()["IH"])
    assert ("RowType", *CR_FIELDS) == tuple(layout()["CR"])
    assert ("RowType", *ID_FIELDS) == tuple(layout()["ID"])
    assert IH_FIELDS[:6] == (
        "RecordType",
        "InvoiceFormatGuid",
        "InvoiceNumber",
        "InvoiceDate",
        "InvoiceDueDate",
        "TotalAmountDue",
    )


def test_reads_an_invoice_with_its_customer_and_details():
    lines = bif(
        ih(Custom2="12345", PastDue="3.10"),
        cr(City="MANASSAS", BlockPaymentsCC="Y"),
        detail(CustomField1="1", CustomField10="6.00"),
        detail(CustomField1="2", CustomField10="4.00"),
    )
    [invoice] = read(lines)
    assert isinstance(invoice, BifInvoice)
    assert invoice.line == 2
    assert invoice.invoice_number == "INV-1"
    assert invoice.invoice_date == date(2026, 11, 1)
    assert invoice.due_date == date(2026, 11, 21)
    assert invoice.total_amount_due == Decimal("10.00")
    assert invoice.record_type == "N"
    assert invoice.account_number == "A-1"
    assert invoice.header["Custom2"] == "12345"
    assert invoice.header["PastDue"] == "3.10"
    assert invoice.customer["City"] == "MANASSAS"
    assert invoice.block_payments("BlockPaymentsCC") is True
    assert invoice.block_payments("BlockPaymentsACH") is None
    assert [d["CustomField10"] for d in invoice.details] == ["6.00", "4.00"]
    assert "RowType" not in invoice.header
    assert (invoice.value("Custom2"), invoice.value("City"), invoice.value("Custom60")) == (
        "12345",
        "MANASSAS",
        "",
    )


def test_value_reads_the_rows_without_building_the_dicts():
    [invoice] = read(bif(ih(Custom10="1-2"), cr(Zip="20110")))
    assert (invoice.value("Custom10"), invoice.value("Zip"), invoice.value("DisplayAccountNumber")) == (
        "1-2",
        "20110",
        "",
    )
    assert invoice._header is None and invoice._customer is None
    with pytest.raises(KeyError):
        invoice.value("CustomField1")
    eager = BifInvoice(1, {"Custom10": "1-2"}, {"Zip": "20110"}, [])
    assert (eager.value("Custom10"), eager.value("Zip"), eager.value("City")) == ("1-2", "20110", "")


def test_lazy_dicts_equal_the_same_invoice_built_from_dicts():
    lines = bif(ih(Custom9="9"), cr(), detail(CustomField3="WATER"))
    [lazy] = read(lines)
    eager = BifInvoice(lazy.line, dict(lazy.header), dict(lazy.customer), [dict(d) for d in lazy.details])
    assert lazy == eager
    assert invoice_errors(eager) == []


def test_a_list_of_lines_is_read_once():
    assert len(read(bif(ih(), cr(), ih(InvoiceNumber="INV-2"), cr()))) == 2


def test_trailing_empty_columns_may_be_omitted_and_blank_lines_and_crlf_are_accepted():
    lines = [
        line + "\r\n" for line in bif(ih(), cr(), "", "IH|N||INV-2|11/01/2026|11/21/2026|5.00", "CR|B-2|X")
    ]
    records = read(lines)
    assert [type(r) for r in records] == [BifInvoice, BifInvoice]
    assert records[1].header.get("Custom1", "") == ""


@pytest.mark.parametrize("make, field", [(ih, "IH"), (cr, "CR"), (detail, "ID")])
def test_an_extra_column_makes_the_invoice_invalid_naming_line_and_row(make, field):
    extra = {"IH": "PastDue", "CR": "DisplayAccountNumber", "ID": "CustomField84"}[field]
    bad = make(**{extra: "1.00"}) + "|surplus"
    rows = {"IH": [bad, cr()], "CR": [ih(), bad], "ID": [ih(), cr(), bad]}[field]
    errors = only_errors(bif(*rows))
    assert [(e.line, e.field) for e in errors] == [(rows.index(bad) + 2, field)]
    assert "columns" in errors[0].message


@pytest.mark.parametrize(
    "field, value",
    [
        ("InvoiceDate", "2026-11-01"),
        ("InvoiceDate", "02/30/2026"),
        ("InvoiceDueDate", "13/01/2026"),
        ("InvoiceDueDate", "1/5/2026"),
        ("TotalAmountDue", "12,50"),
        ("TotalAmountDue", "1e3"),
        ("TotalAmountDue", "12.345"),
        ("TotalAmountDue", "NaN"),
        ("TotalAmountDue", " 12.00"),
        ("BalanceDue", "abc"),
        ("PastDue", "$5.00"),
        ("PromptPayExpirationDate", "11/31/2026"),
        ("RecordType", "X"),
        ("TotalAmountDue", "\u0661\u0662.00"),
    ],
)
def test_a_bad_value_names_the_line_and_field(field, value):
    lines = bif(ih(**{field: value}), cr(), total="0" if field == "TotalAmountDue" else None)
    errors = only_errors(lines)
    assert [(e.line, e.field, e.value) for e in errors] == [(2, field, value)]


@pytest.mark.parametrize(
    "field",
    ["InvoiceNumber", "InvoiceDate", "InvoiceDueDate", "TotalAmountDue", "AccountNumber", "CustomerName"],
)
def test_a_missing_required_field_names_the_line_and_field(field):
    header, customer = (ih(**{field: ""}), cr()) if field not in CR_FIELDS else (ih(), cr(**{field: ""}))
    errors = only_errors(bif(header, detail(CustomField1="1"), customer))
    assert [(e.line, e.field, e.message) for e in errors] == [
        (4 if field in CR_FIELDS else 2, field, "required")
    ]


def test_an_invoice_without_customer_record_is_invalid():
    errors = only_errors(bif(ih(), detail(CustomField1="1")))
    assert [(e.line, e.field) for e in errors] == [(2, "CR")]


def test_a_bad_payment_block_flag_is_invalid():
    errors = only_errors(bif(ih(), cr(BlockPaymentsACH="maybe")))
    assert [(e.line, e.field) for e in errors] == [(3, "BlockPaymentsACH")]


def test_a_second_customer_record_and_an_unknown_row_type_invalidate_the_invoice():
    errors = only_errors(bif(ih(), cr(), cr(CustomerName="OTHER"), "XX|1|2"))
    assert [(e.line, e.field) for e in errors] == [(4, "CR"), (5, "RowType")]


def test_invalid_invoice_keeps_its_raw_lines_and_other_invoices_stay_valid():
    lines = bif(ih(InvoiceDate="bad"), cr(), detail(CustomField1="1"), ih(InvoiceNumber="INV-2"), cr())
    bad, good = read(lines)
    assert isinstance(bad, InvalidInvoice) and bad.line == 2 and bad.lines == lines[1:4]
    assert isinstance(good, BifInvoice) and good.line == 5


def test_rejects_file_with_wrong_invoice_count_after_yielding_the_invoices():
    records = []
    with pytest.raises(FileRejected) as caught:
        for record in read_bif(bif(ih(), cr(), count=2), file_name="x.BIF"):
            records.append(record)  # noqa: PERF402 - keep what came before the raise
    assert len(records) == 1
    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "InvoiceCount")]
    assert caught.value.permanent and "x.BIF" in str(caught.value)


def test_rejects_file_with_wrong_total():
    with pytest.raises(FileRejected) as caught:
        read(
            bif(
                ih(TotalAmountDue="10.00"),
                cr(),
                ih(InvoiceNumber="2", TotalAmountDue="5.5"),
                cr(),
                total="15.49",
            )
        )
    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "TotalInvoiceAmount")]


def test_totals_compare_as_decimals():
    records = read(
        bif(
            ih(TotalAmountDue="10.5"), cr(), ih(InvoiceNumber="2", TotalAmountDue="-0.50"), cr(), total="10.0"
        )
    )
    assert all(isinstance(r, BifInvoice) for r in records)


def test_total_is_not_compared_when_an_amount_is_invalid_but_the_count_is():
    records = read(bif(ih(TotalAmountDue="x"), cr(), total="99.00"))
    assert isinstance(records[0], InvalidInvoice)
    with pytest.raises(FileRejected):
        read(bif(ih(TotalAmountDue="x"), cr(), count=3, total="99.00"))


@pytest.mark.parametrize(
    "lines, line, field",
    [
        ([], 1, "RowType"),
        (["", ""], 2, "RowType"),
        (["IH|N||1|11/01/2026|11/21/2026|1.00"], 1, "RowType"),
        (["FH|G|11/20/2026|1|1.00", "CR|A|B"], 2, "RowType"),
        (["FH|G|11/20/2026|1|1.00", "ID|1"], 2, "RowType"),
        (["FH|G|11/20/2026|0|0", "FH|G|11/20/2026|0|0"], 2, "RowType"),
        (["FH|G|11/20/2026|x|1.00"], 1, "InvoiceCount"),
        (["FH|G|11/20/2026|1|1,00"], 1, "TotalInvoiceAmount"),
        (["FH|G|2026-11-20|1|1.00"], 1, "FileCreationDate"),
        (["FH||11/20/2026|1|1.00"], 1, "BillerGuid"),
        (["FH|G|11/20/2026|1|1.00|extra"], 1, "FH"),
        (
            [
                "FH|G|11/20/2026|1|1.00",
                "IH|N||1|11/01/2026|11/21/2026|1.00",
                "CR|A|B",
                "FH|G|11/20/2026|1|1.00",
            ],
            4,
            "RowType",
        ),
    ],
)
def test_rejects_broken_structure_naming_line_and_field(lines, line, field):
    with pytest.raises(FileRejected) as caught:
        read(lines)
    assert [(e.line, e.field) for e in caught.value.errors] == [(line, field)]


def test_an_empty_file_with_a_zero_header_is_fine():
    assert read(["FH|G|11/20/2026|0|0.00"]) == []


def test_decode_lines_rejects_bytes_that_are_not_utf8_naming_the_line():
    data = b"FH|G|11/20/2026|0|0\nIH|N||1|\n" + b"CR|A|Caf\xe9\n"
    with pytest.raises(FileRejected) as caught:
        list(decode_lines(io.BytesIO(data), "x.BIF"))
    [error] = caught.value.errors
    assert (error.line, error.field) == (3, "encoding")


def test_decode_lines_drops_a_bom_keeps_utf8_and_leaves_the_stream_open():
    stream = io.BytesIO("\ufeffFH|G\r\nCR|A|PE\u00d1A\n\nlast".encode())
    assert list(decode_lines(stream)) == ["FH|G", "CR|A|PE\u00d1A", "", "last"]
    assert not stream.closed


def test_decode_lines_rejects_a_line_without_end(monkeypatch):
    monkeypatch.setattr("partners.bif.MAX_LINE", 64)
    with pytest.raises(FileRejected) as caught:
        list(decode_lines(io.BytesIO(b"FH|G\n" + b"x" * 200)))
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "line")]


def test_write_bif_computes_the_header_and_reads_back_the_same_invoices():
    invoices = [r for r in read_bif(decode_lines(io.BytesIO(sample_bytes("daffron_2778_11202026.BIF"))))]
    out = io.StringIO()
    write_bif(invoices, out, biller_guid="GUID-9", created=date(2026, 11, 20))
    text = out.getvalue()
    assert text.splitlines()[0] == "FH|GUID-9|11/20/2026|4|473.60"
    assert read(text.splitlines(keepends=True)) == invoices
    assert text == sample_bytes("daffron_2778_11202026.BIF").decode().replace(
        "E7A1C2D4-5B6F-4A8B-9C0D-2778A1B2C3D4", "GUID-9"
    )


def test_write_bif_refuses_a_value_with_a_pipe_or_line_break():
    for value in ("A|B", "A\nB"):
        invoice = BifInvoice(1, {"RecordType": "N", "InvoiceNumber": value, "TotalAmountDue": "1.00"}, {}, [])
        with pytest.raises(ValueError):
            write_bif([invoice], io.StringIO(), biller_guid="G", created=date(2026, 1, 1))


def test_typed_accessors_raise_on_malformed_values():
    invoice = BifInvoice(1, {"InvoiceDate": "x", "TotalAmountDue": "1e5"}, {}, [])
    with pytest.raises(ValueError):
        _ = invoice.invoice_date
    with pytest.raises(ValueError):
        _ = invoice.total_amount_due


def test_value_helpers():
    assert parse_date("02/29/2028") == date(2028, 2, 29)
    assert parse_date("02/29/2027") is None
    assert parse_date("\u0661\u0661/01/2026") is None
    assert parse_amount("-0.5") == Decimal("-0.5")
    assert parse_amount("+1.00") is None and parse_amount("1.") is None and parse_amount(".5") is None
    assert normalize_date("2026-11-20") == "11/20/2026"
    assert normalize_date("20261120") == "11/20/2026"
    assert normalize_date("11/20/2026") == "11/20/2026"
    assert normalize_date("2026-13-01") is None and normalize_date("2026/11/20") is None
    assert [normalize_flag(v) for v in ("y", "1", "True", "no", "0", "", "maybe")] == [
        "Y",
        "Y",
        "Y",
        "N",
        "N",
        "",
        None,
    ]
