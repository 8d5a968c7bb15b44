"""Invoice intake models: quarantined records, per-biller column mappings, the upload proxy."""
from __future__ import annotations

from django.db import models

from billers.models import Biller
from exchanges.models import Exchange

__all__ = ["InvoiceColumnMapping", "InvoiceUpload", "QuarantineStatus", "QuarantinedRecord"]


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "Open"
    REIMPORTED = "reimported", "Re-imported"
    DISCARDED = "discarded", "Discarded"


class QuarantinedRecord(models.Model):
    """An invalid record set aside by the "quarantine records" policy, with its raw lines and errors.

    ``raw`` holds the record as the partner sent it (one or more lines, partner format); an IM
    corrects it in admin and re-imports it, which loads it through a new exchange.
    """

    exchange = models.ForeignKey("exchanges.Exchange", on_delete=models.CASCADE, related_name="quarantined")
    line = models.PositiveIntegerField(help_text="Line of the file where the record starts.")
    invoice_number = models.CharField(max_length=60, blank=True, db_index=True)
    account_number = models.CharField(max_length=60, blank=True)
    raw = models.TextField(help_text="The record's lines as delivered; correct them here, then re-import.")
    errors = models.JSONField(default=list, blank=True, help_text="[{line, field, value, message}]")
    status = models.CharField(max_length=10, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN)
    reimport_exchange = models.ForeignKey(
        "exchanges.Exchange", on_delete=models.SET_NULL, null=True, blank=True, related_name="reimported_records"
    )
    resolved_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exchange_id", "line"]
        indexes = [models.Index(fields=["status", "exchange"])]

    def __str__(self) -> str:
        return f"exchange #{self.exchange_id} line {self.line} {self.invoice_number}".strip()


class InvoiceColumnMapping(models.Model):
    """One column of a biller's delimited invoice file (AUS TXT): column -> BIF field.

    A biller without rows uses the partner's shipped table (``partners.aus.invoices.DEFAULT_MAPPING``).
    """

    ROW_TYPES = [("IH", "Invoice Header"), ("CR", "Customer Record"), ("ID", "Invoice Detail")]

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="invoice_columns")
    column = models.PositiveSmallIntegerField(help_text="1-based column of the file.")
    bif_field = models.CharField(max_length=60, blank=True, help_text="Empty: the column is present, not loaded.")
    row_type = models.CharField(max_length=2, choices=ROW_TYPES, default="IH")

    class Meta:
        ordering = ["biller__bid", "column"]
        constraints = [models.UniqueConstraint(fields=["biller", "column"], name="uniq_invoice_column")]

    def __str__(self) -> str:
        return f"{self.biller_id} column {self.column} -> {self.row_type} {self.bif_field or '(not loaded)'}"


class InvoiceUpload(Exchange):
    """The exchanges an IM uploaded in admin ("Upload invoice file"); a proxy of Exchange."""

    class Meta:
        proxy = True
        verbose_name = "invoice file upload"
