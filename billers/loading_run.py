"""The reading half of a load, shared by the loading process and its slice readers: records to rows.

``LoadRun`` holds one file's load state (counts, errors, set-aside records) and turns a batch of
partner records into staging rows; ``read_batches`` feeds a file's records batch by batch to a staging
writer. Nothing here needs Django (a slice reader, ``billers.loading_parts``, runs without it): the
lookups of stored invoices that replacements, balances and expirations make are imported when used,
and those kinds are read in the loading process only.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice, pairwise
from typing import TYPE_CHECKING, Any

from billers.loading_rows import RowContext, amount_text, invoice_row
from partners.bif import BifInvoice, FieldError, FileRejected, InvalidInvoice
from partners.bif_reader import FilePart

if TYPE_CHECKING:
    from billers.loading_writers import StageWriter

__all__ = ["MAX_ERRORS", "MAX_PROBLEMS", "CHUNK", "LoadRun", "Parts", "Problem", "one_after_another",
           "read_batches"]

#: Records read (and converted) at a time; between two chunks the staging COPY still running is nudged on
#: (PostgreSQL). Small enough for a chunk's objects to stay in a core's cache.
CHUNK = 50
MAX_ERRORS = 1_000  # errors kept on the outcome; the count of rejected records is always exact
MAX_PROBLEMS = 10_000  # more invalid records than this and quarantine gives up: the file is rejected


def stored_invoices(biller_id: int, numbers: Iterable[str]) -> dict[str, str]:
    """``loading_sql.stored_invoices`` (imported when used: it needs the database)."""
    from billers.loading_sql import stored_invoices as lookup

    return lookup(biller_id, numbers)


@dataclass
class Problem:
    """An invalid record: where it starts (and ends, None = the file's end), its lines and errors.

    ``lines`` is empty for a record the database refused after parsing: the loader's caller reads
    them back from the kept raw file (``first_line``..``last_line``).
    """

    first_line: int
    errors: list[FieldError]
    lines: list[str] = field(default_factory=list)
    last_line: int | None = None
    invoice_number: str = ""
    account_number: str = ""


class LoadRun:
    """The state of one file's load (see ``load_records``)."""

    def __init__(self, *, biller_id: int, kind: str, quarantine: bool, row_context: RowContext) -> None:
        self.biller_id, self.kind, self.quarantine, self.ctx = biller_id, kind, quarantine, row_context
        self.errors: list[FieldError] = []
        self.problems: list[Problem] = []
        self.open_spans: list[Problem] = []  # late problems waiting for the next record's first line
        self.rejected = self.records = 0
        self.seq_base = 0  # added to the staged rows' seq (a file read in parts: each part has its range)
        self.staging = True

    def problem(self, line: int, errors: list[FieldError], lines: list[str] | None = None, *,
                single_line: bool = False, invoice_number: str = "", account_number: str = "",
                next_line: int | None = None) -> None:
        """Record an invalid record. Without ``lines`` (a problem found after parsing) its raw lines
        are read back later: from ``line`` to ``next_line`` - 1 (the next record's start), or to
        the next record seen, or to the end of the file."""
        self.rejected += 1
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])
        if not self.quarantine:
            self.staging = False  # the file will be rejected: keep reading only to list every error
            return
        if len(self.problems) >= MAX_PROBLEMS:
            raise FileRejected(FieldError(line, "records", "", f"more than {MAX_PROBLEMS} invalid records: "
                                          "the file is rejected whole"))
        last = line if single_line else (next_line - 1 if next_line is not None else None)
        item = Problem(line, errors, list(lines or ()), last, invoice_number, account_number)
        self.problems.append(item)
        if not lines and last is None:
            self.open_spans.append(item)

    def close_spans(self, next_line: int) -> None:
        for item in self.open_spans:
            item.last_line = next_line - 1
        self.open_spans.clear()

    # -- per kind: records -> staging rows ------------------------------------------------------

    def invoice_rows(self, batch: list[object]) -> list[tuple]:
        rows: list[tuple] = []
        valid: list[BifInvoice] = []
        for record in batch:
            self.records += 1
            if self.open_spans:
                self.close_spans(record.line)  # type: ignore[attr-defined]
            if isinstance(record, InvalidInvoice):
                self.problem(record.line, record.errors, record.lines, single_line=False)
                continue
            valid.append(record)  # type: ignore[arg-type]
        following: dict[int, int] | None = None  # id(record) -> the next record's first line, when needed

        def next_line(record: object) -> int | None:
            nonlocal following
            if following is None:
                following = {id(r): n.line for r, n in pairwise(batch)}  # type: ignore[attr-defined]
            return following.get(id(record))

        if self.kind == "replacements" and valid:
            stored = stored_invoices(self.biller_id, (inv.invoice_number for inv in valid))
            unknown = [inv for inv in valid if inv.invoice_number not in stored]
            valid = [inv for inv in valid if inv.invoice_number in stored]
            for inv in unknown:
                self.problem(inv.line, [FieldError(inv.line, "InvoiceNumber", inv.invoice_number,
                                                   "a replacement for an invoice that is not loaded")],
                             invoice_number=inv.invoice_number, account_number=inv.account_number,
                             next_line=next_line(inv))
        seq = self.seq_base + self.records - len(batch)
        for inv in valid:
            seq += 1
            row = invoice_row(inv, seq, self.ctx)
            if isinstance(row, list):
                self.problem(inv.line, row, invoice_number=inv.invoice_number, account_number=inv.account_number,
                             next_line=next_line(inv))
            else:
                rows.append(row)
        return rows

    def adjustment_rows(self, batch: list[object]) -> list[tuple]:
        valid: list[Any] = []  # BalanceAdjustment or PaymentExpiration
        first_seq = self.seq_base + self.records
        for record in batch:
            self.records += 1
            if hasattr(record, "errors"):
                self.problem(record.line, record.errors, [record.text])  # type: ignore[attr-defined]
            else:
                valid.append(record)
        stored = stored_invoices(self.biller_id, (r.invoice_number for r in valid))
        rows: list[tuple] = []
        for seq, r in enumerate(valid, first_seq + 1):
            owner = stored.get(r.invoice_number)
            if owner is None or owner != r.account_number:
                message = ("no stored invoice with this number" if owner is None
                           else f"the invoice belongs to account {owner}")
                self.problem(r.line, [FieldError(r.line, "InvoiceNumber", r.invoice_number, message)],
                             single_line=True, invoice_number=r.invoice_number, account_number=r.account_number)
            elif self.kind == "balances":
                rows.append((seq, r.line, r.account_number, r.invoice_number, amount_text(r.amount)))
            elif len(r.message) > 200:
                self.problem(r.line, [FieldError(r.line, "PaymentExpirationMessage", r.message[:200],
                                                 "longer than 200 characters")], single_line=True,
                             invoice_number=r.invoice_number, account_number=r.account_number)
            else:
                rows.append((seq, r.line, r.account_number, r.invoice_number, r.expires_on.isoformat(),
                             r.message))
        return rows


@dataclass(frozen=True)
class Parts:
    """A file cut into slices at record starts (``parts``): ``read(part)`` yields a slice's records;
    ``check(parts)`` raises FileRejected when the file-level figures the parts tallied disagree."""

    parts: list[FilePart]
    read: Callable[[FilePart], Iterable[object]]
    check: Callable[[list[FilePart]], None]
    file_name: str = ""


def one_after_another(parts: Parts) -> Iterator[object]:
    """The records of every slice in this process, in order; then the file-level check."""
    for part in parts.parts:
        yield from parts.read(part)
    parts.check(parts.parts)


def _batches(records: Iterable[object], size: int, pump: Callable[[], None],
             convert: Callable[[list[object]], list[tuple]] | None) -> Iterator[list]:
    """Yield batches of up to ``size`` records, read ``CHUNK`` at a time (``pump()`` after each chunk).

    With ``convert``, each chunk is converted as soon as it is read and a batch is its chunks' rows:
    a chunk's records stay in the CPU cache while they become rows (whole 2,000-record batches made
    the readers a third slower). A batch whose records all failed is an empty list.
    """
    iterator = iter(records)
    batch: list = []
    read = 0
    while chunk := list(islice(iterator, min(CHUNK, size - read))):
        pump()
        read += len(chunk)
        batch += chunk if convert is None else convert(chunk)
        if read >= size:
            yield batch
            batch, read = [], 0
    if read:
        yield batch


def read_batches(run: LoadRun, records: Iterable[object], stage: StageWriter,
                 convert: Callable[[list[object]], list[tuple]], *, looks_up: bool,
                 progress: Callable[[int], None] | None, batch_size: int, timings: dict[str, float]) -> None:
    """Convert ``records`` batch by batch and write the rows to ``stage`` (until the file is doomed).

    ``progress(records read)`` runs once a batch is staged. ``looks_up``: the conversion queries the
    database, so it waits for the previous batch's COPY (otherwise it overlaps it). CPU seconds go
    to ``timings`` "read" and "stage". FileRejected propagates.
    """
    clock = time.process_time  # CPU seconds of this process: stable on a busy machine
    started = clock()
    unreported = None  # records read up to the batch being staged, not yet written as progress
    for batch in _batches(records, batch_size, stage.pump, None if looks_up else convert):
        staging = clock()
        timings["read"] += staging - started
        stage.settle()
        if progress and unreported is not None:
            progress(unreported)
        converting = clock()
        rows = convert(batch) if looks_up else batch
        converted = clock()
        timings["read"] += converted - converting
        if run.staging:
            stage.write(rows)
        unreported = run.records
        started = clock()
        timings["stage"] += started - staging - (converted - converting)
    stage.settle()
    if progress and unreported is not None:
        progress(unreported)


