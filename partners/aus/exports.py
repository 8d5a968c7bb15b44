"""Harris Advanced AUS on Logis: the daily CloudPay payment export (docs/exports.md).

CloudPay payments (in the biller's office or by phone, taken by its CSRs) are never pumped, so Logis
imports them from this file: ``ICCloudPayPayments_<BID>_<YYYYMMDDHHMMSS>.csv`` (the stamp is the
batch close in the biller's zone), UTF-8, RFC 4180 CSV (comma, CRLF, fields quoted only when they hold
a comma or a quote), one header line then one payment per line, columns as ``COLUMNS`` declares.
Amount is what the account is credited (payment minus convenience fee); line breaks inside a value
become spaces.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo

from partners import exports as ex
from partners.exports import ExportContext, ExportError, Line, PaymentRow

#: (header, value) per column, in file order.
COLUMNS: tuple[tuple[str, Callable[[PaymentRow, tzinfo], str]], ...] = (
    ("PaymentGUID", lambda r, z: ex.guid_text(r.payment_guid).upper()),
    ("AccountNumber", lambda r, z: r.account_number),
    ("CustomerName", lambda r, z: r.customer_name),
    ("InvoiceNumber", lambda r, z: r.invoice_number),
    ("PaymentDate", lambda r, z: r.paid_at.astimezone(z).strftime("%Y-%m-%d %H:%M:%S")),
    ("Amount", lambda r, z: ex.money(r.amount - r.convenience_fee)),
    ("ConvenienceFee", lambda r, z: ex.money(r.convenience_fee)),
    ("TotalCharged", lambda r, z: ex.money(r.amount)),
    ("TenderType", lambda r, z: r.tender.upper()),
    ("CardBrand", lambda r, z: r.card_brand.upper()),
    ("ApprovalCode", lambda r, z: r.approval_code),
    ("CheckNumber", lambda r, z: r.check_number),
)
HEADER = tuple(name for name, _ in COLUMNS)


def file_name(context: ExportContext) -> str:
    return f"ICCloudPayPayments_{context.bid}_{context.stamp}.csv"


class _CsvLine:
    """Formats one CSV record at a time (no line end: the file adds CRLF)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="")

    def __call__(self, values: Iterable[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow([v.replace("\r", " ").replace("\n", " ") for v in values])
        return self.buffer.getvalue()


def write_payments(rows: Iterable[PaymentRow], context: ExportContext) -> Iterator[Line]:
    """Yield the header, then one line per payment; nothing at all for no payments."""
    name, fmt, zone = file_name(context), _CsvLine(), context.zone
    header_written = False
    for row in rows:
        if row.amount - row.convenience_fee < 0:
            raise ExportError(f"payment {ex.guid_text(row.payment_guid)}: amount {row.amount} minus convenience fee "
                              f"{row.convenience_fee} is negative; the CloudPay export is refused")
        if not header_written:
            yield Line(name, fmt(HEADER), None)
            header_written = True
        yield Line(name, fmt([value(row, zone) for _, value in COLUMNS]), row.amount - row.convenience_fee)


def parse_file(text: str) -> list[dict[str, str]]:
    """Read a CloudPay export back into one dict per payment, by header name."""
    return list(csv.DictReader(io.StringIO(text, newline="")))


EXPORTS = ex.PartnerExports(
    kinds=(ex.PAYMENTS,),
    payment_writer=write_payments,
    payment_filter={"kind": "payment", "channel": "cloudpay"},
    line_end="\r\n",
    encoding="utf-8",
)
