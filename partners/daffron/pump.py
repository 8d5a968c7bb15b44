"""Daffron / Milsoft data pump (MultiSpeak 3.0): payments, paperless, autopay and scheduled payments.

Rules (SPEC section 3, seed 003):

- Payments: ``CommitPaymentTransaction`` on endpoint 11/12/13. ``accountNumber`` = base+sub; the
  tender array follows the payment's tender (card -> ``creditCardPayment``, ACH -> ``achPayment``,
  eCheck -> ``eCheckPayment``, cash -> ``cashPayment``); ``amount`` excludes the convenience fee,
  formatted per setting 35 (1 = ``232.1``, 2 = ``232.10``); ``authorizationCode`` = the full
  approval code (at most 50 characters, never with the GUID appended); extension ``transactionId``
  = the payment GUID when setting 131 exists, else the approval code; ``paymentMode`` = ``OBD`` for
  Online Bank Direct, else the code for the payment's source id in setting 64 (cards) or 65
  (ACH/eCheck), else ``WEB``; kiosk payments add extension ``billerReference`` = the kiosk id.
- Paperless: ``ModifyCBDataForCustomer`` on 14/15/16, customer ``objectID`` = base+sub, extension
  EBILL Y/N (the outbox records only real changes).
- Autopay and scheduled payments: ``WriteAccountHistoryComments`` on 17/18/19: ``customerID`` =
  base+sub, ``serviceLocationID`` = Custom4 of the invoice (else the account's location number),
  ``logTime`` = when the change happened, in the biller's time zone (``2020-08-06T00:01:32-05:00``),
  comment ``AUTOPAY ON`` / ``AUTOPAY OFF`` or ``SCHED_PAY MMDDYYYY 156.25 INVOICENO`` (``_CNCL``,
  ``_UPDT`` for cancel and update), at most 70 characters.

Only payments are resent automatically after an unknown outcome: the ``transactionId`` extension
lets Daffron detect the duplicate. A history comment or an EBILL change has no such key.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from partners import pump_common as pc
from partners.base import PartnerError
from partners.daffron import multispeak as ms
from partners.soap import CallResult, malformed

#: Event types as ``payments.events`` names them (partners do not import the apps).
PAYMENT, AUTOPAY_CHANGE, PAPERLESS_CHANGE = "payment", "autopay_change", "paperless_change"
SCHEDULED_NEW, SCHEDULED_CANCEL, SCHEDULED_UPDATE = (
    "scheduled_payment_new", "scheduled_payment_cancel", "scheduled_payment_update",
)

OPERATIONS: dict[str, pc.Operation] = {
    PAYMENT: pc.Operation("payments", "CommitPaymentTransaction"),
    PAPERLESS_CHANGE: pc.Operation("paperless", "ModifyCBDataForCustomer"),
    AUTOPAY_CHANGE: pc.Operation("autopay", "WriteAccountHistoryComments"),
    SCHEDULED_NEW: pc.Operation("autopay", "WriteAccountHistoryComments"),
    SCHEDULED_CANCEL: pc.Operation("autopay", "WriteAccountHistoryComments"),
    SCHEDULED_UPDATE: pc.Operation("autopay", "WriteAccountHistoryComments"),
}
AUTO_RESEND: frozenset[str] = frozenset({PAYMENT})

SETTING_SERVICE_VERSION, SETTING_CC_CODES, SETTING_ACH_CODES, SETTING_JSON = 35, 64, 65, 131
DEFAULT_PAYMENT_MODE = "WEB"
OBD_PAYMENT_MODE = "OBD"
#: Our tender -> the MultiSpeak payment array, and the setting holding its paymentMode codes.
TENDERS: dict[str, tuple[ms.PaymentKind, int | None]] = {
    "card": ("creditCardPayment", SETTING_CC_CODES),
    "ach": ("achPayment", SETTING_ACH_CODES),
    "echeck": ("eCheckPayment", SETTING_ACH_CODES),
    "cash": ("cashPayment", None),
}
SCHEDULED_COMMENTS: dict[str, str] = {
    SCHEDULED_NEW: "SCHED_PAY",
    SCHEDULED_CANCEL: "SCHED_PAY_CNCL",
    SCHEDULED_UPDATE: "SCHED_PAY_UPDT",
}
_CODE = re.compile(r"(\d+)\(([^)]*)\)")


# --- rules, one small function each ----------------------------------------------------------


def base_sub(account_number: str) -> str:
    """Return the account as Daffron keys it: base and sub run together (``35909-001`` -> ``35909001``)."""
    return re.sub(r"[\s-]", "", account_number)


def service_version(settings: Mapping[int, str]) -> int:
    """Return setting 35 (1 or 2, default 1); permanent PartnerError for another value."""
    raw = str(settings.get(SETTING_SERVICE_VERSION) or "1").strip()
    if raw not in ("1", "2"):
        raise PartnerError(f"advanced setting 35 must be 1 or 2, not {raw!r}", permanent=True)
    return int(raw)


def payment_codes(raw: str | None) -> dict[int, str]:
    """Parse a setting 64/65 value ``0(WEB)|2(CSRWEB)`` into {source id: code}."""
    return {int(source): code for source, code in _CODE.findall(raw or "")}


def payment_mode(payload: Mapping[str, Any], settings: Mapping[int, str]) -> str:
    """Return ``OBD`` for Online Bank Direct, else the source's code from 64/65, else ``WEB``."""
    if payload.get("channel") == "obd":
        return OBD_PAYMENT_MODE
    _, number = TENDERS.get(str(payload.get("tender")), (None, None))
    source = payload.get("source_id")
    if number is None or source is None:
        return DEFAULT_PAYMENT_MODE
    return payment_codes(settings.get(number)).get(int(source), DEFAULT_PAYMENT_MODE)


def transaction_id(payload: Mapping[str, Any], settings: Mapping[int, str]) -> str:
    """Return the payment GUID when setting 131 exists for the biller, else the approval code."""
    if SETTING_JSON in settings:
        return pc.text(payload, "payment_guid")
    return pc.text(payload, "approval_code")


def json_config(settings: Mapping[int, str]) -> dict[str, Any]:
    """Return setting 131 parsed ({} when absent); permanent PartnerError when it is not a JSON object."""
    raw = settings.get(SETTING_JSON)
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PartnerError(f"advanced setting 131 is not valid JSON: {exc}", permanent=True) from None
    return parsed if isinstance(parsed, dict) else {}


def skips_donations(settings: Mapping[int, str]) -> bool:
    """Return True when 131 says ``{"Daffron": {"DataPumpConfigs": {"SkipDonationTypes": true}}}``."""
    configs = json_config(settings).get("Daffron", {})
    configs = configs.get("DataPumpConfigs", {}) if isinstance(configs, dict) else {}
    return isinstance(configs, dict) and configs.get("SkipDonationTypes") is True


def donation_type_ids(settings: Mapping[int, str]) -> set[int]:
    """Return extra InvoiceTypeIDs 131 declares as donations (``DataPumpConfigs.DonationInvoiceTypeIds``)."""
    configs = json_config(settings).get("Daffron", {})
    configs = configs.get("DataPumpConfigs", {}) if isinstance(configs, dict) else {}
    ids = configs.get("DonationInvoiceTypeIds", []) if isinstance(configs, dict) else []
    return {int(i) for i in ids if str(i).isdigit()}


def is_donation(payload: Mapping[str, Any], settings: Mapping[int, str]) -> bool:
    """Return True when the paid invoice is of a donation type.

    The seeds name no donation InvoiceTypeID: an invoice is a donation when its InvoiceTypeDesc names
    "donation", or its InvoiceTypeID is listed in 131 ``DonationInvoiceTypeIds``.
    """
    invoice = payload.get("invoice") or {}
    if "donation" in str(invoice.get("invoice_type_desc") or "").lower():
        return True
    type_id = invoice.get("invoice_type_id")
    return type_id is not None and int(type_id) in donation_type_ids(settings)


def scheduled_comment(event_type: str, payload: Mapping[str, Any]) -> str:
    """Return ``SCHED_PAY 08152024 156.25 121940013401`` (or ``_CNCL`` / ``_UPDT``)."""
    when = date.fromisoformat(pc.text(payload, "scheduled_for"))
    amount = pc.decimal(payload, "amount").quantize(Decimal("0.01"))
    parts = [SCHEDULED_COMMENTS[event_type], when.strftime("%m%d%Y"), f"{amount:f}",
             str(payload.get("invoice_number") or "").strip()]
    return " ".join(p for p in parts if p)


def autopay_comment(payload: Mapping[str, Any]) -> str:
    """Return ``AUTOPAY ON`` or ``AUTOPAY OFF`` from the change's new value."""
    return "AUTOPAY ON" if enrolled(payload) else "AUTOPAY OFF"


def enrolled(payload: Mapping[str, Any]) -> bool:
    """Return the enrollment state after the change (new value 1 = on)."""
    return str(payload.get("new_value")).strip() in ("1", "true", "True", "Y")


def log_time(payload: Mapping[str, Any], name: str, ctx: pc.PumpContext) -> datetime:
    """Return the moment of the change in the biller's time zone, whole seconds."""
    return ctx.local(pc.moment(payload, name)).replace(microsecond=0)


# --- builders ------------------------------------------------------------------------------------


def _credentials(ctx: pc.PumpContext, endpoint: str) -> tuple[pc.Credentials, ms.Credentials]:
    found = pc.credentials(ctx, endpoint)
    return found, ms.Credentials(found.user, found.password)


def payment_tender(event: pc.PumpEvent, ctx: pc.PumpContext) -> ms.PaymentTender:
    """Return the MultiSpeak tender for a payment event."""
    payload = event.payload
    tender = pc.text(payload, "tender")
    if tender not in TENDERS:
        raise PartnerError(f"unknown tender {tender!r}", permanent=True)
    kiosk = str(payload.get("kiosk_id") or "").strip() if payload.get("channel") == "kiosk" else ""
    return ms.PaymentTender(
        account_number=base_sub(pc.text(payload, "account_number")),
        kind=TENDERS[tender][0],
        amount=pc.decimal(payload, "net_amount"),
        authorization_code=pc.text(payload, "approval_code")[: ms.MAX_AUTHORIZATION_CODE],
        payment_mode=payment_mode(payload, ctx.settings),
        transaction_id=transaction_id(payload, ctx.settings),
        biller_reference=kiosk or None,
    )


def commit_payment(event: pc.PumpEvent, ctx: pc.PumpContext) -> etree._Element:
    _, creds = _credentials(ctx, "payments")
    return ms.commit_payment_request(creds, [payment_tender(event, ctx)],
                                     service_version=service_version(ctx.settings))


def modify_ebill(event: pc.PumpEvent, ctx: pc.PumpContext) -> etree._Element:
    _, creds = _credentials(ctx, "paperless")
    payload = event.payload
    return ms.modify_ebill_request(creds, base_sub(pc.text(payload, "account_number")), enrolled(payload))


def history_comment(event: pc.PumpEvent, ctx: pc.PumpContext) -> etree._Element:
    _, creds = _credentials(ctx, "autopay")
    payload = event.payload
    comment = autopay_comment(payload) if event.event_type == AUTOPAY_CHANGE else \
        scheduled_comment(event.event_type, payload)
    when = log_time(payload, "changed_at", ctx)
    location = str(payload.get("service_location") or "").strip()
    if not location:
        raise PartnerError("no service location: the invoice has no Custom4 and the account no location "
                           "number (Daffron requires serviceLocationID)", permanent=True)
    entry = ms.HistoryComment(base_sub(pc.text(payload, "account_number")), location, when, comment)
    try:
        return ms.history_comments_request(creds, [entry])
    except ValueError as exc:
        raise PartnerError(f"WriteAccountHistoryComments: {exc}", permanent=True) from None


BUILDERS: dict[str, Callable[[pc.PumpEvent, pc.PumpContext], etree._Element]] = {
    PAYMENT: commit_payment,
    PAPERLESS_CHANGE: modify_ebill,
    AUTOPAY_CHANGE: history_comment,
    SCHEDULED_NEW: history_comment,
    SCHEDULED_CANCEL: history_comment,
    SCHEDULED_UPDATE: history_comment,
}


# --- answers -------------------------------------------------------------------------------------


def check_commit(call: CallResult) -> str:
    """Return the tender's authorizationCode; raise when Daffron did not answer Success."""
    outcomes = ms.tender_outcomes(call.value)
    if not outcomes:
        raise malformed(call, "CommitPaymentTransaction: no paymentTransaction in the answer")
    failed = [o for o in outcomes if (o.get("responseCode") or "").lower() != "success"]
    if failed:
        raise pc.refused(call, f"CommitPaymentTransaction: responseCode {failed[0].get('responseCode')!r}")
    return outcomes[0].get("authorizationCode") or ""


def check_errors(call: CallResult, operation: str) -> str:
    """Raise a permanent error when the ArrayOfErrorObject answer is not empty."""
    errors = ms.error_objects(call.value)
    if errors:
        first = errors[0]
        raise pc.refused(call, f"{operation}: {first.get('errorString') or first} "
                               f"(objectID {first.get('objectID', '?')})")
    return ""


# --- entry points --------------------------------------------------------------------------------


def _operation(event: pc.PumpEvent) -> pc.Operation:
    try:
        return OPERATIONS[event.event_type]
    except KeyError:
        raise PartnerError(f"Daffron has no operation for {event.event_type}", permanent=True) from None


def render(event: pc.PumpEvent, ctx: pc.PumpContext) -> pc.Rendered:
    """Return the masked envelope ``deliver`` would send; raises PartnerError like ``deliver``."""
    operation = _operation(event)
    found = pc.credentials(ctx, operation.endpoint)
    envelope = BUILDERS[event.event_type](event, ctx)
    return pc.Rendered(operation.name, pc.safe_url(found.url), pc.lxml_envelope(envelope))


def deliver(event: pc.PumpEvent, ctx: pc.PumpContext) -> pc.PumpResult:
    """Send the event to the biller's Daffron endpoint; return the exchange, or raise.

    Raises ``OutcomeUnknown`` (sent, no answer), ``SoapError`` / ``PartnerError`` (``permanent``
    says whether retrying can help: a missing setting, an unknown account or a refused tender is).
    """
    operation = _operation(event)
    found = pc.credentials(ctx, operation.endpoint)
    envelope = BUILDERS[event.event_type](event, ctx)
    client = pc.client_for(ms.WSDL_PATH, found.url, ctx)
    call = client.post(envelope, soap_action=ms.soap_action_for(operation.name), operation=operation.name)
    if operation.name == "CommitPaymentTransaction":
        reference = check_commit(call)
    else:
        reference = check_errors(call, operation.name)
    return pc.result(call, operation.name, found.url, reference)
