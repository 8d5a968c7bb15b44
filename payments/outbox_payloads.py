"""Plain-data snapshots of what an outbox event describes, taken in the transaction that recorded it.

The pump modules, the exports and the download API read these, never the live rows: a scheduled
payment updated and then cancelled yields two events that each say what was true at the time.
Money is a decimal string, moments ISO 8601 with their offset, dates ``YYYY-MM-DD``.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billers.models import Account, Invoice
from payments import events
from payments import models as m

Payload = dict[str, Any]
CENT = Decimal("0.01")


def money(amount: Decimal | int | str) -> str:
    """Return an amount as a two-decimal string (``9`` -> ``9.00``)."""
    return str(Decimal(amount).quantize(CENT))


def invoice_payload(invoice: Invoice | None) -> Payload:
    """Return the invoice fields the partners need: Custom4 (service location), type id and description."""
    if invoice is None:
        return {}
    return {
        "invoice_number": invoice.invoice_number,
        "custom4": invoice.custom(4),
        "invoice_type_id": invoice.invoice_type_id,
        "invoice_type_desc": str(invoice.header.get("InvoiceTypeDesc") or invoice.header.get("InvoiceType") or ""),
    }


def latest_invoice(account: Account, invoice_number: str = "") -> Invoice | None:
    """Return the named invoice of the account, else its most recent one (None without invoices)."""
    invoices = Invoice.objects.filter(account=account)
    if invoice_number:
        named = invoices.filter(invoice_number=invoice_number).first()
        if named is not None:
            return named
    return invoices.order_by("-invoice_date", "-id").first()


def service_location(account: Account, invoice: Invoice | None) -> str:
    """Return Custom4 of the invoice (Daffron's serviceLocationID), else the account's location number."""
    return (invoice.custom(4) if invoice is not None else "") or account.location_number


def payment_payload(payment: m.Payment) -> Payload:
    return {
        "payment_guid": str(payment.payment_guid),
        "kind": payment.kind,
        "account_number": payment.account.account_number,
        "amount": money(payment.amount),
        "convenience_fee": money(payment.convenience_fee),
        "net_amount": money(Decimal(payment.amount) - Decimal(payment.convenience_fee)),
        "tender": payment.tender,
        "card_brand": payment.card_brand,
        "channel": payment.channel,
        "source_id": payment.source_id,
        "approval_code": payment.approval_code,
        "kiosk_id": payment.kiosk_id,
        "check_number": payment.check_number,
        "invoice_number": payment.invoice_number,
        "paid_at": payment.paid_at.isoformat(),
        "invoice": invoice_payload(payment.invoice),
    }


def void_payload(void: m.Void) -> Payload:
    return {"payment": payment_payload(void.payment), "reason": void.reason,
            "voided_at": void.voided_at.isoformat(), "account_number": void.payment.account.account_number}


def reject_payload(reject: m.AchReject) -> Payload:
    return {"payment": payment_payload(reject.payment), "return_code": reject.return_code,
            "reason": reject.reason, "rejected_at": reject.rejected_at.isoformat(),
            "account_number": reject.payment.account.account_number}


def change_payload(log: m.ChangeLog) -> Payload:
    account = log.account
    invoice = latest_invoice(account)
    payload: Payload = {
        "kind": log.kind,
        "account_number": account.account_number,
        "old_value": log.old_value,
        "new_value": log.new_value,
        "changed_at": log.changed_at.isoformat(),
        "actor": log.actor,
        "email": account.email,
        "customer_name": account.name,
        "invoice_type": log.invoice_type,
        "service_location": service_location(account, invoice),
    }
    if log.kind == m.ChangeKind.AUTOPAY:
        enrollment = m.AutopayEnrollment.objects.filter(biller=log.biller, account=account).first()
        payload["autopay_tender"] = enrollment.tender if enrollment else ""
    return payload


def scheduled_payload(scheduled: m.ScheduledPayment) -> Payload:
    invoice = latest_invoice(scheduled.account, scheduled.invoice_number)
    return {
        "account_number": scheduled.account.account_number,
        "invoice_number": scheduled.invoice_number,
        "amount": money(scheduled.amount),
        "scheduled_for": scheduled.scheduled_for.isoformat(),
        "tender": scheduled.tender,
        "status": scheduled.status,
        "changed_at": timezone.now().isoformat(),
        "service_location": service_location(scheduled.account, invoice),
    }


#: Event type -> (payload builder, idempotency key builder).
SNAPSHOTS: dict[str, tuple[Callable[[Any], Payload], Callable[[Any], str]]] = {
    events.PAYMENT: (payment_payload, lambda p: str(p.payment_guid)),
    events.CREDIT: (payment_payload, lambda p: str(p.payment_guid)),
    events.VOID: (void_payload, lambda v: str(v.payment.payment_guid)),
    events.ACH_REJECT: (reject_payload, lambda r: str(r.payment.payment_guid)),
    events.AUTOPAY_CHANGE: (change_payload, lambda c: f"changelog-{c.pk}"),
    events.PAPERLESS_CHANGE: (change_payload, lambda c: f"changelog-{c.pk}"),
    events.EMAIL_CHANGE: (change_payload, lambda c: f"changelog-{c.pk}"),
    events.PHONE_CHANGE: (change_payload, lambda c: f"changelog-{c.pk}"),
    # A scheduled payment changes several times: each event gets its own key.
    events.SCHEDULED_NEW: (scheduled_payload, lambda s: f"scheduled-{s.pk}-{uuid.uuid4().hex[:16]}"),
    events.SCHEDULED_CANCEL: (scheduled_payload, lambda s: f"scheduled-{s.pk}-{uuid.uuid4().hex[:16]}"),
    events.SCHEDULED_UPDATE: (scheduled_payload, lambda s: f"scheduled-{s.pk}-{uuid.uuid4().hex[:16]}"),
}


def snapshot(event_type: str, obj: Any) -> tuple[Payload, str]:
    """Return (payload, idempotency key) for ``obj``; KeyError naming the type for an unknown event type."""
    try:
        build_payload, build_key = SNAPSHOTS[event_type]
    except KeyError:
        raise KeyError(f"unknown outbox event type {event_type!r}") from None
    return build_payload(obj), build_key(obj)
