"""View bill: Daffron redirect and proxy, missing PDFs as clear 404 pages, access scoped to the biller."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, Permission

from billers.bill_models import BillerBillSetup, BillMode, LinkDelivery
from billers.models import BillerStaffScope
from tests.bills.conftest import PDF, set_settings

pytestmark = pytest.mark.django_db

DAFFRON_HEADER = {"Custom2": "035909", "Custom3": "001", "Custom9": "9000", "Custom10": "035909-12355"}


@pytest.fixture
def daffron_invoice(daffron_biller, make_invoice):
    set_settings(daffron_biller, {20: "https://cis.partner.example:8086/eprint/", 119: "3"})
    return make_invoice(daffron_biller, number="3590900111", account_number="035909-001", header=DAFFRON_HEADER)


def test_daffron_link_redirects_to_the_remote_pdf(admin_client, daffron_invoice):
    response = admin_client.get(f"/bills/invoice/{daffron_invoice.pk}/")
    assert response.status_code == 302
    assert response["Location"] == (
        "https://cis.partner.example:8086/eprint/?PROCESSING_TYPE=HISTORY&ACCT=035909&SUB=001"
        "&BCTR=035909-12355&LDMO=202611"
    )


def test_daffron_link_by_bid_and_invoice_number(admin_client, daffron_invoice):
    response = admin_client.get(f"/bills/2778/{daffron_invoice.invoice_number}/")
    assert response.status_code == 302 and "ACCT=035909" in response["Location"]


def test_daffron_proxy_streams_the_pdf(admin_client, daffron_invoice, pdf_server):
    set_settings(daffron_invoice.biller, {20: f"{pdf_server.url}/bill.pdf"})
    BillerBillSetup.objects.create(biller=daffron_invoice.biller, mode=BillMode.LINK,
                                   link_delivery=LinkDelivery.PROXY)
    response = admin_client.get(f"/bills/invoice/{daffron_invoice.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert pdf_server.requests == ["/bill.pdf?PROCESSING_TYPE=HISTORY&ACCT=035909&SUB=001&BCTR=035909-12355&LDMO=202611"]


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/missing.pdf", 404, b"has no bill for this invoice"),
    ("/login.html", 502, b"did not return a PDF"),
])
def test_daffron_proxy_failures_are_clear_pages(admin_client, daffron_invoice, pdf_server, path, status, text):
    set_settings(daffron_invoice.biller, {20: pdf_server.url + path})
    BillerBillSetup.objects.create(biller=daffron_invoice.biller, mode=BillMode.LINK,
                                   link_delivery=LinkDelivery.PROXY)
    response = admin_client.get(f"/bills/invoice/{daffron_invoice.pk}/")
    assert response.status_code == status
    assert text in response.content and b"3590900111" in response.content


def test_missing_extracted_pdf_is_a_404_page_not_a_500(admin_client, make_biller, make_invoice):
    biller = make_biller("aus", 9200)
    BillerBillSetup.objects.create(biller=biller, mode=BillMode.EXTRACTION)
    invoice = make_invoice(biller)
    response = admin_client.get(f"/bills/invoice/{invoice.pk}/")
    assert response.status_code == 404
    assert b"Bill not found" in response.content
    assert b"No PDF was delivered for invoice 100011126" in response.content


def test_unknown_invoice_is_a_404_page(admin_client, db):
    assert admin_client.get("/bills/invoice/987654/").status_code == 404
    assert admin_client.get("/bills/2778/NOPE/").status_code == 404


def test_link_mode_for_a_partner_without_link_service_is_a_503(admin_client, make_biller, make_invoice):
    biller = make_biller("flexibill", 9201)
    BillerBillSetup.objects.create(biller=biller, mode=BillMode.LINK)  # bypasses clean(): an old row
    response = admin_client.get(f"/bills/invoice/{make_invoice(biller).pk}/")
    assert response.status_code == 503 and b"has no PDF link service" in response.content


def test_anonymous_users_are_sent_to_the_login_page(client, daffron_invoice):
    response = client.get(f"/bills/invoice/{daffron_invoice.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def staff_of(biller, django_user_model, name):
    group = Group.objects.create(name=f"{name} group")
    group.permissions.set(Permission.objects.filter(codename__in=["view_invoice", "view_invoicebill"]))
    BillerStaffScope.objects.create(group=group, biller=biller)
    user = django_user_model.objects.create_user(name, password="pw-for-tests-only", is_staff=True)
    user.groups.add(group)
    return user


def test_biller_staff_see_only_their_billers_bills(client, django_user_model, daffron_invoice, make_biller,
                                                   make_invoice):
    other = make_invoice(make_biller("aus", 9202), number="OTHER-1")
    client.force_login(staff_of(daffron_invoice.biller, django_user_model, "clerk"))
    assert client.get(f"/bills/invoice/{daffron_invoice.pk}/").status_code == 302
    assert client.get(f"/bills/invoice/{other.pk}/").status_code == 404
    assert client.get(f"/bills/9202/{other.invoice_number}/").status_code == 404
    assert client.get(f"/admin/billers/invoicebill/{other.pk}/bill/").status_code == 404
    assert client.get(f"/admin/billers/invoicebill/{daffron_invoice.pk}/bill/").status_code == 302


def test_users_without_invoice_permission_are_refused(client, django_user_model, daffron_invoice):
    user = django_user_model.objects.create_user("payer", password="pw-for-tests-only")
    client.force_login(user)
    assert client.get(f"/bills/invoice/{daffron_invoice.pk}/").status_code == 403


def test_admin_offers_view_bill_on_invoices(admin_client, daffron_invoice):
    change = admin_client.get(f"/admin/billers/invoice/{daffron_invoice.pk}/change/")
    assert change.status_code == 200
    assert f'href="/bills/invoice/{daffron_invoice.pk}/"'.encode() in change.content
    listing = admin_client.get("/admin/billers/invoicebill/", {"q": "3590900111"})
    assert listing.status_code == 200
    assert f"/admin/billers/invoicebill/{daffron_invoice.pk}/bill/".encode() in listing.content
    assert b"PDF linking" in listing.content
    assert admin_client.get(f"/admin/billers/invoicebill/{daffron_invoice.pk}/bill/").status_code == 302


def test_daffron_proxy_against_the_simulator_e_print_page(admin_client, daffron_invoice):
    from pypdf import PdfReader

    from partners.simulators import serve

    handle = serve("daffron")
    try:
        port = handle.url.rsplit(":", 1)[1].split("/")[0]
        set_settings(daffron_invoice.biller, {20: f"http://127.0.0.1:{port}/eprint/"})
        BillerBillSetup.objects.create(biller=daffron_invoice.biller, mode=BillMode.LINK,
                                       link_delivery=LinkDelivery.PROXY)
        handle.fixtures["035909-001"] = handle.fixtures[next(iter(handle.fixtures))]
        response = admin_client.get(f"/bills/invoice/{daffron_invoice.pk}/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = PdfReader(io.BytesIO(b"".join(response.streaming_content))).pages[0].extract_text()
        assert "account 035909-001" in text and "LDMO=202611" in text
        del handle.fixtures["035909-001"]
        missing = admin_client.get(f"/bills/invoice/{daffron_invoice.pk}/")
        assert missing.status_code == 404 and b"has no bill for this invoice" in missing.content
        assert handle.operations()[-1] == "GET /eprint/"
    finally:
        handle.stop()
