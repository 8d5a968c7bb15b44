"""Models of the bill images area (imported by the app's models module).

How each biller's bills are served (``BillerBillSetup``), the HTML templates bills are rendered from
(``BillTemplate``), PDFs delivered beside invoice files (``ExtractedBill``), the render cache
(``RenderedBill``) and the long jobs of this area (``BillJob``). Logic lives in ``billers/bills.py``,
``billers/bill_render.py`` and ``billers/bill_extract.py``.
"""
from __future__ import annotations

from django.db import models

from billers.models import Biller, Invoice


class BillMode(models.TextChoices):
    LINK = "link", "PDF linking (partner's PDF service)"
    EXTRACTION = "extraction", "PDF extraction (PDFs delivered beside the invoice file)"
    TEMPLATE = "template", "Template (rendered from the invoice data)"


class LinkDelivery(models.TextChoices):
    REDIRECT = "redirect", "Redirect the user to the partner's URL"
    PROXY = "proxy", "Fetch the PDF and stream it to the user"


class BillTemplate(models.Model):
    """An HTML bill template under ``templates/bills/``; bump ``version`` to re-render cached bills."""

    name = models.CharField(max_length=100, unique=True)
    invoice_format_guid = models.CharField(
        "invoice format GUID",
        max_length=40,
        blank=True,
        db_index=True,
        help_text="Invoices carrying this InvoiceFormatGuid use this template (blank: chosen per biller only).",
    )
    path = models.CharField(max_length=200, help_text="Template file under templates/bills/, e.g. utility_default.html.")
    version = models.PositiveIntegerField(default=1, help_text="Raise it after changing the template file.")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def clean(self) -> None:
        from billers.bill_render import check_template_path

        check_template_path(self.path)


class BillerBillSetup(models.Model):
    """How one biller's bills are served. Without a row, the partner's first mode applies."""

    biller = models.OneToOneField(Biller, on_delete=models.CASCADE, related_name="bill_setup")
    mode = models.CharField(max_length=12, choices=BillMode.choices)
    link_delivery = models.CharField(
        max_length=10,
        choices=LinkDelivery.choices,
        default=LinkDelivery.REDIRECT,
        help_text="For partners whose PDF link is a URL (Daffron): redirect the user, or proxy the PDF.",
    )
    service_url = models.URLField(
        "PDF service URL",
        blank=True,
        help_text="AUS/Cayenta PDF web service endpoint; blank = the RTDR endpoint (setting 8).",
    )
    template = models.ForeignKey(
        BillTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="billers",
        help_text="Template mode: used when no template matches the invoice's format GUID.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid"]
        verbose_name = "biller bill setup"

    def __str__(self) -> str:
        return f"{self.biller.bid}: {self.get_mode_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from billers.bills import partner_modes

        if self.biller_id is None or not self.mode:
            return
        allowed = partner_modes(self.biller.partner.code)
        if self.mode not in allowed:
            names = ", ".join(str(BillMode(m).label) for m in allowed) or "none"
            raise ValidationError(
                {"mode": f"{self.biller.partner.name} supports: {names} (the partner's Bill Images row)."}
            )


class ExtractedBill(models.Model):
    """A PDF delivered beside an invoice file, stored under DATA_DIR/bills/ and matched by invoice number."""

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="extracted_bills")
    invoice_number = models.CharField(max_length=60)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="extracted_bills"
    )
    path = models.CharField(max_length=500, help_text="Relative to DATA_DIR.")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.BigIntegerField()
    source = models.CharField(max_length=500, help_text="Delivery (zip or folder) and member name.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "invoice_number"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "invoice_number"], name="uniq_extracted_bill")
        ]

    def __str__(self) -> str:
        return f"{self.biller.bid} {self.invoice_number}"


class RenderedBill(models.Model):
    """A bill rendered from a template: cached by invoice, template file and template version."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="rendered_bills")
    template = models.ForeignKey(
        BillTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="rendered_bills"
    )
    template_path = models.CharField(max_length=200)
    template_version = models.PositiveIntegerField()
    invoice_updated_at = models.DateTimeField(help_text="The invoice's updated_at when rendered (stale if it changed).")
    path = models.CharField(max_length=500, help_text="Relative to DATA_DIR.")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.BigIntegerField()
    rendered_at = models.DateTimeField()
    render_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-rendered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "template_path", "template_version"], name="uniq_rendered_bill"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} ({self.template_path} v{self.template_version})"


class BillJobKind(models.TextChoices):
    EXTRACT = "extract", "Extract delivered PDFs"
    RENDER = "render", "Render bills"


class BillJobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class BillJob(models.Model):
    """One run of a long bill job (an extraction or a render batch): progress, counts and outcome."""

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="bill_jobs")
    kind = models.CharField(max_length=10, choices=BillJobKind.choices)
    status = models.CharField(max_length=10, choices=BillJobStatus.choices, default=BillJobStatus.RUNNING)
    source = models.CharField(max_length=500, blank=True, help_text="Zip, folder or output directory.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[{item, message}]")
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["biller", "kind", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.biller.bid}"


class InvoiceBill(Invoice):
    """Invoices as seen from bill images: admin lists them with a "view bill" link."""

    class Meta:
        proxy = True
        verbose_name = "invoice bill"


__all__ = [
    "BillJob",
    "BillJobKind",
    "BillJobStatus",
    "BillMode",
    "BillTemplate",
    "BillerBillSetup",
    "ExtractedBill",
    "InvoiceBill",
    "LinkDelivery",
    "RenderedBill",
]
