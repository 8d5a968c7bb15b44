"""SFTP with paramiko. The server's host key must match the stored SHA256 fingerprint before any
credential is sent; an unknown key is never accepted. Files are fetched with ``SFTPClient.get``
(pipelined), never ``SFTPFile.read``."""
from __future__ import annotations

import contextlib
import io
import posixpath
import socket
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from exchanges.transports.base import TIMEOUT, RemoteFile, Transport, TransportError

T = TypeVar("T")
PREFETCH = 64
KEEPALIVE = 30  # seconds
#: Host key families, each asked for in turn when the first key offered does not match.
KEY_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("ssh-ed25519",),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
)


def normalize_fingerprint(value: str) -> str:
    """``SHA256:base64`` as ``ssh-keygen -lf`` prints it (trailing ``=`` and a key-size prefix or
    ``(RSA)`` suffix tolerated); raise ValueError for anything else."""
    parts = value.strip().split()
    token = next((p for p in parts if p.upper().startswith("SHA256:")), "")
    digest = token[len("SHA256:"):].rstrip("=")
    if len(digest) != 43:
        raise ValueError("expected a SHA256 fingerprint as `ssh-keygen -lf` prints it, e.g. SHA256:nThbg6kX...")
    return f"SHA256:{digest}"


def load_private_key(text: str) -> paramiko.PKey:
    """Parse an unencrypted OpenSSH or PEM private key (RSA, ECDSA, Ed25519); raise ValueError."""
    data = text.strip().encode() + b"\n"
    loaded: object
    try:
        try:
            loaded = serialization.load_ssh_private_key(data, password=None)
        except ValueError:
            loaded = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # cryptography: "Password was not given but private key is encrypted"
        raise ValueError("the private key is protected by a passphrase; store it unencrypted "
                         "(it is encrypted at rest here)") from exc
    except (ValueError, paramiko.SSHException) as exc:
        raise ValueError("the private key is not an OpenSSH or PEM RSA, ECDSA or Ed25519 key") from exc
    classes: list[tuple[type, type[paramiko.PKey]]] = [
        (rsa.RSAPrivateKey, paramiko.RSAKey),
        (ed25519.Ed25519PrivateKey, paramiko.Ed25519Key),
        (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey),
    ]
    for crypto_class, key_class in classes:
        if isinstance(loaded, crypto_class):
            return key_class.from_private_key(io.StringIO(data.decode()))
    raise ValueError(f"unsupported private key type {type(loaded).__name__}")


class SftpTransport(Transport):
    kind = "sftp"

    def __init__(self, *, host: str, port: int = 22, username: str, password: str = "",
                 private_key: str = "", host_key_fingerprint: str, timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.username = host, port or 22, username
        self._password, self._private_key = password, private_key
        self.expected = host_key_fingerprint
        self.timeout = timeout
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def where(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    def open(self) -> None:
        try:
            expected = normalize_fingerprint(self.expected)
        except ValueError as exc:
            raise TransportError(f"SFTP {self.where}: stored host key fingerprint is invalid: {exc}",
                                 permanent=True) from exc
        transport = self._verified_session(expected)
        self._transport = transport
        try:
            self._authenticate(transport)
            self._sftp = paramiko.SFTPClient.from_transport(transport)
            if self._sftp is None:
                raise TransportError(f"SFTP {self.where}: the server refused the SFTP subsystem", permanent=True)
            self._sftp.get_channel().settimeout(self.timeout)
            transport.set_keepalive(KEEPALIVE)  # the session idles while a big file is imported
        except TransportError:
            self.close()
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise TransportError(f"SFTP {self.where}: {type(exc).__name__}: {exc}") from exc

    def _verified_session(self, expected: str) -> paramiko.Transport:
        """Return a session whose host key has the ``expected`` fingerprint, before any credential.

        A server holds several host keys (Ed25519, ECDSA, RSA) and offers the one we prefer; the
        stored fingerprint may be of another. So after a mismatch each key family is asked for in
        turn; only when none matches is it a (permanent) mismatch, naming what the server offered."""
        offered: list[str] = []
        for key_types in (None, *KEY_FAMILIES):
            transport = self._handshake(key_types)
            if transport is None:
                continue
            received = transport.get_remote_server_key().fingerprint
            if received == expected:
                return transport
            transport.close()
            if received not in offered:
                offered.append(received)
        raise TransportError(
            f"SFTP {self.where}: host key mismatch: expected {expected}, server offered "
            f"{' or '.join(offered)}; nothing was sent. Update the fingerprint only after checking with "
            f"the partner.", permanent=True)

    def _handshake(self, key_types: tuple[str, ...] | None) -> paramiko.Transport | None:
        """Connect and negotiate (asking for ``key_types`` host keys only, when given); return the
        session, or None when the server has no host key of those types."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise TransportError(f"SFTP {self.where}: cannot connect: {exc}") from exc
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = self.timeout
        if key_types is not None:
            options = transport.get_security_options()
            wanted = tuple(k for k in key_types if k in options.key_types)
            if not wanted:
                transport.close()
                return None
            options.key_types = wanted
        try:
            transport.start_client(timeout=self.timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            transport.close()
            if key_types is not None:
                return None
            raise TransportError(f"SFTP {self.where}: SSH handshake failed: {type(exc).__name__}: {exc}") from exc
        return transport

    def _authenticate(self, transport: paramiko.Transport) -> None:
        try:
            if self._private_key:
                try:
                    key = load_private_key(self._private_key)
                except ValueError as exc:
                    raise TransportError(f"SFTP {self.where}: {exc}", permanent=True) from exc
                transport.auth_publickey(self.username, key)
            else:
                transport.auth_password(self.username, self._password)
        except paramiko.AuthenticationException as exc:
            method = "private key" if self._private_key else "password"
            raise TransportError(f"SFTP {self.where}: authentication failed ({method} refused)",
                                 permanent=True) from exc

    def close(self) -> None:
        for closable in (self._sftp, self._transport):
            if closable is not None:
                with contextlib.suppress(Exception):  # closing a dead session must not mask the real error
                    closable.close()
        self._sftp = self._transport = None

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            raise TransportError(f"SFTP {self.where}: not connected")
        return self._sftp

    def guarded(self, what: str, func: Callable[..., T], *args: Any) -> T:
        """Run ``func(*args)`` on this session; SFTP and network errors become ``TransportError``s naming ``what``
        (a missing file or folder and a refused permission are permanent)."""
        try:
            return func(*args)
        except FileNotFoundError as exc:
            raise TransportError(f"SFTP {self.where}: {what}: no such file or folder", permanent=True) from exc
        except PermissionError as exc:
            raise TransportError(f"SFTP {self.where}: {what}: permission denied", permanent=True) from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransportError(f"SFTP {self.where}: {what}: {type(exc).__name__}: {exc}") from exc

    def list(self, folder: str) -> list[RemoteFile]:
        entries = self.guarded(f"listing {folder}", self.sftp.listdir_attr, folder)
        files = [
            RemoteFile(e.filename, e.st_size, _mtime(e.st_mtime))
            for e in entries
            if e.st_mode is not None and stat.S_ISREG(e.st_mode)
        ]
        return sorted(files, key=lambda f: f.name)

    def get(self, folder: str, name: str, local_path: Path) -> int:
        remote = posixpath.join(folder, name)
        expected = self.guarded(f"stat {remote}", self.sftp.stat, remote).st_size
        # Pipelined reads, at most PREFETCH requests of 32 kB in flight (bounded memory for big files).
        self.guarded(f"downloading {remote}", self.sftp.get, remote, str(local_path), None, True, PREFETCH)
        received = local_path.stat().st_size
        if expected is not None and received != expected:
            # paramiko's get() only compares with what it wrote: a session dropped between two reads
            # can end the loop early without an error.
            raise TransportError(f"SFTP {self.where}: downloading {remote}: transfer cut short, got "
                                 f"{received} of {expected} bytes")
        return received

    def exists(self, folder: str, name: str) -> bool:
        try:
            self.sftp.stat(posixpath.join(folder, name))
        except FileNotFoundError:
            return False
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransportError(f"SFTP {self.where}: stat {folder}/{name}: {exc}") from exc
        return True

    def rename(self, src_folder: str, name: str, dest_folder: str, dest_name: str) -> None:
        src, dest = posixpath.join(src_folder, name), posixpath.join(dest_folder, dest_name)
        self.guarded(f"moving {src} to {dest}", self.sftp.rename, src, dest)


def _mtime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None
