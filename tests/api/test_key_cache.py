"""Keys remembered per worker: one key query per TTL, expiry checked on every call, revocation made here
applied at once and made elsewhere within the TTL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billers.api.keys import api_key_revoke
from billers.api_models import ApiKey
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db

LOOKUP = "accounts/70010001"


def key_queries(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if "billers_apikey" in q["sql"] and "SELECT" in q["sql"]
    ]


def test_a_key_is_read_once_within_the_ttl(settings, make_key, biller):
    settings.API_KEY_CACHE_SECONDS = 60
    client = client_for(make_key(biller).raw)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    assert key_queries(captured) == []


def test_a_ttl_of_zero_reads_the_key_on_every_call(settings, make_key, biller):
    settings.API_KEY_CACHE_SECONDS = 0
    client = client_for(make_key(biller).raw)
    client.get(url(biller.bid, LOOKUP))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    assert len(key_queries(captured)) == 1


def test_a_key_revoked_elsewhere_is_refused_once_the_ttl_has_passed(settings, make_key, biller):
    settings.API_KEY_CACHE_SECONDS = 0.3
    new = make_key(biller)
    client = client_for(new.raw)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    # What the api_key command run in another process does: this worker still trusts its memory ...
    ApiKey.objects.filter(pk=new.key.pk).update(revoked_at=timezone.now())
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    time.sleep(0.35)
    # ... for API_KEY_CACHE_SECONDS at most.
    response = client.get(url(biller.bid, LOOKUP))
    assert response.status_code == 401 and response.json() == {"detail": "This API key is revoked."}


def test_a_key_revoked_in_this_process_is_refused_at_once(settings, make_key, biller):
    settings.API_KEY_CACHE_SECONDS = 60
    new = make_key(biller)
    client = client_for(new.raw)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    api_key_revoke(key=ApiKey.objects.get(pk=new.key.pk))
    assert client.get(url(biller.bid, LOOKUP)).status_code == 401


def test_a_remembered_key_is_refused_as_soon_as_it_expires(settings, make_key, biller):
    settings.API_KEY_CACHE_SECONDS = 60
    new = make_key(biller, expires_at=timezone.now() + timedelta(seconds=0.5))
    client = client_for(new.raw)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    time.sleep(max(0.0, (new.key.expires_at - timezone.now()).total_seconds()) + 0.05)
    response = client.get(url(biller.bid, LOOKUP))
    assert response.status_code == 401 and response.json() == {"detail": "This API key is expired."}


def test_a_key_saved_in_this_process_applies_at_once(settings, make_key, biller, other_biller):
    settings.API_KEY_CACHE_SECONDS = 60
    new = make_key(biller, other_biller)
    client = client_for(new.raw)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    key = ApiKey.objects.get(pk=new.key.pk)
    key.scopes = "sso"
    key.save()  # the admin's change form
    assert client.get(url(biller.bid, LOOKUP)).status_code == 403
    key.scopes = "ivr"
    key.save()
    key.billers.remove(biller)  # the admin's biller list
    assert client.get(url(biller.bid, LOOKUP)).status_code == 404


def test_unknown_keys_are_never_remembered(settings, biller):
    settings.API_KEY_CACHE_SECONDS = 60
    client = client_for("bb_" + "x" * 43)
    assert client.get(url(biller.bid, LOOKUP)).status_code == 401
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(biller.bid, LOOKUP)).status_code == 401
    assert key_queries(captured)  # asked again


def test_a_key_remembered_for_one_biller_is_still_refused_for_another(
    settings, make_key, biller, other_biller
):
    settings.API_KEY_CACHE_SECONDS = 60
    client = client_for(make_key(biller).raw)
    for _ in range(2):
        assert client.get(url(biller.bid, LOOKUP)).status_code == 200
        assert client.get(url(other_biller.bid, "accounts/70020001")).status_code == 404
