"""Uploading export files to a biller's SFTP drop, and recording each attempt's outcome.

``upload`` is the one network seam (the transports' ``SftpTransport``: the host key is checked
against the stored fingerprint before any credential is sent). A file is uploaded under a temporary
name and renamed into place, so the partner never picks up half a file. Each file is uploaded once
per content (SHA-256); a temporary failure is retried by the scheduled task with a growing delay, a
permanent one (host key, credentials, folder) waits for an IM's "upload again".
"""
from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from exchanges.transports.base import TransportError
from payments.batch_models import DeliveryStatus, ExportDelivery, ExportDrop, ExportFile
from payments.exports import file_path

MAX_ATTEMPTS = 6  # automatic attempts per file content
RETRY_BASE = timedelta(minutes=5)  # wait after the n-th failure: RETRY_BASE * 2**(n-1)
RECENT = timedelta(days=7)  # files older than this are not uploaded automatically any more


@dataclass(frozen=True)
class SftpSettings:
    """Where and how to upload. Secrets are left out of ``repr``."""

    host: str
    username: str
    host_key_fingerprint: str
    port: int = 22
    remote_dir: str = "."
    timeout: float = 30.0
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)


def settings_for(drop: ExportDrop) -> SftpSettings:
    return SftpSettings(host=drop.host, port=drop.port, username=drop.username, password=drop.password,
                        private_key=drop.private_key, host_key_fingerprint=drop.host_key_fingerprint,
                        remote_dir=drop.remote_dir or ".", timeout=float(drop.timeout or 30))


def upload(connection_settings: SftpSettings, local_path: Path, remote_name: str) -> str:
    """Upload ``local_path`` as ``remote_dir/remote_name`` (replacing a file of that name); return its path.

    Raises TransportError (``permanent`` for a host key, credential or folder problem).
    """
    from exchanges.transports.sftp import SftpTransport

    s = connection_settings
    if "/" in remote_name or remote_name in ("", ".", ".."):
        raise TransportError(f"unsafe remote file name {remote_name!r}", permanent=True)
    final = posixpath.join(s.remote_dir, remote_name)
    partial = posixpath.join(s.remote_dir, f".{remote_name}.part")
    with SftpTransport(host=s.host, port=s.port, username=s.username, password=s.password,
                       private_key=s.private_key, host_key_fingerprint=s.host_key_fingerprint,
                       timeout=s.timeout) as transport:
        transport.guarded(f"uploading {final}", _put_and_rename, transport, local_path, partial, final,
                          s.remote_dir, remote_name)
    return final


def _put_and_rename(transport: Any, local_path: Path, partial: str, final: str, folder: str, name: str) -> None:
    """Upload to ``partial``, then rename it to ``final`` (replacing it); a failed upload leaves no part."""
    try:
        transport.sftp.put(str(local_path), partial, confirm=True)
        if transport.exists(folder, name):
            transport.sftp.posix_rename(partial, final)
        else:
            transport.sftp.rename(partial, final)
    except BaseException:
        try:
            transport.sftp.remove(partial)
        except Exception:  # noqa: BLE001, S110 (best effort: the connection may be gone)
            pass
        raise


def drop_for(export_file: ExportFile) -> ExportDrop | None:
    """The biller's enabled SFTP drop, or None."""
    return ExportDrop.objects.filter(biller_id=export_file.biller_id, enabled=True).first()


def export_deliver(*, export_file: ExportFile, drop: ExportDrop | None = None) -> ExportDelivery | None:
    """Upload one file to its biller's drop and record the outcome; None when the biller has no drop."""
    drop = drop or drop_for(export_file)
    if drop is None:
        return None
    started, now = time.monotonic(), timezone.now()
    delivery = ExportDelivery(file=export_file, drop=drop, attempted_at=now, sha256=export_file.sha256)
    try:
        delivery.remote_path = upload(settings_for(drop), file_path(export_file), export_file.file_name)
        delivery.status = DeliveryStatus.SUCCEEDED
    except TransportError as exc:
        delivery.status, delivery.error, delivery.permanent = DeliveryStatus.FAILED, str(exc), exc.permanent
    except (OSError, ValueError) as exc:  # the local file is missing or outside DATA_DIR
        delivery.status, delivery.error, delivery.permanent = DeliveryStatus.FAILED, str(exc), True
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.save()
    return delivery


def delivery_due(export_file: ExportFile, now: datetime) -> bool:
    """Whether the file's current content still needs an automatic upload attempt now."""
    attempts = list(ExportDelivery.objects.filter(file=export_file, sha256=export_file.sha256)
                    .order_by("-attempted_at").values_list("status", "permanent", "attempted_at"))
    if not attempts:
        return True
    status, permanent, last = attempts[0]
    if status == DeliveryStatus.SUCCEEDED or any(s == DeliveryStatus.SUCCEEDED for s, _, _ in attempts):
        return False
    if permanent or len(attempts) >= MAX_ATTEMPTS:
        return False
    return now >= last + RETRY_BASE * 2 ** (len(attempts) - 1)


def files_to_deliver(now: datetime) -> QuerySet[ExportFile]:
    """Recent files of billers with an enabled drop (each still checked by ``delivery_due``)."""
    billers = ExportDrop.objects.filter(enabled=True).values("biller_id")
    return (ExportFile.objects.filter(biller_id__in=billers, generated_at__gte=now - RECENT)
            .select_related("biller").order_by("generated_at", "pk"))


def deliver_due(now: datetime | None = None) -> list[ExportDelivery]:
    """Upload every recent file that needs it (first time, or a temporary failure's retry is due)."""
    now = now or timezone.now()
    done = []
    for export_file in files_to_deliver(now):
        if delivery_due(export_file, now):
            delivery = export_deliver(export_file=export_file)
            if delivery is not None:
                done.append(delivery)
    return done
