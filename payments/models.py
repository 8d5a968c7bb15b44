"""Payments and what follows them: voids, ACH rejects, scheduled payments, enrollments, change logs."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from billers.models import Account, Biller, Invoice


class Tender(models.TextChoices):
    CARD = "card", "Card"
    ACH = "ach", "ACH"
    ECHECK = "echeck", "eCheck"
    CASH = "cash", "Cash"


class CardBrand(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    DISCOVER = "discover", "Discover"
    AMEX = "amex", "American Express"
    OTHER = "other", "Other"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    IVR = "ivr", "IVR"
    KIOSK = "kiosk", "Kiosk"
    POS = "pos", "POS"
    POSCONNECT = "posconnect", "POSConnect"
    OBD = "obd", "Online Bank Direct"
    CSR = "csr", "CSR"
    CLOUDPAY = "cloudpay", "CloudPay (office/phone)"
    CLOUDSTORE = "cloudstore", "CloudStore"
    AUTOPAY = "autopay", "AutoPay"
    SCHEDULED = "scheduled", "Scheduled"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    CREDIT = "credit", "Credit"


class PaymentStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    VOIDED = "voided", "Voided"
    REJECTED = "rejected", "ACH rejected"


class Payment(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments")
    invoice_number = models.CharField(max_length=60, blank=True)
    payment_guid = models.UUIDField("payment GUID", default=uuid.uuid4, unique=True)
    kind = models.CharField(max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Total charged, fee included.")
    convenience_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    tender = models.CharField(max_length=10, choices=Tender.choices)
    card_brand = models.CharField(max_length=12, choices=CardBrand.choices, blank=True)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WEB)
    source_id = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Payment source id, keyed in settings 64/65."
    )
    approval_code = models.CharField(max_length=100, blank=True)
    kiosk_id = models.CharField(max_length=60, blank=True)
    check_number = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.APPROVED)
    paid_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_at"]
        indexes = [models.Index(fields=["biller", "paid_at"])]

    def __str__(self) -> str:
        return f"{self.payment_guid} {self.amount}"

    @property
    def net_amount(self):
        """The amount without the convenience fee: what the partner posts to the account."""
        return self.amount - self.convenience_fee


class Void(models.Model):
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="void")
    reason = models.CharField(max_length=200)
    voided_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    def __str__(self) -> str:
        return f"Void of {self.payment.payment_guid}"


class AchReject(models.Model):
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="ach_reject")
    return_code = models.CharField(max_length=4, help_text="NACHA return code (R01...); C-codes are changes.")
    reason = models.CharField(max_length=200, blank=True)
    rejected_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.return_code} {self.payment.payment_guid}"

    @property
    def is_c_code(self) -> bool:
        return self.return_code.upper().startswith("C")


class ScheduledPaymentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    PAID = "paid", "Paid"


class ScheduledPayment(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="scheduled_payments")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="scheduled_payments")
    invoice_number = models.CharField(max_length=60, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    scheduled_for = models.DateField()
    tender = models.CharField(max_length=10, choices=Tender.choices, default=Tender.ACH)
    status = models.CharField(
        max_length=10, choices=ScheduledPaymentStatus.choices, default=ScheduledPaymentStatus.SCHEDULED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_for"]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} on {self.scheduled_for}"


class Enrollment(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    active = models.BooleanField(default=True)
    enrolled_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-enrolled_at"]

    def __str__(self) -> str:
        return f"{self.account} ({'on' if self.active else 'off'})"


class AutopayEnrollment(Enrollment):
    tender = models.CharField(max_length=10, choices=Tender.choices, default=Tender.ACH)

    class Meta(Enrollment.Meta):
        constraints = [models.UniqueConstraint(fields=["biller", "account"], name="uniq_autopay")]


class PaperlessEnrollment(Enrollment):
    class Meta(Enrollment.Meta):
        constraints = [models.UniqueConstraint(fields=["biller", "account"], name="uniq_paperless")]


class ChangeKind(models.TextChoices):
    AUTOPAY = "autopay", "AutoPay"
    PAPERLESS = "paperless", "Paperless"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class ChangeLog(models.Model):
    """A payer's enrollment or contact change, written in the same transaction as the change."""

    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="change_logs")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="change_logs")
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    old_value = models.CharField(max_length=254, blank=True)
    new_value = models.CharField(max_length=254, blank=True)
    invoice_type = models.CharField(max_length=60, blank=True, help_text="InvoiceTypeDesc, for change log files.")
    actor = models.CharField(max_length=150, blank=True, help_text="User, API vendor or system that changed it.")
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account}: {self.old_value!r} -> {self.new_value!r}"


# Models of each area live in their own module; importing them here registers them with the app.
from payments.outbox_models import *  # noqa: E402,F401,F403
from payments.batch_models import *  # noqa: E402,F401,F403
