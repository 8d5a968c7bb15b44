"""AUS invoice TXT: delimited columns declared by a mapping table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partners.aus.invoices import DEFAULT_MAPPING, ColumnMap, parse, validate_mapping
from partners.bif import BifInvoice, FileRejected, InvalidInvoice
from partners.bif_fields import CR, ID, IH

from .conftest import run, sample_bytes

SAMPLE = "123_20261120_UB.TXT"
GOOD = (
    "004512-001|004512|001|PATRICIA OWENS|1400 HARBOR VIEW DR||MOUNT PLEASANT|SC|29464|8435550142|"
    "p@example.com|UB-1|11/20/2026|12/10/2026|187.42|0.00|187.42|N|N|1400 HARBOR VIEW DR|C04|WATER|M1|1|2|1|187.42"
)


def parse_text(*lines: str, **kwargs) -> list:
    return run(
        parse,
        ("\n".join(lines) + "\n").encode(),
        file_name=kwargs.pop("file_name", SAMPLE),
        bid=123,
        **kwargs,
    )


def replace(line: str, column: int, value: str) -> str:
    cells = line.split("|")
    cells[column - 1] = value
    return "|".join(cells)


def test_sample_parses_to_exact_values():
    records = run(parse, sample_bytes(SAMPLE), file_name=SAMPLE, bid=123)
    assert all(isinstance(r, BifInvoice) for r in records) and [r.line for r in records] == [1, 2, 3, 4]
    first, dental, butler, hoa = records
    assert first.header == {
        "RecordType": "N",
        "Custom2": "004512",
        "Custom3": "001",
        "InvoiceNumber": "UB-2026-1120-0001",
        "InvoiceDate": "11/20/2026",
        "InvoiceDueDate": "12/10/2026",
        "TotalAmountDue": "187.42",
        "PastDue": "0.00",
        "BalanceDue": "187.42",
        "Custom4": "1400 HARBOR VIEW DR",
        "Custom5": "C04",
    }
    assert first.customer == {
        "AccountNumber": "004512-001",
        "CustomerName": "PATRICIA OWENS",
        "Address1": "1400 HARBOR VIEW DR",
        "City": "MOUNT PLEASANT",
        "State": "SC",
        "Zip": "29464",
        "Phone": "8435550142",
        "EmailAddress": "powens@example.com",
        "BlockPaymentsCC": "N",
        "BlockPaymentsACH": "N",
    }
    assert first.details == [
        {
            "CustomField3": "WATER",
            "CustomField5": "MTR-33410",
            "CustomField7": "41820",
            "CustomField6": "42377",
            "CustomField9": "557",
            "CustomField10": "187.42",
        }
    ]
    assert first.invoice_date == date(2026, 11, 20) and first.total_amount_due == Decimal("187.42")
    # 356/357 given as 1/0 and Y/Y
    assert (dental.customer["BlockPaymentsCC"], dental.customer["BlockPaymentsACH"]) == ("Y", "N")
    assert dental.customer["Address2"] == "SUITE 300" and dental.header["PastDue"] == "96.40"
    assert (butler.customer["BlockPaymentsCC"], butler.customer["BlockPaymentsACH"]) == ("Y", "Y")
    assert butler.details == [{"CustomField3": "SEWER", "CustomField10": "64.15"}]
    assert (hoa.block_payments("BlockPaymentsCC"), hoa.block_payments("BlockPaymentsACH")) == (False, True)
    assert hoa.details == [] and "PastDue" not in hoa.header


def test_dates_in_iso_or_compact_form_become_bif_dates():
    [invoice] = parse_text(replace(replace(GOOD, 13, "2026-11-20"), 14, "20261210"))
    assert (invoice.header["InvoiceDate"], invoice.header["InvoiceDueDate"]) == ("11/20/2026", "12/10/2026")


@pytest.mark.parametrize(
    "column, value, field",
    [
        (13, "11/31/2026", "InvoiceDate"),
        (14, "Dec 10", "InvoiceDueDate"),
        (15, "187,42", "TotalAmountDue"),
        (16, "n/a", "PastDue"),
        (18, "maybe", "BlockPaymentsCC"),
        (19, "2", "BlockPaymentsACH"),
        (1, "", "AccountNumber"),
        (4, "", "CustomerName"),
        (12, "", "InvoiceNumber"),
        (15, "", "TotalAmountDue"),
    ],
)
def test_a_bad_or_missing_value_names_line_and_field(column, value, field):
    good, bad = parse_text(GOOD, replace(GOOD, column, value))
    assert isinstance(good, BifInvoice)
    assert isinstance(bad, InvalidInvoice) and bad.lines == [replace(GOOD, column, value)]
    assert [(e.line, e.field) for e in bad.errors] == [(2, field)]


def test_extra_columns_are_an_error_and_missing_trailing_ones_are_empty():
    [bad] = parse_text(GOOD + "|surplus")
    assert [(e.line, e.field) for e in bad.errors] == [(1, "columns")]
    [short] = parse_text("|".join(GOOD.split("|")[:19]))
    assert isinstance(short, BifInvoice) and short.details == []


def test_a_biller_mapping_and_delimiter():
    mapping = [
        ColumnMap(1, "InvoiceNumber", IH),
        ColumnMap(2, "AccountNumber", CR),
        ColumnMap(3, "CustomerName", CR),
        ColumnMap(4, "InvoiceDate", IH),
        ColumnMap(5, "InvoiceDueDate", IH),
        ColumnMap(6, "", IH),
        ColumnMap(7, "TotalAmountDue", IH),
        ColumnMap(8, "RecordType", IH),
        ColumnMap(9, "CustomField10", ID),
    ]
    [invoice] = parse_text(
        "I-9;A-9;ANN LEE;11/01/2026;11/20/2026;ignored;12.00;R;12.00", mapping=mapping, delimiter=";"
    )
    assert invoice.record_type == "R" and invoice.details == [{"CustomField10": "12.00"}]
    assert "ignored" not in invoice.header.values()


@pytest.mark.parametrize(
    "mapping",
    [
        [ColumnMap(1, "InvoiceNumber", IH), ColumnMap(1, "AccountNumber", CR)],
        [ColumnMap(0, "InvoiceNumber", IH)],
        [ColumnMap(1, "Nope", IH)],
        [ColumnMap(1, "AccountNumber", IH)],
        [ColumnMap(1, "InvoiceNumber", IH), ColumnMap(2, "InvoiceNumber", IH)],
        [],
    ],
)
def test_a_bad_mapping_is_refused(mapping):
    with pytest.raises(ValueError):
        validate_mapping(mapping)


def test_default_mapping_covers_the_required_fields_and_356_357():
    validate_mapping(DEFAULT_MAPPING)
    mapped = {m.bif_field for m in DEFAULT_MAPPING}
    assert {
        "InvoiceNumber",
        "InvoiceDate",
        "InvoiceDueDate",
        "TotalAmountDue",
        "AccountNumber",
        "CustomerName",
        "BlockPaymentsCC",
        "BlockPaymentsACH",
        "Custom2",
        "Custom3",
        "PastDue",
    } <= mapped


@pytest.mark.parametrize(
    "name, message",
    [
        ("124_20261120_UB.TXT", "names BID 124"),
        ("123_UB.TXT", "naming convention"),
        ("123_20261120_UB.CSV", "naming convention"),
        ("billheader_20261120.xml", "naming convention"),
    ],
)
def test_rejects_another_biller_or_a_name_off_convention(name, message):
    with pytest.raises(FileRejected) as caught:
        run(parse, sample_bytes(SAMPLE), file_name=name, bid=123)
    [error] = caught.value.errors
    assert (error.line, error.field) == (0, "file_name") and message in error.message


def test_accepts_timestamped_names_in_any_case():
    assert len(run(parse, sample_bytes(SAMPLE), file_name="in/123_20261120235959_ub.txt", bid=123)) == 4


def test_rejects_non_utf8_bytes():
    with pytest.raises(FileRejected) as caught:
        run(
            parse,
            (GOOD + "\n" + GOOD.replace("OWENS", "OW\u00c9NS") + "\n").encode("latin-1"),
            file_name=SAMPLE,
            bid=123,
        )
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "encoding")]
