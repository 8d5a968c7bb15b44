"""Every partner's sample file in docs/samples loads through import_file with exact counts."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billers.models import Account, BifCustomizationDefinition, BillerCustomization, Invoice
from exchanges.models import Exchange

pytestmark = pytest.mark.django_db

SAMPLES = [
    ("daffron", "daffron_2778_11202026.BIF", 4, Decimal("473.60")),
    ("flexibill", "flexibill_4411.BIF", 4, None),
    ("aus", "123_20261120_UB.TXT", 4, None),
    ("cayenta", "billheader_20261120.xml", 3, Decimal("386.91")),
]


@pytest.mark.parametrize(("partner", "name", "count", "total"), SAMPLES)
def test_sample_invoice_file_loads_with_exact_counts(load_sample, partner, name, count, total):
    exchange = load_sample(partner, name)
    assert exchange.status == "succeeded", exchange.errors
    assert exchange.counts["invoices"] == count
    assert exchange.counts["accounts_created"] == count
    assert exchange.counts["accounts_updated"] == 0
    assert exchange.counts["rejected"] == 0
    assert exchange.errors == []
    assert exchange.progress_done == count and exchange.progress_total == count
    assert exchange.started_at and exchange.finished_at and exchange.finished_at >= exchange.started_at
    invoices = Invoice.objects.filter(biller=exchange.biller)
    assert invoices.count() == count
    if total is not None:
        assert sum(i.total_amount_due for i in invoices) == total


def test_inhance_uploads_canonical_bif(load_sample, tmp_path):
    source = (load_sample.__globals__["SAMPLES"] / "daffron_2778_11202026.BIF").read_bytes()
    path = tmp_path / "upload.bif"
    path.write_bytes(source)
    exchange = load_sample("inhance", path)
    assert (exchange.status, exchange.counts["invoices"]) == ("succeeded", 4)


def test_daffron_invoice_fields_are_stored(load_sample):
    load_sample("daffron", "daffron_2778_11202026.BIF")
    invoice = Invoice.objects.get(invoice_number="2210402458214")
    assert invoice.invoice_date == date(2026, 11, 1) and invoice.due_date == date(2026, 11, 21)
    assert invoice.total_amount_due == Decimal("241.73") and invoice.past_due == Decimal("48.10")
    assert invoice.invoice_format_guid == "BA1CEC36-997C-48E3-8406-437640EDFF84"
    assert invoice.header["Custom10"] == "22104-458214" and invoice.custom(2) == "22104"
    assert [d["CustomField3"] for d in invoice.detail_fields] == ["ELECTRIC", "WATER", "SEWER"]
    assert invoice.details[0] == ["1", "22104-02", "ELECTRIC", "RS1", "E0457702", "21980", "21105", "1", "875",
                                  "159.63"]  # stored in column order, the empty values at the end left out
    assert invoice.customer_fields["Address2"] == "APT 4B" and invoice.customer[:2] == ["22104-02", "MARIA ALVAREZ"]
    account = invoice.account
    assert (account.account_number, account.name, account.address2) == ("22104-02", "MARIA ALVAREZ", "APT 4B")
    assert account.block_cc is True and account.block_ach is False
    assert account.balance_source == "invoice file" and account.past_due == Decimal("48.10")
    assert Invoice.objects.get(invoice_number="3056701458102").record_type == "R"
    assert Invoice.objects.get(invoice_number="4120001458215").total_amount_due == Decimal("-12.40")


def test_flexibill_rules_and_typed_columns(load_sample):
    load_sample("flexibill", "flexibill_4411.BIF")
    invoice = Invoice.objects.get(invoice_number="0004411001MCS0000091234")
    assert invoice.invoice_type_id == 42 and invoice.balance_due == Decimal("158.37")
    assert invoice.header["BillerInstallmentNumber"] == "261101" and invoice.header["BillerBillYear"] == "2026"
    assert invoice.account.name == "ROBERT L HENDERSON" and invoice.account.name2 == "SUSAN HENDERSON"
    zeros = Invoice.objects.get(invoice_number="0000000000MCS0000091236")
    assert "BillerInvoiceNumber" not in zeros.header


def test_aus_blocks_and_customer_location_numbers(load_sample):
    load_sample("aus", "123_20261120_UB.TXT")
    blocks = {a.account_number: (a.block_cc, a.block_ach) for a in Account.objects.all()}
    assert blocks == {"004512-001": (False, False), "004513-002": (True, False), "004514-001": (True, True),
                      "004515-001": (False, True)}
    account = Account.objects.get(account_number="004513-002")
    assert (account.customer_number, account.location_number) == ("004513", "002")


def test_block_flags_absent_from_a_file_keep_their_values(load_sample, intake_biller, tmp_path):
    load_sample("daffron", "daffron_2778_11202026.BIF")
    Account.objects.filter(account_number="12345-01").update(block_ach=True)
    text = (load_sample.__globals__["SAMPLES"] / "daffron_2778_11202026.BIF").read_text()
    path = tmp_path / "2778_11212026.BIF"
    path.write_text(text.replace("jsample@example.com|N|||12345-01", "jsample@example.com||||12345-01"))
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded" and exchange.counts["accounts_updated"] == 4
    account = Account.objects.get(account_number="12345-01")
    assert (account.block_cc, account.block_ach) == (False, True)


def test_conveyance_new_tenant_name_replaces_the_old(load_sample, tmp_path):
    load_sample("daffron", "daffron_2778_11202026.BIF")
    text = (load_sample.__globals__["SAMPLES"] / "daffron_2778_11202026.BIF").read_text()
    path = tmp_path / "2778_12202026.BIF"
    path.write_text(text.replace("CR|12345-01|JOHN Q SAMPLE", "CR|12345-01|NEW TENANT LLC"))
    exchange = load_sample("daffron", path)
    assert exchange.status == "succeeded"
    assert exchange.counts["accounts_conveyed"] == 1 and exchange.counts["accounts_created"] == 0
    assert Account.objects.get(account_number="12345-01").name == "NEW TENANT LLC"
    assert Account.objects.filter(account_number="12345-01").count() == 1


def test_bif_customizations_apply_to_every_invoice(load_sample, intake_biller):
    biller = intake_biller("daffron")
    values = {"InvoiceFormatGuid": "11111111-2222-3333-4444-555555555555", "PaymentExpirationDate": "10",
              "PaymentExpirationMessage": "Call the office to pay", "MinimumAmountDue": "25.00",
              "AllowPartialPayments": "Y", "InvoiceTypeID": "7"}
    for name, value in values.items():
        BillerCustomization.objects.create(biller=biller, definition=BifCustomizationDefinition.objects.get(name=name),
                                           value=value)
    BillerCustomization.objects.create(biller=biller, value="1", enabled=False,
                                       definition=BifCustomizationDefinition.objects.get(name="BalanceForward"))
    exchange = load_sample("daffron", "daffron_2778_11202026.BIF")
    assert exchange.status == "succeeded"
    for invoice in Invoice.objects.filter(biller=biller):
        assert invoice.invoice_format_guid == values["InvoiceFormatGuid"]
        assert invoice.payment_expiration_date == invoice.due_date + timedelta(days=10)
        assert invoice.payment_expiration_message == "Call the office to pay"
        assert invoice.minimum_amount_due == Decimal("25.00") and invoice.invoice_type_id == 7
        assert invoice.header["AllowPartialPayments"] == "Y" and invoice.active


def test_bad_customization_value_fails_the_file_naming_it(load_sample, intake_biller):
    biller = intake_biller("daffron")
    BillerCustomization.objects.create(biller=biller, value="soon",
                                       definition=BifCustomizationDefinition.objects.get(name="PaymentExpirationDate"))
    exchange = load_sample("daffron", "daffron_2778_11202026.BIF")
    assert exchange.status == "failed" and "PaymentExpirationDate" in exchange.errors[0]["message"]
    assert not Invoice.objects.exists()


def test_balance_forward_deactivates_earlier_invoices(load_sample, intake_biller, tmp_path):
    biller = intake_biller("daffron")
    load_sample("daffron", "daffron_2778_11202026.BIF")
    BillerCustomization.objects.create(biller=biller, value="Y",
                                       definition=BifCustomizationDefinition.objects.get(name="BalanceForward"))
    text = (load_sample.__globals__["SAMPLES"] / "daffron_2778_11202026.BIF").read_text()
    path = tmp_path / "2778_12012026.BIF"
    path.write_text(text.replace("|1234501458213|", "|1234501458299|"))
    exchange = load_sample("daffron", path)
    assert exchange.counts["deactivated"] == 1
    assert not Invoice.objects.get(invoice_number="1234501458213").active
    assert Invoice.objects.get(invoice_number="1234501458299").active


def test_replacement_file_replaces_the_invoice_it_names(load_sample):
    load_sample("flexibill", "flexibill_4411.BIF")
    exchange = load_sample("flexibill", "flexibill_4411.BRF", kind="replacements")
    assert exchange.status == "succeeded", exchange.errors
    assert (exchange.counts["invoices"], exchange.counts["replaced"], exchange.counts["invoices_created"]) == (1, 1, 0)
    invoice = Invoice.objects.get(invoice_number="0004411001MCS0000091234")
    assert invoice.record_type == "R" and invoice.total_amount_due == Decimal("149.37")
    assert "CustomField84" not in invoice.detail_fields[0] and len(invoice.details[0]) < 84
    assert Invoice.objects.filter(biller=exchange.biller).count() == 4


def test_replacement_for_an_unknown_invoice_is_a_record_error(load_sample):
    exchange = load_sample("flexibill", "flexibill_4411.BRF", kind="replacements")
    assert exchange.status == "failed"
    assert exchange.errors[0]["line"] == 1 and "not loaded" in exchange.errors[0]["message"]
    assert not Invoice.objects.exists()


def test_balance_file_updates_invoice_and_account_balances(load_sample):
    load_sample("flexibill", "flexibill_4411.BIF", policy="quarantine")
    exchange = load_sample("flexibill", "flexibill_4411.BAF", kind="balances")
    assert exchange.status == "partial"
    assert exchange.counts["balances"] == 3 and exchange.counts["quarantined"] == 1
    assert exchange.errors[0]["line"] == 4 and exchange.errors[0]["value"] == "0004411007MCS0000091240"
    invoice = Invoice.objects.get(invoice_number="0004411002MCS0000091235")
    assert invoice.balance_due == Decimal("64.05")  # negative in the file, stored positive
    assert invoice.account.balance_due == Decimal("64.05") and invoice.account.balance_source == "balance file"
    record = exchange.quarantined.get()
    assert record.line == 4 and record.raw == "0004411007MCS|0004411007MCS0000091240|1204.10"


def test_balance_file_with_unknown_invoice_is_rejected_by_default(load_sample):
    load_sample("flexibill", "flexibill_4411.BIF")
    before = dict(Invoice.objects.values_list("invoice_number", "balance_due"))
    exchange = load_sample("flexibill", "flexibill_4411.BAF", kind="balances")
    assert exchange.status == "failed" and exchange.counts["rejected"] == 1
    assert dict(Invoice.objects.values_list("invoice_number", "balance_due")) == before
    assert not Account.objects.filter(balance_source="balance file").exists()


def test_expiration_file_sets_date_minus_one_day_and_message(load_sample):
    load_sample("flexibill", "flexibill_4411.BIF")
    exchange = load_sample("flexibill", "flexibill__MCS_11202026000001.SPF", kind="expirations")
    assert exchange.status == "succeeded" and exchange.counts["expirations"] == 3
    invoice = Invoice.objects.get(invoice_number="0004411001MCS0000091234")
    assert invoice.payment_expiration_date == date(2026, 11, 29)
    assert invoice.payment_expiration_message == "Payments after 11/29/2026 are not accepted online"
    assert Invoice.objects.get(invoice_number="0004411004MCS0000091237").payment_expiration_date == date(2026, 12, 31)


def test_same_file_twice_is_a_duplicate_and_not_loaded_again(load_sample):
    first = load_sample("daffron", "daffron_2778_11202026.BIF")
    Invoice.objects.filter(invoice_number="1234501458213").update(total_amount_due=Decimal("1.00"))
    second = load_sample("daffron", "daffron_2778_11202026.BIF")
    assert second.status == "duplicate" and second.checksum == first.checksum
    assert f"#{first.pk}" in second.message
    assert Invoice.objects.get(invoice_number="1234501458213").total_amount_due == Decimal("1.00")
    assert Exchange.objects.filter(biller=first.biller).count() == 2


def test_wrong_bid_in_file_name_is_rejected_with_nothing_loaded(load_sample, tmp_path):
    path = tmp_path / "2779_11202026.BIF"
    path.write_bytes((load_sample.__globals__["SAMPLES"] / "daffron_2778_11202026.BIF").read_bytes())
    exchange = load_sample("daffron", path)
    assert exchange.status == "failed"
    assert exchange.errors == [{"line": 0, "field": "file_name", "value": "2779_11202026.BIF",
                                "message": "names BID 2779, not 2778"}]
    assert not Invoice.objects.exists() and not Account.objects.exists()
