"""PDF extraction: PDFs delivered beside an invoice file (zip or folder), matched by invoice number."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from billers.bill_extract import bills_beside, extract_bills
from billers.bill_models import BillerBillSetup, BillJob, BillJobStatus, BillMode, ExtractedBill
from tests.bills.conftest import PDF

pytestmark = pytest.mark.django_db

OTHER_PDF = PDF.replace(b"tiny", b"second")


@pytest.fixture
def biller(make_biller, make_invoice):
    biller = make_biller("aus", 123)
    for number, account in (("100011126", "1001"), ("100021126", "1002"), ("100031126", "1003")):
        make_invoice(biller, number=number, account_number=account)
    BillerBillSetup.objects.create(biller=biller, mode=BillMode.EXTRACTION)
    return biller


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_extracts_a_zip_matching_pdfs_by_invoice_number(biller, tmp_path, data_dir, admin_client):
    delivery = make_zip(tmp_path / "123_20261120_UB.zip", {
        "100011126.pdf": PDF,                       # the whole name is the invoice number
        "bills/123_100021126.PDF": OTHER_PDF,       # the last part after _ is
        "999999.pdf": PDF,                          # no such invoice
        "100031126.pdf": b"<html>not a pdf</html>",  # rejected
        "readme.txt": b"ignored",
        "__MACOSX/._100011126.pdf": b"ignored",
    })
    counts = extract_bills(biller=biller, path=delivery)
    assert (counts.found, counts.stored, counts.unmatched, counts.rejected) == (4, 2, 1, 1)

    stored = {row.invoice_number: row for row in ExtractedBill.objects.filter(biller=biller)}
    assert set(stored) == {"100011126", "100021126"}
    first = stored["100011126"]
    assert first.invoice.invoice_number == "100011126" and first.size == len(PDF)
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (data_dir / first.path).read_bytes() == PDF
    assert first.path == "bills/123/extracted/100011126.pdf"
    assert stored["100021126"].source == "123_20261120_UB.zip:bills/123_100021126.PDF"

    job = BillJob.objects.get(pk=counts.job_id)
    assert job.status == BillJobStatus.PARTIAL and job.progress_done == 4
    assert {e["item"]: e["message"] for e in job.errors} == {
        "999999.pdf": "no invoice with this number",
        "100031126.pdf": "not a PDF (no %PDF- header)",
    }

    invoice = first.invoice
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert admin_client.get("/admin/billers/extractedbill/", {"q": "100011126"}).status_code == 200
    assert admin_client.get("/admin/billers/billjob/").status_code == 200


def test_the_same_delivery_twice_changes_nothing_and_a_new_pdf_replaces(biller, tmp_path, data_dir):
    delivery = make_zip(tmp_path / "a.zip", {"100011126.pdf": PDF})
    assert extract_bills(biller=biller, path=delivery).stored == 1
    again = extract_bills(biller=biller, path=delivery)
    assert (again.stored, again.unchanged, again.replaced) == (0, 1, 0)
    newer = extract_bills(biller=biller, path=make_zip(tmp_path / "b.zip", {"100011126.pdf": OTHER_PDF}))
    assert newer.replaced == 1
    row = ExtractedBill.objects.get(biller=biller)
    assert (data_dir / row.path).read_bytes() == OTHER_PDF and row.source == "b.zip:100011126.pdf"
    assert BillJob.objects.filter(biller=biller, status=BillJobStatus.SUCCEEDED).count() == 3


def test_extracts_a_folder_found_beside_the_invoice_file(biller, tmp_path):
    invoice_file = tmp_path / "123_20261120_UB.TXT"
    invoice_file.write_text("invoices")
    folder = tmp_path / "123_20261120_UB"
    folder.mkdir()
    (folder / "100031126.pdf").write_bytes(PDF)
    assert bills_beside(invoice_file) == folder
    counts = extract_bills(biller=biller, path=bills_beside(invoice_file))
    assert counts.stored == 1 and ExtractedBill.objects.get().invoice_number == "100031126"


def test_bills_beside_prefers_a_zip_and_finds_nothing_when_absent(tmp_path):
    invoice_file = tmp_path / "2778_11202026.BIF"
    assert bills_beside(invoice_file) is None
    make_zip(tmp_path / "2778_11202026.ZIP", {})
    (tmp_path / "2778_11202026").mkdir()
    assert bills_beside(invoice_file) == tmp_path / "2778_11202026.ZIP"


def test_invoices_of_other_billers_are_not_matched(biller, make_biller, make_invoice, tmp_path):
    other = make_biller("aus", 456)
    make_invoice(other, number="55501")
    counts = extract_bills(biller=biller, path=make_zip(tmp_path / "c.zip", {"55501.pdf": PDF}))
    assert counts.unmatched == 1 and not ExtractedBill.objects.exists()


def test_a_broken_zip_fails_the_job_and_says_why(biller, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(zipfile.BadZipFile):
        extract_bills(biller=biller, path=broken)
    job = BillJob.objects.get(biller=biller)
    assert job.status == BillJobStatus.FAILED and "broken.zip" in job.message
