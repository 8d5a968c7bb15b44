"""FlexiBill invoice files into BIF: fixed-width HDR/D blocks (.BIF new, .BRF replacements).

The layout and the seed's conditional rules live in ``layout.py``. The seed gives no file naming
convention: the extension must be .BIF for ``kind="invoices"`` and .BRF for ``"replacements"``,
and when the name holds an all-digit token (``flexibill_4411.BIF``, ``4411_20261120.BIF``) the first
one is the BID and must be the biller's.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
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
    DATE,
    DETAIL,
    HDR,
    HDR_RULES,
    TEXT,
    Field,
    excluded_detail_fields,
    positions,
    record_type,
)

EXTENSIONS = {"invoices": "BIF", "replacements": "BRF"}
_RECORD_TYPES = {kind: record_type(kind) for kind in EXTENSIONS}
#: The first all-digit token of the name, if any, is the BID.
BID_TOKEN = re.compile(r"(?:^|[_.\-])(?P<bid>\d+)(?=[_.\-])", re.ASCII)
_AMOUNT = re.compile(r"[+-]?\d{1,15}(?:\.\d{1,2})?", re.ASCII)
_PLAIN = re.compile(r"-?(?:0|[1-9]\d{0,11})\.\d\d", re.ASCII)  # BIF form already: no padding zeros


def normalize_amount(value: str) -> str | None:
    """Return a fixed-width amount (``-12.5``, ``000000000156.25``) as BIF writes it, or None.

    An amount already in BIF form (``156.25``) is returned as it is.
    """
    if _PLAIN.fullmatch(value):
        return value
    return f"{Decimal(value):.2f}" if _AMOUNT.fullmatch(value) else None


class Record:
    """A layout compiled for speed: all fields sliced and stripped in C, only typed fields checked."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
        spans = positions(fields)
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.slices = tuple(slice(first - 1, last) for _, first, last in spans)
        self.starts = [first - 1 for _, first, _ in spans]
        self.width = sum(f.width for f in fields)
        self.typed = tuple((i, f, self.slices[i]) for i, f in enumerate(fields) if f.kind != TEXT)

    def read(self, text: str, lineno: int, errors: list[FieldError]) -> list[str]:
        """Return the stripped values of the fields ``text`` reaches (a short record has fewer).

        Dates are checked, amounts normalized; problems are appended to ``errors`` naming the line
        and the FlexiBill field with its columns.
        """
        reached = bisect_left(self.starts, len(text))
        values = list(map(str.strip, map(text.__getitem__, self.slices[:reached])))
        if len(text) > self.width and text[self.width :].strip():
            errors.append(
                FieldError(
                    lineno,
                    self.names[0],
                    text[:3],
                    f"record is {len(text.rstrip())} characters, the layout {self.width}",
                )
            )
        for i, field, where in self.typed:
            value = values[i] if i < reached else ""
            if not value:
                continue
            if field.kind == DATE:
                if parse_date(value) is None:
                    errors.append(
                        FieldError(
                            lineno,
                            field.name,
                            value,
                            f"columns {where.start + 1}-{where.stop}: not a MM/DD/YYYY date",
                        )
                    )
            elif (normalized := normalize_amount(value)) is None:
                errors.append(
                    FieldError(
                        lineno, field.name, value, f"columns {where.start + 1}-{where.stop}: not an amount"
                    )
                )
            else:
                values[i] = normalized
        return values


HDR_RECORD, DETAIL_RECORD = Record(HDR), Record(DETAIL)
_CR = frozenset(CR_FIELDS)
#: Positions in the HDR and the BIF fields their values are copied to, for IH and for CR.
_IH_COPIES = [(i, target) for i, f in enumerate(HDR) for target in f.maps_to if target not in _CR]
_CR_COPIES = [(i, target) for i, f in enumerate(HDR) for target in f.maps_to if target in _CR]
_IH_GET, _IH_TARGETS = itemgetter(*(i for i, _ in _IH_COPIES)), tuple(t for _, t in _IH_COPIES)
_CR_GET, _CR_TARGETS = itemgetter(*(i for i, _ in _CR_COPIES)), tuple(t for _, t in _CR_COPIES)
#: The HDR fields the rules read.
_RULE_INPUTS = tuple(sorted({name for rule in HDR_RULES for name in rule.inputs}))
_RULE_GET = itemgetter(*(HDR_RECORD.names.index(name) for name in _RULE_INPUTS))
#: Every D field after RecordID is copied to exactly one CustomField.
_D_TARGETS = tuple(f.maps_to[0] for f in DETAIL[1:])
assert all(len(f.maps_to) == 1 for f in DETAIL[1:])
_D_TARGET_OF = dict(zip((f.name for f in DETAIL[1:]), _D_TARGETS))
_EXCLUDED = {kind: [_D_TARGET_OF[name] for name in excluded_detail_fields(kind)] for kind in EXTENSIONS}


def _covered(errors: list[FieldError]) -> set[str]:
    """BIF fields already reported through a FlexiBill field error (to not report them twice)."""
    bad = {e.field for e in errors}
    fields = {target for f in HDR if f.name in bad for target in f.maps_to}
    fields.update(rule.bif_field for rule in HDR_RULES if bad.intersection(rule.inputs))
    return fields


_filled = itemgetter(1)  # keeps (name, value) pairs with a value
#: The rules as plain tuples (derive, is a CR field, BIF field): attribute lookups cost in the hot loop.
_RULES = tuple((rule.derive, rule.row_type == CR, rule.bif_field) for rule in HDR_RULES)


def map_invoice(lines: list[tuple[int, str]], kind: str, errors: list[FieldError]) -> BifRecord:
    """Return the BIF invoice of an HDR line and the lines after it ((line number, text) pairs).

    ``errors`` holds problems already found in the block (unknown records); D lines are mapped,
    other lines only kept in the InvalidInvoice's raw lines. Empty values are left out of the dicts.
    """
    lineno = lines[0][0]
    values = HDR_RECORD.read(lines[0][1], lineno, errors)
    values += [""] * (len(HDR) - len(values))
    header = dict(filter(_filled, zip(_IH_TARGETS, _IH_GET(values))))
    header["RecordType"] = _RECORD_TYPES[kind]
    customer = dict(filter(_filled, zip(_CR_TARGETS, _CR_GET(values))))
    named = dict(zip(_RULE_INPUTS, _RULE_GET(values)))
    for derive, is_cr, target in _RULES:
        if value := derive(named):
            (customer if is_cr else header)[target] = value
    excluded = _EXCLUDED[kind]
    details = []
    for number, text in lines[1:]:
        if text[:3].rstrip() == "D":
            detail = dict(filter(_filled, zip(_D_TARGETS, DETAIL_RECORD.read(text, number, errors)[1:])))
            for target in excluded:
                detail.pop(target, None)
            details.append(detail)
    invoice = BifInvoice(lineno, header, customer, details)
    if errors:
        covered = _covered(errors)
        errors += [e for e in invoice_errors(invoice) if e.field not in covered]
    else:
        errors = invoice_errors(invoice)
    return InvalidInvoice(lineno, [text for _, text in lines], errors) if errors else invoice


def parse(
    stream: BinaryIO,
    *,
    file_name: str,
    bid: int,
    kind: str = "invoices",
    mapping: Sequence[ColumnMap] | None = None,
) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per HDR block of a FlexiBill .BIF/.BRF, streaming.

    ``kind`` is "invoices" (RecordType N) or "replacements" (R); ``mapping`` is not used (the
    layout is fixed). Raises ValueError for another kind; FileRejected for a wrong extension or
    BID in the name, undecodable bytes, or a D (or other) record before the first HDR. An unknown
    record id after an HDR makes that invoice invalid.
    """
    if kind not in EXTENSIONS:
        raise ValueError(f"FlexiBill invoice kind must be one of {sorted(EXTENSIONS)}, not {kind!r}")
    check_file_name(file_name, BID_TOKEN, bid, "", required=False)
    base = re.split(r"[\\/]", file_name)[-1]
    if "." not in base or base.rsplit(".", 1)[1].upper() != EXTENSIONS[kind]:
        raise reject(0, "file_name", base, f"a FlexiBill {kind} file ends in .{EXTENSIONS[kind]}", file_name)
    block: list[tuple[int, str]] = []
    errors: list[FieldError] = []
    for lineno, text in enumerate(decode_lines(stream, file_name), 1):
        record_id = text[:3].rstrip()
        if not record_id and not text.strip():
            continue
        if record_id == "HDR":
            if block:
                yield map_invoice(block, kind, errors)
            block, errors = [(lineno, text)], []
        elif not block:
            raise reject(lineno, "RecordID", record_id, "record before the first HDR", file_name)
        else:
            block.append((lineno, text))
            if record_id != "D":
                errors.append(
                    FieldError(lineno, "RecordID", text[:3], "unknown record id: expected HDR or D")
                )
    if block:
        yield map_invoice(block, kind, errors)
