"""Fixtures for transport tests (imported by the test_transports_* modules)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from tests.exchanges.transport_servers import PASSWORD, USER, FtpsServer, SftpServer, self_signed_certificate

__all__ = ["certificate", "ftps_server", "ftps_settings", "host_key", "remote_root", "sftp_server", "sftp_settings"]


@pytest.fixture(scope="session")
def host_key() -> paramiko.RSAKey:
    """A throw-away RSA host key for the loopback SFTP server."""
    return paramiko.RSAKey.generate(2048)


@pytest.fixture
def remote_root(tmp_path: Path) -> Path:
    root = tmp_path / "remote"
    for folder in ("inbox", "archive", "error"):
        (root / folder).mkdir(parents=True)
    return root


@pytest.fixture
def sftp_server(remote_root: Path, host_key: paramiko.RSAKey) -> Iterator[SftpServer]:
    server = SftpServer(remote_root, host_key)
    yield server
    server.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return self_signed_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def ftps_server(remote_root: Path, certificate: tuple[Path, str]) -> Iterator[FtpsServer]:
    server = FtpsServer(remote_root, certificate[0])
    yield server
    server.close()


def sftp_settings(server: SftpServer, **overrides: object) -> dict[str, object]:
    """SftpTransport keyword arguments for the loopback server."""
    values: dict[str, object] = {"host": "127.0.0.1", "port": server.port, "username": USER, "password": PASSWORD,
                                 "host_key_fingerprint": server.host_key.fingerprint, "timeout": 5.0}
    values.update(overrides)
    return values


def ftps_settings(server: FtpsServer, fingerprint: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {"host": "127.0.0.1", "port": server.port, "username": USER, "password": PASSWORD,
                                 "certificate_fingerprint": fingerprint, "timeout": 5.0}
    values.update(overrides)
    return values
