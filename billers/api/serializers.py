"""Request and response shapes of the API (they are also the OpenAPI schema).

Input serializers validate and name the field in their 400 errors; output serializers document what the
views return (hot paths build the same dicts by hand, and the schemathesis suite checks they agree).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from billers.api_models import LinkRole

MONEY = {"max_digits": 12, "decimal_places": 2}
BALANCE = {"max_digits": 14, "decimal_places": 2}
MAX_DB_INT = 2**63 - 1
CARD_TENDERS = ("visa", "mastercard", "discover", "amex")
ACH_TENDERS = ("ach", "echeck")
TENDERS = (*CARD_TENDERS, *ACH_TENDERS, "cash")
CHANNELS = ("ivr", "kiosk", "web", "pos", "obd", "csr")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# ---- Accounts (IVR / kiosk) ----------------------------------------------------------------------


class OpenInvoiceSerializer(serializers.Serializer):
    invoice_number = serializers.CharField()
    invoice_date = serializers.DateField()
    due_date = serializers.DateField()
    total_amount_due = serializers.DecimalField(**BALANCE)
    balance_due = serializers.DecimalField(**BALANCE, allow_null=True)
    past_due = serializers.DecimalField(**BALANCE, allow_null=True)
    minimum_amount_due = serializers.DecimalField(**BALANCE, allow_null=True)


class AccountSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    display_account_number = serializers.CharField()
    name = serializers.CharField()
    customer_number = serializers.CharField()
    location_number = serializers.CharField()
    balance_due = serializers.DecimalField(**BALANCE)
    past_due = serializers.DecimalField(**BALANCE)
    due_date = serializers.DateField(allow_null=True, help_text="Due date of the latest open invoice.")
    minimum_payment = serializers.DecimalField(
        **BALANCE, allow_null=True, help_text="Minimum amount due of the latest open invoice."
    )
    stale = serializers.BooleanField(
        help_text="True when the partner could not be asked and this is the last known balance."
    )
    stale_reason = serializers.CharField(allow_blank=True)
    balance_source = serializers.CharField()
    balance_updated_at = serializers.DateTimeField(allow_null=True)
    blocked_tenders = serializers.ListField(
        child=serializers.CharField(),
        help_text="Tenders the biller refuses for this account, in the payment "
        "contract's words: visa, mastercard, discover, amex, ach, echeck.",
    )
    open_invoices = OpenInvoiceSerializer(many=True)


class AccountSearchSerializer(serializers.Serializer):
    customer_number = serializers.CharField(max_length=60)
    location_number = serializers.CharField(max_length=60)


class AccountListSerializer(serializers.Serializer):
    results = AccountSerializer(many=True)


# ---- Payments ----------------------------------------------------------------------------------


class PaymentInSerializer(serializers.Serializer):
    account_number = serializers.CharField(max_length=60)
    amount = serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), help_text="Total charged, fee included."
    )
    convenience_fee = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal(0), default=Decimal(0)
    )
    tender = serializers.ChoiceField(choices=TENDERS)
    channel = serializers.ChoiceField(
        choices=CHANNELS, required=False, help_text="Defaults to the key's scope (ivr or kiosk)."
    )
    approval_code = serializers.CharField(
        max_length=100, allow_blank=True, help_text="The gateway's approval code; may be blank for cash only."
    )
    kiosk_id = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text="Required for channel kiosk."
    )
    invoice_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    check_number = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["convenience_fee"] >= attrs["amount"]:
            raise serializers.ValidationError(
                {"convenience_fee": "Must be less than amount (amount includes it)."}
            )
        if not attrs["approval_code"].strip() and attrs["tender"] != "cash":
            raise serializers.ValidationError({"approval_code": "Required for a gateway-approved payment."})
        return attrs


class PaymentSerializer(serializers.Serializer):
    payment_guid = serializers.UUIDField()
    account_number = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    convenience_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    tender = serializers.ChoiceField(choices=TENDERS)
    channel = serializers.CharField()
    approval_code = serializers.CharField(allow_blank=True)
    kiosk_id = serializers.CharField(allow_blank=True)
    invoice_number = serializers.CharField(allow_blank=True)
    check_number = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    paid_at = serializers.DateTimeField()


# ---- SSO and remote registration ------------------------------------------------------------------

USERNAME = {"max_length": 150, "regex": r"^[\w.@+-]+\Z"}


class LinkSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    role = serializers.ChoiceField(choices=LinkRole.choices)
    rule = serializers.CharField(help_text="requested, customer_number (setting 75) or email (setting 76).")
    created_at = serializers.DateTimeField()


class PayerUserSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    has_password = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    links = LinkSerializer(many=True)


class RegistrationInSerializer(serializers.Serializer):
    username = serializers.RegexField(**USERNAME)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        help_text="Omit for SSO-only users (no local password).",
    )
    account_numbers = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=50, default=list
    )
    role = serializers.ChoiceField(choices=LinkRole.choices, default=LinkRole.OWNER)


class LinkInSerializer(serializers.Serializer):
    account_number = serializers.CharField(max_length=60)
    role = serializers.ChoiceField(choices=LinkRole.choices, default=LinkRole.OWNER)


class LinkResultSerializer(serializers.Serializer):
    linked = LinkSerializer(
        many=True,
        help_text="Links this call created (the requested one and those the "
        "biller's linking settings added).",
    )
    links = LinkSerializer(many=True, help_text="All of the user's links.")


class EmailInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ChangeSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    kind = serializers.CharField()
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)


class EmailResultSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    changes = ChangeSerializer(many=True)


class PasswordInSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, write_only=True)
    current_password = serializers.CharField(
        max_length=128, required=False, write_only=True, help_text="Checked when given."
    )


class CustomerInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.RegexField(
        r"^\+?[0-9][0-9 ()./-]{5,38}\Z",
        required=False,
        help_text="Digits, spaces and ( ) . / - ; 6 to 40 characters.",
    )
    paperless = serializers.BooleanField(required=False)
    autopay = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": "Send at least one of email, phone, paperless, autopay."}
            )
        return attrs


class CustomerSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    paperless = serializers.BooleanField()
    autopay = serializers.BooleanField()
    changes = ChangeSerializer(many=True)


class LaunchInSerializer(serializers.Serializer):
    username = serializers.RegexField(**USERNAME)
    account_number = serializers.CharField(max_length=60, required=False)
    mode = serializers.ChoiceField(
        choices=(("iframe", "Embedded iFrame"), ("redirect", "Redirect")), default="redirect"
    )
    return_url = serializers.URLField(max_length=500, required=False)


class LaunchSerializer(serializers.Serializer):
    url = serializers.URLField()
    token = serializers.CharField()
    mode = serializers.CharField()
    expires_at = serializers.DateTimeField()


class SessionSerializer(serializers.Serializer):
    bid = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    account_number = serializers.CharField(allow_null=True)
    mode = serializers.CharField()
    return_url = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField()


# ---- Harris inHance web services ---------------------------------------------------------------

FILE_KINDS = (("invoices", "Invoices"), ("replacements", "Replacement invoices"), ("balances", "Balances"))


class InvoiceFileInSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=FILE_KINDS, default="invoices")


class InvoiceFileSerializer(serializers.Serializer):
    exchange = serializers.IntegerField()
    status = serializers.CharField()
    counts = serializers.DictField()
    errors = serializers.ListField(child=serializers.DictField())


class BalanceInSerializer(serializers.Serializer):
    account_number = serializers.CharField(max_length=60)
    balance_due = serializers.DecimalField(**BALANCE)
    past_due = serializers.DecimalField(**BALANCE, required=False)
    block_cc = serializers.BooleanField(required=False)
    block_ach = serializers.BooleanField(required=False)


class BalancesInSerializer(serializers.Serializer):
    balances = BalanceInSerializer(many=True, allow_empty=False, max_length=1000)


class BalancesSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    not_found = serializers.ListField(child=serializers.CharField())


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    after = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DB_INT,
        default=0,
        help_text="Continue after this id (the `next` link carries it).",
    )


class PaymentDownloadSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Acknowledge with this id.")
    payment_guid = serializers.UUIDField()
    account_number = serializers.CharField()
    invoice_number = serializers.CharField(allow_blank=True)
    kind = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    convenience_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    net_amount = serializers.DecimalField(**MONEY)
    tender = serializers.CharField()
    card_brand = serializers.CharField(allow_blank=True)
    channel = serializers.CharField()
    approval_code = serializers.CharField(allow_blank=True)
    kiosk_id = serializers.CharField(allow_blank=True)
    check_number = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    paid_at = serializers.DateTimeField()


class ChangeDownloadSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Acknowledge with this id.")
    kind = serializers.CharField(help_text="autopay, paperless, email or phone.")
    account_number = serializers.CharField()
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)
    invoice_type = serializers.CharField(allow_blank=True)
    changed_at = serializers.DateTimeField()


class PaymentPageSerializer(serializers.Serializer):
    results = PaymentDownloadSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page, or null on the last one.")


class ChangePageSerializer(serializers.Serializer):
    results = ChangeDownloadSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page, or null on the last one.")


def _ack_ids() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT),
        required=False,
        max_length=1000,
        default=list,
    )


class AckInSerializer(serializers.Serializer):
    payments = _ack_ids()
    changes = _ack_ids()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["payments"] and not attrs["changes"]:
            raise serializers.ValidationError(
                {"non_field_errors": "Send the ids of payments and/or changes."}
            )
        return attrs


class AckCountsSerializer(serializers.Serializer):
    payments = serializers.IntegerField()
    changes = serializers.IntegerField()


class AckUnknownSerializer(serializers.Serializer):
    payments = serializers.ListField(child=serializers.IntegerField())
    changes = serializers.ListField(child=serializers.IntegerField())


class AckSerializer(serializers.Serializer):
    acknowledged = AckCountsSerializer(help_text="Newly acknowledged.")
    already_acknowledged = AckCountsSerializer()
    unknown = AckUnknownSerializer(help_text="Ids that are not this biller's payments or changes (ignored).")
