"""Invoice intake: a partner file in, an Exchange row out (the entry point of transports, admin and API).

``import_file`` stores the raw bytes first (kept on disk whatever happens), then ``run_exchange``
checks for a duplicate (same biller, same SHA-256 as a succeeded or partial exchange), reads the
file with the partner's parser (``intake_formats.FORMATS``), loads it (``billers.loading``) and
finishes the row: status, counts, errors, timings. Progress is written every batch in its own
short write, so another connection (the admin's progress page) sees it while the file loads.
"""
from __future__ import annotations

import io
import logging
import os
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

from billers.loading import LoadOutcome, Problem, load_records
from billers.models import Biller
from exchanges import storage
from exchanges.intake_formats import FORMATS, count_records, format_for
from exchanges.intake_models import QuarantinedRecord, QuarantineStatus
from exchanges.intake_parts import parts_of
from exchanges.models import Exchange, ExchangeKind, ExchangeSource, ExchangeStatus
from partners.bif import FieldError

__all__ = [
    "INTAKE_KINDS",
    "PARSERS",
    "exchange_summary",
    "import_file",
    "reimport_quarantined",
    "requeue_exchange",
    "rerun_exchange",
    "run_exchange",
    "stage_file",
]

log = logging.getLogger(__name__)
PARSERS = FORMATS  # (partner code, kind) -> Format(parse, needle, wrap): the dispatch table
INTAKE_KINDS = (ExchangeKind.INVOICES, ExchangeKind.REPLACEMENTS, ExchangeKind.BALANCES, ExchangeKind.EXPIRATIONS)
LOADED = (ExchangeStatus.SUCCEEDED, ExchangeStatus.PARTIAL)


def stage_file(*, biller: Biller, stream_or_path: BinaryIO | str | os.PathLike[str], file_name: str,
               kind: str = "invoices", source: str, actor: str = "", link: bool = False) -> Exchange:
    """Create a pending Exchange and store the raw file under DATA_DIR; return the exchange.

    ``link``: the path is a file nobody writes again (a download, an upload's temporary file): the
    store links to it rather than copying it (``storage.store``).

    Use this to import later (``run_exchange``, or the ``run_import`` task); ``import_file`` does both.
    Raises ValueError for a kind that is not an intake kind; OSError when the file cannot be stored
    (the exchange is then marked failed).
    """
    if kind not in INTAKE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(INTAKE_KINDS)}, not {kind!r}")
    base = os.path.basename(str(file_name).replace("\\", "/")) or "payload"
    exchange = Exchange.objects.create(
        biller=biller, partner_id=biller.partner_id, kind=kind, source=source, file_name=base[:255],
        status=ExchangeStatus.PENDING, message=f"Submitted by {actor}." if actor else "")
    try:
        stored = storage.store(stream_or_path, exchange_id=exchange.pk, file_name=base, link=link)
    except OSError as exc:
        _finish(exchange, ExchangeStatus.FAILED, message=f"The file could not be stored: {exc}")
        raise
    exchange.raw_path, exchange.raw_size, exchange.checksum = stored.relative_path, stored.size, stored.sha256
    Exchange.objects.filter(pk=exchange.pk).update(raw_path=stored.relative_path, raw_size=stored.size,
                                                   checksum=stored.sha256)
    return exchange


def import_file(*, biller: Biller, stream_or_path: BinaryIO | str | os.PathLike[str], file_name: str,
                kind: str = "invoices", source: str, actor: str = "", policy: str | None = None,
                duplicate_check: bool = True, link: bool = False) -> Exchange:
    """Store, check, parse and load one partner file for ``biller``; return its finished Exchange.

    ``source`` is an ExchangeSource value (sftp, ftps, folder, upload, api, command); ``policy``
    overrides the biller's record error policy and ``duplicate_check=False`` loads even a file
    already loaded (both for re-imports of corrected records); ``link`` as in ``stage_file``. The status says the
    outcome: succeeded, partial (quarantine policy, invalid records set aside), failed (rejected:
    nothing loaded; ``errors`` say why) or duplicate (same checksum as a loaded file: not loaded).
    Never raises for bad input; OSError if the raw file cannot be stored.
    """
    exchange = stage_file(biller=biller, stream_or_path=stream_or_path, file_name=file_name, kind=kind,
                          source=source, actor=actor, link=link)
    return run_exchange(exchange, policy=policy, duplicate_check=duplicate_check)


def rerun_exchange(exchange: Exchange, *, actor: str = "") -> Exchange:
    """Run a failed (or never run) exchange again from its kept raw file; return it finished.

    The previous outcome goes to the message. Raises ValueError when the exchange already loaded
    (succeeded/partial), is a duplicate, or its raw file was pruned.
    """
    _prepare_rerun(exchange, actor)
    return run_exchange(exchange)


def requeue_exchange(exchange: Exchange, *, actor: str = "") -> None:
    """Like ``rerun_exchange``, in the task cluster: the exchange goes back to pending and
    ``run_import`` is queued when the transaction commits. Raises ValueError as rerun_exchange."""
    from exchanges.tasks import enqueue_import

    _prepare_rerun(exchange, actor)
    enqueue_import(exchange)


def _prepare_rerun(exchange: Exchange, actor: str) -> None:
    if exchange.kind not in INTAKE_KINDS:
        raise ValueError(f"exchange #{exchange.pk} is not a file import")
    if exchange.status == ExchangeStatus.RUNNING and not _stale(exchange):
        raise ValueError(f"exchange #{exchange.pk} is running: it is re-run only once it has failed, or when it "
                         "has been running longer than the task timeout (its worker died)")
    if exchange.status in (*LOADED, ExchangeStatus.DUPLICATE):
        raise ValueError(f"exchange #{exchange.pk} is {exchange.status}: only failed or pending imports are re-run")
    if not exchange.raw_path or exchange.raw_pruned_at:
        raise ValueError(f"exchange #{exchange.pk} has no raw file left to re-run")
    note = f"Re-run{' by ' + actor if actor else ''} at {timezone.now():%Y-%m-%d %H:%M:%S %Z}; before: {exchange.status}"
    if exchange.errors:
        note += f", first error: {exchange.errors[0].get('message', '')}"
    exchange.message = f"{note}. {exchange.message}".strip()
    exchange.status = ExchangeStatus.PENDING
    Exchange.objects.filter(pk=exchange.pk).update(message=exchange.message, status=ExchangeStatus.PENDING)


def _stale(exchange: Exchange) -> bool:
    """A running exchange whose worker must have died: started longer ago than the task timeout."""
    timeout = int(settings.Q_CLUSTER.get("timeout") or 600)
    return exchange.started_at is not None and timezone.now() - exchange.started_at > timedelta(seconds=timeout)


def run_exchange(exchange: Exchange, *, policy: str | None = None, duplicate_check: bool = True) -> Exchange:
    """Load a stored exchange's raw file (see ``import_file``); return the exchange, finished."""
    biller = exchange.biller
    started = timezone.now()
    Exchange.objects.filter(pk=exchange.pk).update(
        status=ExchangeStatus.RUNNING, started_at=started, finished_at=None, progress_done=0,
        progress_total=None, counts={}, errors=[])
    exchange.status, exchange.started_at = ExchangeStatus.RUNNING, started
    earlier = duplicate_check and (
        Exchange.objects.filter(biller=biller, checksum=exchange.checksum, status__in=LOADED)
        .exclude(pk=exchange.pk).order_by("pk").first())
    if earlier:
        return _finish(exchange, ExchangeStatus.DUPLICATE, counts={"invoices": 0, "accounts_created": 0,
                                                                   "accounts_updated": 0},
                       message=f"Same file (SHA-256) as exchange #{earlier.pk}: not loaded again.")
    try:
        fmt = format_for(biller.partner.code, exchange.kind)
    except LookupError as exc:
        error = FieldError(0, "kind", exchange.kind, str(exc))
        return _finish(exchange, ExchangeStatus.FAILED, errors=[error], message=str(exc))
    try:
        with storage.open_raw(exchange.raw_path) as raw:
            total = count_records(raw, fmt.needle)
            raw.seek(0)
            Exchange.objects.filter(pk=exchange.pk).update(progress_total=total)
            exchange.progress_total = total
            parts = parts_of(fmt, storage.absolute(exchange.raw_path), biller, exchange.file_name, exchange.kind)
            outcome = load_records(
                biller=biller, records=() if parts else fmt.parse(raw, biller, exchange.file_name, exchange.kind),
                parts=parts, kind=exchange.kind, policy=policy, customer_location_from=fmt.customer_location_from,
                progress=lambda done: _progress(exchange, done), merging=lambda read: _merging(exchange, read),
                on_merge=lambda problems: _quarantine(exchange, problems))
    except Exception as exc:
        log.exception("exchange %s (%s) failed", exchange.pk, exchange.file_name)
        return _finish(exchange, ExchangeStatus.FAILED,
                       message=f"Internal error while loading: {type(exc).__name__}: {str(exc)[:500]}")
    return _finish_outcome(exchange, outcome)


def _progress(exchange: Exchange, done: int) -> None:
    exchange.progress_done = done
    Exchange.objects.filter(pk=exchange.pk).update(progress_done=done)


def _merging(exchange: Exchange, read: int) -> None:
    """Say on the row (the progress page shows it) that reading is over and the merge runs; the
    outcome's message replaces this."""
    note = f"Read {read:,} records; merging them into accounts and invoices."
    Exchange.objects.filter(pk=exchange.pk).update(message=f"{exchange.message} {note}".strip())


def _quarantine(exchange: Exchange, problems: list[Problem]) -> None:
    """Store each set-aside record (inside the merge transaction); raw lines read back when needed."""
    missing = [(p.first_line, p.last_line) for p in problems if not p.lines]
    read = storage.read_lines(exchange.raw_path, missing) if missing else {}
    rows = [
        QuarantinedRecord(
            exchange=exchange, line=p.first_line, invoice_number=p.invoice_number[:60],
            account_number=p.account_number[:60], raw="\n".join(p.lines or read.get(p.first_line, [])),
            errors=[_error_dict(e) for e in p.errors])
        for p in sorted(problems, key=lambda p: p.first_line)
    ]
    QuarantinedRecord.objects.bulk_create(rows, batch_size=500)


def _error_dict(error: FieldError) -> dict[str, object]:
    return {"line": error.line, "field": error.field, "value": error.value, "message": error.message}


def _finish_outcome(exchange: Exchange, outcome: LoadOutcome) -> Exchange:
    message = outcome.message
    if outcome.status == "partial":
        message = f"{outcome.counts.get('quarantined', 0)} invalid record(s) quarantined for correction."
    if outcome.parts > 1 and outcome.status != "failed":
        message = f"{message} Read in {outcome.parts} slices at once.".strip()
    if outcome.timings:
        log.info("exchange %s: %s%s", exchange.pk, ", ".join(f"{k} {v:.2f} s" for k, v in outcome.timings.items()),
                 f" ({outcome.parts} slices, readers' peak {outcome.reader_peak_mb:.0f} MB)" if outcome.parts > 1 else "")
    return _finish(exchange, outcome.status, counts=outcome.counts, errors=outcome.errors, message=message,
                   done=outcome.counts.get("records"))


def _finish(exchange: Exchange, status: str, *, counts: dict[str, int] | None = None,
            errors: list[FieldError] | None = None, message: str = "", done: int | None = None) -> Exchange:
    """Write the outcome on the row (one short write) and return the refreshed exchange."""
    fields = {"status": status, "finished_at": timezone.now(), "counts": counts or {"invoices": 0},
              "errors": [_error_dict(e) for e in errors or []]}
    fields["message"] = f"{exchange.message} {message}".strip()  # replaces the note of _merging
    if done is not None:
        fields["progress_done"] = done
    if exchange.started_at is None:
        fields["started_at"] = fields["finished_at"]
    Exchange.objects.filter(pk=exchange.pk).update(**fields)
    exchange.refresh_from_db()
    return exchange


def exchange_summary(exchange: Exchange, *, max_errors: int | None = None) -> dict[str, object]:
    """Return the JSON summary callers print or answer: exchange id, status, counts and errors."""
    counts = exchange.counts or {}
    errors = exchange.errors if max_errors is None else exchange.errors[:max_errors]
    summary: dict[str, object] = {
        "exchange": exchange.pk, "status": exchange.status, "invoices": counts.get("invoices", 0),
        "accounts_created": counts.get("accounts_created", 0), "accounts_updated": counts.get("accounts_updated", 0),
    }
    summary.update({k: v for k, v in counts.items() if k not in summary})
    summary["errors"] = [{"line": e.get("line"), "field": e.get("field"), "value": e.get("value", ""),
                          "message": e.get("message")} for e in errors]
    if exchange.message:
        summary["message"] = exchange.message
    return summary


def reimport_quarantined(record: QuarantinedRecord, *, raw: str | None = None, actor: str = "") -> Exchange:
    """Load a (corrected) quarantined record through a new exchange; return that exchange.

    ``raw`` replaces the stored lines first. The record is wrapped into a one-record file of its
    partner's format and imported with the reject-file policy: when it loads, the record is marked
    re-imported; otherwise it stays open with the new errors.
    """
    if record.status != QuarantineStatus.OPEN:
        raise ValueError(f"quarantined record #{record.pk} is {record.status}, not open")
    if raw is not None:
        record.raw = raw
    original = record.exchange
    fmt = format_for(original.biller.partner.code, original.kind)
    lines = record.raw.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    file_name, payload = fmt.wrap(original.biller, lines, original.kind)
    exchange = import_file(biller=original.biller, stream_or_path=io.BytesIO(payload), file_name=file_name,
                           kind=original.kind, source=ExchangeSource.UPLOAD, actor=actor,
                           policy="reject_file", duplicate_check=False)
    record.reimport_exchange = exchange
    if exchange.status in LOADED:
        record.status, record.resolved_by, record.resolved_at = QuarantineStatus.REIMPORTED, actor, timezone.now()
    else:
        record.errors = exchange.errors
    record.save()
    return exchange
