"""FlexiBill fixed-width invoices (.BIF/.BRF): the layout table, the seed's rules, errors."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest

from bench.gen_invoices import flexibill_bif
from partners.bif import IH_FIELDS, BifInvoice, FileRejected, InvalidInvoice, write_bif
from partners.bif_reader import read_bif
from partners.flexibill import layout
from partners.flexibill.invoices import normalize_amount, parse
from partners.flexibill.layout import DETAIL, HDR, format_record

from .conftest import SAMPLES, run, sample_bytes

BIF, BRF = "flexibill_4411.BIF", "flexibill_4411.BRF"


def parse_sample(name: str = BIF, **kwargs) -> list:
    kind = "replacements" if name.endswith(".BRF") else "invoices"
    return run(parse, sample_bytes(name), file_name=name, bid=4411, kind=kind, **kwargs)


def hdr_line(**values: str) -> str:
    base = {
        "RecordID": "HDR",
        "Account": "0001",
        "CoDiv": "MCS",
        "BillID": "77",
        "BillDate": "11/01/2026",
        "DueDate": "11/21/2026",
        "Amount": "10.00",
        "BillToName": "JANE DOE",
    }
    return format_record(HDR, {**base, **values})


def d_line(**values: str) -> str:
    return format_record(DETAIL, {"RecordID": "D", **values}).rstrip()


def parse_lines(*lines: str, name: str = BIF) -> list:
    return run(
        parse,
        ("\n".join(lines) + "\n").encode(),
        file_name=name,
        bid=4411,
        kind="replacements" if name.endswith("BRF") else "invoices",
    )


def test_layout_follows_the_seed_table_order_and_limits():
    widths = {f.name: f.width for f in HDR}
    assert [f.name for f in HDR[:8]] == [
        "RecordID",
        "Account",
        "CoDiv",
        "BillID",
        "BillDate",
        "DueDate",
        "Amount",
        "LineID",
    ]
    assert widths["Account"] + widths["CoDiv"] == 20 and widths["BillID"] == 10
    assert (widths["Location"], widths["BillToName"], widths["AutoPayMessage"], widths["State"]) == (
        40,
        35,
        50,
        2,
    )
    assert (
        widths["UserDefined7"],
        widths["UserDefined8"],
        widths["TaxAmount6"],
        widths["DelinquentMessage"],
    ) == (30, 15, 7, 30)
    assert [f.name for f in HDR[-4:]] == ["DiscountAmount", "DiscountDate", "Active", "EmailAddress"]
    assert layout.HDR_WIDTH == sum(widths.values()) == 1143
    copied = [target for f in HDR for target in f.maps_to]
    assert len(copied) == len(set(copied))
    assert {f"Custom{n}" for n in range(1, 61)} <= set(copied)
    details = [target for f in DETAIL for target in f.maps_to]
    assert sorted(details) == sorted(f"CustomField{n}" for n in range(1, 85) if n != 42)
    assert next(f for f in DETAIL if f.maps_to == ("CustomField39",)).name == "PreviousReadDate13"


def test_positions_are_contiguous():
    for fields in (HDR, DETAIL):
        spans = layout.positions(fields)
        assert spans[0][1] == 1
        assert all(b[1] == a[2] + 1 for a, b in pairwise(spans))


def test_rules_beside_the_table():
    v = {
        "Account": "0004411001",
        "CoDiv": "MCS",
        "BillID": "0000091234",
        "BillDate": "11/01/2026",
        "BillToName": "A",
        "BillToName2": "B",
        "DiscountAmount": "1.58",
        "DiscountDate": "11/11/2026",
    }
    assert layout.invoice_number(v) == "0004411001MCS0000091234"
    assert layout.account_number(v) == "0004411001MCS"
    assert (layout.customer_name(v), layout.customer_name2(v)) == ("A", "B")
    assert (
        layout.customer_name({**v, "BillToName": ""}),
        layout.customer_name2({**v, "BillToName": ""}),
    ) == ("B", "")
    assert layout.biller_invoice_number(v) == "4411001"
    assert layout.biller_invoice_number({**v, "Account": "0000000"}) == ""
    assert (layout.prompt_pay_discount_amount(v), layout.prompt_pay_expiration_date(v)) == (
        "1.58",
        "11/11/2026",
    )
    for zero in ("0.00", "0", ""):
        assert layout.prompt_pay_discount_amount({**v, "DiscountAmount": zero}) == ""
        assert layout.prompt_pay_expiration_date({**v, "DiscountAmount": zero}) == ""
    assert layout.invoice_type_id(v) == "42"
    assert (layout.biller_installment_number(v), layout.biller_bill_year(v)) == ("261101", "2026")
    assert (layout.record_type("invoices"), layout.record_type("replacements")) == ("N", "R")


def test_sample_first_invoice_exact_values():
    first = parse_sample()[0]
    assert isinstance(first, BifInvoice) and first.line == 1
    h, c = first.header, first.customer
    assert (
        h["RecordType"],
        h["InvoiceNumber"],
        h["InvoiceDate"],
        h["InvoiceDueDate"],
        h["TotalAmountDue"],
    ) == ("N", "0004411001MCS0000091234", "11/01/2026", "11/21/2026", "158.37")
    assert (h["Custom1"], h["Custom2"], h["Custom3"], h["Custom4"], h["Custom5"]) == (
        "1",
        "0004411001",
        "1201 S MACARTHUR BLVD",
        "11/01/2026",
        "11/21/2026",
    )
    assert (h["Custom6"], h["Custom7"], h["Custom8"], h["Custom9"], h["Custom10"]) == (
        "09/30/2026",
        "10/29/2026",
        "158.37",
        "142.10",
        "158.37",
    )
    assert (h["BalanceDue"], h["Custom11"], h["Custom13"], h["Custom25"], h["Custom24"]) == (
        "158.37",
        "166.29",
        "ROBERT L HENDERSON",
        "SUSAN HENDERSON",
        "PAY BY 11/11 AND SAVE 1%",
    )
    assert (h["Custom41"], h["Custom42"], h["Custom47"], h["Custom48"], h["Active"]) == (
        "10/14/2026",
        "142.10",
        "ST",
        "4.61",
        "Y",
    )
    assert (h["PromptPayDiscountAmount"], h["PromptPayExpirationDate"]) == ("1.58", "11/11/2026")
    assert (
        h["InvoiceTypeID"],
        h["BillerInstallmentNumber"],
        h["BillerBillYear"],
        h["BillerInvoiceNumber"],
    ) == ("42", "261101", "2026", "4411001")
    assert (c["AccountNumber"], c["CustomerName"], c["CustomerName2"], c["DisplayAccountNumber"]) == (
        "0004411001MCS",
        "ROBERT L HENDERSON",
        "SUSAN HENDERSON",
        "0004411001",
    )
    assert (c["Address1"], c["City"], c["State"], c["Zip"], c["EmailAddress"]) == (
        "1201 S MACARTHUR BLVD",
        "SPRINGFIELD",
        "IL",
        "62704",
        "rhenderson@example.com",
    )
    assert set(h) <= set(IH_FIELDS)
    electric = first.details[0]
    assert (
        electric["CustomField1"],
        electric["CustomField2"],
        electric["CustomField3"],
        electric["CustomField10"],
    ) == ("1", "0004411001MCS", "ELECTRIC", "112.46")
    assert (electric["CustomField14"], electric["CustomField15"], electric["CustomField41"]) == (
        "774",
        "09/29/2026",
        "09/30/2026",
    )
    assert (electric["CustomField43"], electric["CustomField84"]) == ("10/29/2026", "101.20")
    assert [d["CustomField10"] for d in first.details] == ["112.46", "41.30", "4.61"]


def test_sample_rules_on_the_other_invoices():
    _, no_name, zeros, autopay = parse_sample()
    # BillToName empty: CustomerName falls back to BillToName2, no CustomerName2; discount 0: no prompt pay.
    assert (
        no_name.customer["CustomerName"] == "LAKESHORE RENTALS LLC"
        and "CustomerName2" not in no_name.customer
    )
    assert "PromptPayDiscountAmount" not in no_name.header and "PromptPayExpirationDate" not in no_name.header
    assert no_name.total_amount_due == Decimal("64.05") and no_name.header["TotalAmountDue"] == "64.05"
    assert no_name.customer["Address2"] == "UNIT 12" and no_name.line == 5
    # Account all zeros: BillerInvoiceNumber not saved; blank discount: no prompt pay.
    assert "BillerInvoiceNumber" not in zeros.header and zeros.header["TotalAmountDue"] == "23.50"
    assert zeros.invoice_number == "0000000000MCS0000091236" and zeros.line == 8
    assert "PromptPayDiscountAmount" not in zeros.header
    assert autopay.header["Custom19"] == "DO NOT PAY - AUTOPAY WILL DRAFT ON 11/18/2026"
    assert autopay.header["PromptPayDiscountAmount"] == "0.98" and len(autopay.details) == 2


def test_replacement_file_has_record_type_r_and_no_prior_due():
    [invoice] = parse_sample(BRF)
    assert isinstance(invoice, BifInvoice) and invoice.record_type == "R"
    assert invoice.header["Custom21"] == "CORRECTED BILL - METER RE-READ"
    assert all("CustomField84" not in d for d in invoice.details)
    assert [d["CustomField10"] for d in invoice.details] == ["103.46", "41.30", "4.61"]


def test_mapped_invoices_write_as_canonical_bif_and_read_back():
    invoices = parse_sample()
    out = io.StringIO()
    write_bif(invoices, out, biller_guid="G", created=date(2026, 11, 20))
    again = list(read_bif(out.getvalue().splitlines()))

    def filled(rows: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in rows.items() if v}

    assert [filled(a.header) for a in again] == [filled(b.header) for b in invoices]
    assert [filled(a.customer) for a in again] == [filled(b.customer) for b in invoices]
    assert [[filled(d) for d in a.details] for a in again] == [
        [filled(d) for d in b.details] for b in invoices
    ]


@pytest.mark.parametrize(
    "values, field",
    [
        ({"BillDate": "2026-11-01"}, "BillDate"),
        ({"DueDate": "11/31/2026"}, "DueDate"),
        ({"Amount": "12,50"}, "Amount"),
        ({"BalanceDue": "ABC"}, "BalanceDue"),
        ({"DiscountAmount": "1.5.0"}, "DiscountAmount"),
    ],
)
def test_a_bad_value_names_line_field_and_columns_once(values, field):
    good, record = parse_lines(hdr_line(BillToName="A"), hdr_line(**values), d_line(LineID="1"))
    assert isinstance(good, BifInvoice)
    assert isinstance(record, InvalidInvoice) and record.line == 2
    assert [(e.line, e.field) for e in record.errors] == [(2, field)]
    assert "columns" in record.errors[0].message


def test_missing_names_make_customer_name_required():
    [record] = parse_lines(hdr_line(BillToName="", BillToName2=""))
    assert [(e.line, e.field) for e in record.errors] == [(1, "CustomerName")]


def test_a_record_longer_than_the_layout_is_invalid():
    [record] = parse_lines(hdr_line(), d_line(LineID="1").ljust(layout.DETAIL_WIDTH) + "EXTRA")
    assert [(e.line, e.field) for e in record.errors] == [(2, "RecordID")]


def test_an_unknown_record_invalidates_its_invoice_only():
    first, second = parse_lines(hdr_line(), "XYZ garbage", d_line(LineID="1"), hdr_line(BillID="78"))
    assert isinstance(first, InvalidInvoice) and first.lines[1] == "XYZ garbage"
    assert [(e.line, e.field) for e in first.errors] == [(2, "RecordID")]
    assert isinstance(second, BifInvoice) and second.line == 4


def test_rejects_a_detail_before_any_header():
    with pytest.raises(FileRejected) as caught:
        parse_lines("", d_line(LineID="1"), hdr_line())
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "RecordID")]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("flexibill_2778.BIF", "invoices"),
        ("flexibill_4411.BRF", "invoices"),
        ("flexibill_4411.BIF", "replacements"),
        ("flexibill_4411", "invoices"),
        ("4412_20261120.BIF", "invoices"),
    ],
)
def test_rejects_another_biller_or_the_wrong_extension(name, kind):
    with pytest.raises(FileRejected) as caught:
        run(parse, sample_bytes(BIF), file_name=name, bid=4411, kind=kind)
    assert [(e.line, e.field) for e in caught.value.errors] == [(0, "file_name")]


def test_names_without_a_bid_are_accepted():
    assert len(run(parse, sample_bytes(BIF), file_name="FLEXBILLS.bif", bid=4411)) == 4


def test_rejects_non_utf8_bytes():
    data = sample_bytes(BIF).replace(b"ANNA NGUYEN", b"ANNA NGUY\xc8N")
    with pytest.raises(FileRejected) as caught:
        run(parse, data, file_name=BIF, bid=4411)
    assert [(e.line, e.field) for e in caught.value.errors] == [(10, "encoding")]


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        run(parse, sample_bytes(BIF), file_name=BIF, bid=4411, kind="balances")


def test_normalize_amount():
    assert [normalize_amount(v) for v in ("158.37", "000000000064.05", "-12.5", "+3", "0", "1.234", "")] == [
        "158.37",
        "64.05",
        "-12.50",
        "3.00",
        "0.00",
        None,
        None,
    ]


def test_generated_file_parses_back_with_the_rules_applied(tmp_path):
    path = tmp_path / "flexibill_4411.BIF"
    count, total = flexibill_bif(path, 700)
    records = run(parse, path.read_bytes(), file_name=path.name, bid=4411)
    assert all(isinstance(r, BifInvoice) for r in records)
    assert (len(records), sum(r.total_amount_due for r in records)) == (count, total)
    assert all(len(r.details) == 3 for r in records)
    fallback = records[7]
    assert (
        fallback.customer["CustomerName"] == fallback.header["Custom25"] and "Custom13" not in fallback.header
    )
    assert records[3].header["PromptPayDiscountAmount"] and "PromptPayDiscountAmount" not in records[4].header
    assert {r.header["InvoiceTypeID"] for r in records} == {"42"}


def test_docs_tables_match_the_layout():
    text = (SAMPLES.parent / "bif.md").read_text()
    for title, fields in (("### HDR record", HDR), ("### D record", DETAIL)):
        table = text.split(title, 1)[1].split("\n\n", 2)[1]
        rows = [line.split("|")[1:5] for line in table.splitlines()[2:]]
        documented = [(name.strip(), cols.strip(), int(width)) for _, name, cols, width in rows]
        assert documented == [(f.name, f"{a}-{b}", f.width) for f, a, b in layout.positions(fields)]


def test_the_quick_validity_check_never_passes_what_the_full_check_refuses():
    from partners.bif import invoice_errors
    from partners.flexibill.invoices import _valid

    first = parse_sample()[0]
    assert _valid(first.header, first.customer) and invoice_errors(first) == []
    long_amount = "1234567890123.00"  # a FlexiBill amount may have 15 digits, a BIF one 12
    changes = [
        *({"header": {name: None}} for name in ("InvoiceNumber", "InvoiceDate", "InvoiceDueDate", "TotalAmountDue")),
        *({"customer": {name: None}} for name in ("AccountNumber", "CustomerName")),
        *({"header": {name: long_amount}} for name in ("TotalAmountDue", "BalanceDue", "PromptPayDiscountAmount")),
        {"customer": "empty"},
    ]
    for change in changes:
        header, customer = dict(first.header), dict(first.customer)
        for target, values in (("header", header), ("customer", customer)):
            if change.get(target) == "empty":
                values.clear()
                continue
            for name, value in change.get(target, {}).items():
                values.pop(name) if value is None else values.__setitem__(name, value)
        invoice = BifInvoice(first.line, header, customer, first.details)
        assert not _valid(header, customer), change
        assert invoice_errors(invoice), change


def test_an_amount_too_long_for_the_bif_makes_the_invoice_invalid():
    [record] = parse_lines(hdr_line(Amount="1234567890123"))
    assert isinstance(record, InvalidInvoice)
    assert [(e.line, e.field) for e in record.errors] == [(1, "TotalAmountDue")]


@pytest.mark.parametrize("kind", ["invoices", "replacements"])
def test_d_records_become_stored_detail_rows_as_their_dicts_would(kind):
    from partners.bif import ID_FIELDS, packed
    from partners.flexibill.invoices import _D_TARGETS, _EXCLUDED, _STORED_PLANS, DETAIL, _stored_detail

    for width in (2, 11, 13, 21, 42, 43, len(DETAIL)):  # D records may stop early
        for blank in (set(), {3, 12, 13, 41, len(DETAIL) - 1}, set(range(5, len(DETAIL)))):
            picked = ["" if i in blank else f"v{i}" for i in range(width)]
            named = {target: value for target, value in zip(_D_TARGETS, picked)
                     if target and value and target not in _EXCLUDED[kind]}
            assert _stored_detail(list(picked), _STORED_PLANS[kind]) == packed(named, ID_FIELDS), (width, blank)
