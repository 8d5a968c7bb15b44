"""Polling connections end to end: real SFTP, FTPS and folder transports into exchanges.intake."""
from __future__ import annotations

import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from bench.gen_invoices import daffron_bif
from billers.models import Invoice
from exchanges.models import Exchange
from exchanges.polling import poll_connection
from exchanges.transport_models import Connection
from tests.exchanges.transport_fixtures import *  # the loopback server fixtures
from tests.exchanges.transport_servers import PASSWORD, USER, FtpsServer, SftpServer

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "daffron_2778_11202026.BIF"
NAME = "2778_11202026.BIF"


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def make_connection(biller: Any, kind: str = "sftp", **fields: Any) -> Connection:
    values: dict[str, Any] = {"inbox_folder": "/inbox", "archive_folder": "/archive", "error_folder": "/error",
                              "host": "127.0.0.1", "username": USER, "password": PASSWORD, "settle_seconds": 0}
    values.update(fields)
    connection = Connection(biller=biller, kind=kind, **values)
    connection.full_clean()
    connection.save()
    return connection


def sftp_connection(biller: Any, server: SftpServer, **fields: Any) -> Connection:
    return make_connection(biller, "sftp", port=server.port, host_key_fingerprint=server.host_key.fingerprint,
                           **fields)


def rejected_bytes() -> bytes:
    """The sample with an FH InvoiceCount that disagrees with its invoices."""
    lines = SAMPLE.read_bytes().split(b"\n")
    fields = lines[0].split(b"|")
    fields[3] = str(int(fields[3]) + 1).encode()
    return b"\n".join([b"|".join(fields), *lines[1:]])


def invoices_in_sample() -> int:
    return int(SAMPLE.read_text().split("\n")[0].split("|")[3])


def test_sftp_poll_imports_matching_files_and_archives_them(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())
    (remote_root / "inbox" / "1234_11202026.BIF").write_bytes(b"another biller's file")
    (remote_root / "inbox" / ".2778_11212026.BIF.part").write_bytes(b"FH|upload in progress")
    connection = sftp_connection(daffron_biller, sftp_server)

    summary = poll_connection(connection.pk)

    exchange = Exchange.objects.get()
    assert (exchange.source, exchange.kind, exchange.status, exchange.file_name) == (
        "sftp", "invoices", "succeeded", NAME)
    assert exchange.counts["invoices"] == invoices_in_sample()
    assert Invoice.objects.filter(biller=daffron_biller).count() == invoices_in_sample()
    assert sorted(os.listdir(remote_root / "archive")) == [NAME]
    # not matching 2778_*, or hidden (an upload in progress): untouched
    assert sorted(os.listdir(remote_root / "inbox")) == [".2778_11212026.BIF.part", "1234_11202026.BIF"]
    connection.refresh_from_db()
    assert connection.last_error == "" and connection.last_success_at is not None
    assert connection.poll_started_at is None
    assert "1 matching, 1 imported" in summary and connection.last_result.startswith("1 matching, 1 imported")


def test_rejected_file_is_moved_to_the_error_folder(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(rejected_bytes())
    connection = sftp_connection(daffron_biller, sftp_server)

    poll_connection(connection.pk)

    exchange = Exchange.objects.get()
    assert exchange.status == "failed" and exchange.errors
    assert not Invoice.objects.exists()
    assert os.listdir(remote_root / "error") == [NAME]
    assert os.listdir(remote_root / "inbox") == [] and os.listdir(remote_root / "archive") == []
    connection.refresh_from_db()
    assert "1 rejected" in connection.last_result


def test_same_file_delivered_twice_is_recorded_and_not_loaded_twice(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    connection = sftp_connection(daffron_biller, sftp_server)
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())
    poll_connection(connection.pk)
    loaded = Invoice.objects.count()
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())  # the partner sends it again

    poll_connection(connection.pk)

    first, second = Exchange.objects.order_by("pk")
    assert (first.status, second.status) == ("succeeded", "duplicate")
    assert second.checksum == first.checksum
    assert Invoice.objects.count() == loaded
    archived = sorted(os.listdir(remote_root / "archive"))
    assert len(archived) == 2 and NAME in archived  # the second copy got a timestamped name
    assert os.listdir(remote_root / "inbox") == []


def test_wrong_host_key_is_refused_and_nothing_is_downloaded(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())
    stored = "SHA256:" + "Q" * 43
    connection = sftp_connection(daffron_biller, sftp_server)
    Connection.objects.filter(pk=connection.pk).update(host_key_fingerprint=stored)

    poll_connection(connection.pk)

    assert not Exchange.objects.exists()
    assert sftp_server.auth_attempts == [] and sftp_server.served == 0
    assert os.listdir(remote_root / "inbox") == [NAME]
    connection.refresh_from_db()
    assert "host key mismatch" in connection.last_error
    assert stored in connection.last_error and sftp_server.host_key.fingerprint in connection.last_error
    assert connection.last_success_at is None and connection.last_polled_at is not None
    assert PASSWORD not in connection.last_error


def test_a_transfer_cut_short_is_retried_at_the_next_poll_and_loaded_once(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path, tmp_path: Path, monkeypatch: Any) -> None:
    from exchanges import storage

    linked = []
    real_store = storage.store
    monkeypatch.setattr(storage, "store", lambda source, **kw: linked.append(kw["link"]) or real_store(source, **kw))
    count, _ = daffron_bif(remote_root / "inbox" / NAME, 500)
    size = (remote_root / "inbox" / NAME).stat().st_size
    assert size > 2 * 32_768  # several SFTP read requests
    connection = sftp_connection(daffron_biller, sftp_server)
    sftp_server.drop_after = size // 2

    poll_connection(connection.pk)

    assert sftp_server.drops == 1 and 0 < sftp_server.served < size
    assert not Exchange.objects.exists() and not Invoice.objects.exists()  # never half-loaded
    assert os.listdir(remote_root / "inbox") == [NAME]
    connection.refresh_from_db()
    assert "download failed" in connection.last_error and connection.last_success_at is None

    poll_connection(connection.pk)

    exchange = Exchange.objects.get()
    assert exchange.status == "succeeded" and exchange.counts["invoices"] == count
    assert exchange.raw_size == size and linked == [True]  # the download itself became the kept raw file
    assert Invoice.objects.filter(biller=daffron_biller).count() == count
    assert os.listdir(remote_root / "archive") == [NAME]
    assert storage.absolute(exchange.raw_path).read_bytes() == (remote_root / "archive" / NAME).read_bytes()
    connection.refresh_from_db()
    assert connection.last_error == "" and connection.last_success_at is not None


def test_a_failed_move_is_repaired_by_the_next_poll_as_a_duplicate(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())
    (remote_root / "archive").rmdir()
    connection = sftp_connection(daffron_biller, sftp_server)

    poll_connection(connection.pk)

    assert Exchange.objects.get().status == "succeeded"
    assert os.listdir(remote_root / "inbox") == [NAME]
    connection.refresh_from_db()
    assert "moving it to /archive failed" in connection.last_error
    (remote_root / "archive").mkdir()

    poll_connection(connection.pk)

    assert list(Exchange.objects.order_by("pk").values_list("status", flat=True)) == ["succeeded", "duplicate"]
    assert os.listdir(remote_root / "archive") == [NAME] and os.listdir(remote_root / "inbox") == []


def test_files_still_being_written_wait_for_the_next_poll(
        daffron_biller: Any, sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())  # modified just now
    connection = sftp_connection(daffron_biller, sftp_server, settle_seconds=300)

    summary = poll_connection(connection.pk)

    assert "1 still being written" in summary and not Exchange.objects.exists()
    old = time.time() - 600
    os.utime(remote_root / "inbox" / NAME, (old, old))
    poll_connection(connection.pk)
    assert Exchange.objects.get().status == "succeeded"


def test_ftps_poll_imports_and_archives(
        daffron_biller: Any, ftps_server: FtpsServer, certificate: tuple[Path, str], remote_root: Path) -> None:
    (remote_root / "inbox" / NAME).write_bytes(SAMPLE.read_bytes())
    (remote_root / "inbox" / "2778_bad.BIF").write_bytes(rejected_bytes())
    connection = make_connection(daffron_biller, "ftps", port=ftps_server.port,
                                 certificate_fingerprint=certificate[1].replace(":", "").lower())

    poll_connection(connection.pk)

    statuses = dict(Exchange.objects.values_list("file_name", "status"))
    assert statuses == {NAME: "succeeded", "2778_bad.BIF": "failed"}
    assert set(Exchange.objects.values_list("source", flat=True)) == {"ftps"}
    assert os.listdir(remote_root / "archive") == [NAME]
    assert os.listdir(remote_root / "error") == ["2778_bad.BIF"]
    connection.refresh_from_db()
    assert connection.last_error == ""


def test_folder_poll_imports_archives_and_rejects(daffron_biller: Any, data_dir: Path) -> None:
    for name in ("drop/in", "drop/done", "drop/bad"):
        (data_dir / name).mkdir(parents=True)
    (data_dir / "drop/in" / NAME).write_bytes(SAMPLE.read_bytes())
    (data_dir / "drop/in" / "2778_11212026.BIF").write_bytes(rejected_bytes())
    connection = make_connection(daffron_biller, "folder", host="", username="", password="",
                                 inbox_folder="drop/in", archive_folder="drop/done", error_folder="drop/bad")

    poll_connection(connection.pk)

    assert set(Exchange.objects.values_list("source", "status")) == {("folder", "succeeded"), ("folder", "failed")}
    assert os.listdir(data_dir / "drop/done") == [NAME]
    assert os.listdir(data_dir / "drop/bad") == ["2778_11212026.BIF"]
    assert os.listdir(data_dir / "drop/in") == []


def test_disabled_connections_and_running_polls_are_skipped(daffron_biller: Any, data_dir: Path) -> None:
    (data_dir / "in").mkdir()
    (data_dir / "in" / NAME).write_bytes(SAMPLE.read_bytes())
    connection = make_connection(daffron_biller, "folder", host="", username="", password="",
                                 inbox_folder="in", archive_folder="done", error_folder="bad", enabled=False)
    assert poll_connection(connection.pk).endswith("disabled")
    Connection.objects.filter(pk=connection.pk).update(enabled=True, poll_started_at=timezone.now())
    assert poll_connection(connection.pk).endswith("a poll is already running")
    assert poll_connection(999_999).endswith("gone")
    assert not Exchange.objects.exists()
    # a lease older than the task timeout belongs to a dead worker: the poll goes ahead
    Connection.objects.filter(pk=connection.pk).update(poll_started_at=timezone.now() - timedelta(hours=2))
    summary = poll_connection(connection.pk)
    assert "1 matching, 1 imported" in summary and "error" in summary  # done/ does not exist
    assert Exchange.objects.get().status == "succeeded"


def test_poll_transports_command_polls_and_syncs_schedules(daffron_biller: Any, data_dir: Path) -> None:
    from django.core.management import CommandError, call_command
    from django_q.models import Schedule

    for name in ("in", "done", "bad"):
        (data_dir / name).mkdir()
    (data_dir / "in" / NAME).write_bytes(SAMPLE.read_bytes())
    connection = make_connection(daffron_biller, "folder", host="", username="", password="",
                                 inbox_folder="in", archive_folder="done", error_folder="bad")
    out = io.StringIO()
    call_command("poll_transports", stdout=out)
    assert f"connection {connection.pk}: 1 matching, 1 imported" in out.getvalue()
    assert Exchange.objects.get().status == "succeeded"

    out = io.StringIO()
    call_command("poll_transports", "--schedules", stdout=out)
    assert json.loads(out.getvalue()) == {"created": 1, "updated": 0, "deleted": 0}
    assert Schedule.objects.filter(func="exchanges.polling.poll_connection").count() == 1

    Connection.objects.filter(pk=connection.pk).update(inbox_folder="gone")
    with pytest.raises(CommandError, match="recorded errors"):
        call_command("poll_transports", "--connection", str(connection.pk), stdout=io.StringIO(),
                     stderr=io.StringIO())
    with pytest.raises(CommandError, match="no connection with id 999999"):
        call_command("poll_transports", "--connection", "999999")
