"""SSO and partner portals: registration, linking (75/76), e-mail, password, customer record, launch."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core import signing

from billers.api_models import AccountLink, PayerUser
from billers.models import Account
from billers.services import biller_setting_set
from payments.models import AutopayEnrollment, ChangeLog, PaperlessEnrollment
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso(api, biller):
    return api(biller, scopes="sso", vendor="Portal Co")


@pytest.fixture
def family(biller):
    """Accounts sharing the customer number and/or e-mail of account 70010001 (C1, pat@example.com)."""
    for number, customer, email in (
        ("70010002", "C1", "pat@example.com"),
        ("70010003", "C1", "other@example.com"),
        ("70010004", "C9", "PAT@example.com"),
        ("70010005", "C9", "x@example.com"),
    ):
        Account.objects.create(biller=biller, account_number=number, customer_number=customer, email=email)


def register(client, bid, **extra):
    body = {
        "username": "pat",
        "email": "pat@example.com",
        "password": "long-enough-pw",
        "account_numbers": ["70010001"],
        **extra,
    }
    return client.post(url(bid, "registrations"), body, format="json")


def test_registration_creates_a_user_with_a_hashed_password_and_links(sso, biller):
    response = register(sso, biller.bid)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "pat" and body["has_password"] is True
    assert [(k["account_number"], k["role"], k["rule"]) for k in body["links"]] == [
        ("70010001", "owner", "requested")
    ]
    user = PayerUser.objects.get(username="pat")
    assert user.password != "long-enough-pw" and check_password("long-enough-pw", user.password)
    assert "password" not in body


def test_sso_only_registration_has_no_usable_password(sso, biller):
    body = {"username": "sam", "email": "sam@example.com"}
    response = sso.post(url(biller.bid, "registrations"), body, format="json")
    assert response.status_code == 201 and response.json()["has_password"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "has space"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"account_numbers": ["nope"]}, "account_numbers"),
        ({"role": "boss"}, "role"),
    ],
)
def test_registration_errors_name_the_field(sso, biller, change, field):
    response = register(sso, biller.bid, **change)
    assert response.status_code == 400 and field in response.json(), response.content
    assert not PayerUser.objects.exists()


def test_a_username_registers_once_per_biller(sso, biller):
    register(sso, biller.bid)
    response = register(sso, biller.bid)
    assert response.status_code == 400 and list(response.json()) == ["username"]


@pytest.mark.parametrize(
    ("settings_on", "linked"),
    [
        ({}, ["70010001"]),
        ({75: "1"}, ["70010001", "70010002", "70010003"]),
        ({76: "1"}, ["70010001", "70010002", "70010004"]),
        ({75: "1", 76: "1"}, ["70010001", "70010002"]),
    ],
)
def test_linking_follows_settings_75_and_76(sso, biller, family, settings_on, linked):
    for number, value in settings_on.items():
        biller_setting_set(biller=biller, number=number, value=value)
    register(sso, biller.bid, account_numbers=[])
    response = sso.post(url(biller.bid, "users/pat/links"), {"account_number": "70010001"}, format="json")
    assert response.status_code == 201
    assert sorted(k["account_number"] for k in response.json()["linked"]) == linked
    again = sso.post(url(biller.bid, "users/pat/links"), {"account_number": "70010001"}, format="json")
    assert again.status_code == 200 and again.json()["linked"] == []
    assert AccountLink.objects.count() == len(linked)


def test_linking_an_unknown_account_names_the_field(sso, biller):
    register(sso, biller.bid)
    response = sso.post(url(biller.bid, "users/pat/links"), {"account_number": "nope"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["account_number"]


def test_unknown_user_is_404(sso, biller):
    response = sso.post(url(biller.bid, "users/nobody/email"), {"email": "a@example.com"}, format="json")
    assert response.status_code == 404


def test_user_detail_lists_links(sso, biller):
    register(sso, biller.bid)
    body = sso.get(url(biller.bid, "users/pat")).json()
    assert body["email"] == "pat@example.com" and [k["account_number"] for k in body["links"]] == ["70010001"]


def test_email_change_updates_owned_accounts_as_change_logs(sso, biller, family):
    register(sso, biller.bid)
    sso.post(
        url(biller.bid, "users/pat/links"), {"account_number": "70010003", "role": "co-owner"}, format="json"
    )
    response = sso.post(url(biller.bid, "users/pat/email"), {"email": "new@example.com"}, format="json")
    assert response.status_code == 200
    assert response.json()["changes"] == [
        {
            "account_number": "70010001",
            "kind": "email",
            "old_value": "pat@example.com",
            "new_value": "new@example.com",
        }
    ]
    assert PayerUser.objects.get().email == "new@example.com"
    assert Account.objects.get(account_number="70010003").email == "other@example.com"  # co-owner: untouched
    log = ChangeLog.objects.get()
    assert log.kind == "email" and log.actor.startswith("API Portal Co")


def test_password_change_checks_the_current_password(sso, biller):
    register(sso, biller.bid)
    path = url(biller.bid, "users/pat/password")
    wrong = sso.post(path, {"password": "another-long-pw", "current_password": "bad"}, format="json")
    assert wrong.status_code == 400 and list(wrong.json()) == ["current_password"]
    weak = sso.post(path, {"password": "short"}, format="json")
    assert weak.status_code == 400 and list(weak.json()) == ["password"]
    ok = sso.post(path, {"password": "another-long-pw", "current_password": "long-enough-pw"}, format="json")
    assert ok.status_code == 204
    assert check_password("another-long-pw", PayerUser.objects.get().password)


def test_customer_record_changes_become_change_logs(sso, biller):
    path = url(biller.bid, "accounts/70010001/customer")
    response = sso.post(path, {"phone": "555-0200", "paperless": True, "autopay": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["paperless"], body["autopay"]) == ("555-0200", True, True)
    assert sorted(c["kind"] for c in body["changes"]) == ["autopay", "paperless", "phone"]
    assert sorted(ChangeLog.objects.values_list("kind", flat=True)) == ["autopay", "paperless", "phone"]
    assert PaperlessEnrollment.objects.get().active and AutopayEnrollment.objects.get().active
    unchanged = sso.post(path, {"phone": "555-0200", "autopay": True}, format="json").json()
    assert unchanged["changes"] == [] and ChangeLog.objects.count() == 3
    sso.post(path, {"autopay": False}, format="json")
    assert (
        ChangeLog.objects.filter(kind="autopay").count() == 2 and not AutopayEnrollment.objects.get().active
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"phone": "call me"}, "phone"),
        ({"email": "nope"}, "email"),
        ({"paperless": "maybe"}, "paperless"),
    ],
)
def test_customer_record_errors_name_the_field(sso, biller, body, field):
    response = sso.post(url(biller.bid, "accounts/70010001/customer"), body, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]


def launch(client, bid, **body):
    return client.post(url(bid, "sso/launch"), {"username": "pat", **body}, format="json")


def test_launch_url_is_signed_and_opens_a_session(sso, biller):
    register(sso, biller.bid)
    response = launch(
        sso,
        biller.bid,
        account_number="70010001",
        mode="iframe",
        return_url="https://portal.example.com/back",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["url"].startswith("http://testserver/api/v1/sso/session?token=") and body["mode"] == "iframe"
    session = client_for(None).get(body["url"])
    assert session.status_code == 200
    assert session.json()["username"] == "pat" and session.json()["account_number"] == "70010001"
    assert session.json()["return_url"] == "https://portal.example.com/back"
    assert "X-Frame-Options" not in session  # embeddable in the portal's iFrame


def test_redirect_mode_session_may_not_be_framed(sso, biller):
    register(sso, biller.bid)
    token = launch(sso, biller.bid).json()["token"]
    session = client_for(None).get("/api/v1/sso/session", {"token": token})
    assert session.status_code == 200 and session.json()["mode"] == "redirect"
    assert session["X-Frame-Options"] == "DENY"


def test_launch_url_uses_the_portal_setting(sso, biller, settings):
    settings.SSO_PORTAL_URL = "https://pay.example.com/sso?lang=en"
    register(sso, biller.bid)
    assert launch(sso, biller.bid).json()["url"].startswith("https://pay.example.com/sso?lang=en&token=")


def test_expired_or_tampered_launch_tokens_are_refused(sso, biller, monkeypatch):
    register(sso, biller.bid)
    token = launch(sso, biller.bid).json()["token"]
    tampered = client_for(None).get("/api/v1/sso/session", {"token": token[:-2] + "xx"})
    assert tampered.status_code == 403 and "not valid" in tampered.json()["detail"]
    assert client_for(None).get("/api/v1/sso/session").status_code == 400
    now = signing.time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 301)  # default lifetime: 300 s
    expired = client_for(None).get("/api/v1/sso/session", {"token": token})
    assert expired.status_code == 403 and "expired" in expired.json()["detail"]


def test_launch_refuses_unknown_users_and_unlinked_accounts(sso, biller, family):
    register(sso, biller.bid)
    assert list(launch(sso, biller.bid, username="nobody").json()) == ["username"]
    unlinked = launch(sso, biller.bid, account_number="70010005")
    assert unlinked.status_code == 400 and list(unlinked.json()) == ["account_number"]
