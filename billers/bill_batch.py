"""Render a biller's bills in a batch: cache hits are copied, misses rendered in recycled workers.

The calling thread reads invoices and builds each bill's HTML (Django templates, the database);
worker processes only turn HTML into PDF (``billers/bill_pdf.py``). Progress, counts and errors
are recorded on a :class:`BillJob` row that admin shows.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from billers.bill_models import BillJob, BillJobKind, BillJobStatus, RenderedBill
from billers.bill_render import (
    TEMPLATES_DIR,
    TemplateChoice,
    TemplateChooser,
    bill_html,
    rendered_bill_store,
    rendered_path,
    stylesheet_text,
)
from billers.models import Biller, Invoice

if TYPE_CHECKING:
    from billers.bill_pdf import RenderPool

CHUNK = 200
MAX_ERRORS = 1000


def batch_invoices(biller: Biller, limit: int | None = None) -> QuerySet[Invoice]:
    """Return the biller's active invoices, newest first (the first ``limit`` when given)."""
    qs = (
        Invoice.objects.filter(biller=biller, active=True)
        .select_related("biller", "account")
        .order_by("-invoice_date", "invoice_number")
    )
    return qs[:limit] if limit else qs


def _chunks(qs: QuerySet[Invoice]) -> Iterator[list[Invoice]]:
    chunk: list[Invoice] = []
    for invoice in qs.iterator(chunk_size=CHUNK):
        chunk.append(invoice)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _cache_hits(chunk: list[Invoice], choices: dict[int, TemplateChoice]) -> dict[int, RenderedBill]:
    rows = RenderedBill.objects.filter(invoice__in=[i.pk for i in chunk])
    hits = {}
    by_id = {i.pk: i for i in chunk}
    for row in rows:
        invoice, choice = by_id[row.invoice_id], choices[row.invoice_id]
        current = (row.template_path, row.template_version) == (choice.path, choice.version)
        if current and row.invoice_updated_at == invoice.updated_at:
            file = rendered_path(row)
            if file.is_file() and file.stat().st_size == row.size:
                hits[row.invoice_id] = row
    return hits


def _out_name(invoice: Invoice) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in invoice.invoice_number) + ".pdf"


class _Run:
    """One batch: the job row, the counts and where the PDFs go."""

    def __init__(self, job: BillJob, out_dir: Path | None, progress: Callable[[BillJob], None] | None) -> None:
        self.job, self.out_dir, self.progress = job, out_dir, progress
        self.counts = {"invoices": 0, "rendered": 0, "cached": 0, "failed": 0, "render_ms": 0}
        self.errors: list[dict[str, str]] = []

    def deliver(self, invoice: Invoice, source: Path | None = None, pdf: bytes | None = None) -> None:
        if self.out_dir is None:
            return
        target = self.out_dir / _out_name(invoice)
        if pdf is not None:
            target.write_bytes(pdf)
        elif source is not None:
            shutil.copyfile(source, target)

    def fail(self, invoice: Invoice, message: str) -> None:
        self.counts["failed"] += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"item": invoice.invoice_number, "message": message})

    def save_progress(self) -> None:
        self.job.progress_done = self.counts["invoices"]
        self.job.counts = dict(self.counts)
        self.job.errors = self.errors
        self.job.save(update_fields=["progress_done", "counts", "errors"])
        if self.progress:
            self.progress(self.job)


def _render_chunk(run: _Run, pool: RenderPool, chunk: list[Invoice], choose: TemplateChooser, force: bool) -> None:
    choices = {invoice.pk: choose(invoice) for invoice in chunk}
    hits = {} if force else _cache_hits(chunk, choices)
    by_id = {invoice.pk: invoice for invoice in chunk}
    jobs = []
    for invoice in chunk:
        if invoice.pk in hits:
            run.counts["cached"] += 1
            run.deliver(invoice, source=rendered_path(hits[invoice.pk]))
            continue
        try:
            jobs.append((invoice.pk, bill_html(invoice, choices[invoice.pk])))
        except Exception as exc:  # noqa: BLE001  (a broken template or invoice is reported; the batch goes on)
            run.fail(invoice, f"template: {type(exc).__name__}: {exc}")
    for key, pdf, error, ms in pool.render(jobs):
        invoice = by_id[key]
        if pdf is None:
            run.fail(invoice, error)
            continue
        rendered_bill_store(invoice=invoice, choice=choices[key], pdf=pdf, render_ms=ms)
        run.counts["rendered"] += 1
        run.counts["render_ms"] += ms
        run.deliver(invoice, pdf=pdf)
    run.counts["invoices"] += len(chunk)


def _finish(run: _Run, *, failed: str = "") -> BillJob:
    job, counts = run.job, run.counts
    if failed:
        job.status, job.message = BillJobStatus.FAILED, failed
    elif counts["failed"]:
        done = counts["rendered"] + counts["cached"]
        job.status = BillJobStatus.PARTIAL if done else BillJobStatus.FAILED
        job.message = f"{counts['failed']} of {counts['invoices']} bills could not be rendered."
    else:
        job.status = BillJobStatus.SUCCEEDED
        job.message = f"{counts['rendered']} rendered, {counts['cached']} from the cache."
    job.finished_at = timezone.now()
    job.progress_done, job.counts, job.errors = counts["invoices"], dict(counts), run.errors
    job.save()
    return job


def render_batch(
    *,
    biller: Biller,
    out_dir: Path | None = None,
    limit: int | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: Callable[[BillJob], None] | None = None,
) -> BillJob:
    """Render (or take from the cache) the bills of ``biller``'s active invoices; return the job row.

    PDFs are copied to ``out_dir`` as ``<invoice number>.pdf`` when it is given. ``workers`` = pool
    size (None: one per CPU; 0: in this process). Per-bill failures are counted and listed on the
    job (status partial); an unexpected error marks the job failed and is raised again.
    """
    qs = batch_invoices(biller, limit)
    job = BillJob.objects.create(
        biller=biller, kind=BillJobKind.RENDER, source=str(out_dir or ""), progress_total=qs.count()
    )
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(job, out_dir, progress)
    choose = TemplateChooser(biller.pk)
    from billers.bill_pdf import RenderPool  # imports weasyprint: only when rendering

    try:
        with RenderPool(TEMPLATES_DIR, stylesheet_text(), workers=workers) as pool:
            for chunk in _chunks(qs):
                _render_chunk(run, pool, chunk, choose, force)
                run.save_progress()
    except Exception as exc:
        _finish(run, failed=f"{type(exc).__name__}: {exc}")
        raise
    return _finish(run)
