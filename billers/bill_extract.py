"""PDF extraction: bill PDFs delivered beside an invoice file (a zip or a folder), matched by invoice number.

``extract_bills(biller=..., path=...)`` reads every ``.pdf`` in the zip or folder, matches its file
name to one of the biller's invoices and stores it under ``DATA_DIR/bills/<BID>/extracted/``,
recording an :class:`ExtractedBill` per invoice. Call it after the invoice file is loaded (a PDF
whose invoice is not in the database yet is reported as unmatched, not stored).

Matching (table :data:`NAME_RULES`, first hit wins): the file name without ``.pdf`` is the invoice
number (``100011126.pdf``), or its last ``_``-separated part is (``2778_100011126.pdf``).
Files are streamed (never whole in memory), checked to start like a PDF, and capped at
:data:`MAX_PDF_BYTES`. The same PDF delivered twice changes nothing.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billers.bill_models import BillJob, BillJobKind, BillJobStatus, ExtractedBill
from billers.models import Biller, Invoice
from partners.bill_image import is_pdf

MAX_PDF_BYTES = 50 * 1024 * 1024
COPY_CHUNK = 256 * 1024
MAX_ERRORS = 1000

#: How a PDF's file name gives the invoice number, tried in order.
NAME_RULES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("whole name", lambda stem: stem),
    ("last part after _", lambda stem: stem.rsplit("_", 1)[-1]),
)


@dataclass
class ExtractCounts:
    """What one extraction did; ``job_id`` is the :class:`BillJob` that records it."""

    found: int = 0
    stored: int = 0
    replaced: int = 0
    unchanged: int = 0
    unmatched: int = 0
    rejected: int = 0
    job_id: int | None = None


@dataclass(frozen=True)
class Member:
    """One PDF in the delivery: its name (for matching and messages) and how to open it."""

    name: str
    size: int
    open: Callable[[], IO[bytes]]


def bills_beside(invoice_file: Path) -> Path | None:
    """Return the zip or folder of PDFs delivered beside ``invoice_file`` (same stem), if any.

    Looks for ``<stem>.zip`` (any case), then a folder ``<stem>``, ``<stem>_pdf`` or ``<stem>_pdfs``.
    """
    folder = invoice_file.parent
    stem = invoice_file.stem
    for candidate in sorted(folder.glob(f"{stem}.*")):
        if candidate.suffix.lower() == ".zip" and candidate.is_file():
            return candidate
    for name in (stem, f"{stem}_pdf", f"{stem}_pdfs", f"{stem}_PDF", f"{stem}_PDFS"):
        if (folder / name).is_dir():
            return folder / name
    return None


def _is_pdf_name(name: str) -> bool:
    path = PurePosixPath(name)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return path.suffix.lower() == ".pdf" and not hidden


def _opener(file: Path) -> Callable[[], IO[bytes]]:
    return lambda: file.open("rb")


@contextmanager
def _delivery(path: Path) -> Iterator[list[Member]]:
    """Yield the PDFs of a folder or zip (the zip stays open while the caller reads them)."""
    if path.is_dir():
        files = [f for f in sorted(path.rglob("*")) if f.is_file() and _is_pdf_name(str(f.relative_to(path)))]
        yield [Member(str(f.relative_to(path)), f.stat().st_size, _opener(f)) for f in files]
        return
    with zipfile.ZipFile(path) as archive:
        yield [
            Member(info.filename, info.file_size, partial(archive.open, info))
            for info in archive.infolist()
            if not info.is_dir() and _is_pdf_name(info.filename)
        ]


def _candidates(member: Member) -> list[str]:
    stem = PurePosixPath(member.name).stem.strip()
    seen: list[str] = []
    for _, rule in NAME_RULES:
        key = rule(stem).strip()
        if key and key not in seen:
            seen.append(key)
    return seen


@contextmanager
def _spooled(member: Member, target: Path) -> Iterator[tuple[Path, str, int]]:
    """Copy ``member`` to a temporary file beside ``target``; yield (temp path, sha256, size).

    Raises ValueError when it is larger than MAX_PDF_BYTES or does not start like a PDF. The
    temporary file is removed unless the caller moved it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest, size = hashlib.sha256(), 0
    try:
        with member.open() as source, temporary.open("wb") as sink:
            while chunk := source.read(COPY_CHUNK):
                if size == 0 and not is_pdf(chunk):
                    raise ValueError("not a PDF (no %PDF- header)")
                size += len(chunk)
                if size > MAX_PDF_BYTES:
                    raise ValueError(f"larger than {MAX_PDF_BYTES // (1024 * 1024)} MB")
                digest.update(chunk)
                sink.write(chunk)
        if size == 0:
            raise ValueError("empty file")
        yield temporary, digest.hexdigest(), size
    finally:
        temporary.unlink(missing_ok=True)


def _storage_name(biller: Biller, invoice_number: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in invoice_number)
    return f"bills/{biller.bid}/extracted/{safe}.pdf"


@transaction.atomic
def extracted_bill_store(*, biller: Biller, invoice: Invoice, member: Member, delivery: Path) -> str:
    """Store one delivered PDF for ``invoice``; return "stored", "replaced" or "unchanged".

    Raises ValueError (with the reason) for a file that is not an acceptable PDF.
    """
    relative = _storage_name(biller, invoice.invoice_number)
    target = Path(settings.DATA_DIR) / relative
    existing = ExtractedBill.objects.filter(biller=biller, invoice_number=invoice.invoice_number).first()
    with _spooled(member, target) as (temporary, sha256, size):
        if existing is not None and existing.sha256 == sha256 and target.is_file():
            return "unchanged"
        os.replace(temporary, target)
    ExtractedBill.objects.update_or_create(
        biller=biller,
        invoice_number=invoice.invoice_number,
        defaults={"invoice": invoice, "path": relative, "sha256": sha256, "size": size,
                  "source": f"{delivery.name}:{member.name}"[:500]},
    )
    return "replaced" if existing is not None else "stored"


def _match(biller: Biller, members: list[Member]) -> dict[str, Invoice]:
    """Return {invoice number: invoice} for every candidate name that is one of the biller's invoices."""
    keys = {key for member in members for key in _candidates(member)}
    found: dict[str, Invoice] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):  # stay under SQLite's parameter limit
        batch = ordered[start:start + 500]
        for invoice in Invoice.objects.filter(biller=biller, invoice_number__in=batch).select_related("biller"):
            found[invoice.invoice_number] = invoice
    return found


def _store_all(
    biller: Biller, path: Path, members: list[Member], counts: ExtractCounts, errors: list[dict[str, str]],
    job: BillJob,
) -> None:
    invoices = _match(biller, members)
    for done, member in enumerate(members, start=1):
        invoice = next((invoices[k] for k in _candidates(member) if k in invoices), None)
        if invoice is None:
            counts.unmatched += 1
            errors.append({"item": member.name, "message": "no invoice with this number"})
        else:
            try:
                outcome = extracted_bill_store(biller=biller, invoice=invoice, member=member, delivery=path)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            except ValueError as exc:
                counts.rejected += 1
                errors.append({"item": member.name, "message": str(exc)})
        if done % 100 == 0:
            BillJob.objects.filter(pk=job.pk).update(progress_done=done)


def _outcome(counts: ExtractCounts) -> tuple[str, str]:
    problems = counts.unmatched + counts.rejected
    message = (f"{counts.found} PDFs: {counts.stored} stored, {counts.replaced} replaced, "
               f"{counts.unchanged} unchanged, {counts.unmatched} unmatched, {counts.rejected} rejected.")
    if not problems:
        return BillJobStatus.SUCCEEDED, message
    return (BillJobStatus.PARTIAL if counts.found > problems else BillJobStatus.FAILED), message


def extract_bills(*, biller: Biller, path: Path) -> ExtractCounts:
    """Store the PDFs of the zip or folder at ``path`` for ``biller``'s invoices; return the counts.

    Each PDF is matched by invoice number (see the module docstring); unmatched and rejected files
    are listed on the :class:`BillJob`. Raises FileNotFoundError when ``path`` does not exist and
    ``zipfile.BadZipFile`` for a broken zip (the job is then marked failed).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no PDF delivery at {path}")
    job = BillJob.objects.create(biller=biller, kind=BillJobKind.EXTRACT, source=str(path))
    counts, errors = ExtractCounts(job_id=job.pk), list[dict[str, str]]()
    try:
        with _delivery(path) as members:
            job.progress_total = counts.found = len(members)
            job.save(update_fields=["progress_total"])
            _store_all(biller, path, members, counts, errors, job)
    except Exception as exc:
        job.status, job.message = BillJobStatus.FAILED, f"{path.name}: {type(exc).__name__}: {exc}"
        job.finished_at, job.errors = timezone.now(), errors[:MAX_ERRORS]
        job.counts = {k: v for k, v in asdict(counts).items() if k != "job_id"}
        job.save()
        raise
    job.status, job.message = _outcome(counts)
    job.progress_done, job.finished_at, job.errors = counts.found, timezone.now(), errors[:MAX_ERRORS]
    job.counts = {k: v for k, v in asdict(counts).items() if k != "job_id"}
    job.save()
    return counts
