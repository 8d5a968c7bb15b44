"""FlexiBill invoice files into BIF: fixed-width HDR/D blocks (.BIF new, .BRF replacements).

The layout and the seed's conditional rules live in ``layout.py``. The seed gives no file naming
convention: the extension must be .BIF for ``kind="invoices"`` and .BRF for ``"replacements"``,
and when the name holds an all-digit token (``flexibill_4411.BIF``, ``4411_20261120.BIF``) the first
one is the BID and must be the biller's.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import compress
from operator import itemgetter
from typing import BinaryIO

from partners.bif import AMOUNT_PATTERN as BIF_AMOUNT
from partners.bif import (
    CR_FIELDS,
    ID_FIELDS,
    MAX_LINE,
    BifInvoice,
    BifRecord,
    ColumnMap,
    FieldError,
    InvalidInvoice,
    check_file_name,
    checked_line,
    invoice_errors,
    parse_date,
    reject,
    trimmed,
    utf8_text,
)
from partners.bif_fields import CR
from partners.bif_reader import FilePart
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


def _cutter(slices: tuple[slice, ...]) -> Callable[[str], tuple[str, ...]]:
    """Return a function giving the text of each slice (an ``itemgetter``: one C call for all)."""
    if len(slices) > 1:
        return itemgetter(*slices)
    return lambda text: tuple(text[where] for where in slices)  # itemgetter of one gives no tuple


class Record:
    """A layout compiled for speed: every field cut (one ``itemgetter`` of slices) and stripped in C,
    only the typed fields checked in Python."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
        spans = positions(fields)
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.slices = tuple(slice(first - 1, last) for _, first, last in spans)
        self.starts = [first - 1 for _, first, _ in spans]
        self.width = sum(f.width for f in fields)
        self.typed = tuple((i, f, self.slices[i]) for i, f in enumerate(fields) if f.kind != TEXT)
        #: cuts[k](text): the raw text of the first k fields, in one C call (a record may stop early).
        self.cuts = [_cutter(self.slices[:k]) for k in range(len(fields) + 1)]

    def read(self, text: str, lineno: int, errors: list[FieldError]) -> list[str]:
        """Return the stripped values of the fields ``text`` reaches (a short record has fewer).

        Dates are checked, amounts normalized; problems are appended to ``errors`` naming the line
        and the FlexiBill field with its columns.
        """
        reached = bisect_left(self.starts, len(text))
        values = list(map(str.strip, self.cuts[reached](text)))
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
            if i >= reached or not (value := values[i]):
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
assert all(len(f.maps_to) == 1 for f in DETAIL[1:])
#: The CustomField of each D field, RecordID's place kept ("": not loaded), and those left out per kind.
_D_TARGETS = ("", *(f.maps_to[0] for f in DETAIL[1:]))
_D_TARGET_OF = dict(zip((f.name for f in DETAIL), _D_TARGETS))
_EXCLUDED = {kind: tuple(_D_TARGET_OF[name] for name in excluded_detail_fields(kind)) for kind in EXTENSIONS}
def _stored_plans(kind: str) -> list[Callable[[list[str]], tuple[str, ...]]]:
    """Per number of values a D record reached (``Record.read`` gives fewer for a short record), the
    function picking a stored detail row (``partners.bif.packed``) from those values plus one "": for
    each CustomField in ID column order, the D field that fills it, or that "" where none does (one
    the kind leaves out, one the record does not reach, CustomField42)."""
    field_of = {target: i for i, target in enumerate(_D_TARGETS) if target and target not in _EXCLUDED[kind]}
    plans = []
    for reached in range(len(DETAIL) + 1):
        places = [field_of.get(name, reached) for name in ID_FIELDS]
        places = [i if i < reached else reached for i in places]
        while places and places[-1] == reached:
            places.pop()
        plans.append(itemgetter(*places) if len(places) > 1 else
                     (lambda values, at=tuple(places): tuple(values[i] for i in at)))
    return plans


_STORED_PLANS = {kind: _stored_plans(kind) for kind in EXTENSIONS}


def _stored_detail(picked: list[str], plans: list[Callable[[list[str]], tuple[str, ...]]]) -> list[str]:
    """A D record's values (``Record.read``) as a stored detail row."""
    plan = plans[len(picked)]
    picked.append("")
    return trimmed(list(plan(picked)))
_BLANK_HDR = [""] * len(HDR)
_BIF_AMOUNT = BIF_AMOUNT.fullmatch


def _covered(errors: list[FieldError]) -> set[str]:
    """BIF fields already reported through a FlexiBill field error (to not report them twice)."""
    bad = {e.field for e in errors}
    fields = {target for f in HDR if f.name in bad for target in f.maps_to}
    fields.update(rule.bif_field for rule in HDR_RULES if bad.intersection(rule.inputs))
    return fields


#: The rules as plain tuples (derive, is a CR field, BIF field): attribute lookups cost in the hot loop.
_RULES = tuple((rule.derive, rule.row_type == CR, rule.bif_field) for rule in HDR_RULES)
_new_invoice = object.__new__
#: A record's first three characters -> its layout (ids are left-justified, space padded, maybe cut short).
_RECORD_IDS = {"HDR": HDR, "D  ": DETAIL, "D ": DETAIL, "D": DETAIL}


def _valid(header: dict[str, str], customer: dict[str, str]) -> bool:
    """True only if ``invoice_errors`` would find nothing in a block read without errors: a fast
    pre-check (dates and amounts were checked by ``Record.read``; the BIF allows fewer digits). False
    sends the invoice down the full check, which decides and explains. A test holds the two together.
    """
    get = header.get
    return bool(
        get("InvoiceNumber")
        and get("InvoiceDate")
        and get("InvoiceDueDate")
        and _BIF_AMOUNT(get("TotalAmountDue", ""))
        and _BIF_AMOUNT(get("BalanceDue", "0"))
        and _BIF_AMOUNT(get("PromptPayDiscountAmount", "0"))
        and customer.get("AccountNumber")
        and customer.get("CustomerName")
    )


def map_invoice(lines: list[tuple[int, str]], kind: str, errors: list[FieldError]) -> BifRecord:
    """Return the BIF invoice of an HDR line and the lines after it ((line number, text) pairs).

    ``errors`` holds problems already found in the block (unknown records); D lines are mapped,
    other lines only kept in the InvalidInvoice's raw lines. Empty values are left out of the header
    and customer dicts, which are built in C (``compress`` over the cut values); the detail rows are
    made in their stored form (``partners.bif.packed``, one ``itemgetter`` each), their dicts only
    when asked for.
    """
    lineno = lines[0][0]
    values = HDR_RECORD.read(lines[0][1], lineno, errors)
    if len(values) < len(HDR):
        values += _BLANK_HDR[len(values) :]
    picked = _IH_GET(values)
    header = dict(compress(zip(_IH_TARGETS, picked), picked))
    header["RecordType"] = _RECORD_TYPES[kind]
    picked = _CR_GET(values)
    customer = dict(compress(zip(_CR_TARGETS, picked), picked))
    named = dict(zip(_RULE_INPUTS, _RULE_GET(values)))
    for derive, is_cr, target in _RULES:
        if value := derive(named):
            (customer if is_cr else header)[target] = value
    plans = _STORED_PLANS[kind]
    read_detail = DETAIL_RECORD.read
    details = []  # as stored: the dicts are built from them when asked for (BifInvoice.details)
    for number, text in lines[1:]:
        if text[:3].rstrip() == "D":
            details.append(_stored_detail(read_detail(text, number, errors), plans))
    invoice = _new_invoice(BifInvoice)  # the dataclass __init__ costs more than the rest of this line
    invoice.line, invoice.header, invoice.customer, invoice._stored_details = lineno, header, customer, details
    invoice.compact = True  # compress() left the empty values out
    if not errors and _valid(header, customer):
        return invoice
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
    part: FilePart | None = None,
) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per HDR block of a FlexiBill .BIF/.BRF, streaming.

    ``kind`` is "invoices" (RecordType N) or "replacements" (R); ``mapping`` is not used (the
    layout is fixed). Raises ValueError for another kind; FileRejected for a wrong extension or
    BID in the name, undecodable bytes, or a D (or other) record before the first HDR. An unknown
    record id after an HDR makes that invoice invalid. ``part``: the stream is that slice of the
    file, cut before an HDR line (lines are numbered from ``part.first_line``; nothing to tally).
    """
    if kind not in EXTENSIONS:
        raise ValueError(f"FlexiBill invoice kind must be one of {sorted(EXTENSIONS)}, not {kind!r}")
    check_file_name(file_name, BID_TOKEN, bid, "", required=False)
    base = re.split(r"[\\/]", file_name)[-1]
    if "." not in base or base.rsplit(".", 1)[1].upper() != EXTENSIONS[kind]:
        raise reject(0, "file_name", base, f"a FlexiBill {kind} file ends in .{EXTENSIONS[kind]}", file_name)
    block: list[tuple[int, str]] = []
    errors: list[FieldError] = []
    with utf8_text(stream) as lines:  # decode_lines, inlined: one generator less per line
        for lineno, text in enumerate(lines, part.first_line if part else 1):
            if not text.isascii() or len(text) >= MAX_LINE:
                text = checked_line(text, lineno, file_name)
            text = text.rstrip("\r\n")
            record = _RECORD_IDS.get(text[:3])
            if record is DETAIL and block:
                block.append((lineno, text))
            elif record is HDR:
                if block:
                    yield map_invoice(block, kind, errors)
                block, errors = [(lineno, text)], []
            elif not text.strip():
                continue
            elif not block:
                raise reject(lineno, "RecordID", text[:3].rstrip(), "record before the first HDR", file_name)
            else:
                block.append((lineno, text))
                errors.append(FieldError(lineno, "RecordID", text[:3], "unknown record id: expected HDR or D"))
    if block:
        yield map_invoice(block, kind, errors)
