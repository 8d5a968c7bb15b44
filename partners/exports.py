"""What every partner export writer shares: the row shapes it reads, the lines it yields, its errors.

Writers are pure: they take plain rows (read by ``payments.exports``) and yield ``Line`` values; they
never touch the database or the disk. Each partner module declares a ``PartnerExports``.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from partners.base import PartnerError

#: Export kinds, as ``payments.batch_models.ExportKind`` names them.
PAYMENTS = "payments"
AUTOPAY_CHANGES = "autopay_changes"
EMAIL_CHANGES = "email_changes"
PAPERLESS_CHANGES = "paperless_changes"
#: ChangeLog.kind read for each change-log export kind.
CHANGE_KIND = {AUTOPAY_CHANGES: "autopay", EMAIL_CHANGES: "email", PAPERLESS_CHANGES: "paperless"}


class ExportError(PartnerError):
    """A row cannot be written without corrupting the file; the whole file is refused."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class PaymentRow(NamedTuple):
    """One payment as the writers see it (fields in the order ``payments.exports`` selects them)."""

    payment_guid: UUID | str  # as the database gives it (text: with or without dashes); see guid_text
    account_number: str
    custom2: str | None  # Custom2 of the payment's invoice, None without an invoice
    customer_name: str
    invoice_number: str
    amount: Decimal  # total charged, convenience fee included
    convenience_fee: Decimal
    tender: str
    card_brand: str
    channel: str
    approval_code: str
    check_number: str
    paid_at: datetime  # aware


class ChangeRow(NamedTuple):
    """One change log as the writers see it."""

    change_id: int
    account_number: str
    custom2: str | None  # Custom2 of the account's latest invoice
    customer_name: str
    old_value: str
    new_value: str
    invoice_type: str
    changed_at: datetime  # aware


class Line(NamedTuple):
    """One line for ``file_name`` (without its line end); ``amount`` is None for a header line."""

    file_name: str
    text: str
    amount: Decimal | None


@dataclass(frozen=True)
class ExportContext:
    """What a writer needs besides the rows: the biller, its time zone, the batch close stamp."""

    bid: int
    zone: tzinfo
    close_local: datetime  # the batch close instant in the biller's zone: file names derive from it

    @property
    def stamp(self) -> str:
        """YYYYMMDDHHMMSS of the batch close: the same for every regeneration of the batch."""
        return self.close_local.strftime("%Y%m%d%H%M%S")


PaymentWriter = Callable[[Iterable[PaymentRow], ExportContext], Iterator[Line]]
ChangeWriter = Callable[[str, Iterable[ChangeRow], ExportContext], Iterator[Line]]


@dataclass(frozen=True)
class PartnerExports:
    """A partner's export files: kinds, which payments go in, the writers, bytes on disk."""

    kinds: tuple[str, ...]
    payment_writer: PaymentWriter
    #: Field lookups selecting the payments of a batch that belong in the file (plain data).
    payment_filter: dict[str, object] = field(default_factory=dict)
    change_writer: ChangeWriter | None = None
    line_end: str = "\r\n"
    encoding: str = "ascii"


def guid_text(value: UUID | str) -> str:
    """The GUID in its canonical form, whatever form the database gave it in."""
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def money(value: Decimal) -> str:
    """Two decimals with a point, no sign handling: ``156.25``."""
    return f"{value:.2f}"


def ascii_text(value: str) -> str:
    """Transliterate to ASCII: NFKD with combining marks dropped, ``?`` for what remains.

    Control characters (tabs, line breaks) become spaces so that no value can break a line.
    """
    if value.isascii() and value.isprintable():
        return value
    out = []
    for ch in unicodedata.normalize("NFKD", value):
        if unicodedata.combining(ch):
            continue
        if ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        else:
            out.append("?")
    return "".join(out)
