"""Row building and record counting, without the database."""
from __future__ import annotations

import io

import pytest

from billers.loading_rows import CustomizationError, Customizations, stored_values
from exchanges.intake_formats import count_records
from partners.bif import CR_FIELDS, ID_FIELDS, named, packed
from partners.bif_reader import read_bif
from tests.exchanges.conftest import SAMPLES


def test_fast_path_over_split_rows_matches_the_public_dicts():
    text = (SAMPLES / "daffron_2778_11202026.BIF").read_text().splitlines(keepends=True)
    lazy = list(read_bif(text))
    touched = list(read_bif(text))
    for invoice in touched:
        invoice.header, invoice.customer, invoice.details  # noqa: B018 - builds the dicts
    assert lazy[0]._header is None and touched[0]._header is not None
    for fast, slow in zip(lazy, touched):
        assert stored_values(fast) == stored_values(slow)
    header, customer, details = stored_values(lazy[0])
    assert "RowType" not in header and customer[0] == "12345-01" and details[0][0] == "1"
    assert header["Custom9"] == "458213" and "Custom1" not in header  # empty values left out
    assert details[2] == ["3", "12345-01", "REFUSE", "RF", "", "", "", "", "", "8.75"]  # in column order
    assert named(customer, CR_FIELDS) == touched[0].customer
    assert [named(row, ID_FIELDS) for row in details] == touched[0].details


def test_records_are_stored_in_column_order_without_trailing_empty_values():
    record = {"CustomField3": "WATER", "CustomField1": "2", "CustomField10": "", "CustomField5": ""}
    assert packed(record, ID_FIELDS) == ["2", "", "WATER"]
    assert named(packed(record, ID_FIELDS), ID_FIELDS) == {"CustomField1": "2", "CustomField3": "WATER"}
    assert packed({}, CR_FIELDS) == [] and packed({"Phone": ""}, CR_FIELDS) == []
    with pytest.raises(KeyError):
        packed({"NotACustomerField": "x"}, CR_FIELDS)


def test_parsers_mark_headers_with_no_empty_value_and_only_those_skip_the_filter(tmp_path):
    from bench.gen_invoices import flexibill_bif
    from partners.bif import BifInvoice
    from partners.flexibill.invoices import parse

    path = tmp_path / "flexibill_4411.BIF"
    flexibill_bif(path, 300)
    with open(path, "rb") as stream:
        invoices = list(parse(stream, file_name=path.name, bid=4411))
    assert invoices and all(invoice.compact for invoice in invoices)
    for invoice in invoices:  # what the flag promises
        assert all(invoice.header.values()) and all(invoice.customer.values())
        assert all(all(detail.values()) for detail in invoice.details)
    header, customer, details = stored_values(invoices[0])
    assert header is invoices[0].header
    assert named(customer, CR_FIELDS) == invoices[0].customer
    assert [named(row, ID_FIELDS) for row in details] == invoices[0].details
    with open(path, "rb") as stream:
        fresh = next(iter(parse(stream, file_name=path.name, bid=4411)))
    assert fresh._details is None  # FlexiBill makes detail rows in stored form, their dicts only on demand
    assert stored_values(fresh)[2] is fresh._stored_details
    fresh.details[0]["CustomField3"] = "CHANGED"  # the dicts built and changed: they are what is stored
    assert stored_values(fresh)[2][0][2] == "CHANGED"
    unmarked = BifInvoice(1, {"InvoiceNumber": "7", "Custom1": ""}, {"City": ""}, [{"CustomField1": ""}])
    assert not unmarked.compact
    assert stored_values(unmarked) == ({"InvoiceNumber": "7"}, [], [[]])


def test_customizations_are_checked_and_applied():
    custom = Customizations.build([("PaymentExpirationDate", "-3"), ("InvoiceDueDate", "20"),
                                   ("PromptPayExpirationDate", "12/01/2026"), ("AllowPartialPayments", "N"),
                                   ("LateFeeDate", "")])
    header = {"InvoiceDate": "11/01/2026", "InvoiceDueDate": "11/15/2026"}
    custom.apply(header)
    assert header == {"InvoiceDate": "11/01/2026", "InvoiceDueDate": "11/21/2026",
                      "PaymentExpirationDate": "11/18/2026", "PromptPayExpirationDate": "12/01/2026",
                      "AllowPartialPayments": "N"}
    for name, value in [("InvoiceTypeID", "x7"), ("MinimumAmountDue", "1,00"), ("BalanceForward", "maybe"),
                        ("InvoiceDate", "2026-11-01"), ("InvoiceFormatGuid", "g" * 41)]:
        with pytest.raises(CustomizationError, match=name):
            Customizations.build([(name, value)])
    assert not Customizations.build([])


@pytest.mark.parametrize(("data", "needle", "expected"), [
    (b"FH|x\nIH|1\nCR|a\nIH|2\nID|IH|\n", b"\nIH|", 2),
    (b"HDR1\nD  1\nHDR2", b"\nHDR", 2),
    (b"<billheaders>\n  <bill>\n  </bill><bill>x</bill></billheaders>", b"<bill>", 2),
    (b"a|b\nc|d", None, 2),
    (b"a|b\nc|d\n", None, 2),
    (b"", b"\nIH|", 0),
])
def test_count_records(data, needle, expected, monkeypatch):
    import exchanges.intake_formats as formats

    monkeypatch.setattr(formats, "CHUNK", 3)  # markers split across chunks are still found once
    assert count_records(io.BytesIO(data), needle) == expected
