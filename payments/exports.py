"""Export files of a closed batch: which writer per partner, streaming rows to disk, the file records.

Files go to ``DATA_DIR/exports/<BID>/<business date>/``. Rows are read with ``.iterator()`` and written
in chunks, so memory stays flat whatever the day's volume. A file is written under a temporary name
and renamed only when every row of it was written: a refused file leaves nothing behind. The content
depends on the batch alone (its period and close instant), so regenerating gives identical bytes.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import CharField, Model, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from billers.models import Biller, Invoice
from partners import exports as ex
from partners.aus import exports as aus_exports
from partners.flexibill import exports as flexibill_exports
from payments.batch_models import Batch, BatchExportStatus, ExportFile
from payments.models import ChangeLog, Payment

#: Partner code -> its export files (explicit; partners absent here take no files).
WRITERS: dict[str, ex.PartnerExports] = {
    "flexibill": flexibill_exports.EXPORTS,
    "aus": aus_exports.EXPORTS,
}
CHUNK = 5_000  # rows fetched and lines written at a time
#: PaymentRow's fields, in order. Money, time and GUID are read as text (no per-row ORM converters,
#: half the time of a large export) and made Decimal / aware datetime in ``payment_rows``.
PAYMENT_COLUMNS = (
    "guid_text", "account__account_number", "custom2", "account__name", "invoice_number", "amount_text",
    "fee_text", "tender", "card_brand", "channel", "approval_code", "check_number", "paid_text",
)


class ExportRefused(Exception):
    """The batch's data cannot be written to ``kind``'s file(s); nothing was written."""


def writer_for(biller: Biller) -> ex.PartnerExports | None:
    """The export files the biller's partner takes, or None."""
    return WRITERS.get(biller.partner.code)


def export_kinds(biller: Biller) -> tuple[str, ...]:
    writer = writer_for(biller)
    return writer.kinds if writer else ()


def export_dir(batch: Batch) -> Path:
    return Path(settings.DATA_DIR) / "exports" / str(batch.biller.bid) / batch.business_date.isoformat()


def context_for(batch: Batch) -> ex.ExportContext:
    zone = ZoneInfo(batch.biller.time_zone)
    return ex.ExportContext(bid=batch.biller.bid, zone=zone, close_local=batch.period_end.astimezone(zone))


# ---- Selection ------------------------------------------------------------------------------


def batch_payments(batch: Batch) -> QuerySet[Payment]:
    """Payments paid within the batch's period (every kind and status)."""
    return Payment.objects.filter(biller_id=batch.biller_id, paid_at__gte=batch.period_start,
                                  paid_at__lt=batch.period_end)


def exported_payments(batch: Batch) -> QuerySet[Payment]:
    """The batch's payments that belong in its payment file(s); none for a partner without one."""
    writer = writer_for(batch.biller)
    if writer is None or ex.PAYMENTS not in writer.kinds:
        return Payment.objects.none()
    return (batch_payments(batch).filter(**writer.payment_filter)
            .exclude(void__voided_at__lt=batch.period_end))


def _as_text(field: str) -> Cast:
    return Cast(field, output_field=CharField())


def _utc(text: str) -> datetime:
    """A stored UTC timestamp as the database prints it (SQLite without offset) -> aware datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def payment_rows(batch: Batch) -> Iterator[ex.PaymentRow]:
    """The exported payments as PaymentRow, in paid order, streamed with ``.iterator()``."""
    qs = (exported_payments(batch)
          .annotate(custom2=KeyTextTransform("Custom2", "invoice__header"), guid_text=_as_text("payment_guid"),
                    amount_text=_as_text("amount"), fee_text=_as_text("convenience_fee"),
                    paid_text=_as_text("paid_at"))
          .order_by("paid_at", "pk").values_list(*PAYMENT_COLUMNS))
    row = ex.PaymentRow
    for guid, acct, custom2, name, invoice, amount, fee, tender, brand, channel, approval, check, paid in (
            qs.iterator(chunk_size=CHUNK)):
        yield row(guid, acct, custom2, name, invoice, Decimal(amount), Decimal(fee), tender, brand, channel,
                  approval, check, _utc(paid))


def change_rows(batch: Batch, kind: str) -> Iterator[ex.ChangeRow]:
    """The batch period's change logs of ``kind`` as ChangeRow, in change order, streamed."""
    latest_custom2 = (Invoice.objects.filter(account_id=OuterRef("account_id"))
                      .order_by("-invoice_date", "-pk").annotate(c2=KeyTextTransform("Custom2", "header")).values("c2")[:1])
    qs = (ChangeLog.objects.filter(biller_id=batch.biller_id, kind=ex.CHANGE_KIND[kind],
                                   changed_at__gte=batch.period_start, changed_at__lt=batch.period_end)
          .annotate(custom2=Subquery(latest_custom2)).order_by("changed_at", "pk")
          .values_list("pk", "account__account_number", "custom2", "account__name", "old_value", "new_value",
                       "invoice_type", "changed_at"))
    make = ex.ChangeRow._make
    for values in qs.iterator(chunk_size=CHUNK):
        yield make(values)


def lines_for(batch: Batch, kind: str) -> Iterator[ex.Line]:
    """The lines of ``kind``'s file(s) for the batch; ValueError for a kind the partner does not take."""
    writer = writer_for(batch.biller)
    if writer is None or kind not in writer.kinds:
        raise ValueError(f"biller {batch.biller.bid} ({batch.biller.partner.code}) takes no {kind} export; "
                         f"it takes: {', '.join(export_kinds(batch.biller)) or 'none'}")
    context = context_for(batch)
    if kind == ex.PAYMENTS:
        return writer.payment_writer(payment_rows(batch), context)
    assert writer.change_writer is not None
    return writer.change_writer(kind, change_rows(batch, kind), context)


# ---- The data pump's outbox ------------------------------------------------------------------

#: Export kind -> the outbox event type of its rows.
OUTBOX_EVENT_TYPE = {ex.PAYMENTS: "payment", ex.AUTOPAY_CHANGES: "autopay_change",
                     ex.EMAIL_CHANGES: "email_change", ex.PAPERLESS_CHANGES: "paperless_change"}


def outbox_model() -> type[Model] | None:
    """The data pump's OutboxEvent model, once it exists (looked up, never imported)."""
    return next((m for m in apps.get_models() if m.__name__ == "OutboxEvent"), None)


def settle_outbox(batch: Batch, kind: str, *, note: str) -> int:
    """Mark the ``for_export`` outbox events of the rows just written delivered; return how many.

    0 while the pump's outbox does not exist.
    """
    model = outbox_model()
    if model is None:
        return 0
    from django.contrib.contenttypes.models import ContentType

    from payments.outbox import outbox_events_settle

    if kind == ex.PAYMENTS:
        source, ids = Payment, exported_payments(batch).values("pk")
    else:
        source = ChangeLog
        ids = ChangeLog.objects.filter(biller_id=batch.biller_id, kind=ex.CHANGE_KIND[kind],
                                       changed_at__gte=batch.period_start,
                                       changed_at__lt=batch.period_end).values("pk")
    events = model._default_manager.filter(biller_id=batch.biller_id, event_type=OUTBOX_EVENT_TYPE[kind],
                                           content_type=ContentType.objects.get_for_model(source),
                                           object_id__in=ids)
    return outbox_events_settle(events=events, note=note)


# ---- Writing ----------------------------------------------------------------------------------


@dataclass
class _Out:
    tmp: Path
    handle: object
    digest: object = field(default_factory=hashlib.sha256)
    pending: list[str] = field(default_factory=list)
    rows: int = 0
    total: Decimal = Decimal(0)
    size: int = 0


@dataclass
class Written:
    """A file written to disk: its name, path, checksum and counts."""

    file_name: str
    path: Path
    sha256: str
    size: int
    rows: int
    total: Decimal


def write_files(lines: Iterable[ex.Line], directory: Path, *, line_end: str, encoding: str) -> list[Written]:
    """Write ``lines`` to their files in ``directory``; return them, sorted by name.

    On any error every file of this call is removed (none is left half-written) and the error re-raised.
    """
    directory.mkdir(parents=True, exist_ok=True)
    outs: dict[str, _Out] = {}

    def flush(out: _Out) -> None:
        data = "".join(out.pending).encode(encoding)
        out.digest.update(data)
        out.handle.write(data)
        out.size += len(data)
        out.pending.clear()

    try:
        for name, text, amount in lines:
            out = outs.get(name)
            if out is None:
                if Path(name).name != name:
                    raise ExportRefused(f"unsafe file name {name!r}")
                tmp = directory / f".{name}.{os.getpid()}.part"
                out = outs[name] = _Out(tmp, open(tmp, "wb"))  # noqa: SIM115 (closed below)
            out.pending.append(text + line_end)
            if amount is not None:
                out.rows += 1
                out.total += amount
            if len(out.pending) >= CHUNK:
                flush(out)
        written = []
        for name, out in sorted(outs.items()):
            flush(out)
            out.handle.close()
            final = directory / name
            os.replace(out.tmp, final)
            written.append(Written(name, final, out.digest.hexdigest(), out.size, out.rows, out.total))
        return written
    except BaseException:
        for out in outs.values():
            out.handle.close()
            out.tmp.unlink(missing_ok=True)
        raise


def _relative(path: Path) -> str:
    return str(path.relative_to(Path(settings.DATA_DIR)))


def export_generate(*, batch: Batch, kind: str) -> list[ExportFile]:
    """Write ``kind``'s file(s) for the batch and record them; [] for an empty day (no file written).

    Raises ExportRefused (message names the payment or account) when a row cannot be written; then no
    file of this kind is written or changed. ValueError for a kind the biller's partner does not take.
    """
    writer = writer_for(batch.biller)
    lines = lines_for(batch, kind)
    assert writer is not None
    try:
        written = write_files(lines, export_dir(batch), line_end=writer.line_end, encoding=writer.encoding)
    except ex.ExportError as exc:
        raise ExportRefused(f"{batch.biller.bid} {batch.business_date} {kind}: {exc}") from exc
    now = timezone.now()
    files, names = [], set()
    for w in written:
        names.add(w.file_name)
        previous = ExportFile.objects.filter(batch=batch, file_name=w.file_name).first()
        note = ""
        if previous and previous.sha256 != w.sha256:
            note = (f"Regenerated {now:%Y-%m-%d %H:%M:%S} UTC with different content (previous SHA-256 "
                    f"{previous.sha256}, {previous.row_count} rows, {previous.total}).")
        elif previous:
            note = previous.note
        obj, _ = ExportFile.objects.update_or_create(
            batch=batch, file_name=w.file_name,
            defaults={"biller": batch.biller, "kind": kind, "path": _relative(w.path), "sha256": w.sha256,
                      "size": w.size, "row_count": w.rows, "total": w.total, "generated_at": now, "note": note},
        )
        files.append(obj)
    if files:
        settle_outbox(batch, kind, note=f"exported in {', '.join(sorted(names))}")
    stale = ExportFile.objects.filter(batch=batch, kind=kind).exclude(file_name__in=names)
    for obj in stale:
        if "not produced" not in obj.note:
            obj.note = f"{obj.note} Not produced by the regeneration of {now:%Y-%m-%d %H:%M:%S} UTC.".strip()
            obj.save(update_fields=["note"])
    return files


def batch_export(*, batch: Batch) -> list[ExportFile]:
    """Generate every export file the biller's partner takes; record the outcome on the batch.

    A refused kind sets the batch's export status to failed with the reason; the other kinds are still
    written. Returns the files written.
    """
    kinds = export_kinds(batch.biller)
    if not kinds:
        Batch.objects.filter(pk=batch.pk).update(export_status=BatchExportStatus.NONE, export_error="")
        batch.export_status = BatchExportStatus.NONE
        return []
    files: list[ExportFile] = []
    errors: list[str] = []
    for kind in kinds:
        try:
            files.extend(export_generate(batch=batch, kind=kind))
        except ExportRefused as exc:
            errors.append(str(exc))
    status = BatchExportStatus.FAILED if errors else BatchExportStatus.DONE
    Batch.objects.filter(pk=batch.pk).update(export_status=status, export_error="\n".join(errors))
    batch.export_status, batch.export_error = status, "\n".join(errors)
    return files


def file_path(export_file: ExportFile) -> Path:
    """The file on disk; ValueError if the recorded path would leave DATA_DIR/exports."""
    root = (Path(settings.DATA_DIR) / "exports").resolve()
    path = (Path(settings.DATA_DIR) / export_file.path).resolve()
    if root not in path.parents:
        raise ValueError(f"export file {export_file.pk} path {export_file.path!r} is outside {root}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
