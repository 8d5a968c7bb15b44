"""Cayenta data pump: payments, credits, voids, ACH rejects, autopay and paperless changes (``cayenta.wsdl``).

- Payments and credits: ``AddARItem`` on endpoint 11/12/13, ``TRAN_TYPE`` 1 (payment) or 6
  (credit; the outbox pumps credits only with setting 114), ``AMOUNT`` without the convenience fee,
  ``TRAN_DATE`` in the biller's time zone, ``TENDER_TYPE`` CC / ACH / CASH, ``REFERENCE_NO`` = the
  payment GUID, ``AUTH_CODE`` = the approval code, ``COMMENT`` = the invoice number.
- ACH rejects: ``AddReturnedCheck`` (same endpoint; never C-code rejects, and only where the biller
  is allowed to), ``REFERENCE_NO`` = the original payment's GUID.
- Voids: ``VoidPayment`` (same endpoint, so a void never overtakes its payment).
- Autopay: ``_PostAutopayChangeXML`` with alert code ``AUTOP`` on 17/18/19; paperless:
  ``_PostPaperLessChangeXML`` with ``EBILL`` on 14/15/16 (SPEC settles the seed's swapped names).

Cayenta detects no duplicates by a key we send: an unknown outcome waits for an IM.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from partners import pump_common as pc
from partners.base import PartnerError
from partners.cayenta.rtdr import WSDL_PATH

PAYMENT, CREDIT, VOID, ACH_REJECT = "payment", "credit", "void", "ach_reject"
AUTOPAY_CHANGE, PAPERLESS_CHANGE = "autopay_change", "paperless_change"

OPERATIONS: dict[str, pc.Operation] = {
    PAYMENT: pc.Operation("payments", "AddARItem"),
    CREDIT: pc.Operation("payments", "AddARItem"),
    VOID: pc.Operation("payments", "VoidPayment"),
    ACH_REJECT: pc.Operation("payments", "AddReturnedCheck"),
    AUTOPAY_CHANGE: pc.Operation("autopay", "_PostAutopayChangeXML"),
    PAPERLESS_CHANGE: pc.Operation("paperless", "_PostPaperLessChangeXML"),
}
AUTO_RESEND: frozenset[str] = frozenset()
TRAN_TYPE_PAYMENT, TRAN_TYPE_CREDIT = 1, 6
ALERT_CODES: dict[str, str] = {AUTOPAY_CHANGE: "AUTOP", PAPERLESS_CHANGE: "EBILL"}


def yes_no(payload: Mapping[str, Any]) -> str:
    """Return Y when the change enrolled the account (new value 1), else N."""
    return "Y" if str(payload.get("new_value")).strip() in ("1", "true", "True", "Y") else "N"


def ar_item(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload = event.payload
    arguments: dict[str, Any] = {
        "ACCOUNT_NO": pc.text(payload, "account_number"),
        "TRAN_TYPE": TRAN_TYPE_CREDIT if event.event_type == CREDIT else TRAN_TYPE_PAYMENT,
        "AMOUNT": pc.decimal(payload, "net_amount"),
        "TRAN_DATE": ctx.local(pc.moment(payload, "paid_at")),
        "TENDER_TYPE": pc.tender_code(payload),
        "REFERENCE_NO": pc.text(payload, "payment_guid"),
    }
    if payload.get("approval_code"):
        arguments["AUTH_CODE"] = pc.text(payload, "approval_code")
    if payload.get("invoice_number"):
        arguments["COMMENT"] = pc.text(payload, "invoice_number")
    return arguments


def returned_check(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload, payment = event.payload, event.payload.get("payment") or {}
    code = pc.text(payload, "return_code").upper()
    if code.startswith("C"):  # the outbox never records these as pending; refuse if one slips through
        raise PartnerError(f"C-code reject {code} is never posted to Cayenta", permanent=True)
    arguments: dict[str, Any] = {
        "ACCOUNT_NO": pc.text(payment, "account_number"),
        "AMOUNT": pc.decimal(payment, "net_amount"),
        "RETURN_DATE": ctx.local(pc.moment(payload, "rejected_at")).date(),
        "REFERENCE_NO": pc.text(payment, "payment_guid"),
        "RETURN_CODE": code,
    }
    if payload.get("reason"):
        arguments["COMMENT"] = pc.text(payload, "reason")
    return arguments


def void_payment(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload, payment = event.payload, event.payload.get("payment") or {}
    arguments: dict[str, Any] = {
        "ACCOUNT_NO": pc.text(payment, "account_number"),
        "AMOUNT": pc.decimal(payment, "net_amount"),
        "VOID_DATE": ctx.local(pc.moment(payload, "voided_at")),
        "REFERENCE_NO": pc.text(payment, "payment_guid"),
    }
    if payload.get("reason"):
        arguments["COMMENT"] = pc.text(payload, "reason")
    return arguments


def enrollment_change(event: pc.PumpEvent, ctx: pc.PumpContext) -> dict[str, Any]:
    payload = event.payload
    arguments: dict[str, Any] = {
        "ACCOUNT_NO": pc.text(payload, "account_number"),
        "ALERT_CODE": ALERT_CODES[event.event_type],
        "ENROLLED": yes_no(payload),
        "CHANGE_DATE": ctx.local(pc.moment(payload, "changed_at")),
    }
    if payload.get("email"):
        arguments["EMAIL"] = pc.text(payload, "email")
    return arguments


BUILDERS: dict[str, Callable[[pc.PumpEvent, pc.PumpContext], dict[str, Any]]] = {
    PAYMENT: ar_item,
    CREDIT: ar_item,
    VOID: void_payment,
    ACH_REJECT: returned_check,
    AUTOPAY_CHANGE: enrollment_change,
    PAPERLESS_CHANGE: enrollment_change,
}


PUMP = pc.ZeepPump(
    partner="Cayenta", wsdl_path=WSDL_PATH, operations=OPERATIONS, builders=BUILDERS,
    user_field="USER_ID", password_field="PASSWORD", success_field="SUCCESS", message_field="MESSAGE",
    reference_field="ITEM_ID", empty_answer="no RESULT",
)
render = PUMP.render
deliver = PUMP.deliver
