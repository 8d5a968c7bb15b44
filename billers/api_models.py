"""Models of the REST API area: vendor keys, the call log, idempotency, payer users and download acks.

Imported by ``billers.models``. Keys are stored only as a SHA-256 hash of a 32-byte random secret; the
call log holds route patterns (``/api/v1/billers/{bid}/accounts/{account_number}``), never account
numbers, bodies or keys.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class ApiScope(models.TextChoices):
    IVR = "ivr", "IVR"
    KIOSK = "kiosk", "Kiosk"
    SSO = "sso", "SSO portal"
    INHANCE = "inhance", "Harris inHance web services"


def validate_scopes(value: str) -> None:
    """Raise ValidationError unless ``value`` is a comma-separated list of known scopes."""
    known = set(ApiScope.values)
    names = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in names if s not in known]
    if unknown or not names:
        raise ValidationError(
            f"scopes: expected a comma-separated list of {', '.join(ApiScope.values)}; got {value!r}."
        )


def validate_rate(value: str) -> None:
    """Raise ValidationError unless ``value`` is blank or a DRF rate such as ``600/min``."""
    if not value:
        return
    number, sep, period = value.partition("/")
    if not sep or not number.isdigit() or not period or period[0] not in "smhd":
        raise ValidationError(f"throttle rate: expected NUMBER/s|min|hour|day, got {value!r}.")


class ApiKey(models.Model):
    """A vendor's key: scoped to billers and API areas, revocable, optionally expiring."""

    vendor = models.CharField(max_length=100, db_index=True)
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The key's first characters, to recognise it."
    )
    key_hash = models.CharField("SHA-256 of the key", max_length=64, unique=True, editable=False)
    billers = models.ManyToManyField("billers.Biller", related_name="api_keys")
    scopes = models.CharField(
        max_length=60, validators=[validate_scopes], help_text="Comma-separated: ivr, kiosk, sso, inhance."
    )
    throttle_rate = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_rate],
        help_text="Requests allowed per period for this key (e.g. 100/s); blank = API_KEY_THROTTLE_RATE.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["vendor", "-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.vendor} ({self.prefix}…)"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.scopes.split(",") if s.strip())

    @property
    def state(self) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class ApiCallLog(models.Model):
    """One API call: who, which biller, which route pattern, outcome and latency. No data, no secrets."""

    key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")
    biller = models.ForeignKey(
        "billers.Biller",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="api_calls",
        help_text="Set when the key may use the biller.",
    )
    bid = models.PositiveIntegerField(
        "BID", null=True, blank=True, help_text="The BID in the path, as asked."
    )
    method = models.CharField(max_length=8)
    path = models.CharField("route pattern", max_length=200)
    status = models.PositiveSmallIntegerField(db_index=True)
    latency_ms = models.DecimalField(max_digits=9, decimal_places=2)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "API call"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class IdempotencyRecord(models.Model):
    """The first successful answer to a request sent with an ``Idempotency-Key`` header."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    biller = models.ForeignKey("billers.Biller", on_delete=models.CASCADE, related_name="idempotency_records")
    idempotency_key = models.CharField(max_length=255)
    request_hash = models.CharField("SHA-256 of method, path and body", max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["key", "idempotency_key"], name="uniq_api_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} -> {self.response_status}"


class PayerUser(models.Model):
    """A payer registered through an SSO or partner portal (remote registration)."""

    biller = models.ForeignKey("billers.Biller", on_delete=models.CASCADE, related_name="payer_users")
    username = models.CharField(max_length=150)
    email = models.EmailField(max_length=254)
    password = models.CharField(max_length=128, help_text="django.contrib.auth hash; unusable when SSO-only.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "username"]
        constraints = [models.UniqueConstraint(fields=["biller", "username"], name="uniq_payer_username")]

    def __str__(self) -> str:
        return self.username


class LinkRole(models.TextChoices):
    OWNER = "owner", "Owner"
    CO_OWNER = "co-owner", "Co-owner"


class AccountLink(models.Model):
    """A payer user's access to an account."""

    user = models.ForeignKey(PayerUser, on_delete=models.CASCADE, related_name="links")
    account = models.ForeignKey("billers.Account", on_delete=models.CASCADE, related_name="payer_links")
    role = models.CharField(max_length=10, choices=LinkRole.choices, default=LinkRole.OWNER)
    rule = models.CharField(
        max_length=20,
        blank=True,
        help_text="requested, or the linking setting that added it (customer_number, email).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username", "account__account_number"]
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="uniq_account_link")]

    def __str__(self) -> str:
        return f"{self.user} -> {self.account.account_number} ({self.role})"


class DownloadKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    CHANGE = "change", "Change log"


class DownloadAck(models.Model):
    """A downloaded payment or change log that the biller's system acknowledged: never handed out again."""

    biller = models.ForeignKey("billers.Biller", on_delete=models.CASCADE, related_name="download_acks")
    kind = models.CharField(max_length=10, choices=DownloadKind.choices)
    object_id = models.BigIntegerField()
    acked_at = models.DateTimeField()
    key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="acks")

    class Meta:
        ordering = ["-acked_at"]
        verbose_name = "download acknowledgement"
        constraints = [
            models.UniqueConstraint(fields=["biller", "kind", "object_id"], name="uniq_download_ack")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.object_id} acknowledged"


__all__ = [
    "AccountLink",
    "ApiCallLog",
    "ApiKey",
    "ApiScope",
    "DownloadAck",
    "DownloadKind",
    "IdempotencyRecord",
    "LinkRole",
    "PayerUser",
]
