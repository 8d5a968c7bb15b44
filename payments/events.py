"""Outbox event types, and the one function services call to record an event for delivery.

``emit`` runs inside the caller's transaction, so an event exists exactly when its change does.
"""
from __future__ import annotations

from typing import Any

PAYMENT = "payment"
CREDIT = "credit"
VOID = "void"
ACH_REJECT = "ach_reject"
AUTOPAY_CHANGE = "autopay_change"
PAPERLESS_CHANGE = "paperless_change"
EMAIL_CHANGE = "email_change"
PHONE_CHANGE = "phone_change"
SCHEDULED_NEW = "scheduled_payment_new"
SCHEDULED_CANCEL = "scheduled_payment_cancel"
SCHEDULED_UPDATE = "scheduled_payment_update"
EVENT_TYPES: tuple[tuple[str, str], ...] = (
    (PAYMENT, "Payment"),
    (CREDIT, "Credit"),
    (VOID, "Void"),
    (ACH_REJECT, "ACH reject"),
    (AUTOPAY_CHANGE, "AutoPay change"),
    (PAPERLESS_CHANGE, "Paperless change"),
    (EMAIL_CHANGE, "Email change"),
    (PHONE_CHANGE, "Phone change"),
    (SCHEDULED_NEW, "Scheduled payment new"),
    (SCHEDULED_CANCEL, "Scheduled payment cancelled"),
    (SCHEDULED_UPDATE, "Scheduled payment updated"),
)


def emit(*, event_type: str, biller: Any, obj: Any) -> None:
    """Record an outbox event for ``obj`` (a Payment, Void, AchReject, ChangeLog or ScheduledPayment).

    Must be called inside the transaction that wrote ``obj``.
    """
    from payments.outbox import record_event

    record_event(event_type=event_type, biller=biller, obj=obj)
