"""Keys, scopes, cross-biller denial, throttling and the call log."""

from __future__ import annotations

import hashlib
import time
from array import array
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from billers.api.key_cache import api_key_cache_clear
from billers.api.keys import api_key_revoke
from billers.api_models import ApiCallLog, ApiKey
from payments.models import Payment
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db

#: (method, path tail, body) of every keyed endpoint, with the scope it needs.
ENDPOINTS = [
    ("get", "accounts/70010001", None, "ivr"),
    ("get", "accounts?customer_number=C1&location_number=L1", None, "ivr"),
    ("post", "payments", {}, "ivr"),
    ("post", "registrations", {}, "sso"),
    ("get", "users/pat", None, "sso"),
    ("post", "users/pat/links", {}, "sso"),
    ("post", "users/pat/email", {}, "sso"),
    ("post", "users/pat/password", {}, "sso"),
    ("post", "accounts/70010001/customer", {}, "sso"),
    ("post", "sso/launch", {}, "sso"),
    ("post", "invoice-files", {}, "inhance"),
    ("post", "balances", {}, "inhance"),
    ("get", "downloads/payments", None, "inhance"),
    ("get", "downloads/changes", None, "inhance"),
    ("post", "downloads/acknowledgements", {}, "inhance"),
]
ALL_SCOPES = {"ivr", "kiosk", "sso", "inhance"}


def call(client, method, path, body):
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


@pytest.mark.parametrize(("method", "tail", "body", "scope"), ENDPOINTS)
def test_every_endpoint_refuses_a_key_without_its_scope_with_403(api, biller, method, tail, body, scope):
    others = ",".join(sorted(ALL_SCOPES - {scope} - ({"kiosk"} if scope == "ivr" else set())))
    response = call(api(biller, scopes=others), method, url(biller.bid, tail), body)
    assert response.status_code == 403, response.content
    assert scope in response.json()["detail"]


@pytest.mark.parametrize(("method", "tail", "body", "scope"), ENDPOINTS)
def test_every_endpoint_answers_404_for_another_billers_bid(
    api, biller, other_biller, method, tail, body, scope
):
    client = api(biller, scopes="ivr,kiosk,sso,inhance")
    response = call(client, method, url(other_biller.bid, tail), body)
    assert response.status_code == 404
    assert response.json() == {"detail": f"Biller {other_biller.bid} not found."}
    assert call(client, method, url(99999, tail), body).json() == {"detail": "Biller 99999 not found."}


@pytest.mark.parametrize(("method", "tail", "body", "scope"), ENDPOINTS)
def test_every_endpoint_needs_a_key(biller, method, tail, body, scope):
    response = call(client_for(None), method, url(biller.bid, tail), body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'


@pytest.mark.parametrize("scope", ["ivr", "kiosk"])
def test_ivr_and_kiosk_scopes_both_open_the_lookup(api, biller, scope):
    assert api(biller, scopes=scope).get(url(biller.bid, "accounts/70010001")).status_code == 200


def test_cross_biller_payment_creates_nothing(api, biller, other_biller):
    body = {"account_number": "70020001", "amount": "10.00", "tender": "visa", "approval_code": "A1"}
    response = api(biller).post(url(other_biller.bid, "payments"), body, format="json")
    assert response.status_code == 404
    assert not Payment.objects.exists()


@pytest.mark.parametrize("header", ["Api-Key", "Api-Key a b", "Api-Key bb_not-a-real-key", "Api-Key nope"])
def test_malformed_or_unknown_keys_get_401(biller, header):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(url(biller.bid, "accounts/70010001")).status_code == 401


def test_revoked_key_gets_401(make_key, biller):
    new = make_key(biller)
    client = client_for(new.raw)
    assert client.get(url(biller.bid, "accounts/70010001")).status_code == 200
    assert api_key_revoke(key=new.key) is True
    assert api_key_revoke(key=new.key) is False
    response = client.get(url(biller.bid, "accounts/70010001"))
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key is revoked."}


def test_expired_key_gets_401(make_key, biller):
    new = make_key(biller, expires_at=timezone.now() + timedelta(minutes=5))
    client = client_for(new.raw)
    assert client.get(url(biller.bid, "accounts/70010001")).status_code == 200
    ApiKey.objects.filter(pk=new.key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_key_cache_clear()  # as after API_KEY_CACHE_SECONDS (tests/api/test_key_cache.py waits it out)
    response = client.get(url(biller.bid, "accounts/70010001"))
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key is expired."}


def test_key_is_stored_only_as_its_hash(make_key, biller):
    new = make_key(biller)
    stored = ApiKey.objects.values().get(pk=new.key.pk)
    assert stored["key_hash"] == hashlib.sha256(new.raw.encode()).hexdigest()
    assert new.raw not in {str(v) for v in stored.values()}
    assert new.raw.startswith(stored["prefix"]) and len(new.raw) - len(stored["prefix"]) >= 32  # secret part


def test_every_call_is_logged_with_route_pattern_status_and_latency(make_key, biller, other_biller):
    new = make_key(biller, vendor="Kiosk Co")
    client = client_for(new.raw)
    client.get(url(biller.bid, "accounts/70010001"))
    client.get(url(biller.bid, "accounts/nope"))
    client.get(url(other_biller.bid, "accounts/70020001"))
    client_for("bb_wrong").get(url(biller.bid, "accounts/70010001"))
    logs = list(ApiCallLog.objects.order_by("pk"))
    assert [(log.status, log.key_id, log.biller_id, log.bid) for log in logs] == [
        (200, new.key.pk, biller.pk, biller.bid),
        (404, new.key.pk, biller.pk, biller.bid),
        (404, new.key.pk, None, other_biller.bid),
        (401, None, None, biller.bid),
    ]
    assert {log.path for log in logs} == {"/api/v1/billers/{bid}/accounts/{account_number}"}
    assert all(log.method == "GET" and log.latency_ms > 0 for log in logs)
    flat = " ".join(str(v) for row in ApiCallLog.objects.values() for v in row.values())
    assert "70010001" not in flat and new.raw not in flat
    new.key.refresh_from_db()
    assert new.key.last_used_at is not None


def test_throttle_per_key_from_settings(settings, make_key, biller):
    settings.API_KEY_THROTTLE_RATE = "2/min"
    first, second = client_for(make_key(biller).raw), client_for(make_key(biller).raw)
    path = url(biller.bid, "accounts/70010001")
    assert [first.get(path).status_code for _ in range(3)] == [200, 200, 429]
    throttled = first.get(path)
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert second.get(path).status_code == 200  # counted per key
    assert ApiCallLog.objects.filter(status=429).count() == 2


def test_a_keys_own_rate_overrides_the_setting(settings, make_key, biller):
    settings.API_KEY_THROTTLE_RATE = "1000/min"
    client = client_for(make_key(biller, throttle_rate="1/min").raw)
    path = url(biller.bid, "accounts/70010001")
    assert [client.get(path).status_code for _ in range(2)] == [200, 429]


def test_throttle_history_is_an_array_and_a_list_left_in_the_cache_still_counts(settings, make_key, biller):
    settings.API_KEY_THROTTLE_RATE = "3/min"
    new = make_key(biller)
    client, path = client_for(new.raw), url(biller.bid, "accounts/70010001")
    cache_key = f"throttle_api_key_{new.key.pk}"
    cache.set(cache_key, [time.time(), time.time()], 60)  # DRF's own format, as an older release stored it
    assert [client.get(path).status_code for _ in range(2)] == [200, 429]
    history = cache.get(cache_key)
    assert isinstance(history, array) and len(history) == 3


def test_unknown_api_path_is_a_json_404(api, biller):
    response = api(biller).get("/api/v2/whatever")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
