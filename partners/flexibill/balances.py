"""FlexiBill daily balance (.BAF) and payment expiration (.SPF) files: pipe delimited, one row a line.

.BAF: ``AccountNumber|InvoiceNumber|AdjustmentAmount``; a negative amount is stored positive,
AdjustmentTypeID 2 (balance differential), InvoiceTypeID 42, adjusted "now" in US Central. The
seed gives no naming convention: the extension must be .BAF and a BID token in the name (first
all-digit token, as for .BIF) must be the biller's.

.SPF (``_MCS_MMDDYYYYSSSSSS.SPF``): ``Account|InvoiceSuffix|MM/DD/YYYY|Message``;
InvoiceNumber = column 1 + column 2, PaymentExpirationDate = column 3 minus one day, message =
column 4 (may be omitted). The name carries no BID.

Both yield a dataclass per valid row, or an InvalidRow with its errors; blank lines are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO, TypeAlias
from zoneinfo import ZoneInfo

from partners.bif import FieldError, check_file_name, decode_lines, parse_amount, parse_date, reject
from partners.flexibill.invoices import BID_TOKEN

US_CENTRAL = ZoneInfo("America/Chicago")
BALANCE_DIFFERENTIAL = 2  # AdjustmentTypeID
INVOICE_TYPE_ID = 42

BAF_COLUMNS = ("AccountNumber", "InvoiceNumber", "AdjustmentAmount")
SPF_COLUMNS = ("AccountNumber", "InvoiceNumber", "PaymentExpirationDate", "PaymentExpirationMessage")
#: No BID in an SPF name: the empty ``bid`` group makes check_file_name skip that check.
_SPF_NAME = re.compile(
    r"_(?P<code>[A-Za-z0-9]+)_(?P<date>\d{8})(?P<seq>\d{6})(?P<bid>)\.SPF$", re.IGNORECASE | re.ASCII
)


@dataclass(frozen=True, slots=True)
class BalanceAdjustment:
    """One .BAF row: the invoice's new balance differential, always positive."""

    line: int
    account_number: str
    invoice_number: str
    amount: Decimal
    adjusted_at: datetime
    adjustment_type_id: int = BALANCE_DIFFERENTIAL
    invoice_type_id: int = INVOICE_TYPE_ID


@dataclass(frozen=True, slots=True)
class PaymentExpiration:
    """One .SPF row: payments on ``invoice_number`` are accepted through ``expires_on``."""

    line: int
    account_number: str
    invoice_number: str
    expires_on: date
    message: str


@dataclass(slots=True)
class InvalidRow:
    """A row that could not be read: its line, raw text and errors."""

    line: int
    text: str
    errors: list[FieldError]


BalanceRecord: TypeAlias = BalanceAdjustment | InvalidRow
ExpirationRecord: TypeAlias = PaymentExpiration | InvalidRow


def _rows(
    stream: BinaryIO, file_name: str, width: int, min_width: int
) -> Iterator[tuple[int, str, list[str], list[FieldError]]]:
    """Yield (line, text, columns padded to ``width``, column-count errors) per non-blank line."""
    for lineno, text in enumerate(decode_lines(stream, file_name), 1):
        if not text.strip():
            continue
        cells = [cell.strip() for cell in text.split("|")]
        errors = []
        if not min_width <= len(cells) <= width:
            errors.append(
                FieldError(
                    lineno,
                    "columns",
                    text[:200],
                    f"{len(cells)} columns, expected "
                    + (f"{min_width} to {width}" if min_width < width else str(width)),
                )
            )
        cells = cells[:width] + [""] * (width - len(cells))
        yield lineno, text, cells, errors


def parse_balances(
    stream: BinaryIO, *, file_name: str, bid: int, now: datetime | None = None
) -> Iterator[BalanceRecord]:
    """Yield a BalanceAdjustment or InvalidRow per line of a .BAF file.

    ``now`` (default: the current time) is stamped in US Central on every adjustment. Raises
    FileRejected for a name without .BAF or naming another BID, or undecodable bytes.
    """
    check_file_name(file_name, BID_TOKEN, bid, "", required=False)
    if not file_name.upper().endswith(".BAF"):
        raise reject(0, "file_name", file_name, "a FlexiBill daily balance file ends in .BAF", file_name)
    adjusted_at = (now or datetime.now(US_CENTRAL)).astimezone(US_CENTRAL)
    for lineno, text, (account, invoice, amount_text), errors in _rows(stream, file_name, 3, 3):
        if not account:
            errors.append(FieldError(lineno, "AccountNumber", "", "required"))
        if not invoice:
            errors.append(FieldError(lineno, "InvoiceNumber", "", "required"))
        amount = parse_amount(amount_text)
        if amount is None:
            errors.append(FieldError(lineno, "AdjustmentAmount", amount_text, "required plain decimal"))
        if errors or amount is None:
            yield InvalidRow(lineno, text, errors)
        else:
            yield BalanceAdjustment(lineno, account, invoice, abs(amount), adjusted_at)


def parse_expirations(stream: BinaryIO, *, file_name: str, bid: int) -> Iterator[ExpirationRecord]:
    """Yield a PaymentExpiration or InvalidRow per line of a ``_MCS_MMDDYYYYSSSSSS.SPF`` file.

    ``bid`` is accepted for a uniform signature; the name carries none. Raises FileRejected for a
    name off the convention or undecodable bytes.
    """
    match = check_file_name(file_name, _SPF_NAME, bid, "_MCS_MMDDYYYYSSSSSS.SPF")
    assert match is not None
    stamp = match.group("date")
    if parse_date(f"{stamp[:2]}/{stamp[2:4]}/{stamp[4:]}") is None:
        raise reject(0, "file_name", file_name, "MMDDYYYY in the name is not a date", file_name)
    for lineno, text, (account, suffix, date_text, message), errors in _rows(stream, file_name, 4, 3):
        if not account:
            errors.append(FieldError(lineno, "AccountNumber", "", "required"))
        if not suffix:
            errors.append(FieldError(lineno, "InvoiceNumber", "", "column 2 required"))
        expires = parse_date(date_text)
        if expires is None:
            errors.append(FieldError(lineno, "PaymentExpirationDate", date_text, "required MM/DD/YYYY date"))
        elif expires == date.min:
            errors.append(FieldError(lineno, "PaymentExpirationDate", date_text, "no day before it"))
        if errors or expires is None:
            yield InvalidRow(lineno, text, errors)
        else:
            yield PaymentExpiration(lineno, account, account + suffix, expires - timedelta(days=1), message)
