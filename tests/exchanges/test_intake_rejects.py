"""Bad input: a file is rejected whole (nothing loaded, every error with its line) unless the biller
quarantines records; quarantined records are corrected and re-imported."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from billers.models import Account, Invoice
from exchanges.intake import reimport_quarantined
from exchanges.intake_models import QuarantinedRecord
from tests.exchanges.conftest import SAMPLES

pytestmark = pytest.mark.django_db
DAFFRON = (SAMPLES / "daffron_2778_11202026.BIF").read_text()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def bad_daffron() -> str:
    """The sample with a bad date on invoice 2 (line 7) and a bad RecordType on invoice 4 (line 17)."""
    text = DAFFRON.replace("|2210402458214|11/01/2026|", "|2210402458214|13/45/2026|")
    return text.replace("IH|N|BA1CEC36-997C-48E3-8406-437640EDFF84|4120001458215",
                        "IH|X|BA1CEC36-997C-48E3-8406-437640EDFF84|4120001458215")


def test_bad_rows_reject_the_whole_file_with_line_numbered_errors(load_sample, tmp_path):
    load_sample("daffron", "daffron_2778_11202026.BIF")
    before = list(Invoice.objects.order_by("pk").values_list("invoice_number", "total_amount_due", "updated_at"))
    accounts = list(Account.objects.order_by("pk").values_list("account_number", "name", "updated_at"))
    text = bad_daffron().replace("CR|12345-01|JOHN Q SAMPLE", "CR|12345-01|SOMEONE ELSE")
    exchange = load_sample("daffron", write(tmp_path, "2778_11212026.BIF", text))
    assert exchange.status == "failed"
    assert [(e["line"], e["field"]) for e in exchange.errors] == [(7, "InvoiceDate"), (17, "RecordType")]
    assert exchange.errors[0]["value"] == "13/45/2026"
    assert exchange.counts["rejected"] == 2 and exchange.counts["invoices"] == 0
    assert list(Invoice.objects.order_by("pk").values_list("invoice_number", "total_amount_due", "updated_at")) == before
    assert list(Account.objects.order_by("pk").values_list("account_number", "name", "updated_at")) == accounts


def test_header_count_mismatch_rejects_the_file(load_sample, tmp_path):
    exchange = load_sample("daffron", write(tmp_path, "2778_11202026.BIF", DAFFRON.replace("|4|473.60", "|5|473.60")))
    assert exchange.status == "failed"
    assert exchange.errors[0] == {"line": 1, "field": "InvoiceCount", "value": "5", "message": "the file has 4 invoices"}
    assert not Invoice.objects.exists()


def test_non_utf8_bytes_reject_the_file(load_sample, tmp_path):
    path = tmp_path / "2778_11202026.BIF"
    path.write_bytes(DAFFRON.encode().replace(b"MARIA ALVAREZ", b"MAR\xcdA ALVAREZ"))
    exchange = load_sample("daffron", path)
    assert exchange.status == "failed" and exchange.errors[0]["line"] == 8
    assert exchange.errors[0]["field"] == "encoding"
    assert not Invoice.objects.exists()


def test_xml_bomb_is_rejected(load_sample, tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            '<billheaders biller="1368"><bill><invoiceNumber>&lol2;</invoiceNumber></bill></billheaders>')
    exchange = load_sample("cayenta", write(tmp_path, "billheader_20261120.xml", bomb))
    assert exchange.status == "failed" and not Invoice.objects.exists()


def test_value_longer_than_its_column_is_a_record_error(load_sample, tmp_path):
    text = DAFFRON.replace("CR|12345-01|JOHN Q SAMPLE|9027 CENTER ST||MANASSAS|VA|20110",
                           "CR|12345-01|JOHN Q SAMPLE|9027 CENTER ST||MANASSAS|VA|" + "9" * 25)
    exchange = load_sample("daffron", write(tmp_path, "2778_11202026.BIF", text))
    assert exchange.status == "failed"
    assert exchange.errors[0]["field"] == "Zip" and exchange.errors[0]["line"] == 2
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("chunk", [1, 2, 50])
def test_records_refused_while_converting_keep_their_lines_across_chunks(load_sample, tmp_path, monkeypatch, chunk):
    from billers import loading_run

    monkeypatch.setattr(loading_run, "CHUNK", chunk)  # records are converted a chunk at a time
    text = DAFFRON.replace("|MANASSAS|VA|20110|7035551234|", "|MANASSAS|VA|" + "9" * 25 + "|7035551234|")
    text = text.replace("|MANASSAS|VA|20109|", "|MANASSAS|VA|" + "8" * 25 + "|")
    exchange = load_sample("daffron", write(tmp_path, "2778_11202026.BIF", text), policy="quarantine")
    assert exchange.status == "partial" and exchange.counts["invoices"] == 2
    records = list(exchange.quarantined.order_by("line"))
    lines = text.splitlines()
    assert [(r.line, r.raw) for r in records] == [(2, "\n".join(lines[1:6])), (7, "\n".join(lines[6:11]))]
    assert [r.errors[0]["field"] for r in records] == ["Zip", "Zip"]


def test_quarantine_loads_the_valid_invoices_and_sets_aside_the_others(load_sample, tmp_path):
    exchange = load_sample("daffron", write(tmp_path, "2778_11202026.BIF", bad_daffron()), policy="quarantine")
    assert exchange.status == "partial"
    assert exchange.counts["invoices"] == 2 and exchange.counts["quarantined"] == 2
    assert set(Invoice.objects.values_list("invoice_number", flat=True)) == {"1234501458213", "3056701458102"}
    records = list(QuarantinedRecord.objects.filter(exchange=exchange).order_by("line"))
    assert [r.line for r in records] == [7, 17]
    assert records[0].raw.splitlines()[0].startswith("IH|N|") and len(records[0].raw.splitlines()) == 5
    assert records[0].errors[0]["field"] == "InvoiceDate" and records[0].status == "open"


def test_corrected_quarantined_record_is_reimported(load_sample, tmp_path):
    exchange = load_sample("daffron", write(tmp_path, "2778_11202026.BIF", bad_daffron()), policy="quarantine")
    record = QuarantinedRecord.objects.get(exchange=exchange, line=7)
    still_bad = reimport_quarantined(record, actor="im")
    record.refresh_from_db()
    assert still_bad.status == "failed" and record.status == "open" and record.errors[0]["field"] == "InvoiceDate"
    again = reimport_quarantined(record, raw=record.raw.replace("13/45/2026", "11/01/2026"), actor="im")
    record.refresh_from_db()
    assert again.status == "succeeded" and again.counts["invoices"] == 1
    assert record.status == "reimported" and record.reimport_exchange == again and record.resolved_by == "im"
    assert Invoice.objects.get(invoice_number="2210402458214").total_amount_due == Decimal("241.73")
    with pytest.raises(ValueError):
        reimport_quarantined(record)


def test_quarantined_flexibill_record_found_by_the_database_keeps_its_lines(load_sample):
    exchange = load_sample("flexibill", "flexibill_4411.BRF", kind="replacements", policy="quarantine")
    assert exchange.status == "partial"
    record = exchange.quarantined.get()
    assert record.raw.splitlines()[0].startswith("HDR0004411001") and len(record.raw.splitlines()) == 4
    load_sample("flexibill", "flexibill_4411.BIF")
    reimported = reimport_quarantined(record, actor="im")
    assert reimported.status == "succeeded" and reimported.counts["replaced"] == 1


MUTABLE = {"daffron": ("daffron_2778_11202026.BIF", "2778_11202026.BIF"),
           "flexibill": ("flexibill_4411.BIF", "flexibill_4411.BIF"),
           "aus": ("123_20261120_UB.TXT", "123_20261120_UB.TXT"),
           "cayenta": ("billheader_20261120.xml", "billheader_20261120.xml")}


@pytest.mark.parametrize("partner", sorted(MUTABLE))
def test_mutated_files_never_crash_and_never_load_partially(load_sample, tmp_path, partner):
    sample, name = MUTABLE[partner]
    original = (SAMPLES / sample).read_text()

    @hsettings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.sampled_from("|\n0A-./<>&\xe9 ")),
                    min_size=1, max_size=4))
    def check(mutations):
        text = list(original)
        for position, char in mutations:
            text[position] = char
        snapshot = set(Invoice.objects.values_list("invoice_number", "total_amount_due", "updated_at"))
        count = len(snapshot)
        path = tmp_path / name
        path.write_text("".join(text))
        exchange = load_sample(partner, path)
        assert exchange.status in ("succeeded", "failed", "duplicate"), exchange.message
        assert "Internal error" not in exchange.message
        if exchange.status != "succeeded":
            assert set(Invoice.objects.values_list("invoice_number", "total_amount_due", "updated_at")) == snapshot
            assert exchange.status == "duplicate" or exchange.errors
        else:
            assert Invoice.objects.count() == count + exchange.counts["invoices_created"]

    check()


def test_quarantined_last_cayenta_bill_is_corrected_and_reimported(load_sample, tmp_path):
    text = (SAMPLES / "billheader_20261120.xml").read_text().replace("<zip>30274</zip>", "<zip>" + "3" * 25 + "</zip>")
    exchange = load_sample("cayenta", write(tmp_path, "billheader_20261120.xml", text), policy="quarantine")
    assert exchange.status == "partial" and exchange.counts["invoices"] == 2
    record = exchange.quarantined.get()
    assert record.line == 95 and record.errors[0]["field"] == "Zip"
    assert record.raw.lstrip().startswith("<bill>") and "</bill>" in record.raw
    reimported = reimport_quarantined(record, raw=record.raw.replace("3" * 25, "30274"), actor="im")
    assert reimported.status == "succeeded", reimported.errors
    assert Invoice.objects.get(invoice_number="700412-20261020").account.zip == "30274"


def test_quarantined_aus_line_is_corrected_and_reimported(load_sample, tmp_path):
    text = (SAMPLES / "123_20261120_UB.TXT").read_text().replace("|UB-2026-1120-0002|11/20/2026|",
                                                                  "|UB-2026-1120-0002|11/31/2026|")
    exchange = load_sample("aus", write(tmp_path, "123_20261120_UB.TXT", text), policy="quarantine")
    assert exchange.status == "partial" and exchange.counts["invoices"] == 3
    record = exchange.quarantined.get()
    assert record.line == 2 and record.raw.startswith("004513-002|")
    reimported = reimport_quarantined(record, raw=record.raw.replace("11/31/2026", "11/20/2026"))
    assert reimported.status == "succeeded" and Invoice.objects.count() == 4
    assert Account.objects.get(account_number="004513-002").customer_number == "004513"


def test_records_refused_after_parsing_keep_exactly_their_own_lines(load_sample, tmp_path, monkeypatch):
    from billers import loading

    monkeypatch.setattr(loading, "BATCH", 3)  # spans cross a batch boundary
    text = (SAMPLES / "flexibill_4411.BIF").read_text()
    exchange = load_sample("flexibill", write(tmp_path, "flexibill_4411.BRF", text), kind="replacements",
                           policy="quarantine")
    records = list(exchange.quarantined.order_by("line"))
    assert [r.line for r in records] == [1, 5, 8, 10]
    assert "\n".join(r.raw for r in records) == "\n".join(line for line in text.splitlines() if line.strip())
