"""Load a partner file's records into accounts and invoices: streamed, batched, one transaction per file.

``load_records`` takes the records a partner parser yields (``BifInvoice`` / ``InvalidInvoice`` for
invoice files, ``BalanceAdjustment`` / ``PaymentExpiration`` / ``InvalidRow`` for .BAF / .SPF) and
returns a ``LoadOutcome``. Records are staged in batches (``loading_sql.Stage``), then merged into
the real tables in one transaction, only when the file is accepted:

- A ``FileRejected`` from the parser (file-level problem), or under the default
  ``reject_file`` policy any invalid record, fails the file: nothing is merged, every error is
  returned with its line (reading goes on to the end so that all are listed).
- Under ``quarantine`` the valid records load and each invalid one comes back as a ``Problem``
  (its raw lines and errors); ``on_merge`` (called inside the merge transaction) stores them.

A big file may instead come as ``parts`` (slices cut at record starts): each is read by a reader
process of its own (``billers.loading_parts``) into one shared staging table; the outcome is the same.

Records the database itself refuses (a value longer than its column, a replacement or balance for
an invoice that is not stored, an expiration for another account's invoice) are record errors too.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice, pairwise
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billers import loading_sql as sql
from billers.loading_rows import CustomizationError, Customizations, RowContext, amount_text, invoice_row
from billers.models import Biller, BillerCustomization, RecordErrorPolicy
from billers.wal_checkpoint import deferred_checkpoint
from partners.bif import BifInvoice, FieldError, FileRejected, InvalidInvoice
from partners.bif_reader import FilePart

__all__ = [
    "BATCH",
    "MAX_ERRORS",
    "MAX_PROBLEMS",
    "CustomizationError",
    "LoadOutcome",
    "Problem",
    "customizations_of",
    "load_records",
]

BATCH = 5_000
PUMP_EVERY = 250  # records read between two nudges of the staging COPY still running (PostgreSQL)
MAX_ERRORS = 1_000  # errors kept on the outcome; the count of rejected records is always exact
MAX_PROBLEMS = 10_000  # more invalid records than this and quarantine gives up: the file is rejected
KINDS = ("invoices", "replacements", "balances", "expirations")


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


@dataclass
class LoadOutcome:
    """What loading did: ``status`` succeeded / partial / failed, counts, errors (capped), problems."""

    status: str
    counts: dict[str, int]
    errors: list[FieldError]
    problems: list[Problem]
    message: str = ""
    #: CPU seconds of this process spent reading (parse + rows), staging (writes + progress), merging;
    #: "merge wall": elapsed seconds of the merge transaction (the database server's work included).
    timings: dict[str, float] = field(default_factory=dict)
    parts: int = 1  # the slices the file was read in, in parallel (see ``billers.loading_parts``)


def customizations_of(biller: Biller) -> Customizations:
    """Return the biller's enabled BIF customizations, checked. CustomizationError on a bad value."""
    rows = BillerCustomization.objects.filter(biller=biller, enabled=True).select_related("definition")
    return Customizations.build([(c.definition.name, c.value) for c in rows])


class _Run:
    """The state of one file's load (see ``load_records``)."""

    def __init__(self, *, biller: Biller, kind: str, quarantine: bool, row_context: RowContext) -> None:
        self.biller, self.kind, self.quarantine, self.ctx = biller, kind, quarantine, row_context
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
            stored = sql.stored_invoices(self.biller.pk, (inv.invoice_number for inv in valid))
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
        stored = sql.stored_invoices(self.biller.pk, (r.invoice_number for r in valid))
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


def _one_after_another(parts: Parts) -> Iterator[object]:
    """The records of every slice in this process, in order; then the file-level check."""
    for part in parts.parts:
        yield from parts.read(part)
    parts.check(parts.parts)


def _batches(records: Iterable[object], size: int, pump: Callable[[], None]) -> Iterator[list[object]]:
    """Yield lists of up to ``size`` records, calling ``pump()`` every ``PUMP_EVERY`` records read."""
    iterator = iter(records)
    batch: list[object] = []
    while chunk := list(islice(iterator, min(PUMP_EVERY, size - len(batch)))):
        pump()
        batch += chunk
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read(run: _Run, records: Iterable[object], stage: sql.StageWriter, convert: Callable[[list[object]], list[tuple]],
          *, looks_up: bool, progress: Callable[[int], None] | None, batch_size: int,
          timings: dict[str, float]) -> None:
    """Convert ``records`` batch by batch and write the rows to ``stage`` (until the file is doomed).

    ``progress(records read)`` runs once a batch is staged. ``looks_up``: the conversion queries the
    database, so it waits for the previous batch's COPY (otherwise it overlaps it). CPU seconds go
    to ``timings`` "read" and "stage". FileRejected propagates.
    """
    clock = time.process_time  # CPU seconds of this process: stable on a busy machine
    started = clock()
    unreported = None  # records read up to the batch being staged, not yet written as progress
    for batch in _batches(records, batch_size, stage.pump):
        rows = None if looks_up else convert(batch)
        staging = clock()
        timings["read"] += staging - started
        stage.settle()
        if progress and unreported is not None:
            progress(unreported)
        converting = clock()
        if rows is None:
            rows = convert(batch)
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


def load_records(*, biller: Biller, records: Iterable[object] = (), kind: str = "invoices",
                 parts: Parts | None = None,
                 policy: str | None = None, customizations: Customizations | None = None,
                 customer_location_from: tuple[str, str] | None = None,
                 progress: Callable[[int], None] | None = None,
                 merging: Callable[[int], None] | None = None,
                 on_merge: Callable[[list[Problem]], None] | None = None,
                 now: datetime | None = None, batch_size: int | None = None) -> LoadOutcome:
    """Stage ``records`` in batches and, when the file is accepted, merge them in one transaction.

    ``parts`` (instead of ``records``; invoices only): read the file's slices in parallel, a reader
    process each (``billers.loading_parts``); inside a transaction they are read here, one after
    another. ``policy`` defaults to the biller's ``record_error_policy``; ``customizations`` to the
    biller's enabled ones (``customizations_of``); ``progress(records_read)`` is called once per batch, when
    the batch is staged (on PostgreSQL once its COPY ended, as the next batch starts), outside any
    transaction this function opens; ``merging(records_read)`` once the file is accepted, just before the
    merge transaction starts (the merge of a big file takes a while); ``on_merge(problems)`` runs inside the merge
    transaction (quarantine). Never raises for bad input: a ``FileRejected`` or a
    ``CustomizationError`` becomes a failed outcome. Database errors propagate (nothing merged).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if parts is not None and kind != "invoices":
        raise ValueError("only invoice files are read in parts (the others look stored invoices up)")
    if parts is not None and connection.in_atomic_block:  # other processes cannot see what it stages
        records, parts = _one_after_another(parts), None
    policy = policy or biller.record_error_policy
    now = now or timezone.now()
    try:
        custom = customizations if customizations is not None else customizations_of(biller)
    except CustomizationError as exc:
        return LoadOutcome("failed", {"invoices": 0, "rejected": 0}, [FieldError(0, "customization", "", str(exc))],
                           [], str(exc))
    run = _Run(biller=biller, kind=kind, quarantine=policy == RecordErrorPolicy.QUARANTINE,
               row_context=RowContext(custom, customer_location_from))
    invoices = kind in ("invoices", "replacements")
    columns = sql.INVOICE_COLUMNS if invoices else (
        sql.BALANCE_COLUMNS if kind == "balances" else sql.EXPIRATION_COLUMNS)
    convert = run.invoice_rows if invoices else run.adjustment_rows
    timings = {"read": 0.0, "stage": 0.0, "merge": 0.0}
    clock = time.process_time  # CPU seconds of this process: stable on a busy machine
    gc_was_enabled = gc.isenabled()
    gc.disable()  # batches hold ~10^5 young containers and make no cycles: collections only cost time
    # Replacements, balances and expirations look stored invoices up while converting: the connection
    # must be free then. Invoice rows are converted while the previous batch's COPY still runs.
    looks_up = kind != "invoices"
    with sql.Stage(columns, shared=parts is not None) as stage:
        try:
            if parts is None:
                _read(run, records, stage, convert, looks_up=looks_up, progress=progress,
                      batch_size=batch_size or BATCH, timings=timings)
            else:
                from billers.loading_parts import read_parts

                read_parts(run, parts, stage, convert, progress=progress, batch_size=batch_size or BATCH,
                           timings=timings)
        except FileRejected as exc:
            errors = (exc.errors + run.errors)[:MAX_ERRORS]
            return LoadOutcome("failed", _counts(run, {}, loaded=0), errors, [], str(exc))
        finally:
            if gc_was_enabled:
                gc.enable()
        if run.rejected and not run.quarantine:
            message = f"{run.rejected} invalid record(s): the file is rejected whole (policy: reject file)"
            return LoadOutcome("failed", _counts(run, {}, loaded=0), run.errors, [], message)
        if merging:
            merging(run.records)
        started, wall = clock(), time.perf_counter()
        with deferred_checkpoint(), sql.checks_skipped(), transaction.atomic():
            if invoices:
                merged = sql.merge_invoices(stage, biller_id=biller.pk, now=now, balance_forward=custom.balance_forward)
            elif kind == "balances":
                merged = sql.merge_balances(stage, biller_id=biller.pk, now=now)
            else:
                merged = sql.merge_expirations(stage, biller_id=biller.pk, now=now)
            if on_merge and run.problems:
                on_merge(run.problems)
        timings["merge"] = clock() - started
        timings["merge wall"] = time.perf_counter() - wall  # includes the database server's work
        status = "partial" if run.problems else "succeeded"
        return LoadOutcome(status, _counts(run, merged, loaded=stage.rows), run.errors, run.problems,
                           timings=timings, parts=len(parts.parts) if parts else 1)


def _counts(run: _Run, merged: dict[str, int], *, loaded: int) -> dict[str, int]:
    counts = {"records": run.records, "invoices": loaded if run.kind in ("invoices", "replacements") else 0,
              "accounts_created": 0, "accounts_updated": 0, "replaced": 0, "rejected": run.rejected,
              "quarantined": len(run.problems) if loaded or merged else 0}
    counts.update(merged)
    return counts
