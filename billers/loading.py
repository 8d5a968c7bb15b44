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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from billers import loading_sql as sql
from billers.loading_rows import CustomizationError, Customizations, RowContext
from billers.loading_run import (
    MAX_ERRORS,
    MAX_PROBLEMS,
    LoadRun,
    Parts,
    Problem,
    one_after_another,
    read_batches,
)
from billers.models import Biller, BillerCustomization, RecordErrorPolicy
from billers.wal_checkpoint import deferred_checkpoint
from partners.bif import FieldError, FileRejected

__all__ = [
    "BATCH",
    "MAX_ERRORS",
    "MAX_PROBLEMS",
    "CustomizationError",
    "LoadOutcome",
    "Parts",
    "Problem",
    "customizations_of",
    "load_records",
]

BATCH = 5_000
KINDS = ("invoices", "replacements", "balances", "expirations")


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
    reader_peak_mb: float = 0.0  # the biggest slice reader's peak resident memory


def customizations_of(biller: Biller) -> Customizations:
    """Return the biller's enabled BIF customizations, checked. CustomizationError on a bad value."""
    rows = BillerCustomization.objects.filter(biller=biller, enabled=True).select_related("definition")
    return Customizations.build([(c.definition.name, c.value) for c in rows])


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
        records, parts = one_after_another(parts), None
    policy = policy or biller.record_error_policy
    now = now or timezone.now()
    try:
        custom = customizations if customizations is not None else customizations_of(biller)
    except CustomizationError as exc:
        return LoadOutcome("failed", {"invoices": 0, "rejected": 0}, [FieldError(0, "customization", "", str(exc))],
                           [], str(exc))
    run = LoadRun(biller_id=biller.pk, kind=kind, quarantine=policy == RecordErrorPolicy.QUARANTINE,
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
    reader_peak_mb = 0.0
    with sql.Stage(columns, shared=parts is not None) as stage:
        try:
            if parts is None:
                read_batches(run, records, stage, convert, looks_up=looks_up, progress=progress,
                      batch_size=batch_size or BATCH, timings=timings)
            else:
                from billers.loading_parts import read_parts

                reader_peak_mb = read_parts(run, parts, stage, convert, progress=progress,
                                            batch_size=batch_size or BATCH, timings=timings)
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
                           timings=timings, parts=len(parts.parts) if parts else 1, reader_peak_mb=reader_peak_mb)


def _counts(run: LoadRun, merged: dict[str, int], *, loaded: int) -> dict[str, int]:
    counts = {"records": run.records, "invoices": loaded if run.kind in ("invoices", "replacements") else 0,
              "accounts_created": 0, "accounts_updated": 0, "replaced": 0, "rejected": run.rejected,
              "quarantined": len(run.problems) if loaded or merged else 0}
    counts.update(merged)
    return counts
