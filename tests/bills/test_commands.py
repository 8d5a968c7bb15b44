"""bill_link and render_bills."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from billers.bill_models import BillerBillSetup, BillJob, BillJobStatus, BillMode, ExtractedBill
from tests.bills.conftest import PDF, set_settings

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_bill_link_prints_the_daffron_url(daffron_biller, make_invoice):
    set_settings(daffron_biller, {20: "https://cis.partner.example:8086/eprint/", 119: "2",
                                  131: '{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}}'})
    make_invoice(daffron_biller, number="3590900111", header={"Custom2": "035909", "Custom3": "001",
                                                               "Custom10": "035909-12355"})
    out, _ = run("bill_link", "--biller", "2778", "3590900111")
    assert out.strip() == ("https://cis.partner.example:8086/eprint/?PROCESSING_TYPE=HISTORY&ACCT=035909"
                           "&SUB=001&BCTR=12355")


def test_bill_link_writes_an_extracted_pdf_and_needs_out_for_it(make_biller, make_invoice, data_dir, tmp_path):
    biller = make_biller("cayenta", 1368)
    BillerBillSetup.objects.create(biller=biller, mode=BillMode.EXTRACTION)
    invoice = make_invoice(biller)
    (data_dir / "bills").mkdir()
    (data_dir / "bills" / "x.pdf").write_bytes(PDF)
    ExtractedBill.objects.create(biller=biller, invoice=invoice, invoice_number=invoice.invoice_number,
                                 path="bills/x.pdf", sha256="0" * 64, size=len(PDF), source="x.zip:x.pdf")
    with pytest.raises(CommandError, match="give --out FILE"):
        run("bill_link", "--biller", "1368", invoice.invoice_number)
    target = tmp_path / "out" / "bill.pdf"
    run("bill_link", "--biller", "1368", invoice.invoice_number, "--out", str(target))
    assert target.read_bytes() == PDF


def test_bill_link_explains_a_missing_bill_or_invoice(make_biller, make_invoice):
    biller = make_biller("aus", 123)
    BillerBillSetup.objects.create(biller=biller, mode=BillMode.EXTRACTION)
    make_invoice(biller)
    with pytest.raises(CommandError, match="No PDF was delivered for invoice 100011126"):
        run("bill_link", "--biller", "123", "100011126", "--out", "/tmp/never-written.pdf")
    with pytest.raises(CommandError, match="has no invoice NOPE"):
        run("bill_link", "--biller", "123", "NOPE")
    with pytest.raises(CommandError, match="No biller with BID 999"):
        run("bill_link", "--biller", "999", "NOPE")


def test_render_bills_renders_then_takes_from_the_cache(make_biller, make_invoice, tmp_path):
    biller = make_biller("inhance", 1966)
    for i in range(3):
        make_invoice(biller, number=f"INH-{i}", account_number=f"A{i}", total_amount_due=Decimal("10.00") + i,
                     details=[{"CustomField3": "Water", "CustomField10": f"{10 + i}.00"}])
    out_dir = tmp_path / "bills"
    out, _ = run("render_bills", "--biller", "1966", "--out", str(out_dir), "--limit", "2", "--workers", "1")
    assert "2 rendered, 0 cached, 0 failed" in out
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["INH-0.pdf", "INH-1.pdf"]  # newest first, then by number: INH-2 is left out
    text = PdfReader(out_dir / files[0]).pages[0].extract_text()
    assert "Biller 1966" in text

    out, _ = run("render_bills", "--biller", "1966", "--out", str(out_dir), "--limit", "2", "--workers", "0")
    assert "0 rendered, 2 cached" in out
    jobs = list(BillJob.objects.filter(biller=biller).order_by("started_at"))
    assert [j.status for j in jobs] == [BillJobStatus.SUCCEEDED] * 2
    assert jobs[0].progress_done == jobs[0].progress_total == 2


def test_render_bills_is_only_for_template_billers(daffron_biller, tmp_path):
    with pytest.raises(CommandError, match="render_bills is for template billers"):
        run("render_bills", "--biller", "2778", "--out", str(tmp_path))
