"""Writes for payments and payer changes. Each writes its change log and outbox event atomically."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billers.models import Account
from payments import events
from payments import models as m


@transaction.atomic
def payment_record(
    *,
    account: Account,
    amount: Decimal,
    tender: str,
    channel: str,
    approval_code: str,
    convenience_fee: Decimal = Decimal("0"),
    card_brand: str = "",
    invoice_number: str = "",
    kiosk_id: str = "",
    check_number: str = "",
    source_id: int | None = None,
    kind: str = m.PaymentKind.PAYMENT,
    paid_at: datetime | None = None,
    payment_guid: uuid.UUID | None = None,
) -> m.Payment:
    """Record an approved payment (or credit) and its outbox event; ValidationError on bad input."""
    invoice = account.invoices.filter(invoice_number=invoice_number).first() if invoice_number else None
    payment = m.Payment(
        biller=account.biller, account=account, invoice=invoice, invoice_number=invoice_number,
        payment_guid=payment_guid or uuid.uuid4(), kind=kind, amount=amount, convenience_fee=convenience_fee,
        tender=tender, card_brand=card_brand, channel=channel, source_id=source_id, approval_code=approval_code,
        kiosk_id=kiosk_id, check_number=check_number, paid_at=paid_at or timezone.now(),
    )
    payment.full_clean()
    payment.save()
    events.emit(event_type=events.CREDIT if kind == m.PaymentKind.CREDIT else events.PAYMENT,
                biller=account.biller, obj=payment)
    return payment


@transaction.atomic
def payment_void(*, payment: m.Payment, reason: str, actor=None) -> m.Void:
    """Void a payment and queue the void for the partner."""
    void = m.Void.objects.create(payment=payment, reason=reason, voided_at=timezone.now(), actor=actor)
    m.Payment.objects.filter(pk=payment.pk).update(status=m.PaymentStatus.VOIDED)
    events.emit(event_type=events.VOID, biller=payment.biller, obj=void)
    return void


@transaction.atomic
def ach_reject_record(*, payment: m.Payment, return_code: str, reason: str = "",
                      rejected_at: datetime | None = None) -> m.AchReject:
    """Record an ACH return for a payment and queue it for the partner."""
    reject = m.AchReject.objects.create(payment=payment, return_code=return_code.upper(), reason=reason,
                                        rejected_at=rejected_at or timezone.now())
    m.Payment.objects.filter(pk=payment.pk).update(status=m.PaymentStatus.REJECTED)
    events.emit(event_type=events.ACH_REJECT, biller=payment.biller, obj=reject)
    return reject


def _log_change(*, account: Account, kind: str, old: str, new: str, actor: str, event_type: str) -> m.ChangeLog:
    log = m.ChangeLog.objects.create(biller=account.biller, account=account, kind=kind, old_value=old,
                                     new_value=new, actor=actor, changed_at=timezone.now())
    events.emit(event_type=event_type, biller=account.biller, obj=log)
    return log


def _set_enrollment(model: type[m.Enrollment], *, account: Account, active: bool, actor: str, kind: str,
                    event_type: str) -> m.ChangeLog | None:
    current = model.objects.select_for_update().filter(biller=account.biller, account=account).first()
    was_active = bool(current and current.active)
    if was_active == active:
        return None  # not a real change: nothing to log or send
    now = timezone.now()
    if current is None:
        model.objects.create(biller=account.biller, account=account, active=active, enrolled_at=now)
    else:
        current.active = active
        current.ended_at = None if active else now
        if active:
            current.enrolled_at = now
        current.save()
    return _log_change(account=account, kind=kind, old="1" if was_active else "0", new="1" if active else "0",
                       actor=actor, event_type=event_type)


@transaction.atomic
def autopay_set(*, account: Account, active: bool, actor: str) -> m.ChangeLog | None:
    """Turn autopay on or off; return the change log, or None when nothing changed."""
    return _set_enrollment(m.AutopayEnrollment, account=account, active=active, actor=actor,
                           kind=m.ChangeKind.AUTOPAY, event_type=events.AUTOPAY_CHANGE)


@transaction.atomic
def paperless_set(*, account: Account, active: bool, actor: str) -> m.ChangeLog | None:
    """Turn paperless on or off; return the change log, or None when nothing changed."""
    return _set_enrollment(m.PaperlessEnrollment, account=account, active=active, actor=actor,
                           kind=m.ChangeKind.PAPERLESS, event_type=events.PAPERLESS_CHANGE)


CONTACT_FIELDS = {m.ChangeKind.EMAIL: ("email", events.EMAIL_CHANGE), m.ChangeKind.PHONE: ("phone", events.PHONE_CHANGE)}


@transaction.atomic
def contact_change(*, account: Account, kind: str, new_value: str, actor: str) -> m.ChangeLog | None:
    """Change the account's email or phone; return the change log, or None when unchanged."""
    field, event_type = CONTACT_FIELDS[kind]
    account = Account.objects.select_for_update().get(pk=account.pk)
    old = getattr(account, field)
    if old == new_value:
        return None
    setattr(account, field, new_value)
    account.full_clean()
    account.save(update_fields=[field, "updated_at"])
    return _log_change(account=account, kind=kind, old=old, new=new_value, actor=actor, event_type=event_type)


@transaction.atomic
def scheduled_payment_create(*, account: Account, amount: Decimal, scheduled_for: date, invoice_number: str = "",
                             tender: str = m.Tender.ACH) -> m.ScheduledPayment:
    scheduled = m.ScheduledPayment.objects.create(biller=account.biller, account=account, amount=amount,
                                                  scheduled_for=scheduled_for, invoice_number=invoice_number,
                                                  tender=tender)
    events.emit(event_type=events.SCHEDULED_NEW, biller=account.biller, obj=scheduled)
    return scheduled


@transaction.atomic
def scheduled_payment_update(*, scheduled: m.ScheduledPayment, amount: Decimal | None = None,
                             scheduled_for: date | None = None) -> m.ScheduledPayment:
    if amount is not None:
        scheduled.amount = amount
    if scheduled_for is not None:
        scheduled.scheduled_for = scheduled_for
    scheduled.save()
    events.emit(event_type=events.SCHEDULED_UPDATE, biller=scheduled.biller, obj=scheduled)
    return scheduled


@transaction.atomic
def scheduled_payment_cancel(*, scheduled: m.ScheduledPayment) -> m.ScheduledPayment:
    scheduled.status = m.ScheduledPaymentStatus.CANCELLED
    scheduled.save(update_fields=["status", "updated_at"])
    events.emit(event_type=events.SCHEDULED_CANCEL, biller=scheduled.biller, obj=scheduled)
    return scheduled
