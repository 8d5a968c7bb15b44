"""POST a gateway-approved payment (IVR, kiosk): the payment and its outbox event in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api import idempotency
from billers.api.auth import BillerAccess, HasApiKey, IvrOrKioskScope
from billers.api.base import BID, ApiView, money, operation
from billers.api.serializers import ACH_TENDERS, CARD_TENDERS, PaymentInSerializer, PaymentSerializer
from billers.api_models import ApiKey, ApiScope
from billers.models import Account, Biller
from payments.models import Payment, Tender
from payments.services import payment_record

#: API tender -> (Payment.tender, Payment.card_brand)
TENDERS: dict[str, tuple[str, str]] = {
    **{brand: (Tender.CARD, brand) for brand in CARD_TENDERS},
    "ach": (Tender.ACH, ""),
    "echeck": (Tender.ECHECK, ""),
    "cash": (Tender.CASH, ""),
}
SCOPED_CHANNELS = (ApiScope.IVR, ApiScope.KIOSK)


def payment_channel(key: ApiKey, requested: str | None) -> str:
    """The channel: the body's, checked against the key's scopes, else the key's only ivr/kiosk scope."""
    if requested in SCOPED_CHANNELS and requested not in key.scope_set:
        raise exceptions.ValidationError({"channel": [f"This API key has no {requested} scope."]})
    if requested:
        return requested
    held = [c for c in SCOPED_CHANNELS if c in key.scope_set]
    if len(held) != 1:
        raise exceptions.ValidationError({"channel": ["Required: this key has both ivr and kiosk scopes."]})
    return held[0]


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "payment_guid": str(payment.payment_guid),
        "account_number": payment.account.account_number,
        "amount": money(payment.amount),
        "convenience_fee": money(payment.convenience_fee),
        "tender": payment.card_brand if payment.tender == Tender.CARD else payment.tender,
        "channel": payment.channel,
        "approval_code": payment.approval_code,
        "kiosk_id": payment.kiosk_id,
        "invoice_number": payment.invoice_number,
        "check_number": payment.check_number,
        "status": payment.status,
        "paid_at": payment.paid_at.isoformat(),
    }


def payment_post(*, biller: Biller, key: ApiKey, data: Any) -> dict[str, Any]:
    """Validate the vendor's payment and record it; 400 naming the field when it cannot be recorded."""
    attrs = PaymentInSerializer(data=data)
    attrs.is_valid(raise_exception=True)
    values = attrs.validated_data
    channel = payment_channel(key, values.get("channel"))
    kiosk_id = values.get("kiosk_id", "").strip()
    if channel == ApiScope.KIOSK and not kiosk_id:
        raise exceptions.ValidationError({"kiosk_id": ["Required for kiosk payments."]})
    account = Account.objects.filter(biller=biller, account_number=values["account_number"]).first()
    if account is None:
        raise exceptions.ValidationError(
            {"account_number": [f"Account {values['account_number']} not found for biller {biller.bid}."]}
        )
    tender, brand = TENDERS[values["tender"]]
    blocked = (account.block_cc and values["tender"] in CARD_TENDERS) or (
        account.block_ach and values["tender"] in ACH_TENDERS
    )
    if blocked:
        raise exceptions.ValidationError({"tender": [f"{values['tender']} is blocked for this account."]})
    account.biller = biller
    try:
        payment = payment_record(
            account=account,
            amount=values["amount"],
            convenience_fee=values["convenience_fee"],
            tender=tender,
            card_brand=brand,
            channel=channel,
            approval_code=values["approval_code"].strip(),
            kiosk_id=kiosk_id,
            invoice_number=values.get("invoice_number", "").strip(),
            check_number=values.get("check_number", "").strip(),
        )
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        ) from None
    return payment_json(payment)


class PaymentCreateView(ApiView):
    """A gateway-approved payment: recorded with its outbox event in one transaction."""

    permission_classes = [HasApiKey, BillerAccess, IvrOrKioskScope]

    @operation(
        "payment_create",
        "Post a payment the gateway approved (channel IVR or kiosk from the key, or from the body).",
        {201: PaymentSerializer},
        tags=["IVR and kiosk"],
        request=PaymentInSerializer,
        parameters=[BID, idempotency.PARAMETER],
        errors=(422,),
    )
    def post(self, request: Request, bid: int) -> Response:
        return idempotency.idempotent_response(
            request=request,
            key=self.key,
            biller=self.biller,
            handler=lambda: (201, payment_post(biller=self.biller, key=self.key, data=request.data)),
        )
