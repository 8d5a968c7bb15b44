"""Transports that fetch partner files: SFTP, FTPS and a local folder (one module each).

``open_transport(connection)`` builds the right client from a ``Connection`` row; the explicit
``DEFAULT_PATTERNS`` table gives each partner's file name glob per file kind."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from exchanges.transports.base import Transport, TransportError

__all__ = ["DEFAULT_PATTERNS", "Transport", "TransportError", "default_pattern", "open_transport", "pattern_for"]

#: (partner code, file kind) -> file name glob; ``{bid}`` stands for the biller's BID.
DEFAULT_PATTERNS: dict[tuple[str, str], str] = {
    ("aus", "invoices"): "{bid}_*.TXT",           # BID_TIMESTAMP_BillType.TXT
    ("cayenta", "invoices"): "billheader_*.xml",  # billheader_DATE.xml
    ("daffron", "invoices"): "{bid}_*",           # BID_MMDDYYYY (BIF)
    ("flexibill", "invoices"): "*.BIF",
    ("flexibill", "replacements"): "*.BRF",
    ("flexibill", "balances"): "*.BAF",
    ("flexibill", "expirations"): "*.SPF",        # _MCS_MMDDYYYYSSSSSS.SPF
}


def default_pattern(partner_code: str, file_kind: str) -> str:
    """The partner's usual file name glob for that kind, or ``*`` when the seeds name none."""
    return DEFAULT_PATTERNS.get((partner_code, file_kind), "*")


def pattern_for(pattern: str, bid: int) -> str:
    return pattern.replace("{bid}", str(bid))


def open_transport(connection: Any, *, timeout: float | None = None) -> Transport:
    """Return an unopened transport for a ``Connection`` (use it as a context manager)."""
    from exchanges.transports.base import TIMEOUT

    seconds = timeout or TIMEOUT
    if connection.kind == "sftp":
        from exchanges.transports.sftp import SftpTransport

        return SftpTransport(host=connection.host, port=connection.port or 22, username=connection.username,
                             password=connection.password, private_key=connection.private_key,
                             host_key_fingerprint=connection.host_key_fingerprint, timeout=seconds)
    if connection.kind == "ftps":
        from exchanges.transports.ftps import FtpsTransport

        return FtpsTransport(host=connection.host, port=connection.port or 21, username=connection.username,
                             password=connection.password,
                             certificate_fingerprint=connection.certificate_fingerprint, timeout=seconds)
    if connection.kind == "folder":
        from django.conf import settings

        from exchanges.transports.folder import FolderTransport

        return FolderTransport(root=Path(settings.DATA_DIR))
    raise TransportError(f"unknown transport kind {connection.kind!r}", permanent=True)
