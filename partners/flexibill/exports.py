"""Harris FlexiBill export files (SPEC.md section 3): the payment file and the change-log files.

Payment file ``ICPayments_YYYYMMDDHHMMSS.<codiv>``: one file per CoDiv (the account number's last three
characters, lower-cased as the extension), one payment per line, the columns of ``PAYMENT_LAYOUT``
joined by one space, lines ending CRLF, ASCII. Text is left-justified and space padded; Amount and
ConvenienceFee are right-justified and zero padded (``00156.25``). The stamp is the batch close time
in the biller's zone, so regenerating a batch gives the same names and bytes.

What does not fit is never shifted: each column declares its overflow outcome (``REFUSE`` the whole
file with a message naming the payment, ``TRUNCATE`` on the right, or keep the ``LAST`` characters);
text is transliterated to ASCII first (``partners.exports.ascii_text``).

Change-log files (pipe, CRLF, ASCII): ``ICAutoPayChangeReport_<stamp>.txt``
``CustomerName|AccountNumber|InvoiceType,Yes/No|MMDDYYYYHHMMSS``, ``ICPaperlessChangesReport_<stamp>.txt``
the same, ``ICEmailChangesReport_<stamp>.txt`` ``CustomerName|AccountNumber|OldValue|NewValue|MMDDYYYYHHMMSS``.
A ``|`` inside a value becomes a space.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from partners import exports as ex
from partners.exports import ChangeRow, ExportContext, ExportError, Line, PaymentRow

LEFT, ZERO = "left", "zero"  # alignment: space padded on the right / zero padded on the left
REFUSE, TRUNCATE, LAST = "refuse", "truncate", "last"  # what happens to a value wider than its column
SEPARATOR = " "
DESCRIPTION = "Invoice Cloud Payment"
CARD_TENDER = {"visa": "V", "mastercard": "M", "discover": "D", "amex": "A"}
ACH_TENDERS = frozenset({"ach", "echeck"})  # both are ACH debits: "C"
AMOUNT_MAX = "99999.99"  # what 8 characters hold
NO_AMOUNT = Decimal(0)  # a change-log line carries no money


@dataclass(frozen=True, slots=True)
class Column:
    """One fixed-width column: name, width, alignment, overflow outcome, and how its value is made."""

    name: str
    width: int
    align: str
    overflow: str
    value: Callable[[PaymentRow, tzinfo], str]
    source: str


# ---- Rules, one small function each ----------------------------------------------------------


def codiv(account_number: str) -> str:
    """The CoDiv: the account number's last three characters, lower-cased.

    Raises ExportError naming the account when it has none (shorter than four characters, or its last
    three are not letters or digits).
    """
    number = account_number.strip()
    tail = number[-3:]
    if len(number) < 4 or not (tail.isascii() and tail.isalnum()):
        raise ExportError(f"account {account_number!r} has no CoDiv (its last three characters must be "
                          "letters or digits after an account part); the FlexiBill file is refused")
    return tail.lower()


def account_field(account_number: str, custom2: str | None) -> str:
    """AccountNumber: Custom2 of the invoice, else the account number without its CoDiv."""
    value = str(custom2).strip() if custom2 is not None else ""
    if value:
        return value
    codiv(account_number)  # ExportError when there is none to remove
    return account_number.strip()[:-3]


def tender_type(row: PaymentRow) -> str:
    """V, M, D, A by card brand; C for ACH and eCheck; X for anything else."""
    if row.tender in ACH_TENDERS:
        return "C"
    if row.tender == "card":
        return CARD_TENDER.get(row.card_brand, "X")
    return "X"


def net_amount(row: PaymentRow) -> str:
    """Payment minus convenience fee; ExportError for a negative amount (no dash indicator)."""
    net = row.amount - row.convenience_fee
    if net < 0:
        raise ExportError(f"payment {ex.guid_text(row.payment_guid)}: amount {ex.money(row.amount)} minus convenience fee "
                          f"{ex.money(row.convenience_fee)} is negative; the file has no sign, so it is refused")
    return f"{net:08.2f}"


def fee(row: PaymentRow) -> str:
    if row.convenience_fee < 0:
        raise ExportError(f"payment {ex.guid_text(row.payment_guid)}: negative convenience fee {row.convenience_fee}")
    return f"{row.convenience_fee:08.2f}"


def local_stamp(row: PaymentRow, zone: tzinfo) -> str:
    """PaymentDate yyyyMMddHHmmss in the biller's time zone."""
    return row.paid_at.astimezone(zone).strftime("%Y%m%d%H%M%S")


PAYMENT_LAYOUT: tuple[Column, ...] = (
    Column("AccountNumber", 30, LEFT, REFUSE, lambda r, z: account_field(r.account_number, r.custom2),
           "Custom2 of the payment's invoice, else the account number without its CoDiv"),
    Column("Amount", 8, ZERO, REFUSE, lambda r, z: net_amount(r), "payment minus convenience fee"),
    Column("TenderType", 1, LEFT, REFUSE, lambda r, z: tender_type(r),
           "V Visa, M Mastercard, D Discover, A Amex, C ACH/eCheck, X other"),
    Column("Description", 24, LEFT, TRUNCATE, lambda r, z: DESCRIPTION, f"always {DESCRIPTION!r}"),
    Column("Authorization", 20, LEFT, TRUNCATE, lambda r, z: r.approval_code, "approval code (PaymentMessage)"),
    Column("PaymentDate", 14, LEFT, REFUSE, local_stamp, "yyyyMMddHHmmss, biller's time zone"),
    Column("CheckNum", 10, LEFT, LAST, lambda r, z: r.check_number[-10:], "check number, last 10 characters"),
    Column("ConvenienceFee", 8, ZERO, REFUSE, lambda r, z: fee(r), "as Amount"),
)
LINE_WIDTH = sum(c.width for c in PAYMENT_LAYOUT) + len(SEPARATOR) * (len(PAYMENT_LAYOUT) - 1)


def fit(column: Column, value: str, row: PaymentRow) -> str:
    """Pad ``value`` to the column's width, or apply its overflow outcome; ExportError on REFUSE."""
    if column.align == LEFT:
        value = ex.ascii_text(value)
    if len(value) > column.width:
        if column.overflow == TRUNCATE:
            value = value[: column.width]
        elif column.overflow == LAST:
            value = value[-column.width:]
        else:
            limit = f" (at most {AMOUNT_MAX})" if column.align == ZERO else ""
            raise ExportError(f"payment {ex.guid_text(row.payment_guid)}: {column.name} {value!r} does not fit "
                              f"{column.width} characters{limit}; the FlexiBill payment file is refused")
    return value.ljust(column.width) if column.align == LEFT else value.rjust(column.width, "0")


#: The whole line as one format: every value padded to its column, never cut. A result of exactly
#: LINE_WIDTH printable ASCII characters proves that every value fit as it is; any other result is
#: made again column by column by ``fit`` (transliterate, truncate or refuse).
_PADDED = SEPARATOR.join(f"{{:<{c.width}}}" if c.align == LEFT else f"{{:0>{c.width}}}" for c in PAYMENT_LAYOUT)


def payment_line(row: PaymentRow, zone: tzinfo) -> str:
    """One payment's line (without its line end); ExportError when a value cannot fit."""
    values = [c.value(row, zone) for c in PAYMENT_LAYOUT]
    line = _PADDED.format(*values)
    if len(line) == LINE_WIDTH and line.isascii() and line.isprintable():
        return line
    return SEPARATOR.join([fit(c, v, row) for c, v in zip(PAYMENT_LAYOUT, values, strict=True)])


def payment_file_name(stamp: str, division: str) -> str:
    return f"ICPayments_{stamp}.{division}"


def write_payments(rows: Iterable[PaymentRow], context: ExportContext) -> Iterator[Line]:
    """Yield each payment's line in its CoDiv's file; ExportError refuses them all."""
    zone, stamp = context.zone, context.stamp
    names: dict[str, str] = {}
    for row in rows:
        division = codiv(row.account_number)
        name = names.get(division) or names.setdefault(division, payment_file_name(stamp, division))
        yield Line(name, payment_line(row, zone), row.amount - row.convenience_fee)


def parse_payment_line(line: str) -> dict[str, str]:
    """Read one payment line back by ``PAYMENT_LAYOUT`` (values unpadded); ValueError if it does not fit."""
    line = line.rstrip("\r\n")
    if len(line) != LINE_WIDTH:
        raise ValueError(f"line is {len(line)} characters, the layout is {LINE_WIDTH}")
    values, pos = {}, 0
    for i, column in enumerate(PAYMENT_LAYOUT):
        if i and line[pos - 1] != SEPARATOR:
            raise ValueError(f"no separator before {column.name} at column {pos}")
        raw = line[pos: pos + column.width]
        values[column.name] = raw.rstrip(" ") if column.align == LEFT else raw
        pos += column.width + len(SEPARATOR)
    return values


# ---- Change-log files (pipe) ------------------------------------------------------------------


def pipe_value(value: str) -> str:
    """ASCII, and no ``|`` inside a value (it becomes a space): a column can never shift."""
    return ex.ascii_text(value).replace("|", " ")


def change_date(row: ChangeRow, zone: tzinfo) -> str:
    """MMDDYYYYHHMMSS in the biller's time zone."""
    return row.changed_at.astimezone(zone).strftime("%m%d%Y%H%M%S")


def yes_no(row: ChangeRow) -> str:
    """Yes when the new value is 1 (enrolled), else No."""
    return "Yes" if row.new_value.strip() == "1" else "No"


def enrollment_fields(row: ChangeRow, zone: tzinfo) -> list[str]:
    """CustomerName | AccountNumber | InvoiceType,Yes/No | MMDDYYYYHHMMSS."""
    return [row.customer_name, account_field(row.account_number, row.custom2),
            f"{row.invoice_type},{yes_no(row)}", change_date(row, zone)]


def email_fields(row: ChangeRow, zone: tzinfo) -> list[str]:
    """CustomerName | AccountNumber | OldValue | NewValue | MMDDYYYYHHMMSS."""
    return [row.customer_name, account_field(row.account_number, row.custom2), row.old_value, row.new_value,
            change_date(row, zone)]


CHANGE_FILES: dict[str, tuple[str, Callable[[ChangeRow, tzinfo], list[str]]]] = {
    ex.AUTOPAY_CHANGES: ("ICAutoPayChangeReport", enrollment_fields),
    ex.EMAIL_CHANGES: ("ICEmailChangesReport", email_fields),
    ex.PAPERLESS_CHANGES: ("ICPaperlessChangesReport", enrollment_fields),
}
#: Column names of each change-log file, in order (documentation and read-back tests).
CHANGE_COLUMNS: dict[str, tuple[str, ...]] = {
    ex.AUTOPAY_CHANGES: ("CustomerName", "AccountNumber", "InvoiceType,AutoPay", "ChangeDate"),
    ex.EMAIL_CHANGES: ("CustomerName", "AccountNumber", "OldValue", "NewValue", "ChangeDate"),
    ex.PAPERLESS_CHANGES: ("CustomerName", "AccountNumber", "InvoiceType,Paperless", "ChangeDate"),
}


def write_changes(kind: str, rows: Iterable[ChangeRow], context: ExportContext) -> Iterator[Line]:
    """Yield each change log's pipe line in the kind's file."""
    prefix, fields = CHANGE_FILES[kind]
    name = f"{prefix}_{context.stamp}.txt"
    for row in rows:
        yield Line(name, "|".join([pipe_value(v) for v in fields(row, context.zone)]), NO_AMOUNT)


EXPORTS = ex.PartnerExports(
    kinds=(ex.PAYMENTS, ex.AUTOPAY_CHANGES, ex.EMAIL_CHANGES, ex.PAPERLESS_CHANGES),
    payment_writer=write_payments,
    payment_filter={"kind": "payment"},  # no credits (chargebacks and ACH rejects are not payments)
    change_writer=write_changes,
    line_end="\r\n",
    encoding="ascii",
)
