"""Builders shared by the batch and export tests: accounts with an invoice, payments at a local time."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from billers.models import Account, Biller, Invoice
from payments import services

DAY = date(2026, 11, 20)


def local(biller: Biller, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), ZoneInfo(biller.time_zone))


def account(biller: Biller, number: str, name: str = "Alice Moreno", custom2: str | None = None) -> Account:
    acct = Account.objects.create(biller=biller, account_number=number, name=name)
    header = {"Custom2": custom2} if custom2 is not None else {}
    Invoice.objects.create(biller=biller, account=acct, invoice_number=f"{number}1126", invoice_date=date(2026, 11, 1),
                           due_date=date(2026, 11, 25), total_amount_due=Decimal("100.00"), header=header)
    return acct


def pay(acct: Account, amount: str, paid_at: datetime, *, fee: str = "0", tender: str = "card",
        brand: str = "visa", channel: str = "web", **kwargs: Any):
    return services.payment_record(
        account=acct, amount=Decimal(amount), convenience_fee=Decimal(fee), tender=tender,
        card_brand=brand if tender == "card" else "", channel=channel,
        approval_code=kwargs.pop("approval_code", "A01 - Approved"), invoice_number=f"{acct.account_number}1126",
        paid_at=paid_at, **kwargs)
