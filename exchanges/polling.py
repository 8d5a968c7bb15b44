"""Polling a transport connection: fetch new partner files, import them, file them away.

For each file in the inbox matching the connection's pattern (oldest name first): download it whole
to a temporary file, import it with ``exchanges.intake.import_file``, then move it on the server to
the archive folder (succeeded, partial or duplicate) or the error folder (rejected). A download cut
short leaves the file in the inbox untouched for the next poll; nothing of it is imported. A file
whose move failed after its import stays in the inbox and is recorded as a duplicate next time, then
moved. ``poll_connection`` is the django-q2 task; ``ensure_schedules`` keeps one schedule per enabled
connection.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchanges.transport_models import Connection
from exchanges.transports import open_transport
from exchanges.transports.base import RemoteFile, Transport, TransportError, matches

log = logging.getLogger(__name__)

TASK = "exchanges.polling.poll_connection"
SCHEDULE_PREFIX = "transport poll #"
#: A poll holding the lease longer than this is presumed dead (its worker was killed).
LEASE = timedelta(seconds=int(settings.Q_CLUSTER.get("timeout") or 600) + 60)
REJECTED = {"failed"}
ACCEPTED = {"succeeded", "partial", "duplicate"}


@dataclass
class PollResult:
    """What one poll did: exchange ids per outcome, files left in the inbox and why."""

    connection_id: int
    listed: int = 0
    imported: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"{self.listed} matching", f"{len(self.imported)} imported",
                 f"{len(self.duplicates)} duplicate", f"{len(self.rejected)} rejected"]
        if self.waiting:
            parts.append(f"{len(self.waiting)} still being written")
        if self.errors:
            parts.append(f"{len(self.errors)} error{'s' if len(self.errors) > 1 else ''}")
        return ", ".join(parts)


def _download_dir() -> Path:
    path = Path(settings.DATA_DIR) / "tmp" / "transports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _safe_name(name: str) -> bool:
    """Skip hidden files (uploads in progress by convention: ``.name.part``) and odd names."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\x00")


def poll(connection: Connection, *, actor: str = "") -> PollResult:
    """Poll once and return what happened; never raises TransportError (it lands in ``errors``)."""
    result = PollResult(connection.pk)
    try:
        with open_transport(connection) as transport:
            files = [f for f in transport.list(connection.inbox_folder)
                     if _safe_name(f.name) and matches(f.name, connection.effective_pattern)]
            result.listed = len(files)
            for remote in files:
                if not _fetch_and_import(connection, transport, remote, result, actor):
                    break
    except TransportError as exc:
        result.errors.append(str(exc))
    return result


def _settling(connection: Connection, remote: RemoteFile) -> bool:
    if remote.modified is None or not connection.settle_seconds:
        return False
    return timezone.now() - remote.modified < timedelta(seconds=connection.settle_seconds)


def _fetch_and_import(connection: Connection, transport: Transport, remote: RemoteFile,
                      result: PollResult, actor: str) -> bool:
    """Handle one file; return False when the session is unusable and the poll must stop."""
    from exchanges.intake import import_file  # the import pipeline (another area)

    if _settling(connection, remote):
        result.waiting.append(remote.name)
        return True
    inbox = connection.inbox_folder
    with tempfile.TemporaryDirectory(dir=_download_dir()) as tmp:
        local = Path(tmp) / "payload"
        try:
            size = transport.get(inbox, remote.name, local)
        except TransportError as exc:
            result.errors.append(f"{remote.name}: download failed, left in {inbox} for the next poll: {exc}")
            return exc.permanent  # transient: the session broke, stop; permanent: only this file is unreadable
        if remote.size is not None and size != remote.size:
            result.errors.append(f"{remote.name}: got {size} of {remote.size} bytes (still being written?); "
                                 f"left in {inbox} for the next poll")
            return True
        try:
            exchange = import_file(biller=connection.biller, stream_or_path=local, file_name=remote.name,
                                   kind=connection.file_kind, source=connection.kind, actor=actor, link=True)
        except Exception as exc:  # one broken file must not stop the others; it stays for the next poll
            log.exception("transport %s: import of %s crashed", connection.pk, remote.name)
            result.errors.append(f"{remote.name}: import crashed, left in {inbox}: {type(exc).__name__}: {exc}")
            return True
    return _file_away(connection, transport, remote, exchange, result)


def _file_away(connection: Connection, transport: Transport, remote: RemoteFile, exchange: Any,
               result: PollResult) -> bool:
    status = str(exchange.status)
    if status in REJECTED:
        result.rejected.append(exchange.pk)
        dest = connection.error_folder
    elif status in ACCEPTED:
        (result.duplicates if status == "duplicate" else result.imported).append(exchange.pk)
        dest = connection.archive_folder
    else:
        result.errors.append(f"{remote.name}: exchange #{exchange.pk} ended {status}; left in the inbox")
        return True
    try:
        transport.move(connection.inbox_folder, remote.name, dest)
    except TransportError as exc:
        result.errors.append(f"{remote.name}: exchange #{exchange.pk} {status}, but moving it to {dest} "
                             f"failed (it will be seen as a duplicate next poll): {exc}")
        return exc.permanent
    return True


def _claim(connection_id: int) -> bool:
    """Take the connection's poll lease with a conditional UPDATE; False if another poll holds it."""
    now = timezone.now()
    free = Q(poll_started_at__isnull=True) | Q(poll_started_at__lt=now - LEASE)
    return Connection.objects.filter(Q(pk=connection_id) & free).update(poll_started_at=now) == 1


def _record(connection_id: int, result: PollResult) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"poll_started_at": None, "last_polled_at": now,
                              "last_result": result.summary()[:300], "last_error": "\n".join(result.errors)}
    if result.ok:
        fields["last_success_at"] = now
    Connection.objects.filter(pk=connection_id).update(**fields)


def poll_connection(connection_id: int, actor: str = "") -> str:
    """The django-q2 task: poll one connection and return a one-line summary. Skips a disabled or
    deleted connection and one whose previous poll still runs. Never raises for transfer problems:
    they are stored in ``last_error`` (shown in admin)."""
    connection = Connection.objects.select_related("biller__partner").filter(pk=connection_id).first()
    if connection is None:
        return f"connection {connection_id}: gone"
    if not connection.enabled:
        return f"connection {connection_id}: disabled"
    if not _claim(connection_id):
        return f"connection {connection_id}: a poll is already running"
    result = PollResult(connection_id)
    try:
        result = poll(connection, actor=actor or "poller")
    except Exception as exc:  # recorded on the row, then re-raised for the task log
        result.errors.append(f"poll crashed: {type(exc).__name__}: {exc}")
        raise
    finally:
        _record(connection_id, result)
    for line in result.errors:
        log.warning("transport %s: %s", connection_id, line)
    return f"connection {connection_id}: {result.summary()}"


def enqueue_poll(connection_id: int, actor: str = "") -> None:
    """Queue a poll once the current transaction commits (admin "poll now")."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(TASK, connection_id, actor, task_name=f"poll connection {connection_id}",
                                             cluster=settings.IMPORT_CLUSTER))


def ensure_schedules() -> dict[str, int]:
    """Make the django-q2 schedules match the connections: one per enabled connection, every
    ``poll_interval_minutes``, on the imports cluster; remove the others. Idempotent; returns counts created/updated/deleted.
    Missed runs are not replayed: the cluster runs with ``catch_up`` off (config/settings.py)."""
    from django_q.models import Schedule

    wanted = {f"{SCHEDULE_PREFIX}{c.pk}": c for c in Connection.objects.filter(enabled=True)}
    counts = {"created": 0, "updated": 0, "deleted": 0}
    with transaction.atomic():
        existing = {s.name: s for s in Schedule.objects.select_for_update().filter(name__startswith=SCHEDULE_PREFIX)}
        for name, schedule in existing.items():
            if name not in wanted:
                schedule.delete()
                counts["deleted"] += 1
        for name, connection in wanted.items():
            values = {"func": TASK, "args": repr(connection.pk), "kwargs": None,
                      "schedule_type": Schedule.MINUTES, "minutes": connection.poll_interval_minutes,
                      "repeats": -1, "cluster": settings.IMPORT_CLUSTER}
            schedule = existing.get(name)
            if schedule is None:
                Schedule.objects.create(name=name, **values)
                counts["created"] += 1
            elif any(getattr(schedule, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(schedule, key, value)
                schedule.save()
                counts["updated"] += 1
    return counts


def check_connection(connection: Connection, *, timeout: float = 10.0) -> str:
    """Connect, authenticate and look at the three folders; return what was found. Raise
    TransportError naming the problem (host key or certificate mismatch, refused credentials, a
    missing folder); no secret is ever part of either."""
    with open_transport(connection, timeout=timeout) as transport:
        files = transport.list(connection.inbox_folder)
        matching = sum(1 for f in files if matches(f.name, connection.effective_pattern))
        for label, folder in (("archive", connection.archive_folder), ("error", connection.error_folder)):
            try:
                transport.check_folder(folder)
            except TransportError as exc:
                raise TransportError(f"{label} folder {folder}: {exc}", permanent=exc.permanent) from exc
    checked = {"sftp": "host key matches", "ftps": "TLS certificate accepted"}.get(connection.kind, "")
    return (f"connected{', ' + checked if checked else ''}; inbox {connection.inbox_folder}: {len(files)} "
            f"file(s), {matching} matching {connection.effective_pattern}; archive and error folders present")
