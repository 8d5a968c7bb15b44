"""Every admin page answers; the comparison page; the checklist; biller staff see only their biller."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group

from billers.demo import seed_demo
from billers.models import Account, Biller, BillerStaffScope, Invoice
from billers.services import biller_setting_set
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(catalogue):
    return seed_demo()


def admin_urls(action: str, superuser=None) -> list[str]:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = superuser
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/{action}"
        for model, model_admin in admin.site._registry.items()
        if action != "add/" or model_admin.has_add_permission(request)  # django-q's result lists have no add
    ]


def test_every_changelist_and_add_page_answers_200(admin_client, superuser, demo):
    assert len(admin_urls("add/", superuser)) >= 20
    for url in admin_urls("") + admin_urls("add/", superuser):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    for url in admin_urls(""):
        assert admin_client.get(url, {"q": "12"}).status_code == 200, f"search on {url}"


def test_every_change_page_of_demo_rows_answers_200(admin_client, demo):
    for model in admin.site._registry:
        obj = model._default_manager.first()
        if obj is not None:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk}/change/"
            assert admin_client.get(url).status_code == 200, url


def test_comparison_page_shows_partners_side_by_side(admin_client, catalogue):
    response = admin_client.get("/admin/billers/partner/compare/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Harris Advanced AUS", "Cayenta", "Harris inHance", "Daffron/Milsoft", "Harris FlexiBill"):
        assert name in html
    void_row = html.split("<th>Void</th>", 1)[1].split("</tr>", 1)[0]
    assert void_row.count('class="supported"') == 1  # only Cayenta pumps voids
    assert void_row.count('class="not_supported"') == 4


def test_onboarding_checklist_lists_missing_daffron_settings_and_conflicts(admin_client, make_biller):
    biller = make_biller("daffron", 3001, products=["POSConnect", "Kiosk"])
    biller_setting_set(biller=biller, number=8, value="https://cis.example/services/CB")
    biller_setting_set(biller=biller, number=28, value='{"block_ach": ["N"]}')
    from billers.selectors import onboarding_checklist

    checklist = onboarding_checklist(biller)
    assert [n for n, _ in checklist.missing_settings] == list(range(9, 21))
    assert any("POSConnect" in c for c in checklist.conflicts)
    assert any("Setting 28" in c for c in checklist.conflicts)
    html = admin_client.get(f"/admin/billers/biller/{biller.pk}/change/").content.decode()
    assert "Missing setting 9" in html and "Missing setting 20" in html and "Missing setting 8 " not in html


def test_checklist_conflict_for_a_product_the_partner_does_not_support(make_biller):
    from billers.selectors import onboarding_checklist

    biller = make_biller("inhance", 3002, products=["AgentConnect", "IVR"])
    conflicts = onboarding_checklist(biller).conflicts
    assert len(conflicts) == 1 and conflicts[0].startswith("AgentConnect: Not Supported by Harris inHance")


def test_biller_staff_see_only_their_biller(client, demo, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Biller 2778 staff"))
    client.force_login(user)
    mine = Biller.objects.get(bid=2778)
    other_account = Account.objects.exclude(biller=mine).first()
    html = client.get("/admin/billers/account/").content.decode()
    for account in Account.objects.filter(biller=mine):
        assert account.account_number in html
    assert other_account.account_number not in html
    assert client.get(f"/admin/billers/account/{other_account.pk}/change/").status_code == 302  # not found
    payments = client.get("/admin/payments/payment/").content.decode()
    assert all(str(p.payment_guid) not in payments for p in Payment.objects.exclude(biller=mine))
    billers = client.get("/admin/billers/biller/").content.decode()
    assert "Manassas" in billers and "Clayton" not in billers
    assert BillerStaffScope.objects.filter(biller=mine).exists()


def test_seed_demo_twice_changes_nothing(demo):
    from django.apps import apps

    def snapshot():
        rows = {}
        for model in apps.get_models():
            if model._meta.app_label in {"billers", "payments"}:
                rows[model._meta.label] = sorted(
                    tuple(sorted((k, str(v)) for k, v in row.items() if k not in {"updated_at", "created_at"}))
                    for row in model.objects.values()
                )
        return rows

    before = snapshot()
    seed_demo()
    assert snapshot() == before
    assert Biller.objects.count() == 5 and Invoice.objects.count() == 50
