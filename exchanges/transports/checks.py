"""Validation of a connection's settings, per transport kind (used by ``Connection.clean``)."""
from __future__ import annotations

from typing import Any


def connection_errors(connection: Any) -> dict[str, str]:
    """Return {field: message} for every invalid setting; normalizes fingerprints in place."""
    errors: dict[str, str] = {}
    kind = connection.kind
    if kind in ("sftp", "ftps"):
        if not connection.host.strip():
            errors["host"] = f"{kind.upper()} needs a host name."
        if not connection.username.strip():
            errors["username"] = f"{kind.upper()} needs a user name."
    if kind == "sftp":
        errors.update(_sftp_errors(connection))
    elif kind == "ftps":
        errors.update(_ftps_errors(connection))
    errors.update(_folder_errors(connection))
    pattern = connection.filename_pattern
    if "/" in pattern or "\\" in pattern:
        errors["filename_pattern"] = "A file name glob, without folders (e.g. {bid}_*.BIF)."
    return errors


def _sftp_errors(connection: Any) -> dict[str, str]:
    from exchanges.transports.sftp import load_private_key, normalize_fingerprint

    errors: dict[str, str] = {}
    if not connection.host_key_fingerprint.strip():
        errors["host_key_fingerprint"] = ("SFTP needs the server's host key fingerprint (ask the partner, "
                                          "or run `ssh-keyscan HOST | ssh-keygen -lf -`); it is never "
                                          "accepted automatically.")
    else:
        try:
            connection.host_key_fingerprint = normalize_fingerprint(connection.host_key_fingerprint)
        except ValueError as exc:
            errors["host_key_fingerprint"] = str(exc)
    if connection.private_key:
        try:
            load_private_key(connection.private_key)
        except ValueError as exc:
            errors["private_key"] = str(exc)
    elif not connection.password:
        errors["password"] = "SFTP needs a password or a private key."
    if connection.certificate_fingerprint:
        errors["certificate_fingerprint"] = "Only FTPS connections use a certificate fingerprint."
    return errors


def _ftps_errors(connection: Any) -> dict[str, str]:
    from exchanges.transports.ftps import normalize_certificate_fingerprint

    errors: dict[str, str] = {}
    if not connection.password:
        errors["password"] = "FTPS needs a password."
    if connection.private_key:
        errors["private_key"] = "FTPS does not use a private key."
    if connection.certificate_fingerprint.strip():
        try:
            connection.certificate_fingerprint = normalize_certificate_fingerprint(
                connection.certificate_fingerprint)
        except ValueError as exc:
            errors["certificate_fingerprint"] = str(exc)
    return errors


def _folder_errors(connection: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    folders = {"inbox_folder": connection.inbox_folder, "archive_folder": connection.archive_folder,
               "error_folder": connection.error_folder}
    for field, value in folders.items():
        if not value.strip():
            errors[field] = "Required."
        elif connection.kind == "folder" and ".." in value.replace("\\", "/").split("/"):
            errors[field] = "No '..' in folder paths (absolute, or relative to DATA_DIR)."
    normalized = {field: value.strip().rstrip("/") or "/" for field, value in folders.items() if value.strip()}
    inbox = normalized.get("inbox_folder")
    for field in ("archive_folder", "error_folder"):
        if inbox is not None and normalized.get(field) == inbox and field not in errors:
            errors[field] = "Must differ from the inbox folder, or files would be polled again."
    return errors
