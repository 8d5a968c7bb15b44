"""FlexiBill invoice files into BIF: fixed-width HDR/D blocks (.BIF new, .BRF replacements).

The layout and the seed's conditional rules live in ``layout.py``. The seed gives no file naming
convention: the extension must be .BIF for ``kind="invoices"`` and .BRF for ``"replacements"``,
and when the name holds an all-digit token (``flexibill_4411.BIF``, ``4411_20261120.BIF``) the first
one is the BID and must be the biller's.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import BinaryIO

from partners.bif import (
    CR_FIELDS,
    BifInvoice,
    BifRecord,
    ColumnMap,
    FieldError,
    InvalidInvoice,
    check_file_name,
    decode_lines,
    invoice_errors,
    parse_date,
    reject,
)
from partners.bif_fields import CR
from partners.flexibill.layout import (
    AMOUNT,
    DATE,
    DETAIL,
    DETAIL_WIDTH,
    HDR,
    HDR_RULES,
    HDR_WIDTH,
    TEXT,
    Field,
    excluded_detail_fields,
    positions,
    record_type,
)

EXTENSIONS = {"invoices": "BIF", "replacements": "BRF"}
#: The first all-digit token of the name, if any, is the BID.
_BID_TOKEN = re.compile(r"(?:^|[_.\-])(?P<bid>\d+)(?=[_.\-])")
_AMOUNT = re.compile(r"[+-]?\d{1,15}(?:\.\d{1,2})?")
_CR = frozenset(CR_FIELDS)

Slices = tuple[tuple[str, slice, str], ...]


def _slices(fields: tuple[Field, ...]) -> Slices:
    return tuple((f.name, slice(first - 1, last), f.kind) for f, first, last in positions(fields))


_HDR_SLICES, _DETAIL_SLICES = _slices(HDR), _slices(DETAIL)
#: (FlexiBill field, BIF field, is a CR field) for every plain copy of an HDR value.
_HDR_COPIES = tuple((f.name, target, target in _CR) for f in HDR for target in f.maps_to)


def normalize_amount(value: str) -> str | None:
    """Return a fixed-width amount (``-12.5``, ``000000000156.25``) as BIF writes it, or None."""
    return f"{Decimal(value):.2f}" if _AMOUNT.fullmatch(value) else None


def read_record(slices: Slices, width: int, text: str, lineno: int, errors: list[FieldError]) -> dict[str, str]:
    """Return the record's values by FlexiBill name, stripped, dates checked, amounts normalized.

    Problems are appended to ``errors`` naming the line and the FlexiBill field.
    """
    values: dict[str, str] = {}
    if len(text.rstrip()) > width:
        errors.append(FieldError(lineno, slices[0][0], text[:3], f"record is {len(text.rstrip())} characters, "
                                 f"the layout {width}"))
    for name, where, kind in slices:
        value = text[where].strip()
        if value and kind != TEXT:
            if kind == DATE and parse_date(value) is None:
                errors.append(FieldError(lineno, name, value, f"columns {where.start + 1}-{where.stop}: "
                                         "not a MM/DD/YYYY date"))
            elif kind == AMOUNT:
                normalized = normalize_amount(value)
                if normalized is None:
                    errors.append(FieldError(lineno, name, value, f"columns {where.start + 1}-{where.stop}: "
                                             "not an amount"))
                else:
                    value = normalized
        values[name] = value
    return values


def _covered(errors: list[FieldError]) -> set[str]:
    """BIF fields already reported through a FlexiBill field error (to not report them twice)."""
    bad = {e.field for e in errors}
    fields = {target for f in HDR if f.name in bad for target in f.maps_to}
    fields.update(rule.bif_field for rule in HDR_RULES if bad.intersection(rule.inputs))
    return fields


def map_invoice(lines: list[tuple[int, str]], kind: str, errors: list[FieldError]) -> BifRecord:
    """Return the BIF invoice of an HDR line and the lines after it ((line number, text) pairs).

    ``errors`` holds problems already found in the block (unknown records); D lines are mapped,
    other lines only kept in the InvalidInvoice's raw lines.
    """
    lineno = lines[0][0]
    values = read_record(_HDR_SLICES, HDR_WIDTH, lines[0][1], lineno, errors)
    header: dict[str, str] = {"RecordType": record_type(kind)}
    customer: dict[str, str] = {}
    for name, target, is_cr in _HDR_COPIES:
        if value := values[name]:
            (customer if is_cr else header)[target] = value
    for rule in HDR_RULES:
        if value := rule.derive(values):
            (customer if rule.row_type == CR else header)[rule.bif_field] = value
    skip = excluded_detail_fields(kind)
    details = []
    for number, text in lines[1:]:
        if text[:3].rstrip() != "D":
            continue
        detail_values = read_record(_DETAIL_SLICES, DETAIL_WIDTH, text, number, errors)
        details.append({target: value for f in DETAIL if f.name not in skip and (value := detail_values[f.name])
                        for target in f.maps_to})
    invoice = BifInvoice(lineno, header, customer, details)
    covered = _covered(errors)
    errors += [e for e in invoice_errors(invoice) if e.field not in covered]
    return InvalidInvoice(lineno, [text for _, text in lines], errors) if errors else invoice


def parse(stream: BinaryIO, *, file_name: str, bid: int, kind: str = "invoices",
          mapping: Sequence[ColumnMap] | None = None) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per HDR block of a FlexiBill .BIF/.BRF, streaming.

    ``kind`` is "invoices" (RecordType N) or "replacements" (R); ``mapping`` is not used (the
    layout is fixed). Raises ValueError for another kind; FileRejected for a wrong extension or
    BID in the name, undecodable bytes, or a D (or other) record before the first HDR. An unknown
    record id after an HDR makes that invoice invalid.
    """
    if kind not in EXTENSIONS:
        raise ValueError(f"FlexiBill invoice kind must be one of {sorted(EXTENSIONS)}, not {kind!r}")
    check_file_name(file_name, _BID_TOKEN, bid, "", required=False)
    base = re.split(r"[\\/]", file_name)[-1]
    if "." not in base or base.rsplit(".", 1)[1].upper() != EXTENSIONS[kind]:
        raise reject(0, "file_name", base, f"a FlexiBill {kind} file ends in .{EXTENSIONS[kind]}", file_name)
    block: list[tuple[int, str]] = []
    errors: list[FieldError] = []
    for lineno, text in enumerate(decode_lines(stream, file_name), 1):
        if not text.strip():
            continue
        record_id = text[:3].rstrip()
        if record_id == "HDR":
            if block:
                yield map_invoice(block, kind, errors)
            block, errors = [(lineno, text)], []
        elif not block:
            raise reject(lineno, "RecordID", record_id, "record before the first HDR", file_name)
        else:
            block.append((lineno, text))
            if record_id != "D":
                errors.append(FieldError(lineno, "RecordID", text[:3], "unknown record id: expected HDR or D"))
    if block:
        yield map_invoice(block, kind, errors)
