"""Daily batches, the export files made from them, who downloaded them, and SFTP drops and deliveries.

A batch is one biller's business day: the payments whose ``paid_at`` falls in
``[period_start, period_end)``, ``period_end`` being the biller's batch close time on
``business_date`` in its own time zone. Export files derive their names and content from the batch
alone, so regenerating one gives the same bytes.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from billers.fields import EncryptedTextField
from billers.models import Biller

__all__ = [
    "Batch", "BatchExportStatus", "DeliveryStatus", "ExportDelivery", "ExportDownload", "ExportDrop",
    "ExportFile", "ExportKind", "ReconciliationStatus",
]


class ReconciliationStatus(models.TextChoices):
    NOT_CHECKED = "not_checked", "Not checked yet"
    AGREES = "agrees", "Agrees"
    PENDING = "pending", "Pending (in flight or pump outcome unavailable)"
    DISAGREES = "disagrees", "Disagreement"


class BatchExportStatus(models.TextChoices):
    NONE = "none", "No files for this partner"
    PENDING = "pending", "Files not generated yet"
    RUNNING = "running", "Files being generated"
    DONE = "done", "Files generated"
    FAILED = "failed", "Refused (see export error)"


class Batch(models.Model):
    """One biller's closed business day with its totals by tender and channel."""

    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="batches")
    business_date = models.DateField(help_text="Local business day the batch closes.")
    period_start = models.DateTimeField(help_text="Payments paid at or after this instant belong here.")
    period_end = models.DateTimeField(help_text="The batch close instant (exclusive); file names derive from it.")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When the batch was actually closed.")
    payment_count = models.PositiveIntegerField(default=0)
    payment_total = models.DecimalField(max_digits=14, decimal_places=2, default=0,
                                        help_text="Payments taken, convenience fees included.")
    fee_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credit_count = models.PositiveIntegerField(default=0)
    credit_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    totals = models.JSONField(default=dict, blank=True,
                              help_text='{"tender": {code: {"count", "amount"}}, "channel": {...}}')
    export_status = models.CharField(max_length=10, choices=BatchExportStatus.choices,
                                     default=BatchExportStatus.PENDING)
    export_error = models.TextField(blank=True)
    export_started_at = models.DateTimeField(null=True, blank=True, help_text="When the last export run began.")
    reconciliation_status = models.CharField(max_length=12, choices=ReconciliationStatus.choices,
                                             default=ReconciliationStatus.NOT_CHECKED, db_index=True)
    reconciliation = models.JSONField(default=dict, blank=True, help_text="The last reconciliation, as shown.")
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date", "biller__bid"]
        verbose_name_plural = "batches"
        constraints = [models.UniqueConstraint(fields=["biller", "business_date"], name="uniq_batch_day")]

    def __str__(self) -> str:
        return f"{self.biller.bid} {self.business_date.isoformat()}"


class ExportKind(models.TextChoices):
    PAYMENTS = "payments", "Payments"
    AUTOPAY_CHANGES = "autopay_changes", "AutoPay changes"
    EMAIL_CHANGES = "email_changes", "Email changes"
    PAPERLESS_CHANGES = "paperless_changes", "Paperless changes"


class ExportFile(models.Model):
    """A file generated from a batch and kept under ``DATA_DIR/exports/`` (``path`` is relative)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="files")
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="export_files")
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=500, help_text="Relative to DATA_DIR.")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.BigIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0,
                                help_text="Sum of the amounts posted (payment minus convenience fee).")
    generated_at = models.DateTimeField()
    note = models.TextField(blank=True, help_text="What changed when the file was regenerated.")

    class Meta:
        ordering = ["-batch__business_date", "file_name"]
        constraints = [models.UniqueConstraint(fields=["batch", "file_name"], name="uniq_export_file")]

    def __str__(self) -> str:
        return self.file_name


class ExportDownload(models.Model):
    """One download of an export file from admin."""

    file = models.ForeignKey(ExportFile, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    downloaded_at = models.DateTimeField(db_index=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"{self.file} by {self.username}"


class ExportDrop(models.Model):
    """A biller's SFTP drop: every export file of the biller is also uploaded there."""

    biller = models.OneToOneField(Biller, on_delete=models.CASCADE, related_name="export_drop")
    enabled = models.BooleanField(default=True)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=150)
    password = EncryptedTextField(blank=True, help_text="Stored encrypted; never shown.")
    private_key = EncryptedTextField(
        blank=True, help_text="An unencrypted OpenSSH or PEM private key, used instead of the password. "
                              "Stored encrypted; never shown.")
    host_key_fingerprint = models.CharField(
        max_length=100, help_text="The server's host key as `ssh-keygen -lf` prints it, SHA256:base64. "
                                  "A server offering another key is refused.")
    remote_dir = models.CharField(max_length=255, default=".", help_text="Folder on the server.")
    timeout = models.PositiveSmallIntegerField(default=30, help_text="Seconds per network operation.")

    class Meta:
        ordering = ["biller__bid"]
        verbose_name = "export SFTP drop"

    def __str__(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.remote_dir}"

    def clean(self) -> None:
        """Check the fingerprint and key the way the SFTP transport will use them."""
        from django.core.exceptions import ValidationError

        from exchanges.transports.sftp import load_private_key, normalize_fingerprint

        errors = {}
        try:
            self.host_key_fingerprint = normalize_fingerprint(self.host_key_fingerprint or "")
        except ValueError as exc:
            errors["host_key_fingerprint"] = str(exc)
        if self.private_key:
            try:
                load_private_key(self.private_key)
            except ValueError as exc:
                errors["private_key"] = str(exc)
        elif not self.password:
            errors["password"] = "SFTP needs a password or a private key."
        if ".." in self.remote_dir.replace("\\", "/").split("/"):
            errors["remote_dir"] = "No '..' in the remote folder."
        if errors:
            raise ValidationError(errors)


class DeliveryStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Uploaded"
    FAILED = "failed", "Failed"


class ExportDelivery(models.Model):
    """One attempt to upload an export file to its biller's SFTP drop."""

    file = models.ForeignKey(ExportFile, on_delete=models.CASCADE, related_name="deliveries")
    drop = models.ForeignKey(ExportDrop, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    remote_path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField("SHA-256 sent", max_length=64, blank=True)
    error = models.TextField(blank=True)
    permanent = models.BooleanField(default=False, help_text="Retrying unchanged will fail again (key, "
                                                             "credentials, folder): not retried automatically.")
    attempted_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at"]
        verbose_name_plural = "export deliveries"

    def __str__(self) -> str:
        return f"{self.file} -> {self.remote_path or self.drop}: {self.status}"
