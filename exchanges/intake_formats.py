"""The dispatch table of invoice intake: (partner code, kind) -> parser, record counter, re-import wrapper.

Each entry says how to read one partner's file of one kind (a parser from ``partners``), how to
count its records quickly for the progress bar (bytes found once per record), and how to
wrap one corrected quarantined record into a file that parser accepts (re-import).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

from billers.models import Biller
from exchanges.intake_parts import CHUNK
from partners.aus import invoices as aus
from partners.bif import BifRecord, parse_amount, reject
from partners.bif_reader import FilePart, check_bif_parts, parse_bif
from partners.cayenta import invoices as cayenta
from partners.daffron import invoices as daffron
from partners.flexibill import balances as flexibill_balances
from partners.flexibill import invoices as flexibill

Parser = Callable[..., Iterator[object]]  # (stream, biller, file_name, kind)
#: A partner's own parser: (stream, *, file_name, bid, kind, part) -> records; needs no Django.
SliceParser = Callable[..., Iterator[object]]
Wrapper = Callable[[Biller, list[str], str], tuple[str, bytes]]


@dataclass(frozen=True)
class Format:
    """How to read one partner's files of one kind."""

    parse: Parser
    needle: bytes | None  # occurs once per record (b"\nIH|": a line starting IH|); None: one record a line
    wrap: Wrapper
    #: IH fields holding the account's customer and location numbers (AUS search), if the partner has them.
    customer_location_from: tuple[str, str] | None = None
    #: Files that may be cut at ``needle`` and read in parallel: ``slices`` reads one slice (``part=``) in
    #: a reader process, ``check_parts`` checks the slices' tallies afterwards (raises FileRejected).
    #: None: read whole.
    slices: SliceParser | None = None
    check_parts: Callable[[list[FilePart], str], None] | None = None


# ---- parsers with one signature: (stream, biller, file_name, kind) ------------------------------------


def _with_bid(parse: SliceParser) -> Parser:
    """The (stream, biller, file_name, kind) parser over a partner's own parser (given the biller's BID)."""

    def run(stream: BinaryIO, biller: Biller, file_name: str, kind: str) -> Iterator[object]:
        return parse(stream, file_name=file_name, bid=biller.bid, kind=kind)

    return run


def _no_file_totals(parts: list[FilePart], file_name: str) -> None:
    """FlexiBill files carry no count or total to check."""


def _aus(stream: BinaryIO, biller: Biller, file_name: str, kind: str) -> Iterator[BifRecord]:
    from exchanges.intake_mapping import mapping_of

    try:
        mapping = mapping_of(biller)
    except ValueError as exc:
        raise reject(0, "mapping", "", f"the biller's column mapping is invalid: {exc}", file_name) from None
    yield from aus.parse(stream, file_name=file_name, bid=biller.bid, kind=kind, mapping=mapping)


def _cayenta(stream: BinaryIO, biller: Biller, file_name: str, kind: str) -> Iterator[BifRecord]:
    return cayenta.parse(stream, file_name=file_name, bid=biller.bid, kind=kind)


def _balances(stream: BinaryIO, biller: Biller, file_name: str, kind: str) -> Iterator[object]:
    return flexibill_balances.parse_balances(stream, file_name=file_name, bid=biller.bid)


def _expirations(stream: BinaryIO, biller: Biller, file_name: str, kind: str) -> Iterator[object]:
    return flexibill_balances.parse_expirations(stream, file_name=file_name, bid=biller.bid)


# ---- re-import wrappers: one corrected record -> (file name, bytes) --------------------------------------


def _stamp() -> datetime:
    return datetime.now()


def _wrap_bif(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    """A BIF of the record's IH/CR/ID lines under a computed FH (count and total of its IH rows)."""
    count, total = 0, Decimal(0)
    for line in lines:
        cells = line.split("|")
        if cells[0] == "IH":
            count += 1
            total += parse_amount(cells[6] if len(cells) > 6 else "") or 0
    now = _stamp()
    head = f"FH|{biller.guid}|{now:%m/%d/%Y}|{count}|{total:.2f}\n"
    return f"{biller.bid}_{now:%m%d%Y}.BIF", (head + "\n".join(lines) + "\n").encode()


def _wrap_flexibill(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    extension = flexibill.EXTENSIONS[kind]
    return f"{biller.bid}_reimport.{extension}", ("\n".join(lines) + "\n").encode()


def _wrap_aus(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    return f"{biller.bid}_{_stamp():%Y%m%d%H%M%S}_RI.TXT", ("\n".join(lines) + "\n").encode()


def _wrap_cayenta(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    """The <bill> element(s) under a fresh root (a root end tag read back with the last bill is dropped)."""
    lines = list(lines)
    while lines and lines[-1].strip() in ("", f"</{cayenta.ROOT}>"):
        lines.pop()
    body = "\n".join(lines)
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n<billheaders biller="{biller.bid}">\n{body}\n</billheaders>\n'
    return f"billheader_{_stamp():%Y%m%d}.xml", document.encode()


def _wrap_balances(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    return f"{biller.bid}_reimport.BAF", ("\n".join(lines) + "\n").encode()


def _wrap_expirations(biller: Biller, lines: list[str], kind: str) -> tuple[str, bytes]:
    return f"_MCS_{_stamp():%m%d%Y%H%M%S}.SPF", ("\n".join(lines) + "\n").encode()


def _sliced(parse: SliceParser, needle: bytes, wrap: Wrapper, check: Callable[[list[FilePart], str], None]) -> Format:
    """A format whose big files are cut at ``needle`` and read in slices by ``parse`` (see ``Format``)."""
    return Format(_with_bid(parse), needle, wrap, slices=parse, check_parts=check)


FORMATS: dict[tuple[str, str], Format] = {
    ("daffron", "invoices"): _sliced(daffron.parse, b"\nIH|", _wrap_bif, check_bif_parts),
    ("inhance", "invoices"): _sliced(parse_bif, b"\nIH|", _wrap_bif, check_bif_parts),
    ("flexibill", "invoices"): _sliced(flexibill.parse, b"\nHDR", _wrap_flexibill, _no_file_totals),
    ("flexibill", "replacements"): Format(_with_bid(flexibill.parse), b"\nHDR", _wrap_flexibill),
    ("flexibill", "balances"): Format(_balances, None, _wrap_balances),
    ("flexibill", "expirations"): Format(_expirations, None, _wrap_expirations),
    ("aus", "invoices"): Format(_aus, None, _wrap_aus, customer_location_from=("Custom2", "Custom3")),
    ("cayenta", "invoices"): Format(_cayenta, b"<bill>", _wrap_cayenta),
}


def format_for(partner_code: str, kind: str) -> Format:
    """Return the format of a partner's ``kind`` files; LookupError naming what the partner sends."""
    try:
        return FORMATS[(partner_code, kind)]
    except KeyError:
        kinds = sorted(k for code, k in FORMATS if code == partner_code)
        raise LookupError(f"partner {partner_code!r} sends no {kind!r} files"
                          + (f" (it sends: {', '.join(kinds)})" if kinds else "")) from None


def count_records(stream: BinaryIO, needle: bytes | None) -> int:
    """Return how many times ``needle`` occurs in the stream (a newline is assumed before its first
    byte), or its number of lines when ``needle`` is None.

    Reads the stream to its end in 4 MB chunks into one buffer (memory stays flat); the caller
    rewinds it. An estimate for the progress bar only: the parser decides what a record is.
    """
    keep = len(needle) - 1 if needle else 0
    buffer = bytearray(keep + CHUNK)
    view = memoryview(buffer)
    if needle is None:
        count, last = 0, ord("\n")
        while size := stream.readinto(buffer) or 0:
            count += buffer.count(b"\n", 0, size)
            last = buffer[size - 1]
        return count + (0 if last == ord("\n") else 1)
    # The buffer starts with the previous chunk's last len(needle) - 1 bytes (a needle may straddle
    # two chunks); before the first chunk, a newline.
    buffer[:keep] = b"\n".rjust(keep, b"\0") if keep else b""
    count = 0
    while size := stream.readinto(view[keep:]) or 0:
        end = keep + size
        count += buffer.count(needle, 0, end)
        buffer[:keep] = buffer[end - keep : end]
    return count
