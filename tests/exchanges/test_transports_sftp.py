"""The SFTP transport against a real paramiko SFTP server on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from exchanges.transports.base import TransportError
from exchanges.transports.sftp import SftpTransport, load_private_key, normalize_fingerprint
from tests.exchanges.transport_fixtures import *  # the loopback server fixtures
from tests.exchanges.transport_fixtures import sftp_settings
from tests.exchanges.transport_servers import PASSWORD, USER, SftpServer


def test_lists_downloads_and_moves_files(sftp_server: SftpServer, remote_root: Path, tmp_path: Path) -> None:
    (remote_root / "inbox" / "2778_11202026.BIF").write_bytes(b"FH|x\n" * 1000)
    (remote_root / "inbox" / "subfolder").mkdir()
    with SftpTransport(**sftp_settings(sftp_server)) as transport:
        files = transport.list("/inbox")
        assert [(f.name, f.size) for f in files] == [("2778_11202026.BIF", 5000)]  # folders are not files
        assert files[0].modified is not None and files[0].modified.tzinfo is not None
        assert transport.get("/inbox", "2778_11202026.BIF", tmp_path / "copy") == 5000
        assert transport.move("/inbox", "2778_11202026.BIF", "/archive") == "2778_11202026.BIF"
    assert (tmp_path / "copy").read_bytes() == b"FH|x\n" * 1000
    assert (remote_root / "archive" / "2778_11202026.BIF").exists()
    assert not (remote_root / "inbox" / "2778_11202026.BIF").exists()


def test_move_never_overwrites_a_file_already_archived(sftp_server: SftpServer, remote_root: Path) -> None:
    (remote_root / "archive" / "a.BIF").write_bytes(b"first delivery")
    (remote_root / "inbox" / "a.BIF").write_bytes(b"second delivery")
    with SftpTransport(**sftp_settings(sftp_server)) as transport:
        new_name = transport.move("/inbox", "a.BIF", "/archive")
    assert new_name != "a.BIF" and new_name.startswith("a_") and new_name.endswith(".BIF")
    assert (remote_root / "archive" / "a.BIF").read_bytes() == b"first delivery"
    assert (remote_root / "archive" / new_name).read_bytes() == b"second delivery"


def test_refuses_a_host_key_that_does_not_match_before_sending_credentials(sftp_server: SftpServer) -> None:
    stored = "SHA256:" + "A" * 43
    with pytest.raises(TransportError) as caught:
        SftpTransport(**sftp_settings(sftp_server, host_key_fingerprint=stored)).open()
    error = caught.value
    assert error.permanent
    assert "host key mismatch" in str(error)
    assert stored in str(error) and sftp_server.host_key.fingerprint in str(error)
    assert sftp_server.auth_attempts == []  # the password never left
    assert PASSWORD not in str(error)


def ed25519_key_text() -> str:
    private = ed25519.Ed25519PrivateKey.generate()
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption()).decode()


def test_accepts_any_of_the_servers_host_keys_that_matches(remote_root: Path, host_key: paramiko.RSAKey) -> None:
    ed_key = load_private_key(ed25519_key_text())
    server = SftpServer(remote_root, host_key, extra_host_keys=(ed_key,))
    try:
        # paramiko prefers Ed25519; the partner gave us the RSA key's fingerprint
        with SftpTransport(**sftp_settings(server, host_key_fingerprint=host_key.fingerprint)) as transport:
            assert transport.list("/inbox") == []
        with SftpTransport(**sftp_settings(server, host_key_fingerprint=ed_key.fingerprint)) as transport:
            assert transport.list("/inbox") == []
        with pytest.raises(TransportError) as caught:
            SftpTransport(**sftp_settings(server, host_key_fingerprint="SHA256:" + "B" * 43)).open()
        assert ed_key.fingerprint in str(caught.value) and host_key.fingerprint in str(caught.value)
        assert server.auth_attempts == [("password", USER), ("password", USER)]
    finally:
        server.close()


def test_reports_refused_password_as_permanent_without_the_password(sftp_server: SftpServer) -> None:
    with pytest.raises(TransportError) as caught:
        SftpTransport(**sftp_settings(sftp_server, password="wrong-pw-123")).open()
    assert caught.value.permanent
    assert "authentication failed (password refused)" in str(caught.value)
    assert "wrong-pw-123" not in str(caught.value)


def test_authenticates_with_a_private_key(remote_root: Path, host_key: paramiko.RSAKey) -> None:
    text = ed25519_key_text()
    server = SftpServer(remote_root, host_key, password="", authorized_key=load_private_key(text))
    try:
        with SftpTransport(**sftp_settings(server, password="", private_key=text)) as transport:
            assert transport.list("/inbox") == []
        assert server.auth_attempts == [("publickey", USER)]
    finally:
        server.close()


def test_a_missing_folder_is_a_permanent_error(sftp_server: SftpServer) -> None:
    with SftpTransport(**sftp_settings(sftp_server)) as transport, pytest.raises(TransportError) as caught:
        transport.list("/no-such-folder")
    assert caught.value.permanent and "no such file or folder" in str(caught.value)


def test_a_connection_dropped_mid_transfer_raises_and_leaves_the_file(
        sftp_server: SftpServer, remote_root: Path, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 2000  # 512 kB: many SFTP read requests
    (remote_root / "inbox" / "big.BIF").write_bytes(payload)
    sftp_server.drop_after = 100_000
    with pytest.raises(TransportError) as caught, SftpTransport(**sftp_settings(sftp_server)) as transport:
        transport.get("/inbox", "big.BIF", tmp_path / "partial")
    assert not caught.value.permanent  # the next poll retries
    assert sftp_server.drops == 1
    assert (remote_root / "inbox" / "big.BIF").read_bytes() == payload
    with SftpTransport(**sftp_settings(sftp_server)) as transport:  # the server answers again
        assert transport.get("/inbox", "big.BIF", tmp_path / "whole") == len(payload)
    assert (tmp_path / "whole").read_bytes() == payload


def test_cannot_connect_is_a_transient_error() -> None:
    with pytest.raises(TransportError) as caught:
        SftpTransport(host="127.0.0.1", port=1, username=USER, password=PASSWORD,
                      host_key_fingerprint="SHA256:" + "A" * 43, timeout=2).open()
    assert not caught.value.permanent and "cannot connect" in str(caught.value)


@pytest.mark.parametrize("text", [
    "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
    "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8=",
    "3072 SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 sftp.partner.example (RSA)",
])
def test_accepts_fingerprints_as_ssh_keygen_prints_them(text: str) -> None:
    assert normalize_fingerprint(text) == "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


@pytest.mark.parametrize("text", ["", "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", "SHA256:short"])
def test_rejects_other_fingerprint_forms(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_fingerprint(text)


def test_fingerprint_matches_ssh_keygen(host_key: paramiko.RSAKey, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    public = tmp_path / "host.pub"
    public.write_text(f"{host_key.get_name()} {host_key.get_base64()}\n")
    printed = subprocess.run(["ssh-keygen", "-lf", str(public)], capture_output=True, text=True, check=True).stdout
    assert normalize_fingerprint(printed) == host_key.fingerprint


def test_load_private_key_refuses_passphrase_protected_keys() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    text = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.BestAvailableEncryption(b"passphrase")).decode()
    with pytest.raises(ValueError, match="passphrase"):
        load_private_key(text)
    with pytest.raises(ValueError, match="not an OpenSSH or PEM"):
        load_private_key("not a key")
