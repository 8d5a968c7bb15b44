"""The outbox: one event per payment or change to deliver to the biller's partner, and its attempts."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from billers.models import Biller
from payments.events import EVENT_TYPES

__all__ = ["AttemptOutcome", "DeliveryAttempt", "ManualAction", "OutboxEvent", "OutboxStatus"]


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Retrying"
    UNKNOWN = "unknown", "Unknown outcome"
    DEAD = "dead", "Dead"
    SKIPPED = "skipped", "Skipped"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    FOR_EXPORT = "for_export", "For export (file)"
    FOR_DOWNLOAD = "for_download", "For download (partner pulls)"


class ManualAction(models.TextChoices):
    RESEND = "resend", "Resend"
    SKIP = "skip", "Skip"
    MARK_DELIVERED = "mark_delivered", "Mark delivered"


class OutboxEvent(models.Model):
    """A payment or change waiting for (or done with) delivery to the biller's partner.

    Events of one biller and endpoint go out in creation (id) order. ``payload`` is the plain-data
    snapshot taken in the transaction that recorded the change: what the partner receives.
    """

    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="outbox_events")
    event_type = models.CharField(max_length=30, choices=EVENT_TYPES)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    obj = GenericForeignKey("content_type", "object_id")
    account_number = models.CharField(max_length=60, blank=True, db_index=True)
    endpoint = models.CharField(
        max_length=20, blank=True, help_text="Partner endpoint (payments, paperless, autopay): one ordered queue."
    )
    idempotency_key = models.CharField(
        max_length=64, help_text="The payment GUID where there is one; travels to the partner where it can."
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=15, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    status_reason = models.CharField(max_length=300, blank=True, help_text="Why it is not sent, or skipped.")
    auto_resend = models.BooleanField(
        default=False, help_text="An unknown outcome may be resent: the partner detects duplicates by our key."
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True, help_text="When the current attempt went out.")
    last_error = models.TextField(blank=True)
    partner_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    manual_action = models.CharField(max_length=15, choices=ManualAction.choices, blank=True)
    manual_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    manual_at = models.DateTimeField(null=True, blank=True)
    manual_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_type", "idempotency_key"], name="uniq_outbox_event_key"),
        ]
        indexes = [
            models.Index(fields=["biller", "endpoint", "status"], name="outbox_queue_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_event_type_display()} {self.account_number} ({self.get_status_display()})"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Temporary failure"
    DEAD = "dead", "Permanent failure / gave up"
    UNKNOWN = "unknown", "Unknown outcome"
    LOST = "lost", "Worker lost mid-delivery"


class DeliveryAttempt(models.Model):
    """One try at delivering an event: what was sent and answered (secrets masked), how it ended."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    operation = models.CharField(max_length=80, blank=True)
    endpoint_url = models.CharField(max_length=300, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_xml = models.TextField("request envelope", blank=True)
    response_xml = models.TextField("response envelope", blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["event", "number"], name="outbox_attempt_idx")]

    def __str__(self) -> str:
        return f"#{self.event_id} attempt {self.number}: {self.get_outcome_display()}"
