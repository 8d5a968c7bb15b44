"""FTPS with ftplib: explicit TLS (AUTH TLS on the control port), a protected data channel
(``PROT P``) that reuses the control channel's TLS session, as many servers require.

The server certificate is checked against a pinned SHA-256 fingerprint when one is stored (partners
often use self-signed certificates), else against the system's certificate authorities and the
host name. Credentials are sent only after that check passed."""
from __future__ import annotations

import contextlib
import ftplib
import hashlib
import posixpath
import re
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from exchanges.transports.base import TIMEOUT, RemoteFile, Transport, TransportError, free_name

T = TypeVar("T")


def normalize_certificate_fingerprint(value: str) -> str:
    """Upper-case colon-separated SHA-256 hex (``openssl x509 -fingerprint -sha256`` prints it with a
    ``sha256 Fingerprint=`` prefix, which is dropped); raise ValueError for anything else."""
    digits = re.sub(r"[^0-9a-fA-F]", "", value.strip().split("=")[-1])
    if len(digits) != 64:
        raise ValueError("expected a SHA-256 certificate fingerprint (64 hex digits, colons optional)")
    digits = digits.upper()
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2))


def certificate_fingerprint(der: bytes) -> str:
    return normalize_certificate_fingerprint(hashlib.sha256(der).hexdigest())


class SessionReusingFTP_TLS(ftplib.FTP_TLS):
    """Opens the data channel's TLS with the control channel's session (servers such as vsftpd with
    ``require_ssl_reuse`` and FileZilla Server refuse a fresh session)."""

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class FtpsTransport(Transport):
    kind = "ftps"

    def __init__(self, *, host: str, port: int = 21, username: str, password: str,
                 certificate_fingerprint: str = "", timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.username = host, port or 21, username
        self._password = password
        self.pin = certificate_fingerprint
        self.timeout = timeout
        self._ftp: SessionReusingFTP_TLS | None = None

    @property
    def where(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    def _context(self) -> ssl.SSLContext:
        if not self.pin:
            return ssl.create_default_context()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pinned fingerprint is checked right after AUTH TLS
        return context

    def open(self) -> None:
        try:
            pin = normalize_certificate_fingerprint(self.pin) if self.pin else ""
        except ValueError as exc:
            raise TransportError(f"FTPS {self.where}: stored certificate fingerprint is invalid: {exc}",
                                 permanent=True) from exc
        ftp = SessionReusingFTP_TLS(context=self._context(), timeout=self.timeout)
        self._ftp = ftp
        try:
            ftp.connect(self.host, self.port, timeout=self.timeout)
            ftp.auth()
            if pin:
                if not isinstance(ftp.sock, ssl.SSLSocket):
                    raise TransportError(f"FTPS {self.where}: AUTH TLS did not secure the connection", permanent=True)
                received = certificate_fingerprint(ftp.sock.getpeercert(binary_form=True) or b"")
                if received != pin:
                    raise TransportError(
                        f"FTPS {self.where}: certificate mismatch: expected {pin}, server offered "
                        f"{received}; nothing was sent.", permanent=True)
            try:
                ftp.login(self.username, self._password)
            except ftplib.error_perm as exc:
                raise TransportError(f"FTPS {self.where}: authentication failed ({_reply(exc)})",
                                     permanent=True) from exc
            ftp.prot_p()
        except TransportError:
            self.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise TransportError(f"FTPS {self.where}: certificate refused: {exc.verify_message}",
                                 permanent=True) from exc
        except ftplib.error_perm as exc:
            self.close()
            raise TransportError(f"FTPS {self.where}: {_reply(exc)}", permanent=True) from exc
        except (ftplib.Error, OSError, EOFError) as exc:
            self.close()
            raise TransportError(f"FTPS {self.where}: cannot connect: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._ftp is None:
            return
        with contextlib.suppress(Exception):  # a dead session cannot say goodbye; it is closed below
            self._ftp.quit()
        with contextlib.suppress(Exception):
            self._ftp.close()
        self._ftp = None

    @property
    def ftp(self) -> SessionReusingFTP_TLS:
        if self._ftp is None:
            raise TransportError(f"FTPS {self.where}: not connected")
        return self._ftp

    def _call(self, what: str, func: Callable[..., T], *args: Any) -> T:
        try:
            return func(*args)
        except ftplib.error_perm as exc:
            raise TransportError(f"FTPS {self.where}: {what}: {_reply(exc)}", permanent=True) from exc
        except (ftplib.Error, OSError, EOFError) as exc:
            raise TransportError(f"FTPS {self.where}: {what}: {type(exc).__name__}: {exc}") from exc

    def list(self, folder: str) -> list[RemoteFile]:
        entries = self._call(f"listing {folder}",
                             lambda: list(self.ftp.mlsd(folder, facts=["type", "size", "modify"])))
        files = [
            RemoteFile(name, int(facts["size"]) if "size" in facts else None, _modify(facts.get("modify")))
            for name, facts in entries
            if facts.get("type") == "file"
        ]
        return sorted(files, key=lambda f: f.name)

    def get(self, folder: str, name: str, local_path: Path) -> int:
        remote = posixpath.join(folder, name)
        with open(local_path, "wb") as out:
            self._call(f"downloading {remote}", self.ftp.retrbinary, f"RETR {remote}", out.write)
        return local_path.stat().st_size

    def exists(self, folder: str, name: str) -> bool:
        return any(f.name == name for f in self.list(folder))

    def move(self, src_folder: str, name: str, dest_folder: str) -> str:
        taken = {f.name for f in self.list(dest_folder)}  # one listing, not one per candidate name
        dest_name = free_name(name, taken.__contains__)
        self.rename(src_folder, name, dest_folder, dest_name)
        return dest_name

    def rename(self, src_folder: str, name: str, dest_folder: str, dest_name: str) -> None:
        src, dest = posixpath.join(src_folder, name), posixpath.join(dest_folder, dest_name)
        self._call(f"moving {src} to {dest}", self.ftp.rename, src, dest)


def _reply(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def _modify(value: str | None) -> datetime | None:
    """MLSD ``modify`` fact: YYYYMMDDHHMMSS[.sss] in UTC."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
