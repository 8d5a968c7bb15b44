"""Harris Advanced AUS data pump: payments, autopay and paperless changes (``aus.wsdl``).

- Payments: ``AddPendingPayment`` on endpoint 11/12/13: ``Amount`` without the convenience fee,
  ``ConvenienceFee``, ``PaymentDate`` in the biller's time zone, ``PaymentMethod`` CC / ACH / CASH,
  ``ConfirmationNumber`` = the payment GUID, ``AuthorizationCode`` = the approval code,
  ``InvoiceNumber`` when the payment names one.
- Autopay: ``UpdatePaymentPlan`` on 17/18/19 (``AutoPayEnrolled``, ``ChangeDate``, the autopay tender).
- Paperless: ``UpdateCisLinkTableEBillAndLinkRegistration`` on 14/15/16 (``EBillEnrolled``,
  ``EmailAddress``, ``ChangeDate``).

AUS takes no voids, ACH rejects, phone or e-mail changes, and CloudStore payments are not pumped
(the outbox records those as not applicable). AUS detects no duplicates by a key we send, so an
unknown outcome is never resent automatically.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from partners import pump_common as pc
from partners.aus.rtdr import WSDL_PATH

PAYMENT, AUTOPAY_CHANGE, PAPERLESS_CHANGE = "payment", "autopay_change", "paperless_change"

OPERATIONS: dict[str, pc.Operation] = {
    PAYMENT: pc.Operation("payments", "AddPendingPayment"),
    AUTOPAY_CHANGE: pc.Operation("autopay", "UpdatePaymentPlan"),
    PAPERLESS_CHANGE: pc.Operation("paperless", "UpdateCisLinkTableEBillAndLinkRegistration"),
}
AUTO_RESEND: frozenset[str] = frozenset()


def enrolled(payload: Mapping[str, Any]) -> bool:
    """Return the enrollment state after the change (new value 1 = on)."""
    return str(payload.get("new_value")).strip() in ("1", "true", "True", "Y")


def payment_arguments(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload = event.payload
    arguments: dict[str, Any] = {
        "AccountNumber": pc.text(payload, "account_number"),
        "Amount": pc.decimal(payload, "net_amount"),
        "ConvenienceFee": pc.decimal(payload, "convenience_fee"),
        "PaymentDate": ctx.local(pc.moment(payload, "paid_at")),
        "PaymentMethod": pc.tender_code(payload),
        "ConfirmationNumber": pc.text(payload, "payment_guid"),
        "AuthorizationCode": pc.text(payload, "approval_code", required=False) or None,
        "InvoiceNumber": pc.text(payload, "invoice_number", required=False) or None,
    }
    return {k: v for k, v in arguments.items() if v is not None}


def autopay_arguments(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload = event.payload
    method = pc.TENDER_CODES.get(str(payload.get("autopay_tender") or ""))
    arguments: dict[str, Any] = {
        "AccountNumber": pc.text(payload, "account_number"),
        "AutoPayEnrolled": enrolled(payload),
        "ChangeDate": ctx.local(pc.moment(payload, "changed_at")),
    }
    if method:
        arguments["PaymentMethod"] = method
    return arguments


def paperless_arguments(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload = event.payload
    arguments: dict[str, Any] = {
        "AccountNumber": pc.text(payload, "account_number"),
        "EBillEnrolled": enrolled(payload),
        "ChangeDate": ctx.local(pc.moment(payload, "changed_at")),
    }
    email = pc.text(payload, "email", required=False)
    if email:
        arguments["EmailAddress"] = email
    return arguments


BUILDERS: dict[str, Callable[[pc.PumpEvent, pc.PumpContext], dict[str, Any]]] = {
    PAYMENT: payment_arguments,
    AUTOPAY_CHANGE: autopay_arguments,
    PAPERLESS_CHANGE: paperless_arguments,
}


PUMP = pc.ZeepPump(
    partner="AUS", wsdl_path=WSDL_PATH, operations=OPERATIONS, builders=BUILDERS,
    user_field="UserName", password_field="Password", success_field="Success", message_field="Message",
    reference_field="ReferenceNumber", empty_answer="no OperationResult",
)
render = PUMP.render
deliver = PUMP.deliver
