"""Connection admin: secrets write-only, status columns, test connection, poll now, schedules, scoping."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection as db
from django_q.models import Schedule

from billers.fields import MASK
from billers.models import BillerStaffScope
from exchanges.models import Exchange
from exchanges.polling import SCHEDULE_PREFIX, TASK, ensure_schedules
from exchanges.transport_models import Connection
from tests.exchanges.transport_fixtures import *  # the loopback server fixtures
from tests.exchanges.transport_servers import PASSWORD, USER, SftpServer

URL = "/admin/exchanges/connection/"
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "daffron_2778_11202026.BIF"
FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


def form_data(biller: Any, **overrides: Any) -> dict[str, Any]:
    data = {"biller": biller.pk, "name": "Daffron invoices", "kind": "sftp", "file_kind": "invoices",
            "enabled": "on", "host": "sftp.partner.example", "port": "", "username": USER,
            "new_password": PASSWORD, "new_private_key": "", "host_key_fingerprint": f"2048 {FINGERPRINT} (RSA)",
            "certificate_fingerprint": "", "inbox_folder": "/out", "filename_pattern": "",
            "archive_folder": "/out/archive", "error_folder": "/out/error", "poll_interval_minutes": "15",
            "settle_seconds": "60"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make(biller: Any, **fields: Any) -> Connection:
    values: dict[str, Any] = {"kind": "sftp", "host": "127.0.0.1", "username": USER, "password": PASSWORD,
                              "host_key_fingerprint": FINGERPRINT, "inbox_folder": "/inbox",
                              "archive_folder": "/archive", "error_folder": "/error", "settle_seconds": 0}
    values.update(fields)
    return Connection.objects.create(biller=biller, **values)


def test_password_is_stored_encrypted_and_never_shown(
        admin_client: Any, daffron_biller: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}add/", form_data(daffron_biller))
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get()
    assert connection.password == PASSWORD
    assert connection.host_key_fingerprint == FINGERPRINT  # normalized from the ssh-keygen line
    with db.cursor() as cursor:
        cursor.execute("SELECT password FROM exchanges_connection")
        stored = cursor.fetchone()[0]
    assert stored and PASSWORD not in stored
    html = admin_client.get(f"{URL}{connection.pk}/change/").content.decode()
    assert PASSWORD not in html and f'placeholder="{MASK}"' in html

    change = form_data(daffron_biller, new_password="", username="renamed")  # blank keeps the password
    response = admin_client.post(f"{URL}{connection.pk}/change/", change)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.username, connection.password) == ("renamed", PASSWORD)
    assert Schedule.objects.filter(name=f"{SCHEDULE_PREFIX}{connection.pk}").exists()  # saving schedules it


def test_sftp_without_a_fingerprint_or_secret_is_refused(admin_client: Any, daffron_biller: Any) -> None:
    response = admin_client.post(f"{URL}add/", form_data(daffron_biller, host_key_fingerprint="", new_password=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert "never accepted automatically" in html and "needs a password or a private key" in html
    response = admin_client.post(f"{URL}add/", form_data(daffron_biller, new_private_key="not a key"))
    html = response.content.decode()
    assert "not an OpenSSH or PEM" in html and "not a key" not in html  # the typed key is not echoed
    assert not Connection.objects.exists()


def test_changelist_shows_status_and_filters_failing(admin_client: Any, daffron_biller: Any) -> None:
    make(daffron_biller, name="healthy")
    make(daffron_biller, name="broken", last_error="SFTP x: host key mismatch: expected A, server offered B")
    html = admin_client.get(URL).content.decode()
    assert "never polled" in html and "host key mismatch" in html and "2778_*" in html
    failing = admin_client.get(URL, {"status": "failing"}).content.decode()
    assert "broken" in failing and "healthy" not in failing
    assert "healthy" in admin_client.get(URL, {"q": "2778"}).content.decode()
    assert admin_client.get(URL, {"q": "no-such-text"}).status_code == 200
    link = f"/admin/exchanges/exchange/?biller__id__exact={daffron_biller.pk}&amp;source__exact=sftp"
    assert link in html
    assert admin_client.get(link.replace("&amp;", "&")).status_code == 200  # a lookup the exchange list allows


def test_test_connection_reports_success_and_each_problem_without_secrets(
        admin_client: Any, daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / "2778_11202026.BIF").write_bytes(b"x")
    good = make(daffron_biller, name="good", port=sftp_server.port,
                host_key_fingerprint=sftp_server.host_key.fingerprint)
    wrong_key = make(daffron_biller, name="wrong key", port=sftp_server.port)
    wrong_password = make(daffron_biller, name="wrong password", port=sftp_server.port, password="bad-pw-77",
                          host_key_fingerprint=sftp_server.host_key.fingerprint)
    no_archive = make(daffron_biller, name="no archive", port=sftp_server.port, archive_folder="/nope",
                      host_key_fingerprint=sftp_server.host_key.fingerprint)
    response = admin_client.post(URL, {"action": "test_connection", "_selected_action": [
        good.pk, wrong_key.pk, wrong_password.pk, no_archive.pk]}, follow=True)
    messages = {str(m).split(":", 1)[0]: str(m) for m in response.context["messages"]}
    assert "host key matches" in messages["2778 good"] and "1 matching 2778_*" in messages["2778 good"]
    assert "host key mismatch" in messages["2778 wrong key"] and FINGERPRINT in messages["2778 wrong key"]
    assert "authentication failed" in messages["2778 wrong password"]
    assert "archive folder /nope" in messages["2778 no archive"] and "no such file" in messages["2778 no archive"]
    html = response.content.decode()
    assert PASSWORD not in html and "bad-pw-77" not in html
    assert not Exchange.objects.exists()  # testing never imports


def test_poll_now_queues_a_poll_that_imports(
        admin_client: Any, daffron_biller: Any, sftp_server: SftpServer, remote_root: Path, settings: Any,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> None:
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # run the queued task inline
    settings.DATA_DIR = tmp_path
    (remote_root / "inbox" / "2778_11202026.BIF").write_bytes(SAMPLE.read_bytes())
    connection = make(daffron_biller, port=sftp_server.port, host_key_fingerprint=sftp_server.host_key.fingerprint)
    disabled = make(daffron_biller, name="off", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(URL, {"action": "poll_now", "_selected_action": [connection.pk, disabled.pk]},
                                     follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Poll queued for 1 connection(s)" in text and "1 disabled connection(s) skipped" in text
    exchange = Exchange.objects.get()
    assert exchange.status == "succeeded" and exchange.message.startswith("Submitted by root")
    connection.refresh_from_db()
    assert connection.last_result.startswith("1 matching, 1 imported")


def test_ensure_schedules_keeps_one_schedule_per_enabled_connection(daffron_biller: Any) -> None:
    import ast
    from pydoc import locate

    first = make(daffron_biller, poll_interval_minutes=5)
    second = make(daffron_biller, poll_interval_minutes=30)
    make(daffron_biller, enabled=False)
    Schedule.objects.create(name="unrelated", func="math.floor", args="1.5")

    assert ensure_schedules() == {"created": 2, "updated": 0, "deleted": 0}
    assert ensure_schedules() == {"created": 0, "updated": 0, "deleted": 0}  # idempotent
    schedule = Schedule.objects.get(name=f"{SCHEDULE_PREFIX}{first.pk}")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        TASK, Schedule.MINUTES, 5, -1)
    assert ast.literal_eval(schedule.args) == first.pk and callable(locate(schedule.func))

    Connection.objects.filter(pk=first.pk).update(poll_interval_minutes=10)
    Connection.objects.filter(pk=second.pk).update(enabled=False)
    assert ensure_schedules() == {"created": 0, "updated": 1, "deleted": 1}
    assert list(Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX).values_list("minutes", flat=True)) == [10]
    assert Schedule.objects.filter(name="unrelated").exists()


def test_missed_schedule_runs_are_not_replayed(settings: Any) -> None:
    assert settings.Q_CLUSTER["catch_up"] is False


def test_biller_staff_see_only_their_connections(
        client: Any, make_biller: Any, django_user_model: Any) -> None:
    from django.contrib.auth.models import Permission

    mine, other = make_biller("daffron", 2778), make_biller("flexibill", 4411)
    make(mine, name="mine-conn")
    theirs = make(other, name="their-conn")
    group = Group.objects.create(name="staff 2778")
    group.permissions.set(Permission.objects.filter(codename__in=["view_connection", "change_connection"]))
    BillerStaffScope.objects.create(group=group, biller=mine)
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "mine-conn" in html and "their-conn" not in html
    assert client.get(f"{URL}{theirs.pk}/change/").status_code == 302  # not found for them
