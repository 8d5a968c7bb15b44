"""The FTPS transport against pyftpdlib's TLS handler on 127.0.0.1 (TLS required on control and data)."""
from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from exchanges.transports.base import TransportError
from exchanges.transports.ftps import FtpsTransport, normalize_certificate_fingerprint
from tests.exchanges.transport_fixtures import *  # the loopback server fixtures
from tests.exchanges.transport_fixtures import ftps_settings
from tests.exchanges.transport_servers import PASSWORD, FtpsServer


def test_lists_downloads_and_moves_over_explicit_tls(
        ftps_server: FtpsServer, certificate: tuple[Path, str], remote_root: Path, tmp_path: Path) -> None:
    payload = b"HDR" + b"D" * 200_000
    (remote_root / "inbox" / "flexibill_4411.BIF").write_bytes(payload)
    (remote_root / "inbox" / "nested").mkdir()
    with FtpsTransport(**ftps_settings(ftps_server, certificate[1])) as transport:
        assert isinstance(transport.ftp.sock, ssl.SSLSocket)  # AUTH TLS on the control channel
        files = transport.list("/inbox")
        assert [(f.name, f.size) for f in files] == [("flexibill_4411.BIF", len(payload))]
        # the server refuses any data connection without PROT P, so a download proves it
        assert transport.get("/inbox", "flexibill_4411.BIF", tmp_path / "copy") == len(payload)
        assert transport.move("/inbox", "flexibill_4411.BIF", "/archive") == "flexibill_4411.BIF"
    assert (tmp_path / "copy").read_bytes() == payload
    assert (remote_root / "archive" / "flexibill_4411.BIF").read_bytes() == payload


def test_data_channel_reuses_the_control_channel_tls_session(
        ftps_server: FtpsServer, certificate: tuple[Path, str]) -> None:
    with FtpsTransport(**ftps_settings(ftps_server, certificate[1])) as transport:
        ftp = transport.ftp
        ftp.voidcmd("TYPE A")
        conn, _ = ftp.ntransfercmd("NLST /")
        try:
            assert isinstance(conn, ssl.SSLSocket)
            assert conn.session_reused
            while conn.recv(8192):
                pass
            conn.unwrap()
        finally:
            conn.close()
        ftp.voidresp()


def test_move_never_overwrites(ftps_server: FtpsServer, certificate: tuple[Path, str], remote_root: Path) -> None:
    (remote_root / "error" / "x.BIF").write_bytes(b"old")
    (remote_root / "inbox" / "x.BIF").write_bytes(b"new")
    with FtpsTransport(**ftps_settings(ftps_server, certificate[1])) as transport:
        new_name = transport.move("/inbox", "x.BIF", "/error")
    assert new_name.startswith("x_") and (remote_root / "error" / new_name).read_bytes() == b"new"
    assert (remote_root / "error" / "x.BIF").read_bytes() == b"old"


def test_refuses_a_certificate_that_does_not_match_the_pin_before_login(
        ftps_server: FtpsServer, certificate: tuple[Path, str]) -> None:
    pin = ":".join(["AB"] * 32)
    with pytest.raises(TransportError) as caught:
        FtpsTransport(**ftps_settings(ftps_server, pin)).open()
    assert caught.value.permanent and "certificate mismatch" in str(caught.value)
    assert pin in str(caught.value) and certificate[1] in str(caught.value)
    assert ftps_server.logins == []


def test_without_a_pin_a_self_signed_certificate_is_refused(ftps_server: FtpsServer) -> None:
    with pytest.raises(TransportError) as caught:
        FtpsTransport(**ftps_settings(ftps_server, "")).open()
    assert caught.value.permanent and "certificate refused" in str(caught.value)
    assert ftps_server.logins == []


def test_refused_login_is_permanent_and_names_no_secret(
        ftps_server: FtpsServer, certificate: tuple[Path, str]) -> None:
    with pytest.raises(TransportError) as caught:
        FtpsTransport(**ftps_settings(ftps_server, certificate[1], password="nope-pw-9")).open()
    assert caught.value.permanent and "authentication failed" in str(caught.value)
    assert "nope-pw-9" not in str(caught.value) and PASSWORD not in str(caught.value)


def test_a_missing_folder_is_a_permanent_error(ftps_server: FtpsServer, certificate: tuple[Path, str]) -> None:
    with FtpsTransport(**ftps_settings(ftps_server, certificate[1])) as transport, \
            pytest.raises(TransportError) as caught:
        transport.list("/missing")
    assert caught.value.permanent and "/missing" in str(caught.value)


@pytest.mark.parametrize("text", [
    "sha256 Fingerprint=D4:8B:9E:31:12:A1:A7:6B:FE:BA:FA:42:DB:76:3E:74:7E:37:69:5D:DA:13:1B:FF:1B:3F:F5:C2:98:7A:94:BA",
    "d48b9e3112a1a76bfebafa42db763e747e37695dda131bff1b3ff5c2987a94ba",
])
def test_certificate_fingerprint_forms(text: str) -> None:
    assert normalize_certificate_fingerprint(text).startswith("D4:8B:9E:31")
    with pytest.raises(ValueError):
        normalize_certificate_fingerprint("D4:8B")
