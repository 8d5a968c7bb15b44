"""One record per run of an exchange with a partner: imports, RTDR calls, pump batches, exports."""
from __future__ import annotations

from django.db import models

from billers.models import Biller, Partner


class ExchangeKind(models.TextChoices):
    INVOICES = "invoices", "Invoices"
    REPLACEMENTS = "replacements", "Replacement invoices"
    BALANCES = "balances", "Balances"
    EXPIRATIONS = "expirations", "Payment expirations"
    RTDR = "rtdr", "RTDR call"
    PUMP = "pump", "Data pump"
    EXPORT = "export", "Export file"


class ExchangeSource(models.TextChoices):
    SFTP = "sftp", "SFTP"
    FTPS = "ftps", "FTPS"
    FOLDER = "folder", "Local folder"
    UPLOAD = "upload", "Admin upload"
    API = "api", "API"
    COMMAND = "command", "Command line"
    SOAP = "soap", "SOAP"


class ExchangeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    DUPLICATE = "duplicate", "Duplicate"


class Exchange(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="exchanges")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="exchanges")
    kind = models.CharField(max_length=20, choices=ExchangeKind.choices)
    source = models.CharField(max_length=10, choices=ExchangeSource.choices)
    status = models.CharField(max_length=10, choices=ExchangeStatus.choices, default=ExchangeStatus.PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    checksum = models.CharField("SHA-256", max_length=64, blank=True, db_index=True)
    raw_path = models.CharField(max_length=500, blank=True, help_text="Raw payload under DATA_DIR.")
    raw_size = models.BigIntegerField(null=True, blank=True)
    raw_pruned_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[{line, field, value, message}]")
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["biller", "kind", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.file_name}".strip()


# Models of each area live in their own module; importing them here registers them with the app.
from exchanges.intake_models import *  # noqa: E402,F401,F403
from exchanges.transport_models import *  # noqa: E402,F401,F403
from exchanges.dashboard_models import *  # noqa: E402,F401,F403
