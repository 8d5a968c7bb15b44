"""``manage.py api_key create|list|revoke`` and the API key admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billers.api_models import ApiKey
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_key", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_alone_on_the_last_line_and_it_works(biller, other_biller):
    out = run(
        "create",
        "--vendor",
        "IVR Tech",
        "--billers",
        f"{biller.bid},{other_biller.bid}",
        "--scopes",
        "ivr,kiosk",
        "--expires",
        "2099-01-31",
    )
    raw = out.strip().splitlines()[-1]
    assert raw.startswith("bb_") and " " not in raw
    key = ApiKey.objects.get()
    assert key.scopes == "ivr,kiosk" and key.expires_at.date().isoformat() == "2099-01-31"
    assert sorted(key.billers.values_list("bid", flat=True)) == [biller.bid, other_biller.bid]
    assert client_for(raw).get(url(biller.bid, "accounts/70010001")).status_code == 200


def test_list_shows_keys_without_the_secret_and_revoke_stops_them(biller):
    raw = run("create", "--vendor", "Kiosk Co", "--billers", str(biller.bid), "--scopes", "kiosk").split()[-1]
    key = ApiKey.objects.get()
    listing = run("list")
    assert "Kiosk Co" in listing and key.prefix in listing and "active" in listing and raw not in listing
    assert f"Revoked key {key.pk}" in run("revoke", str(key.pk))
    assert "already revoked" in run("revoke", str(key.pk))
    assert "revoked" in run("list")
    assert client_for(raw).get(url(biller.bid, "accounts/70010001")).status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--billers", "7001", "--scopes", "ivr,fax"], "scopes"),
        (["--billers", "404", "--scopes", "ivr"], "no biller with BID 404"),
        (["--billers", "x", "--scopes", "ivr"], "--billers expects"),
        (["--billers", "7001", "--scopes", "ivr", "--expires", "31/01/2099"], "--expires expects YYYY-MM-DD"),
        (["--billers", "7001", "--scopes", "ivr", "--expires", "2001-01-01"], "in the past"),
        (["--billers", "7001", "--scopes", "ivr", "--rate", "fast"], "throttle rate"),
    ],
)
def test_create_refuses_bad_arguments(biller, args, message):
    with pytest.raises(CommandError, match=message):
        run("create", "--vendor", "V", *args)
    assert not ApiKey.objects.exists()


def test_revoke_unknown_id():
    with pytest.raises(CommandError, match="No API key with id 999"):
        run("revoke", "999")


def test_admin_shows_a_new_key_once_and_never_its_hash(admin_client, biller):
    response = admin_client.post(
        "/admin/billers/apikey/add/",
        {
            "vendor": "Admin Vendor",
            "billers": [biller.pk],
            "scope_choices": ["ivr", "sso"],
            "throttle_rate": "",
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert key.scopes == "ivr,sso"
    shown = [str(m) for m in response.context["messages"]]
    raw = shown[0].rsplit(" ", 1)[-1]
    assert (
        raw.startswith(key.prefix)
        and client_for(raw).get(url(biller.bid, "accounts/70010001")).status_code == 200
    )
    page = admin_client.get(f"/admin/billers/apikey/{key.pk}/change/").content.decode()
    assert key.key_hash not in page and raw not in page
    admin_client.post("/admin/billers/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_biller_staff_see_only_their_billers_api_rows(client, django_user_model, demo):
    from django.contrib.auth.models import Permission

    from billers.api.keys import api_key_create
    from billers.api_models import ApiCallLog

    own, other = demo[123], demo[1368]
    api_key_create(vendor="Own Vendor", billers=[own], scopes=["ivr"])
    api_key_create(vendor="Other Vendor", billers=[other], scopes=["ivr"])
    ApiCallLog.objects.create(
        biller=other,
        bid=other.bid,
        method="GET",
        path="/x/other",
        status=200,
        latency_ms=1,
        at="2026-11-20T10:00Z",
    )
    user = django_user_model.objects.create_user("staff123", password="pw-for-tests-only", is_staff=True)
    user.groups.add(own.staff_scopes.get().group)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_apikey", "view_apicalllog"]))
    client.force_login(user)
    keys = client.get("/admin/billers/apikey/").content.decode()
    assert "Own Vendor" in keys and "Other Vendor" not in keys
    assert "/x/other" not in client.get("/admin/billers/apicalllog/").content.decode()


@pytest.mark.parametrize("q", ["abc", "12", "x y"])
def test_api_admin_lists_search_any_text(admin_client, q):
    for model in ("apikey", "apicalllog", "idempotencyrecord", "payeruser", "accountlink", "downloadack"):
        assert admin_client.get(f"/admin/billers/{model}/", {"q": q}).status_code == 200, model
