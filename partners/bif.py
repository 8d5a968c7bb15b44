"""The canonical BIF: the invoice model every partner parser yields, its checks, and the pipe writer.

A BIF file is one row per line, ``|`` separated, first column the row type (SPEC section 2):
``FH`` file header (first line, once), ``IH`` invoice header, ``CR`` customer record and ``ID``
invoice detail rows (both belong to the preceding IH). Columns follow ``bif_fields.layout()``;
trailing empty columns may be omitted, extra columns are an error. Dates are MM/DD/YYYY, amounts
plain decimals with at most two decimal places, read as ``Decimal``. The streaming reader is
``partners.bif_reader.read_bif``.

Errors come in two kinds. A problem with one invoice (bad date, bad amount, missing required field,
wrong column count, an unknown row type inside its block) makes that invoice an ``InvalidInvoice``
carrying its raw lines and ``FieldError``s; the loader decides (per biller policy) whether that
rejects the file or quarantines the record. A problem with the file (no FH, rows before the first
IH, a second FH, FH count/total mismatch, undecodable bytes, a file name for another biller) raises
``FileRejected``. The FH check can only run at the end, after every invoice was yielded: load the
file in one transaction and roll it back on ``FileRejected``.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import compress
from operator import itemgetter
from typing import BinaryIO, TextIO, TypeAlias

from partners.base import PartnerError
from partners.bif_fields import CR, FH, ID, IH, layout

_LAYOUT = layout()
#: Column names after RowType, per row type, in file order.
FH_FIELDS: tuple[str, ...] = tuple(_LAYOUT[FH][1:])
IH_FIELDS: tuple[str, ...] = tuple(_LAYOUT[IH][1:])
CR_FIELDS: tuple[str, ...] = tuple(_LAYOUT[CR][1:])
ID_FIELDS: tuple[str, ...] = tuple(_LAYOUT[ID][1:])
IH_INDEX = {name: i for i, name in enumerate(_LAYOUT[IH]) if i}
CR_INDEX = {name: i for i, name in enumerate(_LAYOUT[CR]) if i}

REQUIRED_CR = ("AccountNumber", "CustomerName")
OPTIONAL_AMOUNTS = ("BalanceDue", "PastDue", "PromptPayDiscountAmount")
OPTIONAL_DATES = ("PromptPayExpirationDate",)
FLAG_FIELDS = ("BlockPaymentsCC", "BlockPaymentsACH")
FLAG_VALUES = {"": None, "Y": True, "N": False, "1": True, "0": False}

MAX_LINE = 1 << 20  # a longer line is not a BIF row but a broken or hostile file
_AMOUNT = re.compile(r"-?\d{1,12}(?:\.\d{1,2})?", re.ASCII)
_DATE = re.compile(r"\d\d/\d\d/\d{4}", re.ASCII)
AMOUNT_PATTERN = _AMOUNT  # a plain BIF decimal: at most 12 digits before the point, 2 after


@dataclass(slots=True)
class FieldError:
    """One problem: ``line`` is 1-based (0 = the file as a whole, e.g. its name), ``field`` a name."""

    line: int
    field: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.field} {self.value[:60]!r}: {self.message}"


class FileRejected(PartnerError):
    """The whole file is refused; ``errors`` says where and why. Permanent: resending cannot help."""

    def __init__(self, errors: list[FieldError] | FieldError, file_name: str = "") -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        self.file_name = file_name
        detail = "; ".join(str(e) for e in self.errors[:5])
        super().__init__(f"{file_name or 'file'} rejected: {detail}", permanent=True)


def reject(line: int, field: str, value: str, message: str, file_name: str = "") -> FileRejected:
    """Return (for ``raise``) a FileRejected carrying one error."""
    return FileRejected(FieldError(line, field, value[:200], message), file_name)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """One column of a delimited partner file: 1-based ``column`` -> ``bif_field`` of ``row_type``.

    ``bif_field`` "" declares a column that is present but not loaded.
    """

    column: int
    bif_field: str
    row_type: str


_DATE_CACHE: dict[str, date | None] = {}


def parse_date(value: str) -> date | None:
    """Return the date of a MM/DD/YYYY string, or None when it is not one. Cached: files repeat dates."""
    try:
        return _DATE_CACHE[value]
    except KeyError:
        pass
    parsed: date | None = None
    if len(value) == 10 and _DATE.fullmatch(value):
        try:
            parsed = date(int(value[6:]), int(value[:2]), int(value[3:5]))
        except ValueError:
            parsed = None
    if len(_DATE_CACHE) > 20_000:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = parsed
    return parsed


def parse_amount(value: str) -> Decimal | None:
    """Return the Decimal of a plain decimal (``-1234.50``), or None when it is not one."""
    return Decimal(value) if _AMOUNT.fullmatch(value) else None


def normalize_date(value: str) -> str | None:
    """Return MM/DD/YYYY for a MM/DD/YYYY, YYYY-MM-DD or YYYYMMDD date, or None when it is none."""
    if len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        value = f"{value[5:7]}/{value[8:10]}/{value[:4]}"
    elif len(value) == 8 and value.isascii() and value.isdigit():
        value = f"{value[4:6]}/{value[6:8]}/{value[:4]}"
    return value if parse_date(value) is not None else None


def normalize_flag(value: str) -> str | None:
    """Return "Y"/"N" for a yes/no flag (Y/N, 1/0, T/F, YES/NO, TRUE/FALSE, any case), "" for "",
    None for anything else."""
    return _FLAGS.get(value.upper())


_FLAGS = {
    "": "",
    **dict.fromkeys(("Y", "1", "T", "YES", "TRUE"), "Y"),
    **dict.fromkeys(("N", "0", "F", "NO", "FALSE"), "N"),
}


def format_date(value: date) -> str:
    """Return ``value`` as BIF writes dates, MM/DD/YYYY."""
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


@dataclass
class BifInvoice:
    """One invoice: its IH fields, CR fields and ID rows by BIF name (an absent key means empty).

    ``line`` is the line (or for XML the element) where the invoice starts. The typed accessors
    raise ValueError on a malformed value; parsers only yield invoices that passed ``invoice_errors``.

    Every parser leaves empty values out of the dicts. ``read_bif`` builds the three dicts lazily,
    on first access, from the split rows it keeps
    (``header``, ``customer`` and ``details`` are properties over ``_header`` ...; see below the
    class): building a 75-key dict per IH costs more than the rest of reading the row, and a loader
    may only want the typed accessors, which read the rows directly.
    """

    line: int
    header: dict[str, str]
    customer: dict[str, str]
    details: list[dict[str, str]]

    # Plain class attributes, not dataclass fields: the split rows of a lazily built invoice and
    # the dicts once built (None until then).
    # (Type comments, not annotations: an annotation would make them dataclass fields.)
    _rows = None  # type: list[list[str]] | None  # the IH row first, then the block's rows in order
    _cr = None  # type: list[str] | None
    _header = None  # type: dict[str, str] | None
    _customer = None  # type: dict[str, str] | None
    _details = None  # type: list[dict[str, str]] | None
    #: The detail rows as stored (``packed``), when the parser made them so: ``details`` is built from them.
    _stored_details = None  # type: list[list[str]] | None
    #: True when the parser left no empty value in the dicts it built (so none needs filtering out).
    compact = False

    @classmethod
    def from_rows(cls, line: int, rows: list[list[str]], cr: list[str] | None) -> BifInvoice:
        """Return an invoice over split BIF rows (RowType first); dicts are built on access."""
        invoice = cls.__new__(cls)  # skips __init__: _header, _customer, _details stay None (class level)
        invoice.line, invoice._rows, invoice._cr = line, rows, cr
        return invoice

    def value(self, name: str) -> str:
        """Return an IH or CR field's value ("" when empty) without building the dicts.

        Raises KeyError for a name that is neither an IH nor a CR field.
        """
        if name in IH_INDEX:
            return self._ih(name)
        i = CR_INDEX[name]
        if self._customer is None and self._cr is not None:
            return self._cr[i] if i < len(self._cr) else ""
        return self.customer.get(name, "")

    def _ih(self, name: str) -> str:
        if self._header is None and self._rows is not None:
            row, i = self._rows[0], IH_INDEX[name]
            return row[i] if i < len(row) else ""
        return self.header.get(name, "")

    @property
    def invoice_number(self) -> str:
        return self._ih("InvoiceNumber")

    @property
    def record_type(self) -> str:
        """ "N" (new) or "R" (replacement)."""
        return self._ih("RecordType")

    @property
    def account_number(self) -> str:
        return self.value("AccountNumber")

    @property
    def invoice_date(self) -> date:
        return _typed_date("InvoiceDate", self._ih("InvoiceDate"))

    @property
    def due_date(self) -> date:
        return _typed_date("InvoiceDueDate", self._ih("InvoiceDueDate"))

    @property
    def total_amount_due(self) -> Decimal:
        value = self._ih("TotalAmountDue")
        amount = parse_amount(value)
        if amount is None:
            raise ValueError(f"TotalAmountDue {value!r} is not a plain decimal")
        return amount

    def block_payments(self, field: str) -> bool | None:
        """Return BlockPaymentsCC/ACH as a bool (Y/1 True, N/0 False), None when not given."""
        return FLAG_VALUES[self.customer.get(field, "")]


_filled = itemgetter(1)  # keeps the (name, value) pairs whose value is not empty, in C


def named(values: Iterable[str], names: tuple[str, ...]) -> dict[str, str]:
    """The non-empty ``values`` keyed by the field of their place in ``names`` (``packed`` undone)."""
    return dict(filter(_filled, zip(names, values)))


_PLACES = {names: {name: i for i, name in enumerate(names)} for names in (CR_FIELDS, ID_FIELDS)}


def packed(values: dict[str, str], names: tuple[str, ...]) -> list[str]:
    """A CR or ID record as a stored invoice keeps it: the values in ``names`` (CR_FIELDS or
    ID_FIELDS) order, "" for a field not given, the empty ones at the end left out.

    Half the size of the record keyed by field names: the names are most of its bytes.
    """
    if not values:
        return []
    place = _PLACES[names]
    out = [""] * (max(map(place.__getitem__, values)) + 1)
    for name, value in values.items():
        out[place[name]] = value
    return trimmed(out)


def trimmed(values: list[str]) -> list[str]:
    """``values`` without its empty values at the end (in place; returned)."""
    if values and not values[-1]:
        del values[max(compress(range(len(values)), values), default=-1) + 1:]  # after the last non-empty one
    return values


def _lazy_header(self: BifInvoice) -> dict[str, str]:
    if self._header is None:
        self._header = named(self._rows[0][1:], IH_FIELDS) if self._rows else {}
    return self._header


def _lazy_customer(self: BifInvoice) -> dict[str, str]:
    if self._customer is None:
        self._customer = named(self._cr[1:], CR_FIELDS) if self._cr else {}
    return self._customer


def _lazy_details(self: BifInvoice) -> list[dict[str, str]]:
    if self._details is None and self._stored_details is not None:
        self._details = [named(row, ID_FIELDS) for row in self._stored_details]
    if self._details is None:
        rows: list[list[str]] = self._rows or []
        self._details = [named(row[1:], ID_FIELDS) for row in rows if row[0] == ID]
    return self._details


def _setter(attr: str) -> Callable[[BifInvoice, object], None]:
    return lambda self, value: setattr(self, attr, value)


# The dataclass __init__ assigns header/customer/details through these setters.
BifInvoice.header = property(_lazy_header, _setter("_header"))  # type: ignore[assignment]
BifInvoice.customer = property(_lazy_customer, _setter("_customer"))  # type: ignore[assignment]
BifInvoice.details = property(_lazy_details, _setter("_details"))  # type: ignore[assignment]


def _typed_date(name: str, value: str) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"{name} {value!r} is not a MM/DD/YYYY date")
    return parsed


@dataclass(slots=True)
class InvalidInvoice:
    """An invoice that failed validation: where it starts, its raw lines, and every error found."""

    line: int
    lines: list[str]
    errors: list[FieldError]


BifRecord: TypeAlias = BifInvoice | InvalidInvoice


def invoice_errors(invoice: BifInvoice, customer_line: int | None = None) -> list[FieldError]:
    """Return the BIF-level problems of ``invoice`` (empty when it is valid).

    Checks RecordType N/R, the required fields, dates, amounts and payment-block flags. Customer
    errors name ``customer_line`` (default: the invoice's line).
    """
    errors: list[FieldError] = []
    line, header, customer = invoice.line, invoice.header, invoice.customer
    get = header.get
    if get("RecordType", "") not in ("N", "R"):
        errors.append(FieldError(line, "RecordType", get("RecordType", ""), "must be N or R"))
    if not get("InvoiceNumber"):
        errors.append(FieldError(line, "InvoiceNumber", "", "required"))
    for name in ("InvoiceDate", "InvoiceDueDate"):
        value = get(name, "")
        if parse_date(value) is None:
            errors.append(FieldError(line, name, value, "required MM/DD/YYYY date" if value else "required"))
    value = get("TotalAmountDue", "")
    if not _AMOUNT.fullmatch(value):
        errors.append(
            FieldError(line, "TotalAmountDue", value, "required plain decimal" if value else "required")
        )
    for name in OPTIONAL_AMOUNTS:
        value = get(name, "")
        if value and not _AMOUNT.fullmatch(value):
            errors.append(FieldError(line, name, value, "not a plain decimal (1234.50)"))
    for name in OPTIONAL_DATES:
        value = get(name, "")
        if value and parse_date(value) is None:
            errors.append(FieldError(line, name, value, "not a MM/DD/YYYY date"))
    if customer_line is None:
        customer_line = line
    if not customer:
        errors.append(FieldError(line, "CR", "", "invoice has no CR customer record"))
        return errors
    for name in REQUIRED_CR:
        if not customer.get(name):
            errors.append(FieldError(customer_line, name, "", "required"))
    for name in FLAG_FIELDS:
        value = customer.get(name, "")
        if value not in FLAG_VALUES:
            errors.append(FieldError(customer_line, name, value, "must be Y, N, 1 or 0"))
    return errors


def check_file_name(
    file_name: str, pattern: re.Pattern[str], bid: int, convention: str, *, required: bool = True
) -> re.Match[str] | None:
    """Return the match of ``pattern`` (which has a ``bid`` group) on the base name of ``file_name``.

    Raises FileRejected when the name does not follow ``convention`` (only if ``required``; else
    None is returned) or names a BID other than ``bid``.
    """
    base = re.split(r"[\\/]", file_name)[-1]
    match = pattern.search(base)
    if match is None:
        if required:
            raise reject(
                0, "file_name", base, f"does not follow the naming convention {convention}", file_name
            )
        return None
    if match.group("bid") and int(match.group("bid")) != bid:
        raise reject(0, "file_name", base, f"names BID {int(match.group('bid'))}, not {bid}", file_name)
    return match


@contextmanager
def utf8_text(binary_stream: BinaryIO) -> Iterator[Iterator[str]]:
    """Yield a C-speed iterator of the stream's lines (line endings kept, at most MAX_LINE each).

    Bytes that are not UTF-8 come through as lone surrogates (``surrogateescape``): pass every line
    through ``checked_line`` (read_bif does) or use ``decode_lines``. The stream is left open.
    """
    text = io.TextIOWrapper(binary_stream, encoding="utf-8", errors="surrogateescape", newline="\n")
    try:
        yield iter(partial(text.readline, MAX_LINE), "")
    finally:
        text.detach()


def checked_line(line: str, lineno: int, file_name: str = "") -> str:
    """Return ``line`` (a leading BOM dropped on line 1) after checking it is UTF-8 and not too long.

    Raises FileRejected naming the line. Callers test ``line.isascii()`` and the length first: an
    ASCII line of normal length needs no call.
    """
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:
        raw = line[exc.start : exc.end].encode("utf-8", "surrogateescape")
        raise reject(
            lineno,
            "encoding",
            line[max(exc.start - 20, 0) : exc.start] + repr(raw),
            f"not UTF-8 at character {exc.start + 1} of the line",
            file_name,
        ) from None
    if len(line) >= MAX_LINE and not line.endswith("\n"):
        raise reject(lineno, "line", line[:40], f"longer than {MAX_LINE} characters", file_name)
    return line[1:] if lineno == 1 and line.startswith("\ufeff") else line


def decode_lines(binary_stream: BinaryIO, file_name: str = "") -> Iterator[str]:
    """Yield the lines of ``binary_stream`` decoded as strict UTF-8, without line endings.

    A leading BOM is dropped. Raises FileRejected naming the line on bytes that are not UTF-8, or
    on a line longer than MAX_LINE characters (memory stays bounded whatever the file). Decoding
    runs in C; only a non-ASCII (or very long) line costs a second look.
    """
    with utf8_text(binary_stream) as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.isascii() or len(line) >= MAX_LINE:
                line = checked_line(line, lineno, file_name)
            yield line.rstrip("\r\n")


def _row(row_type: str, names: tuple[str, ...], values: dict[str, str]) -> str:
    cells = [values.get(name, "") for name in names]
    while cells and not cells[-1]:
        cells.pop()
    text = "|".join([row_type, *cells])
    if text.count("|") != len(cells) or "\n" in text or "\r" in text:
        raise ValueError(f"a {row_type} value contains '|' or a line break: {text[:200]!r}")
    return text + "\n"


def write_bif(invoices: Iterable[BifInvoice], out: TextIO, *, biller_guid: str, created: date) -> None:
    """Write ``invoices`` as a pipe BIF to ``out``, FH first with the computed count and total.

    Streams in one pass: rows go to a spooled temporary file (memory up to 8 MB, then disk) while
    the count and total accumulate; then the FH and the spooled rows are copied to ``out``.
    Raises ValueError for a value containing ``|`` or a line break, or a malformed TotalAmountDue.
    """
    count, total = 0, Decimal(0)
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8", newline="") as body:
        for invoice in invoices:
            count += 1
            total += invoice.total_amount_due
            body.write(_row(IH, IH_FIELDS, invoice.header))
            if invoice.customer:
                body.write(_row(CR, CR_FIELDS, invoice.customer))
            for detail in invoice.details:
                body.write(_row(ID, ID_FIELDS, detail))
        out.write(f"{FH}|{biller_guid}|{format_date(created)}|{count}|{total}\n")
        body.seek(0)
        shutil.copyfileobj(body, out)
