"""Harris Advanced AUS invoice files (``BID_TIMESTAMP_BillType.TXT``, e.g. ``123_20180201_UB.TXT``).

The seed gives no layout (SPEC section 3): the file is delimited text, pipe by default, one line per
invoice, no header row, and its columns are declared by a per-biller mapping table of
``ColumnMap(column, bif_field, row_type)`` (columns 1-based). ``DEFAULT_MAPPING`` is the AUS table
we ship. Each line makes one invoice with its customer record and at most one detail row (only when
a detail column holds a value). Values are stripped; dates may be MM/DD/YYYY, YYYY-MM-DD or
YYYYMMDD (written to BIF as MM/DD/YYYY); BlockPaymentsCC (AUS field 356) and BlockPaymentsACH
(357) take Y/N, 1/0, T/F, YES/NO, TRUE/FALSE (written as Y/N). RecordType is N unless mapped.
A line with more columns than the mapping declares is invalid; fewer means trailing empty columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from partners.bif import (
    CR_FIELDS,
    ID_FIELDS,
    IH_FIELDS,
    BifInvoice,
    BifRecord,
    ColumnMap,
    FieldError,
    InvalidInvoice,
    check_file_name,
    decode_lines,
    invoice_errors,
    normalize_date,
    normalize_flag,
)
from partners.bif_fields import CR, ID, IH

__all__ = ["DEFAULT_MAPPING", "ColumnMap", "parse", "validate_mapping"]

CONVENTION = "BID_TIMESTAMP_BillType.TXT"
_NAME = re.compile(
    r"(?:^|_)(?P<bid>\d+)_(?P<stamp>\d{8,14})_(?P<bill_type>[A-Za-z0-9]+)\.TXT$", re.IGNORECASE | re.ASCII
)

DEFAULT_MAPPING: tuple[ColumnMap, ...] = (
    ColumnMap(1, "AccountNumber", CR),  # customer number-location number, as AUS prints it
    ColumnMap(2, "Custom2", IH),  # customer number (account linking, setting 75)
    ColumnMap(3, "Custom3", IH),  # location number
    ColumnMap(4, "CustomerName", CR),
    ColumnMap(5, "Address1", CR),
    ColumnMap(6, "Address2", CR),
    ColumnMap(7, "City", CR),
    ColumnMap(8, "State", CR),
    ColumnMap(9, "Zip", CR),
    ColumnMap(10, "Phone", CR),
    ColumnMap(11, "EmailAddress", CR),
    ColumnMap(12, "InvoiceNumber", IH),
    ColumnMap(13, "InvoiceDate", IH),
    ColumnMap(14, "InvoiceDueDate", IH),
    ColumnMap(15, "TotalAmountDue", IH),
    ColumnMap(16, "PastDue", IH),
    ColumnMap(17, "BalanceDue", IH),
    ColumnMap(18, "BlockPaymentsCC", CR),  # AUS field 356
    ColumnMap(19, "BlockPaymentsACH", CR),  # AUS field 357
    ColumnMap(20, "Custom4", IH),  # service address
    ColumnMap(21, "Custom5", IH),  # bill cycle
    ColumnMap(22, "CustomField3", ID),  # service (WATER, SEWER ...)
    ColumnMap(23, "CustomField5", ID),  # meter number
    ColumnMap(24, "CustomField7", ID),  # previous read
    ColumnMap(25, "CustomField6", ID),  # current read
    ColumnMap(26, "CustomField9", ID),  # consumption
    ColumnMap(27, "CustomField10", ID),  # service amount
)

_CATALOGUE = {IH: frozenset(IH_FIELDS), CR: frozenset(CR_FIELDS), ID: frozenset(ID_FIELDS)}
_DATES = frozenset({"InvoiceDate", "InvoiceDueDate", "PromptPayExpirationDate"})
_FLAGS = frozenset({"BlockPaymentsCC", "BlockPaymentsACH"})


def validate_mapping(mapping: Sequence[ColumnMap]) -> None:
    """Raise ValueError when a mapping repeats a column or BIF field, or names an unknown field."""
    seen_columns: set[int] = set()
    seen_fields: set[tuple[str, str]] = set()
    for entry in mapping:
        if entry.column < 1 or entry.column in seen_columns:
            raise ValueError(f"column {entry.column} is below 1 or mapped twice")
        seen_columns.add(entry.column)
        if not entry.bif_field:
            continue
        if entry.row_type not in _CATALOGUE or entry.bif_field not in _CATALOGUE[entry.row_type]:
            raise ValueError(f"column {entry.column}: {entry.row_type} has no BIF field {entry.bif_field!r}")
        if (entry.row_type, entry.bif_field) in seen_fields:
            raise ValueError(f"{entry.row_type} {entry.bif_field} is mapped twice")
        seen_fields.add((entry.row_type, entry.bif_field))
    if not seen_columns:
        raise ValueError("the mapping declares no column")


def _convert(entry: ColumnMap, value: str, lineno: int, errors: list[FieldError]) -> str:
    """Return ``value`` in BIF form for its field (dates, flags); record a problem in ``errors``."""
    if not value or (entry.bif_field not in _DATES and entry.bif_field not in _FLAGS):
        return value
    if entry.bif_field in _DATES:
        converted, expected = normalize_date(value), "a MM/DD/YYYY, YYYY-MM-DD or YYYYMMDD date"
    else:
        converted, expected = normalize_flag(value), "Y/N, 1/0, T/F, YES/NO or TRUE/FALSE"
    if converted is None:
        errors.append(FieldError(lineno, entry.bif_field, value, f"column {entry.column}: not {expected}"))
        return value
    return converted


def map_line(
    cells: list[str], lineno: int, mapping: Sequence[ColumnMap]
) -> tuple[BifInvoice, list[FieldError]]:
    """Return the invoice of one line's stripped cells and the problems converting them."""
    errors: list[FieldError] = []
    rows: dict[str, dict[str, str]] = {IH: {"RecordType": "N"}, CR: {}, ID: {}}
    for entry in mapping:
        if entry.bif_field and entry.column <= len(cells):
            value = _convert(entry, cells[entry.column - 1], lineno, errors)
            if value:
                rows[entry.row_type][entry.bif_field] = value
    details = [rows[ID]] if rows[ID] else []
    return BifInvoice(lineno, rows[IH], rows[CR], details), errors


def parse(
    stream: BinaryIO,
    *,
    file_name: str,
    bid: int,
    kind: str = "invoices",
    mapping: Sequence[ColumnMap] | None = None,
    delimiter: str = "|",
) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per non-blank line of an AUS invoice TXT, streaming.

    ``mapping`` defaults to DEFAULT_MAPPING. Raises ValueError for a bad mapping or another kind;
    FileRejected when the name is off ``BID_TIMESTAMP_BillType.TXT`` or names another BID, or on
    bytes that are not UTF-8.
    """
    if kind != "invoices":
        raise ValueError(f"AUS sends only invoice files, not {kind!r}")
    mapping = DEFAULT_MAPPING if mapping is None else mapping
    validate_mapping(mapping)
    width = max(entry.column for entry in mapping)
    check_file_name(file_name, _NAME, bid, CONVENTION)
    for lineno, text in enumerate(decode_lines(stream, file_name), 1):
        if not text.strip():
            continue
        cells = [cell.strip() for cell in text.split(delimiter)]
        invoice, errors = map_line(cells, lineno, mapping)
        if len(cells) > width:
            errors.append(
                FieldError(lineno, "columns", text[:200], f"{len(cells)} columns, the mapping has {width}")
            )
        converted = {e.field for e in errors}
        errors += [e for e in invoice_errors(invoice) if e.field not in converted]
        yield InvalidInvoice(lineno, [text], errors) if errors else invoice
