"""Loopback servers for transport tests (partner pickups, export drops): SFTP (paramiko's server side)
and FTPS (pyftpdlib), each serving a temporary directory on 127.0.0.1 from background threads, on a port
the OS picks.

    with SftpServer(root) as server:   # a fresh Ed25519 host key unless one is given
        server.port, server.fingerprint, server.username, server.password
"""
from __future__ import annotations

import datetime as dt
import io
import ipaddress
import os
import posixpath
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from paramiko.sftp import SFTP_FAILURE, SFTP_OK

USER, PASSWORD = "partner", "s3cret-pw"


# ---------------------------------------------------------------- SFTP
def new_host_key() -> paramiko.PKey:
    """A fresh Ed25519 host key (fast to make)."""
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


class _Handle(paramiko.SFTPHandle):
    server: SftpServer

    def stat(self) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def read(self, offset: int, length: int) -> Any:
        server = self.server
        with server.lock:
            if server.drop_after is not None and server.served + length > server.drop_after:
                server.drop_after = None  # once
                server.drops += 1
                server.kill_sessions()
                return SFTP_FAILURE
            server.served += length
        return super().read(offset, length)


class _Files(paramiko.SFTPServerInterface):
    """An SFTP view of ``root``: "/" is root; no path leaves it."""

    def __init__(self, auth: _Auth, *args: Any, **kwargs: Any) -> None:
        super().__init__(auth, *args, **kwargs)
        self.server = auth.server

    def _real(self, path: str) -> str:
        return str(self.server.root / posixpath.normpath("/" + path).lstrip("/"))

    def list_folder(self, path: str) -> Any:
        real = self._real(path)
        try:
            out = []
            for name in sorted(os.listdir(real)):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(real, name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def stat(self, path: str) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        try:
            fd = os.open(self._real(path), flags, 0o644)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        mode = "wb" if flags & os.O_WRONLY else "r+b" if flags & os.O_RDWR else "rb"
        handle = _Handle(flags)
        handle.server = self.server
        handle.filename = self._real(path)
        handle.readfile = handle.writefile = os.fdopen(fd, mode)
        return handle

    def rename(self, oldpath: str, newpath: str) -> int:
        old, new = self._real(oldpath), self._real(newpath)
        if os.path.exists(new):  # SFTP v3 (and OpenSSH's sftp-server) never overwrite
            return SFTP_FAILURE
        try:
            os.rename(old, new)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        try:
            os.replace(self._real(oldpath), self._real(newpath))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def remove(self, path: str) -> int:
        try:
            os.remove(self._real(path))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        return SFTP_OK


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: SftpServer) -> None:
        self.server = server

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        self.server.auth_attempts.append(("password", username))
        ok = username == self.server.username and password == self.server.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        self.server.auth_attempts.append(("publickey", username))
        allowed = self.server.authorized_key
        ok = username == self.server.username and allowed is not None and key.asbytes() == allowed.asbytes()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SftpServer:
    """Serves ``root`` over SFTP with ``host_key``. ``drop_after = N`` makes the next read that would
    take the bytes served past N kill every session instead (once)."""

    def __init__(self, root: Path, host_key: paramiko.PKey | None = None, *, username: str = USER,
                 password: str = PASSWORD, authorized_key: paramiko.PKey | None = None,
                 extra_host_keys: tuple[paramiko.PKey, ...] = ()) -> None:
        self.root, self.host_key, self.extra_host_keys = root, host_key or new_host_key(), extra_host_keys
        self.username, self.password, self.authorized_key = username, password, authorized_key
        self.lock = threading.Lock()
        self.drop_after: int | None = None
        self.served = self.drops = 0
        self.auth_attempts: list[tuple[str, str]] = []
        self._sessions: list[tuple[socket.socket, paramiko.Transport]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="test-sftp", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            sock.settimeout(None)
            transport = paramiko.Transport(sock)
            for key in (self.host_key, *self.extra_host_keys):
                transport.add_server_key(key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Files)
            with self.lock:
                self._sessions.append((sock, transport))
            try:
                transport.start_server(event=threading.Event(), server=_Auth(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def kill_sessions(self) -> None:
        """Cut every connection as a network failure would (no SSH goodbye)."""
        for sock, _ in self._sessions:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def fingerprint(self) -> str:
        """The host key's fingerprint as the admin stores it (``SHA256:...``)."""
        return str(self.host_key.fingerprint)

    def __enter__(self) -> SftpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
        for _, transport in self._sessions:
            transport.close()


# ---------------------------------------------------------------- FTPS
def self_signed_certificate(directory: Path) -> tuple[Path, str]:
    """Write a throw-away certificate and key for 127.0.0.1; return (PEM path, SHA-256 fingerprint)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ftps.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    path = directory / "ftps.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()))
    fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
    return path, ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))


class FtpsServer:
    """pyftpdlib's TLS handler on ``root``: TLS required on control and data channels."""

    def __init__(self, root: Path, certfile: Path, *, username: str = USER, password: str = PASSWORD) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import TLS_FTPHandler
        from pyftpdlib.servers import FTPServer

        self.logins: list[str] = []
        logins = self.logins

        class Authorizer(DummyAuthorizer):
            def validate_authentication(self, user: str, pw: str, handler: Any) -> None:
                logins.append(user)
                super().validate_authentication(user, pw, handler)

        authorizer = Authorizer()
        authorizer.add_user(username, password, str(root), perm="elradfmw")
        handler = type("TestTLSHandler", (TLS_FTPHandler,), {
            "certfile": str(certfile), "authorizer": authorizer, "tls_control_required": True,
            "tls_data_required": True, "ssl_context": None, "banner": "test ftps", "auth_failed_timeout": 0,
        })
        self._server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-ftps", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._server.ioloop.loop(0.05, blocking=False)
        self._server.close_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
