"""Bills rendered from HTML templates (inHance, FlexiBill): context, template choice, PDF cache.

``bill_render(invoice=...)`` returns a :class:`RenderedBill` whose PDF is on disk under
``DATA_DIR/bills/<BID>/rendered/``, rendering only when the cache has nothing for this invoice,
template file and template version (or the invoice changed since). Batches go through
``billers/bill_batch.py`` (a pool of recycled workers). Templates live under ``templates/bills/``;
they can only use ``data:`` URLs and files in that folder (``billers/bill_pdf.py``).

The context reads the invoice's BIF fields through the tables below: detail lines (meter reads,
usage, amounts) and usage history come from the ID row's CustomFields as FlexiBill's D record
lays them out (``partners/flexibill/layout.py``); messages and the service period from the IH
Custom fields of the same layout. A template for another layout can read ``header`` and ``details``.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billers.bill_models import BillerBillSetup, BillTemplate, RenderedBill
from billers.models import Invoice

if TYPE_CHECKING:  # weasyprint is imported only when a bill is rendered (it is slow to import)
    from billers.bill_pdf import Renderer

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "bills"
STYLESHEET = "bills.css"


@dataclass(frozen=True)
class TemplateChoice:
    """The template a bill is rendered with: file under templates/bills/, version, row (if any)."""

    path: str
    version: int
    name: str
    template_id: int | None = None


#: Used when neither the invoice's format GUID nor the biller's setup names a template. Raise the
#: version when utility_default.html or bills.css changes so cached bills are rendered again.
DEFAULT_TEMPLATE = TemplateChoice("utility_default.html", 1, "Utility default (built in)")

# --- declarative field tables ------------------------------------------------------------------

#: Detail line key -> BIF ID field (FlexiBill D record: Service, Rate, MeterNo, Current ...).
LINE_FIELDS: tuple[tuple[str, str], ...] = (
    ("service", "CustomField3"),
    ("rate", "CustomField4"),
    ("meter", "CustomField5"),
    ("current_read", "CustomField6"),
    ("previous_read", "CustomField7"),
    ("multiplier", "CustomField8"),
    ("usage", "CustomField9"),
    ("amount", "CustomField10"),
    ("read_code", "CustomField40"),
    ("service_from", "CustomField41"),
    ("service_to", "CustomField43"),
    ("units", "CustomField83"),
)
#: Usage history, newest first: (usage field, read date field) = PreviousConsumption/ReadDate 1..13.
HISTORY_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (f"CustomField{12 + 2 * n}", f"CustomField{13 + 2 * n}") for n in range(1, 14)
)
#: Usage history chart: bars shown (13 months) and the tallest bar's height in points.
HISTORY_BARS, BAR_PT = 13, 48
#: Bill messages in print order: BillMessage1-4, BillMemoMsg, AutoPayMessage, DelinquentMessage.
MESSAGE_FIELDS: tuple[str, ...] = ("Custom20", "Custom21", "Custom22", "Custom23", "Custom24", "Custom19", "Custom60")
#: Header key -> IH field: service period, days of service, prior due, amount due after the due date.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("period_from", "Custom6"),
    ("period_to", "Custom7"),
    ("days_of_service", "Custom12"),
    ("prior_due", "Custom9"),
    ("due_after_amount", "Custom11"),
    ("last_payment_date", "Custom41"),
    ("last_payment_amount", "Custom42"),
    ("service_location", "Custom3"),
)


def decimal_or_none(value: object) -> Decimal | None:
    """Return ``value`` as a Decimal, or None when blank or not a number (shown as text instead)."""
    text = str(value if value is not None else "").strip().replace(",", "").replace("$", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _usage_history(detail: dict[str, Any], current_label: str) -> list[dict[str, Any]]:
    """Return up to ``HISTORY_BARS`` points [{label, usage, height_pt}], oldest first, this bill last.

    The previous periods come from ``HISTORY_FIELDS``; this bill's usage is the line's own usage.
    The tallest bar is ``BAR_PT`` high. No previous periods -> [] (the template says so).
    """
    points: list[dict[str, Any]] = []
    for usage_field, date_field in HISTORY_FIELDS:
        usage = decimal_or_none(detail.get(usage_field))
        if usage is not None:
            points.append({"label": str(detail.get(date_field, "") or "").strip(), "usage": usage})
    if not points:
        return []
    points.reverse()
    current = decimal_or_none(detail.get(dict(LINE_FIELDS)["usage"]))
    if current is not None:
        points.append({"label": current_label, "usage": current})
    points = points[-HISTORY_BARS:]
    top = max(p["usage"] for p in points)
    for p in points:
        p["height_pt"] = int(p["usage"] * BAR_PT / top) if top > 0 else 0
    return points


def _line(detail: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {key: str(detail.get(field, "") or "").strip() for key, field in LINE_FIELDS}
    line["amount_value"] = decimal_or_none(line["amount"])
    line["usage_value"] = decimal_or_none(line["usage"])
    return line


def bill_context(invoice: Invoice) -> dict[str, Any]:
    """Return the template context of ``invoice``: biller, customer, amounts, lines, history, messages."""
    header, customer, account = invoice.header or {}, invoice.customer_fields, invoice.account
    details = invoice.detail_fields
    lines = [_line(d) for d in details]
    label = invoice.invoice_date.strftime("%m/%y")
    history = next((h for h in (_usage_history(d, label) for d in details) if h), [])
    messages = [str(header.get(f)).strip() for f in MESSAGE_FIELDS if str(header.get(f, "") or "").strip()]
    if invoice.payment_expiration_message:
        messages.append(invoice.payment_expiration_message)
    extra = {key: str(header.get(field, "") or "").strip() for key, field in HEADER_FIELDS}
    current_charges = sum((ln["amount_value"] or Decimal(0) for ln in lines), Decimal(0))
    return {
        "biller": {"name": invoice.biller.name, "bid": invoice.biller.bid},
        "invoice": {
            "number": invoice.invoice_number,
            "date": invoice.invoice_date,
            "due_date": invoice.due_date,
            "format_guid": invoice.invoice_format_guid,
            **extra,
        },
        "customer": {
            "name": customer.get("CustomerName") or account.name,
            "name2": customer.get("CustomerName2") or account.name2,
            "account_number": customer.get("DisplayAccountNumber") or customer.get("AccountNumber")
            or account.display_account_number or account.account_number,
            "address1": customer.get("Address1") or account.address1,
            "address2": customer.get("Address2") or account.address2,
            "city": customer.get("City") or account.city,
            "state": customer.get("State") or account.state,
            "zip": customer.get("Zip") or account.zip,
        },
        "amounts": {
            "total_amount_due": invoice.total_amount_due,
            "balance_due": invoice.balance_due,
            "past_due": invoice.past_due if invoice.past_due is not None else decimal_or_none(extra["prior_due"]),
            "minimum_amount_due": invoice.minimum_amount_due,
            "current_charges": current_charges if lines else invoice.total_amount_due,
            "due_after_amount": decimal_or_none(extra["due_after_amount"]),
        },
        "lines": lines,
        "history": history,
        "history_average": (sum(p["usage"] for p in history) / len(history)).quantize(Decimal(1)) if history else None,
        "history_current": history[-1]["usage"] if history else None,
        "messages": messages,
        "header": header,
        "details": details,
    }


# --- templates ----------------------------------------------------------------------------------


def check_template_path(path: str) -> Path:
    """Return the file of template ``path`` (relative to templates/bills/).

    Raises ValidationError naming the path when it leaves the folder, is not .html, or is missing.
    """
    candidate = (TEMPLATES_DIR / path).resolve()
    if not candidate.is_relative_to(TEMPLATES_DIR.resolve()) or candidate.suffix != ".html":
        raise ValidationError({"path": f"{path!r}: give an .html file inside templates/bills/."})
    if not candidate.is_file():
        raise ValidationError({"path": f"{path!r}: no such file in {TEMPLATES_DIR}."})
    return candidate


def _choice(row: BillTemplate) -> TemplateChoice:
    return TemplateChoice(row.path, row.version, row.name, row.pk)


class TemplateChooser:
    """Chooses the template of each invoice of one biller (two queries, however many invoices).

    Order: the active template whose invoice format GUID is the invoice's, else the template in
    the biller's bill setup (if active), else :data:`DEFAULT_TEMPLATE`.
    """

    def __init__(self, biller_id: int) -> None:
        rows = BillTemplate.objects.filter(active=True).exclude(invoice_format_guid="").order_by("-name")
        # Reverse name order so the first template by name wins when two share a GUID.
        self.by_guid = {row.invoice_format_guid.strip().lower(): _choice(row) for row in rows}
        setup = BillerBillSetup.objects.filter(biller_id=biller_id).select_related("template").first()
        chosen = setup.template if setup is not None else None
        self.fallback = _choice(chosen) if chosen is not None and chosen.active else DEFAULT_TEMPLATE

    def __call__(self, invoice: Invoice) -> TemplateChoice:
        guid = (invoice.invoice_format_guid or "").strip().lower()
        return self.by_guid.get(guid, self.fallback) if guid else self.fallback


def template_for(invoice: Invoice) -> TemplateChoice:
    """Return the template of ``invoice`` (see :class:`TemplateChooser`)."""
    return TemplateChooser(invoice.biller_id)(invoice)


def bill_html(invoice: Invoice, choice: TemplateChoice | None = None) -> str:
    """Return the HTML of ``invoice``'s bill (Django template ``bills/<path>``)."""
    choice = choice or template_for(invoice)
    return render_to_string(f"bills/{choice.path}", bill_context(invoice))


def stylesheet_text() -> str:
    """Return the shared bill stylesheet (parsed once per renderer, not per bill)."""
    return (TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def renderer() -> Renderer:
    """Return this process's renderer (stylesheet and font configuration loaded once)."""
    from billers.bill_pdf import Renderer

    return Renderer(TEMPLATES_DIR, stylesheet_text())


# --- cache --------------------------------------------------------------------------------------


def _storage_name(invoice: Invoice, choice: TemplateChoice) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in invoice.invoice_number)
    return f"bills/{invoice.biller.bid}/rendered/{safe}-{Path(choice.path).stem}-v{choice.version}.pdf"


def write_atomically(relative: str, content: bytes) -> Path:
    """Write ``content`` to DATA_DIR/``relative`` through a temporary file; return the path."""
    target = Path(settings.DATA_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)
    return target


def cached_render(invoice: Invoice, choice: TemplateChoice) -> RenderedBill | None:
    """Return the cached render of ``invoice`` with ``choice`` if its file is intact and still current."""
    row = RenderedBill.objects.filter(
        invoice=invoice, template_path=choice.path, template_version=choice.version
    ).first()
    if row is None or row.invoice_updated_at != invoice.updated_at:
        return None
    file = Path(settings.DATA_DIR) / row.path
    return row if file.is_file() and file.stat().st_size == row.size else None


@transaction.atomic
def rendered_bill_store(*, invoice: Invoice, choice: TemplateChoice, pdf: bytes, render_ms: int) -> RenderedBill:
    """Write ``pdf`` under DATA_DIR/bills/ and record it as the cached render; return the row."""
    relative = _storage_name(invoice, choice)
    write_atomically(relative, pdf)
    row, _ = RenderedBill.objects.update_or_create(
        invoice=invoice,
        template_path=choice.path,
        template_version=choice.version,
        defaults={
            "template_id": choice.template_id,
            "invoice_updated_at": invoice.updated_at,
            "path": relative,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "size": len(pdf),
            "rendered_at": timezone.now(),
            "render_ms": render_ms,
        },
    )
    return row


def bill_render(*, invoice: Invoice, force: bool = False) -> RenderedBill:
    """Return the rendered bill of ``invoice``, rendering it only on a cache miss (or ``force``).

    Raises ``TemplateDoesNotExist`` for a template row naming a missing file, and weasyprint's errors.
    """
    choice = template_for(invoice)
    if not force and (hit := cached_render(invoice, choice)) is not None:
        return hit
    started = time.monotonic()
    pdf = renderer().pdf(bill_html(invoice, choice))
    return rendered_bill_store(
        invoice=invoice, choice=choice, pdf=pdf, render_ms=int((time.monotonic() - started) * 1000)
    )


def rendered_path(row: RenderedBill) -> Path:
    """Return the file of a cached render."""
    return Path(settings.DATA_DIR) / row.path

