"""Reading a pipe BIF (``partners.bif``): the streaming reader, whole or one slice at a time.

``read_bif`` yields a ``BifInvoice`` or an ``InvalidInvoice`` per IH block and checks the FH
InvoiceCount and TotalInvoiceAmount at the end. A big file may be cut at record starts into
``FilePart``s read by readers of their own; each tallies its count and total, and
``check_bif_parts`` compares their sum with the FH once all were read.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

from partners.bif import (
    _AMOUNT,
    _DATE_CACHE,
    CR_FIELDS,
    CR_INDEX,
    FH_FIELDS,
    FLAG_FIELDS,
    FLAG_VALUES,
    ID_FIELDS,
    IH_FIELDS,
    IH_INDEX,
    MAX_LINE,
    OPTIONAL_AMOUNTS,
    OPTIONAL_DATES,
    BifInvoice,
    BifRecord,
    FieldError,
    FileRejected,
    InvalidInvoice,
    checked_line,
    invoice_errors,
    parse_amount,
    parse_date,
    reject,
    utf8_text,
)
from partners.bif_fields import CR, FH, ID, IH

__all__ = ["FilePart", "check_bif_parts", "parse_bif", "read_bif"]


def _read_fh(text: str, lineno: int, file_name: str) -> tuple[int, Decimal]:
    """Return the FH's (InvoiceCount, TotalInvoiceAmount); raise FileRejected on a malformed FH."""
    parts = text.split("|")
    if parts[0] != FH:
        raise reject(lineno, "RowType", parts[0], "file must start with an FH file header", file_name)
    if len(parts) > len(FH_FIELDS) + 1:
        raise reject(lineno, "FH", text, f"{len(parts)} columns, FH has {len(FH_FIELDS) + 1}", file_name)
    fh = dict(zip(FH_FIELDS, parts[1:]))
    if not fh.get("BillerGuid"):
        raise reject(lineno, "BillerGuid", "", "required", file_name)
    created = fh.get("FileCreationDate", "")
    if parse_date(created) is None:
        raise reject(lineno, "FileCreationDate", created, "required MM/DD/YYYY date", file_name)
    count = fh.get("InvoiceCount", "")
    if not count.isascii() or not count.isdigit():
        raise reject(lineno, "InvoiceCount", count, "required whole number", file_name)
    total = parse_amount(fh.get("TotalInvoiceAmount", ""))
    if total is None:
        raise reject(
            lineno,
            "TotalInvoiceAmount",
            fh.get("TotalInvoiceAmount", ""),
            "required plain decimal",
            file_name,
        )
    return int(count), total


_N_IH, _N_CR, _N_ID = len(IH_FIELDS) + 1, len(CR_FIELDS) + 1, len(ID_FIELDS) + 1
_BALANCE, _PAST_DUE, _DISCOUNT = (IH_INDEX[name] for name in OPTIONAL_AMOUNTS)
(_DISCOUNT_DATE,) = (IH_INDEX[name] for name in OPTIONAL_DATES)
_CC, _ACH = (CR_INDEX[name] for name in FLAG_FIELDS)
_amount_ok = _AMOUNT.fullmatch
_new_invoice = object.__new__


def _quick_valid(ih: list[str], cr: list[str] | None) -> bool:
    """Return True only if ``invoice_errors`` would find nothing: a fast pre-check on split rows.

    TotalAmountDue was checked by read_bif already. Spelled out field by field for speed (it runs
    once per invoice); False merely sends the invoice down the full check, which decides and
    explains. A test holds the two together.
    """
    if cr is None:
        return False
    if len(ih) < _N_IH:
        ih = ih + [""] * (_N_IH - len(ih))
    if len(cr) < _N_CR:
        cr = cr + [""] * (_N_CR - len(cr))
    dates = _DATE_CACHE
    return bool(
        ih[1] in ("N", "R")
        and ih[3]
        and (dates.get(ih[4]) or parse_date(ih[4]))
        and (dates.get(ih[5]) or parse_date(ih[5]))
        and (not ih[_BALANCE] or _amount_ok(ih[_BALANCE]))
        and (not ih[_PAST_DUE] or _amount_ok(ih[_PAST_DUE]))
        and (not ih[_DISCOUNT] or _amount_ok(ih[_DISCOUNT]))
        and (not ih[_DISCOUNT_DATE] or parse_date(ih[_DISCOUNT_DATE]))
        and cr[1]
        and cr[2]
        and cr[_CC] in FLAG_VALUES
        and cr[_ACH] in FLAG_VALUES
    )


def _finish(
    line: int,
    rows: list[list[str]],
    cr: list[str] | None,
    cr_line: int | None,
    errors: list[FieldError] | None,
) -> BifRecord:
    invoice = _new_invoice(BifInvoice)  # BifInvoice.from_rows, inlined: this runs once per invoice
    invoice.line, invoice._rows, invoice._cr = line, rows, cr
    if errors is None and _quick_valid(rows[0], cr):
        return invoice
    errors = (errors or []) + invoice_errors(invoice, cr_line)
    return InvalidInvoice(line, ["|".join(row) for row in rows], errors) if errors else invoice


@dataclass
class FilePart:
    """One of the slices a big file is cut into at record starts, each read by its own reader.

    ``first_line`` is the number of the slice's first line in the whole file; ``tally`` holds the
    file-level figures its reader adds up, which the caller checks once every part was read (BIF:
    ``check_bif_parts``). Only part 0 holds the file's header.
    """

    index: int = 0
    first_line: int = 1
    start: int = 0  # byte offsets of the slice in the file (end None: to the end)
    end: int | None = None
    tally: dict[str, Any] = field(default_factory=dict)


def read_bif(stream: TextIO | Iterable[str], *, file_name: str = "", part: FilePart | None = None
             ) -> Iterator[BifRecord]:
    """Yield one BifInvoice or InvalidInvoice per IH block of a pipe BIF, streaming.

    Raises FileRejected when the file has no FH first, a row precedes the first IH, a second FH
    appears, or (at the end, after everything was yielded) the FH InvoiceCount or
    TotalInvoiceAmount differs from what was read. The total is compared only when every
    TotalAmountDue was a valid amount: an invalid one is already reported on its invoice.
    Blank lines are skipped. Hot loop: one split per row, dicts are built only on access.

    With ``part`` the stream is that slice of the file (cut before an IH row; only part 0 starts
    with the FH): the count and total go to ``part.tally`` and ``check_bif_parts`` compares them.
    """
    whole = part is None
    part = part or FilePart()
    lines = iter(stream)  # one pass: a list must not restart at the FH in the second loop
    fh_line = part.first_line - 1
    if part.index == 0:
        expected: tuple[int, Decimal] | None = None
        for fh_line, raw in enumerate(lines, 1):
            if not raw.isascii() or len(raw) >= MAX_LINE:
                raw = checked_line(raw, fh_line, file_name)
            if text := raw.rstrip("\r\n"):
                expected = _read_fh(text, fh_line, file_name)
                break
        if expected is None:
            raise reject(max(fh_line, 1), "RowType", "", "empty file: no FH file header", file_name)
        part.tally.update(expected=expected, fh_line=fh_line)
    count, total, total_known = 0, Decimal(0), True
    rows: list[list[str]] = []
    line, cr, cr_line, errors = 0, None, None, None
    for lineno, raw in enumerate(lines, fh_line + 1):
        if not raw.isascii() or len(raw) >= MAX_LINE:
            raw = checked_line(raw, lineno, file_name)
        parts = raw.rstrip("\r\n").split("|")
        row_type = parts[0]
        if row_type == ID and rows:
            rows.append(parts)
            if len(parts) > _N_ID:
                errors = (errors or []) + [
                    FieldError(lineno, ID, raw[:200], f"{len(parts)} columns, ID has {_N_ID}")
                ]
        elif row_type == IH:
            if rows:
                yield _finish(line, rows, cr, cr_line, errors)
            rows, line, cr, cr_line, errors = [parts], lineno, None, None, None
            count += 1
            amount = parts[6] if len(parts) > 6 else ""
            if _amount_ok(amount):
                total += Decimal(amount)
            else:
                total_known, errors = False, []  # [] (not None): the full check will report it
            if len(parts) > _N_IH:
                errors = [FieldError(lineno, IH, raw[:200], f"{len(parts)} columns, IH has {_N_IH}")]
        elif row_type == CR and rows:
            rows.append(parts)
            if cr is not None:
                errors = (errors or []) + [FieldError(lineno, CR, raw[:200], "second CR for one invoice")]
                continue
            cr, cr_line = parts, lineno
            if len(parts) > _N_CR:
                errors = (errors or []) + [
                    FieldError(lineno, CR, raw[:200], f"{len(parts)} columns, CR has {_N_CR}")
                ]
        elif len(parts) == 1 and not row_type.strip():
            continue  # blank line
        elif row_type == FH:
            raise reject(lineno, "RowType", row_type, "second FH file header", file_name)
        elif not rows:
            raise reject(lineno, "RowType", row_type, "row before the first IH invoice header", file_name)
        else:
            rows.append(parts)
            errors = (errors or []) + [FieldError(lineno, "RowType", row_type[:200], "unknown row type")]
    if rows:
        yield _finish(line, rows, cr, cr_line, errors)
    part.tally.update(count=count, total=total, total_known=total_known)
    if whole:
        check_bif_parts([part], file_name)


def check_bif_parts(parts: Sequence[FilePart], file_name: str = "") -> None:
    """Raise FileRejected when the FH InvoiceCount or TotalInvoiceAmount (read by part 0) differs
    from the invoices the parts read (the total only when every amount was valid)."""
    expected, fh_line = parts[0].tally["expected"], parts[0].tally["fh_line"]
    count = sum(p.tally["count"] for p in parts)
    total = sum((p.tally["total"] for p in parts), Decimal(0))
    mismatches = []
    if count != expected[0]:
        mismatches.append(
            FieldError(fh_line, "InvoiceCount", str(expected[0]), f"the file has {count} invoices")
        )
    if all(p.tally["total_known"] for p in parts) and total != expected[1]:
        mismatches.append(
            FieldError(fh_line, "TotalInvoiceAmount", str(expected[1]), f"the invoices total {total}")
        )
    if mismatches:
        raise FileRejected(mismatches, file_name)


def parse_bif(stream: BinaryIO, *, file_name: str = "", bid: int | None = None, kind: str = "invoices",
              part: FilePart | None = None) -> Iterator[BifRecord]:
    """``read_bif`` over a binary stream (strict UTF-8): the canonical BIF as inHance uploads it, with
    no naming convention (``bid`` and ``kind`` are not used; they keep the partner parsers' signature)."""
    with utf8_text(stream) as lines:
        yield from read_bif(lines, file_name=file_name, part=part)
