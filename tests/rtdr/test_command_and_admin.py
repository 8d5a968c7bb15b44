"""``manage.py rtdr`` prints the balance as JSON; the admin health list and the refresh-balance page."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from billers.models import Account, BillerStaffScope
from billers.rtdr_models import RtdrHealth

pytestmark = pytest.mark.django_db

JSON_KEYS = ["account", "balance_due", "past_due", "block_cc", "block_ach", "stale", "source", "stale_reason"]


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("rtdr", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_command_prints_the_fresh_balance_as_json_last(rtdr_biller, account_of):
    account = account_of(rtdr_biller("aus"), "1003")
    data = _run("--biller", str(account.biller.bid), "1003")
    assert list(data) == JSON_KEYS
    assert data == {"account": "1003", "balance_due": "64.00", "past_due": "64.00", "block_cc": True,
                    "block_ach": True, "stale": False, "source": "rtdr", "stale_reason": ""}


def test_command_prints_stale_with_the_reason_when_the_partner_fails(rtdr_biller, account_of, sims):
    account = account_of(rtdr_biller("daffron"), "35909001", balance_due="9.99")
    sims["daffron"].mode = "http500"
    data = _run("--biller", str(account.biller.bid), "35909001")
    assert (data["stale"], data["balance_due"], data["source"]) == (True, "9.99", "invoice file")
    assert data["stale_reason"].startswith("HTTP error: ")


def test_command_stored_option_and_errors(rtdr_biller, account_of, sims):
    account = account_of(rtdr_biller("aus"), "1001")
    assert _run("--biller", str(account.biller.bid), "1001", "--stored")["balance_due"] == "11.11"
    assert not sims["aus"].calls
    with pytest.raises(CommandError, match="No account"):
        _run("--biller", str(account.biller.bid), "404")
    with pytest.raises(CommandError, match="No biller"):
        _run("--biller", "424242", "1001")


@pytest.fixture
def two_billers(rtdr_biller, account_of):
    """An AUS and a Cayenta biller, one account each, each with an RTDR health row."""
    from billers.balances import account_balance

    mine = account_of(rtdr_biller("aus"), "1001")
    theirs = account_of(rtdr_biller("cayenta"), "2001")
    account_balance(mine)
    account_balance(theirs)
    return mine, theirs


@pytest.fixture
def staff_client(client, django_user_model, two_billers):
    """A staff user of the AUS biller only, with the demo's view permissions."""
    mine, _ = two_billers
    group = Group.objects.create(name="aus staff")
    group.permissions.set(Permission.objects.filter(codename__startswith="view_", content_type__app_label="billers"))
    BillerStaffScope.objects.create(group=group, biller=mine.biller)
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    return client


def test_health_list_shows_breaker_and_figures_to_a_superuser(admin_client, two_billers, sims):
    mine, theirs = two_billers
    RtdrHealth.objects.filter(biller=theirs.biller).update(breaker_state="open")
    response = admin_client.get("/admin/billers/rtdrhealth/")
    assert response.status_code == 200
    html = response.content.decode()
    assert sims["aus"].url in html and sims["cayenta"].url in html
    assert "Open (skipping calls)" in html and "0% of 1" in html
    assert admin_client.get("/admin/billers/rtdrhealth/", {"q": str(mine.biller.bid)}).status_code == 200
    assert admin_client.get("/admin/billers/rtdrhealth/", {"breaker_state__exact": "open"}).status_code == 200
    health = RtdrHealth.objects.get(biller=mine.biller)
    assert admin_client.get(f"/admin/billers/rtdrhealth/{health.pk}/change/").status_code == 200


def test_health_list_shows_biller_staff_only_their_biller(staff_client, two_billers, sims):
    response = staff_client.get("/admin/billers/rtdrhealth/")
    assert response.status_code == 200
    html = response.content.decode()
    assert sims["aus"].url in html and sims["cayenta"].url not in html


def test_reset_breaker_action_closes_it(admin_client, two_billers):
    mine, _ = two_billers
    health = RtdrHealth.objects.get(biller=mine.biller)
    RtdrHealth.objects.filter(pk=health.pk).update(breaker_state="open", consecutive_failures=5)
    response = admin_client.post("/admin/billers/rtdrhealth/",
                                 {"action": "reset_breaker", "_selected_action": [health.pk]})
    assert response.status_code == 302
    health.refresh_from_db()
    assert (health.breaker_state, health.consecutive_failures) == ("closed", 0)


def test_refresh_balance_page_and_action_for_a_superuser(admin_client, rtdr_biller, account_of, sims):
    account = account_of(rtdr_biller("cayenta"), "2002")
    url = f"/admin/billers/account/{account.pk}/refresh-balance/"
    page = admin_client.get(url)
    assert page.status_code == 200 and "11.11" in page.content.decode()
    response = admin_client.post(url, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Balance refreshed from the partner: 75.40" in html and "GetAccountBalance 2002" in html
    assert Account.objects.get(pk=account.pk).block_ach is True
    assert sims["cayenta"].operations() == ["GetAccountBalance"]


def test_refresh_balance_shows_stale_reason_when_partner_fails(admin_client, rtdr_biller, account_of, sims):
    account = account_of(rtdr_biller("aus"), "1001")
    sims["aus"].mode = "fault"
    response = admin_client.post(f"/admin/billers/account/{account.pk}/refresh-balance/", follow=True)
    assert "Partner not reached; showing the last known balance: SOAP fault" in response.content.decode()


def test_refresh_balance_for_biller_staff_only_on_their_biller(staff_client, two_billers, sims):
    mine, theirs = two_billers
    assert staff_client.get(f"/admin/billers/account/{mine.pk}/refresh-balance/").status_code == 200
    assert staff_client.post(f"/admin/billers/account/{mine.pk}/refresh-balance/").status_code == 302
    sims["cayenta"].reset()
    assert staff_client.get(f"/admin/billers/account/{theirs.pk}/refresh-balance/").status_code == 404
    assert staff_client.post(f"/admin/billers/account/{theirs.pk}/refresh-balance/").status_code == 404
    assert sims["cayenta"].calls == []


def test_refresh_balance_needs_a_staff_login(client, two_billers):
    mine, _ = two_billers
    response = client.get(f"/admin/billers/account/{mine.pk}/refresh-balance/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_refresh_balance_page_for_a_partner_without_rtdr(admin_client, make_biller, account_of):
    account = account_of(make_biller("flexibill", 7411), "0000001000MCS")
    html = admin_client.get(f"/admin/billers/account/{account.pk}/refresh-balance/").content.decode()
    assert "has no real-time balance" in html and 'id="rtdr-refresh"' not in html


def test_exchange_page_shows_the_masked_envelopes_and_offers_the_raw_file(admin_client, two_billers):
    from exchanges.models import Exchange

    mine, _ = two_billers
    exchange = Exchange.objects.get(biller=mine.biller, kind="rtdr")
    page = admin_client.get(f"/admin/exchanges/exchange/{exchange.pk}/change/").content.decode()
    assert "request envelope (passwords masked)" in page and "response envelope" in page
    assert "GetAccountData" in page and "s3cret-rtdr-pw" not in page
    raw = admin_client.get(f"/admin/exchanges/exchange/{exchange.pk}/raw/")
    assert raw.status_code == 200 and raw["Content-Disposition"].startswith("attachment")
    body = json.loads(b"".join(raw.streaming_content))
    assert body["account"] == "1001" and "s3cret-rtdr-pw" not in json.dumps(body)


def test_raw_file_of_another_billers_exchange_is_not_found_for_staff(staff_client, two_billers):
    from django.contrib.auth.models import Permission

    from exchanges.models import Exchange

    mine, theirs = two_billers
    group = Group.objects.get(name="aus staff")
    group.permissions.add(Permission.objects.get(codename="view_exchange"))
    own = Exchange.objects.get(biller=mine.biller, kind="rtdr")
    other = Exchange.objects.get(biller=theirs.biller, kind="rtdr")
    assert staff_client.get(f"/admin/exchanges/exchange/{own.pk}/raw/").status_code == 200
    assert staff_client.get(f"/admin/exchanges/exchange/{other.pk}/raw/").status_code == 404


def test_account_and_invoice_pages_link_refresh_balance_and_view_bill(admin_client, two_billers):
    from billers.models import Invoice

    mine, _ = two_billers
    page = admin_client.get(f"/admin/billers/account/{mine.pk}/change/").content.decode()
    assert f'href="/admin/billers/account/{mine.pk}/refresh-balance/"' in page
    invoice = Invoice.objects.create(biller=mine.biller, account=mine, invoice_number="INV-1",
                                     invoice_date="2026-11-01", due_date="2026-11-25", total_amount_due="10.00")
    page = admin_client.get(f"/admin/billers/invoice/{invoice.pk}/change/").content.decode()
    assert f'href="/bills/invoice/{invoice.pk}/"' in page and "view bill" in page
