"""AUS RetrieveBillPrintImageV2 and Cayenta Get_StmntPdf, over real HTTP against the simulators."""
from __future__ import annotations

import pytest
from lxml import etree

from billers.bill_models import BillerBillSetup, BillMode
from billers.bills import BillUnavailable, bill_for
from partners.simulators import aus as aus_simulator
from partners.simulators import common as simulator_common
from partners.simulators import cayenta as cayenta_simulator
from tests.bills.conftest import set_settings

pytestmark = pytest.mark.django_db

CASES = {
    "aus": (aus_simulator, "RetrieveBillPrintImageV2", "1001", "AccountNumber", "InvoiceNumber", "BillDate"),
    "cayenta": (cayenta_simulator, "Get_StmntPdf", "2001", "ACCOUNT_NO", "BILL_NO", "STMNT_DATE"),
}


def requires(partner: str) -> None:
    module, operation = CASES[partner][0], CASES[partner][1]
    if operation not in getattr(module, "OPERATIONS", {}):
        pytest.skip(f"the {partner} simulator does not offer {operation}")


def sent(handle, name: str) -> str:
    _operation, xml = handle.calls[-1]
    root = etree.fromstring(xml.encode())
    return next((e.text or "" for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name), "")


@pytest.fixture(params=["aus", "cayenta"])
def partner_case(request, make_biller, make_invoice, aus_sim, cayenta_sim):
    partner = request.param
    requires(partner)
    handle = {"aus": aus_sim, "cayenta": cayenta_sim}[partner]
    biller = make_biller(partner, 9100)
    set_settings(biller, {8: handle.url, 9: "InvoiceCloud", 10: "pdf-secret-pw"})
    _, operation, account, *names = CASES[partner]
    invoice = make_invoice(biller, number="INV-2026-11", account_number=account)
    return partner, handle, invoice, operation, names


def test_fetches_the_pdf_from_the_partner_service(partner_case):
    partner, handle, invoice, operation, (account_el, number_el, date_el) = partner_case
    result = bill_for(invoice)
    assert result.mode == BillMode.LINK and result.content == simulator_common.SAMPLE_PDF
    assert result.content_type == "application/pdf" and result.source == f"{partner} {operation}"
    assert handle.operations() == [operation]
    assert sent(handle, account_el) == invoice.account.account_number
    assert sent(handle, number_el) == "INV-2026-11"
    assert sent(handle, date_el) == "2026-11-01"


def test_view_streams_the_partner_pdf(partner_case, admin_client):
    _, _handle, invoice, _operation, _ = partner_case
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == simulator_common.SAMPLE_PDF
    assert "no-store" in response["Cache-Control"]


def test_setup_service_url_overrides_the_rtdr_endpoint(partner_case):
    _, handle, invoice, operation, _ = partner_case
    set_settings(invoice.biller, {8: "http://127.0.0.1:9/nothing-listens-here"})
    BillerBillSetup.objects.create(biller=invoice.biller, mode=BillMode.LINK, service_url=handle.url)
    assert bill_for(invoice).content == simulator_common.SAMPLE_PDF
    assert handle.operations() == [operation]


def test_unknown_account_is_a_404_page_not_a_server_error(partner_case, admin_client):
    _, _handle, invoice, _, _ = partner_case
    invoice.account.account_number = "0000"
    invoice.account.save()
    with pytest.raises(BillUnavailable) as caught:
        bill_for(invoice)
    assert caught.value.status == 404
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == 404
    assert b"no bill image for this invoice" in response.content


@pytest.mark.parametrize(("mode", "status"), [("fault", 502), ("http500", 502), ("malformed", 502)])
def test_partner_failures_are_a_502_page(partner_case, admin_client, mode, status):
    _, handle, invoice, _, _ = partner_case
    handle.mode = mode
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == status
    assert b"try again" in response.content


def test_missing_endpoint_is_a_503_setup_page(make_biller, make_invoice, admin_client):
    biller = make_biller("aus", 9101)
    invoice = make_invoice(biller)
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == 503
    assert b"advanced setting 8 is not set" in response.content


def test_password_is_masked_in_nothing_we_show(partner_case, admin_client):
    _, handle, invoice, _, _ = partner_case
    handle.mode = "fault"
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert b"pdf-secret-pw" not in response.content
    assert "pdf-secret-pw" in handle.calls[-1][1]  # it was sent to the partner, only never shown


def test_a_non_pdf_document_is_refused(make_biller, make_invoice, aus_sim, monkeypatch):
    requires("aus")
    biller = make_biller("aus", 9102)
    set_settings(biller, {8: aus_sim.url})
    invoice = make_invoice(biller)
    monkeypatch.setattr(simulator_common, "SAMPLE_PDF", b"<html>login page</html>")
    with pytest.raises(BillUnavailable, match="not a PDF") as caught:
        bill_for(invoice)
    assert caught.value.status == 502
