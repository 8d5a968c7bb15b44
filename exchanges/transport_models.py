"""Per-biller connections that deliver partner files: SFTP, FTPS or a local folder, polled by django-q2."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from billers.fields import EncryptedTextField
from billers.models import Biller

__all__ = ["Connection", "ConnectionFileKind", "ConnectionKind"]


class ConnectionKind(models.TextChoices):
    SFTP = "sftp", "SFTP"
    FTPS = "ftps", "FTPS (explicit TLS)"
    FOLDER = "folder", "Local folder"


class ConnectionFileKind(models.TextChoices):
    """The exchange kind a connection's files are imported as (values match ExchangeKind)."""

    INVOICES = "invoices", "Invoices"
    REPLACEMENTS = "replacements", "Replacement invoices"
    BALANCES = "balances", "Balances"
    EXPIRATIONS = "expirations", "Payment expirations"


class Connection(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="transport_connections")
    name = models.CharField(max_length=100, blank=True, help_text="A label, e.g. 'Daffron invoices'.")
    kind = models.CharField(max_length=10, choices=ConnectionKind.choices, default=ConnectionKind.SFTP)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: 22 for SFTP, 21 for FTPS.")
    username = models.CharField(max_length=150, blank=True)
    password = EncryptedTextField(blank=True, help_text="Stored encrypted; never shown.")
    private_key = EncryptedTextField(
        blank=True, help_text="SFTP: an unencrypted OpenSSH or PEM private key, used instead of the password. "
                              "Stored encrypted; never shown.")
    host_key_fingerprint = models.CharField(
        max_length=100, blank=True,
        help_text="SFTP (required): the server's host key as `ssh-keygen -lf` prints it, SHA256:base64. "
                  "A server offering another key is refused.")
    certificate_fingerprint = models.CharField(
        "TLS certificate fingerprint", max_length=120, blank=True,
        help_text="FTPS: SHA-256 of the server certificate (pins a self-signed certificate). Blank: the "
                  "certificate must be valid for the host name under the system's authorities.")
    inbox_folder = models.CharField(max_length=500, help_text="Where the partner drops files.")
    archive_folder = models.CharField(max_length=500, help_text="Imported files are moved here.")
    error_folder = models.CharField(max_length=500, help_text="Rejected files are moved here.")
    filename_pattern = models.CharField(
        max_length=200, blank=True,
        help_text="Glob, without regard to case; {bid} stands for the BID. Blank: the partner's default.")
    file_kind = models.CharField(max_length=20, choices=ConnectionFileKind.choices,
                                 default=ConnectionFileKind.INVOICES)
    poll_interval_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)])
    settle_seconds = models.PositiveIntegerField(
        default=60, help_text="Files modified more recently than this are left for the next poll "
                              "(the partner may still be writing them).")
    enabled = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_result = models.CharField(max_length=300, blank=True)
    poll_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a poll runs (a lease: one poll per connection at a time).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(poll_interval_minutes__gte=1),
                                   name="transport_connection_interval_positive"),
        ]

    def __str__(self) -> str:
        label = self.name or f"{self.get_kind_display()} {self.host or self.inbox_folder}"
        return f"{self.biller.bid} {label}".strip() if self.biller_id else label

    @property
    def effective_pattern(self) -> str:
        """The file name glob with {bid} filled in (the partner's default when none is set)."""
        from exchanges.transports import default_pattern, pattern_for

        pattern = self.filename_pattern or default_pattern(self.biller.partner.code, self.file_kind)
        return pattern_for(pattern, self.biller.bid)

    def clean(self) -> None:
        from exchanges.transports.checks import connection_errors

        errors = connection_errors(self)
        if errors:
            raise ValidationError(errors)
