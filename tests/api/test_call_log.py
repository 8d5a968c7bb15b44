"""The call log's background writer: rows arrive within the delay, the request path only reads, rows of
deleted keys are kept, and a stopping process writes what it still holds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billers.api.call_log import call_log_flush, call_log_writer
from billers.api_models import ApiCallLog, ApiKey
from tests.api.conftest import client_for, url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LOOKUP = "accounts/70010001"
ROUTE = "/api/v1/billers/{bid}/accounts/{account_number}"


@pytest.fixture(autouse=True)
def _write_behind(settings):
    settings.API_CALL_LOG_WRITE_BEHIND = True  # conftest stops the writer after each test


def test_a_call_is_logged_by_the_writer_within_the_delay(settings, make_key, biller):
    settings.API_CALL_LOG_DELAY = 0.05
    new = make_key(biller)
    assert client_for(new.raw).get(url(biller.bid, LOOKUP)).status_code == 200
    answered = time.monotonic()
    # Watched through the writer, not the table: SQLite's shared in-memory test database locks a table
    # being written for its readers instead of letting them wait.
    while call_log_writer.pending() and time.monotonic() - answered < 2:
        time.sleep(0.005)
    assert call_log_writer.pending() == 0 and time.monotonic() - answered < 1  # no flush asked for
    log = ApiCallLog.objects.get()
    assert (log.key_id, log.biller_id, log.bid, log.method, log.path, log.status) == (
        new.key.pk,
        biller.pk,
        biller.bid,
        "GET",
        ROUTE,
        200,
    )
    assert log.latency_ms > 0
    assert ApiKey.objects.get(pk=new.key.pk).last_used_at is not None


def test_the_lookup_itself_only_reads(settings, make_key, biller):
    client = client_for(make_key(biller).raw)
    client.get(url(biller.bid, LOOKUP))  # the key and the compiled queries, remembered
    call_log_writer.stop()  # its row written
    settings.API_CALL_LOG_DELAY = 5.0  # the next rows wait for the stop below
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert client.get(url(biller.bid, LOOKUP)).status_code == 200
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT"] * 6  # account, invoices
    call_log_writer.stop()  # writes what it holds at once, as at process exit
    assert ApiCallLog.objects.count() == 4
    statuses = {r["status"] for r in ApiCallLog.objects.values("status")}
    assert statuses == {200}


def test_a_row_is_kept_when_its_key_is_deleted_before_the_write(settings, make_key, biller):
    settings.API_CALL_LOG_DELAY = 1.0
    new = make_key(biller)
    assert client_for(new.raw).get(url(biller.bid, LOOKUP)).status_code == 200
    ApiKey.objects.filter(pk=new.key.pk).delete()
    assert call_log_flush()
    log = ApiCallLog.objects.get()
    assert (log.key_id, log.biller_id, log.status) == (None, biller.pk, 200)


def test_a_stopping_process_writes_the_rows_it_holds(settings, make_key, biller, tmp_path):
    """A process (a gunicorn worker stopping or restarting) writes its last rows as it exits."""
    if connection.vendor != "postgresql":
        pytest.skip("the child process needs the test database by URL (PostgreSQL)")
    db = connection.settings_dict
    user, password = quote(db["USER"] or ""), quote(db["PASSWORD"] or "")
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    database_url = f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"
    script = textwrap.dedent(
        f"""
        import os, django
        django.setup()
        from django.conf import settings
        settings.ALLOWED_HOSTS = ["testserver"]
        settings.API_CALL_LOG_DELAY = 1.0  # still waiting for more rows when the process ends
        from rest_framework.test import APIClient
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Api-Key " + os.environ["TEST_API_KEY"])
        for _ in range(3):
            assert client.get("{url(biller.bid, LOOKUP)}").status_code == 200
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "TEST_API_KEY": make_key(biller).raw,
    }
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, timeout=60)
    assert ApiCallLog.objects.filter(status=200, path=ROUTE).count() == 3
