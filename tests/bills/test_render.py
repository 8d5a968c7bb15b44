"""Template bills: the PDF's text, the render cache, template choice and the local-only URL fetcher."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
import requests
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from billers import bill_render
from billers.bill_models import BillerBillSetup, BillMode, BillTemplate, RenderedBill
from billers.bill_render import DEFAULT_TEMPLATE, bill_context, template_for
from billers.bill_render import bill_render as render

pytestmark = pytest.mark.django_db

HISTORY = {f"CustomField{12 + 2 * n}": str(4000 + n * 10) for n in range(1, 14)}
DETAILS = [
    {"CustomField3": "Water", "CustomField5": "W-778812", "CustomField6": "48210", "CustomField7": "43710",
     "CustomField9": "4500", "CustomField10": "38.62", "CustomField83": "gal", **HISTORY},
    {"CustomField3": "Sewer", "CustomField9": "4500", "CustomField10": "29.40"},
    {"CustomField3": "Trash", "CustomField10": "16.10"},
]


@pytest.fixture
def invoice(make_biller, make_invoice):
    biller = make_biller("flexibill", 4411)
    return make_invoice(
        biller, number="100011126", account_number="0000001000MCS",
        total_amount_due=Decimal("1096.62"), past_due=Decimal("12.50"), details=DETAILS,
        header={"Custom20": "Water main flushing runs November 10-14.", "Custom6": "10/01/2026",
                "Custom7": "10/31/2026"},
        customer={"AccountNumber": "0000001000MCS", "CustomerName": "Alice Moreno"},
    )


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_rendered_bill_shows_account_amounts_lines_and_messages(invoice, data_dir):
    row = render(invoice=invoice)
    path = data_dir / row.path
    assert path.read_bytes().startswith(b"%PDF-")
    assert len(PdfReader(path).pages) == 1
    text = pdf_text(path)
    for expected in ("0000001000MCS", "$1,096.62", "$12.50", "$38.62", "$29.40", "$16.10", "$84.12",
                     "Alice Moreno", "100011126", "11/25/2026", "W-778812", "48,210", "4,500",
                     "Water main flushing runs November 10-14.", "USAGE HISTORY"):
        assert expected in text, expected
    assert row.template_path == "utility_default.html" and row.template_version == 1
    assert row.size == path.stat().st_size and len(row.sha256) == 64


def test_second_render_is_a_cache_hit_and_a_changed_invoice_is_rendered_again(invoice, monkeypatch):
    first = render(invoice=invoice)
    calls = []

    class Counting:
        def pdf(self, html: str) -> bytes:
            calls.append(html)
            return b"%PDF-1.4 re-rendered"

    monkeypatch.setattr(bill_render, "renderer", lambda: Counting())
    second = render(invoice=invoice)
    assert second.pk == first.pk and second.rendered_at == first.rendered_at and calls == []

    invoice.total_amount_due = Decimal("1.00")
    invoice.save()  # a replacement invoice (record type R) updates the row
    third = render(invoice=invoice)
    assert len(calls) == 1 and "$1.00" in calls[0] and third.pk == first.pk and third.size == 20

    BillTemplate.objects.create(name="Co-op v2", path="utility_default.html", version=2,
                                invoice_format_guid="AAAA-1111")
    invoice.invoice_format_guid = "aaaa-1111"
    invoice.save()
    fourth = render(invoice=invoice)
    assert len(calls) == 2 and fourth.template_version == 2
    assert RenderedBill.objects.filter(invoice=invoice).count() == 2


def test_template_is_chosen_by_format_guid_then_biller_setup_then_default(invoice):
    assert template_for(invoice) == DEFAULT_TEMPLATE
    chosen = BillTemplate.objects.create(name="Co-op", path="utility_default.html", version=3)
    BillerBillSetup.objects.create(biller=invoice.biller, mode=BillMode.TEMPLATE, template=chosen)
    assert template_for(invoice).version == 3
    BillTemplate.objects.create(name="By GUID", path="utility_default.html", version=7, invoice_format_guid="G-1")
    invoice.invoice_format_guid = "G-1"
    assert template_for(invoice).version == 7
    chosen.active = False
    chosen.save()
    invoice.invoice_format_guid = ""
    assert template_for(invoice) == DEFAULT_TEMPLATE


def test_context_reads_usage_history_oldest_first_with_this_bill_last(invoice):
    history = bill_context(invoice)["history"]
    assert len(history) == 13
    assert [p["usage"] for p in history[-3:]] == [Decimal(4020), Decimal(4010), Decimal(4500)]
    assert max(p["height_pt"] for p in history) == bill_render.BAR_PT


@pytest.mark.parametrize("path", ["../admin/x.html", "bills.css", "nope.html", "/etc/passwd"])
def test_template_paths_must_be_html_files_inside_templates_bills(path):
    with pytest.raises(ValidationError):
        BillTemplate(name="x", path=path).full_clean()


def test_url_fetcher_refuses_every_non_local_url(pdf_server, tmp_path):
    from billers.bill_pdf import LocalOnlyFetcher, RefusedURL, html_to_pdf

    remote = f"{pdf_server.url}/logo.png"
    assert requests.get(remote, timeout=5).status_code == 200  # the server would answer...
    pdf_server.requests.clear()
    fetcher = LocalOnlyFetcher([bill_render.TEMPLATES_DIR])
    for url in (remote, "https://example.com/x.css", "ftp://example.com/x", "file:///etc/passwd",
                f"file://{tmp_path}/x.css"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    local = fetcher.fetch((bill_render.TEMPLATES_DIR / "bills.css").as_uri())
    assert b"@page" in local.read()
    local.close()

    html = (f'<link rel="stylesheet" href="{pdf_server.url}/x.css"><img src="{remote}">'
            f'<p style="background: url({pdf_server.url}/bg.png)">bill</p>')
    assert html_to_pdf(html, bill_render.TEMPLATES_DIR).startswith(b"%PDF-")
    assert pdf_server.requests == []  # ...but rendering never asked it
