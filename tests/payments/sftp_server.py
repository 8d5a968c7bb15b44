"""A throw-away SFTP server on 127.0.0.1 (paramiko's server classes over a local folder), for tests.

    with SftpTestServer(root) as server:
        server.port, server.fingerprint, server.username, server.password
"""
from __future__ import annotations

import io
import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def new_host_key() -> paramiko.PKey:
    """A fresh Ed25519 host key."""
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


class _Server(paramiko.ServerInterface):
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def check_auth_password(self, username: str, password: str) -> int:
        ok = (username, password) == (self.username, self.password)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)


class _Folder(paramiko.SFTPServerInterface):
    """SFTP over the folder ``root`` (paths are relative to it; no escaping it)."""

    root: Path = Path("/nonexistent")

    def _path(self, path: str) -> str:
        full = (self.root / path.lstrip("/")).resolve()
        if full != self.root and self.root not in full.parents:
            raise PermissionError(path)
        return str(full)

    def _errno(self, exc: OSError) -> int:
        return paramiko.SFTPServer.convert_errno(exc.errno) if exc.errno else paramiko.SFTP_PERMISSION_DENIED

    def list_folder(self, path: str) -> Any:
        try:
            folder = self._path(path)
            out = []
            for name in os.listdir(folder):
                attr = paramiko.SFTPAttributes.from_stat(os.stat(os.path.join(folder, name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as exc:
            return self._errno(exc)

    def stat(self, path: str) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._path(path)))
        except OSError as exc:
            return self._errno(exc)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        try:
            full = self._path(path)
            fd = os.open(full, flags, 0o644)
            mode = "ab" if flags & os.O_APPEND else ("r+b" if flags & os.O_RDWR else
                                                     ("wb" if flags & os.O_WRONLY else "rb"))
            handle = _Handle(flags)
            f = os.fdopen(fd, mode)
            handle.readfile = handle.writefile = f
            return handle
        except OSError as exc:
            return self._errno(exc)

    def remove(self, path: str) -> int:
        try:
            os.remove(self._path(path))
        except OSError as exc:
            return self._errno(exc)
        return paramiko.SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        try:
            new = self._path(newpath)
            if os.path.exists(new):
                return paramiko.SFTP_FAILURE  # SFTP v3: rename never replaces
            os.rename(self._path(oldpath), new)
        except OSError as exc:
            return self._errno(exc)
        return paramiko.SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        try:
            os.replace(self._path(oldpath), self._path(newpath))
        except OSError as exc:
            return self._errno(exc)
        return paramiko.SFTP_OK


class SftpTestServer:
    """Serves ``root`` over SFTP on 127.0.0.1 (a free port) until closed."""

    def __init__(self, root: Path, username: str = "drop", password: str = "pw-for-tests-only") -> None:
        self.root = root.resolve()
        self.username, self.password = username, password
        self.host_key = new_host_key()
        self.fingerprint = self.host_key.fingerprint
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.transports: list[paramiko.Transport] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SftpTestServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        folder = type("Folder", (_Folder,), {"root": self.root})
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, folder)
            self.transports.append(transport)
            try:
                transport.start_server(server=_Server(self.username, self.password))
            except (paramiko.SSHException, EOFError, OSError):
                continue

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for transport in self.transports:
            transport.close()
        self.sock.close()
