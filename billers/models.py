"""Billers, their settings and customizations, payer accounts, invoices, and the partner catalogue."""
from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from billers.fields import EncryptedTextField
from partners import base as pb
from partners.bif import CR_FIELDS, ID_FIELDS, named
from partners.bif_fields import ROW_TYPE_NAMES

# ---- Catalogue -------------------------------------------------------------------------------


class Partner(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100, unique=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerFlow(models.Model):
    """How one data flow is exchanged with a partner (the seed's "Data Structure" table)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="flows")
    flow = models.CharField(max_length=30, choices=pb.FLOWS)
    position = models.PositiveSmallIntegerField(default=0)
    method = models.CharField(max_length=200)
    transmission = models.CharField(max_length=200, blank=True)
    supported = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["partner__name", "position"]
        constraints = [models.UniqueConstraint(fields=["partner", "flow"], name="uniq_partner_flow")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.get_flow_display()}"


class PartnerSupport(models.Model):
    """A product, feature or device and the partner's support level for it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="supports")
    category = models.CharField(max_length=10, choices=pb.CATEGORIES)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    level = models.CharField(max_length=20, choices=pb.SUPPORT_LEVELS)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["partner__name", "category", "position"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "category", "name"], name="uniq_partner_support")
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.name} ({self.get_level_display()})"

    @property
    def usable(self) -> bool:
        return self.level in pb.USABLE_LEVELS


class SettingKind(models.TextChoices):
    TEXT = "text", "Text"
    INT = "int", "Integer"
    BOOL = "bool", "Flag (0/1)"
    URL = "url", "URL"
    SECRET = "secret", "Secret"
    JSON = "json", "JSON"
    CODE_LIST = "code_list", "Code list (sourceId(code)|...)"


class SettingDefinition(models.Model):
    """An advanced setting number and what its value means."""

    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=SettingKind.choices)
    unique_per_biller = models.BooleanField(default=True)
    help_text = models.TextField(blank=True)
    partners = models.ManyToManyField(Partner, related_name="setting_definitions", blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_secret(self) -> bool:
        return self.kind == SettingKind.SECRET


class BifCustomizationDefinition(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BifCustomizationNote(models.Model):
    """The seed's note for a BIF customization under one partner (Required, In BIF, N/A ...)."""

    definition = models.ForeignKey(BifCustomizationDefinition, on_delete=models.CASCADE, related_name="notes")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="bif_customization_notes")
    note = models.CharField(max_length=300)

    class Meta:
        ordering = ["definition__name", "partner__name"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "partner"], name="uniq_bif_customization_note")
        ]

    def __str__(self) -> str:
        return f"{self.definition} / {self.partner}: {self.note}"


class BifField(models.Model):
    file_spec_id = models.PositiveIntegerField(db_index=True)
    name = models.CharField(max_length=60)
    row_type = models.CharField(max_length=2, choices=list(ROW_TYPE_NAMES.items()))
    position = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["row_type", "file_spec_id", "position"]
        constraints = [models.UniqueConstraint(fields=["row_type", "name"], name="uniq_bif_field")]

    def __str__(self) -> str:
        return f"{self.file_spec_id} {self.name} ({self.row_type})"


# ---- Billers ---------------------------------------------------------------------------------


class BillerStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class RecordErrorPolicy(models.TextChoices):
    REJECT_FILE = "reject_file", "Reject the whole file"
    QUARANTINE = "quarantine", "Quarantine records (load the valid invoices)"


class Biller(models.Model):
    bid = models.PositiveIntegerField("BID", unique=True)
    name = models.CharField(max_length=200)
    guid = models.UUIDField("GUID", default=uuid.uuid4, unique=True)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="billers")
    time_zone = models.CharField(max_length=60, default="America/New_York")
    batch_close_time = models.TimeField(default=time(23, 59), help_text="Local time in the biller's zone.")
    status = models.CharField(max_length=12, choices=BillerStatus.choices, default=BillerStatus.ONBOARDING)
    products = models.JSONField(default=list, blank=True, help_text="Products enabled for this biller.")
    features = models.JSONField(default=list, blank=True, help_text="Features enabled for this biller.")
    record_error_policy = models.CharField(
        max_length=12, choices=RecordErrorPolicy.choices, default=RecordErrorPolicy.REJECT_FILE
    )
    post_scheduled_payments = models.BooleanField(
        default=False, help_text="Daffron: post scheduled payments new/cancel/update as account comments."
    )
    group_autopay_by_custom10 = models.BooleanField(
        default=False, help_text="Daffron: invoices sharing a Custom10 value in one autopay run make one payment."
    )
    pump_ach_rejects = models.BooleanField(
        default=False, help_text="Cayenta: the partner has allowed ACH reject posting for this biller."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bid"]

    def __str__(self) -> str:
        return f"{self.bid} {self.name}"


class BillerStaffScope(models.Model):
    """Members of ``group`` are staff of ``biller`` and see only its records in admin."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="biller_scope")
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="staff_scopes")

    def __str__(self) -> str:
        return f"{self.group} -> {self.biller}"


class BillerSetting(models.Model):
    """One advanced setting value; secrets live only in ``secret_value`` (encrypted at rest)."""

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="settings")
    definition = models.ForeignKey(SettingDefinition, on_delete=models.PROTECT, related_name="values")
    value = models.TextField(blank=True)
    secret_value = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "definition__number"]
        constraints = [models.UniqueConstraint(fields=["biller", "definition"], name="uniq_biller_setting")]

    def __str__(self) -> str:
        return f"{self.biller.bid} #{self.definition.number}"

    @property
    def plain_value(self) -> str:
        return self.secret_value if self.definition.is_secret else self.value

    def clean(self) -> None:
        """Validate the value by the setting's kind (admin forms and CSV/XLSX imports)."""
        from django.core.exceptions import ValidationError

        from billers.validation import clean_setting_value

        if self.definition_id is None:
            return
        try:
            clean = clean_setting_value(self.definition, self.plain_value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if self.definition.is_secret:
            self.value, self.secret_value = "", clean
        else:
            self.value, self.secret_value = clean, ""


class BillerCustomization(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="customizations")
    definition = models.ForeignKey(BifCustomizationDefinition, on_delete=models.PROTECT, related_name="values")
    value = models.CharField(max_length=200, blank=True, help_text="Value applied to every invoice loaded.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["biller__bid", "definition__name"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "definition"], name="uniq_biller_customization")
        ]

    def __str__(self) -> str:
        return f"{self.biller.bid} {self.definition}"


# ---- Payer accounts and invoices ----------------------------------------------------------------


class Account(models.Model):
    # No index of its own: uniq_account (biller, account_number) serves lookups by biller.
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="accounts", db_index=False)
    account_number = models.CharField(max_length=60)
    display_account_number = models.CharField(max_length=60, blank=True)
    customer_number = models.CharField(max_length=60, blank=True)
    location_number = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=200, blank=True)
    name2 = models.CharField(max_length=200, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=30, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=254, blank=True)
    balance_due = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    past_due = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    block_cc = models.BooleanField("block CC", default=False)
    block_ach = models.BooleanField("block ACH", default=False)
    balance_source = models.CharField(max_length=20, blank=True, help_text="rtdr, invoice file, balance file...")
    balance_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "account_number"]
        constraints = [models.UniqueConstraint(fields=["biller", "account_number"], name="uniq_account")]
        # Accounts are linked by customer number within a biller (settings 75/76); one index, not two (a
        # db_index=True CharField gets a second, LIKE-pattern index on PostgreSQL that nothing uses).
        indexes = [models.Index(fields=["biller", "customer_number"], name="account_customer_number")]

    def __str__(self) -> str:
        return f"{self.account_number} {self.name}".strip()


class Invoice(models.Model):
    """An invoice as the BIF carries it: header fields, its customer record and detail rows."""

    # No index of its own: uniq_invoice (biller, invoice_number) serves lookups by biller.
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="invoices", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoices")
    invoice_number = models.CharField(max_length=60)
    record_type = models.CharField(max_length=1, default="N", help_text="N = new, R = replacement")
    invoice_format_guid = models.CharField(max_length=40, blank=True)
    invoice_date = models.DateField()
    due_date = models.DateField()
    total_amount_due = models.DecimalField(max_digits=14, decimal_places=2)
    balance_due = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    past_due = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    minimum_amount_due = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    invoice_type_id = models.PositiveIntegerField(null=True, blank=True)
    payment_expiration_date = models.DateField(null=True, blank=True)
    payment_expiration_message = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    header = models.JSONField(default=dict, blank=True, help_text="Every IH field, Custom1..60 included.")
    customer = models.JSONField(default=list, blank=True,
                                help_text="The CR record as delivered: its values in CR column order "
                                          "(customer_fields names them).")
    details = models.JSONField(default=list, blank=True,
                               help_text="ID rows, each the values of CustomField1..84 in order "
                                         "(detail_fields names them).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "-invoice_date", "invoice_number"]
        constraints = [models.UniqueConstraint(fields=["biller", "invoice_number"], name="uniq_invoice")]

    def __str__(self) -> str:
        return self.invoice_number

    def custom(self, n: int) -> str:
        return str(self.header.get(f"Custom{n}", ""))

    @property
    def customer_fields(self) -> dict[str, str]:
        """The customer record's non-empty values by CR field name."""
        return named(self.customer or (), CR_FIELDS)

    @property
    def detail_fields(self) -> list[dict[str, str]]:
        """Each detail row's non-empty values by field name (CustomField1..84)."""
        return [named(row, ID_FIELDS) for row in self.details or ()]



# Models of each area live in their own module; importing them here registers them with the app.
from billers.rtdr_models import *  # noqa: E402,F401,F403
from billers.api_models import *  # noqa: E402,F401,F403
from billers.bill_models import *  # noqa: E402,F401,F403
