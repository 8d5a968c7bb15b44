"""Demo data: one live biller per partner with settings, accounts, invoices, payments and changes.

Every row is keyed by a natural key and every value is fixed, so running it twice changes nothing.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from billers.models import Account, Biller, BillerCustomization, BillerSetting, BillerStaffScope, Invoice, Partner
from billers.models import BifCustomizationDefinition, BillerStatus
from billers.services import biller_setting_set
from payments import models as pm
from partners.bif import CR_FIELDS, ID_FIELDS, packed

NAMESPACE = uuid.UUID("6f1d7c1e-3c55-4b7e-9d0f-4a8d3c1b2e01")
DEMO_DAY = date(2026, 11, 20)
SIMULATOR_PORTS = {"aus": 8701, "cayenta": 8702, "daffron": 8703}


def simulator_url(partner: str, path: str = "") -> str:
    return f"http://127.0.0.1:{SIMULATOR_PORTS[partner]}/{path}"


@dataclass(frozen=True)
class DemoBiller:
    bid: int
    name: str
    partner: str
    time_zone: str
    products: tuple[str, ...]
    settings: dict[int, str]


DEMO_BILLERS: tuple[DemoBiller, ...] = (
    DemoBiller(123, "Mount Pleasant Waterworks (demo)", "aus", "America/New_York", ("IVR", "Kiosk", "CloudStore"),
               {8: simulator_url("aus", "aus"), 9: "InvoiceCloud", 10: "demo-aus-rtdr",
                **{n: simulator_url("aus", "aus") for n in (11, 14, 17)},
                **{n: "InvoiceCloud" for n in (12, 15, 18)}, **{n: f"demo-aus-{n}" for n in (13, 16, 19)},
                32: "1", 75: "1", 76: "0"}),
    DemoBiller(1368, "Clayton County Water Authority (demo)", "cayenta", "America/New_York",
               ("IVR", "Kiosk", "POSConnect"),
               {8: simulator_url("cayenta", "cayenta"), 9: "InvoiceCloud", 10: "demo-cayenta-rtdr",
                **{n: simulator_url("cayenta", "cayenta") for n in (11, 14, 17)},
                **{n: "InvoiceCloud" for n in (12, 15, 18)}, **{n: f"demo-cayenta-{n}" for n in (13, 16, 19)},
                28: '{"block_ach": ["NOACH"], "block_cc": ["NOCC"], "cash_only": ["CASH"]}',
                32: "1", 107: "PASTDUE_AMT", 114: "1"}),
    DemoBiller(1966, "Town of Riverside Utilities (demo)", "inhance", "America/Chicago", ("IVR", "CloudStore"), {}),
    DemoBiller(2778, "City of Manassas VA Utilities (demo)", "daffron", "America/New_York", ("Kiosk",),
               {**{n: simulator_url("daffron", "daffron") for n in (8, 11, 14, 17)},
                **{n: "InvoiceCloud" for n in (9, 12, 15, 18)},
                **{n: f"demo-daffron-{n}" for n in (10, 13, 16, 19)},
                20: simulator_url("daffron", "eprint/"), 32: "1", 35: "2",
                64: "0(WEB)|2(CSRWEB)|8(POS)", 65: "0(WEB)|2(CSRWEB)|8(POS)", 119: "1"}),
    DemoBiller(4411, "Harris County Co-op (demo)", "flexibill", "America/Chicago", ("IVR",), {}),
)

PEOPLE = (
    ("Alice Moreno", "12 Oak St", "alice@example.com", "5550100"),
    ("Ben Carter", "48 Pine Ave", "ben@example.com", "5550101"),
    ("Chloe Nguyen", "7 Elm Ct", "chloe@example.com", "5550102"),
    ("Dev Patel", "300 River Rd", "dev@example.com", "5550103"),
    ("Erin Walsh", "91 Hill Dr", "erin@example.com", "5550104"),
)


def _key(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def _account_number(spec: DemoBiller, i: int) -> str:
    if spec.partner == "daffron":
        return f"{35909 + i:06d}-{i + 1:03d}"
    if spec.partner == "flexibill":
        return f"{1000 + i:010d}MCS"
    return f"{spec.bid}{i + 1:05d}"


def _biller(spec: DemoBiller) -> Biller:
    biller, _ = Biller.objects.update_or_create(
        bid=spec.bid,
        defaults={
            "name": spec.name,
            "guid": _key("biller", spec.bid),
            "partner": Partner.objects.get(code=spec.partner),
            "time_zone": spec.time_zone,
            "status": BillerStatus.LIVE,
            "products": list(spec.products),
            "post_scheduled_payments": spec.partner == "daffron",
        },
    )
    have = dict(BillerSetting.objects.filter(biller=biller).values_list("definition__number", "id"))
    for number, value in spec.settings.items():
        if number not in have:  # keep what an IM changed since
            biller_setting_set(biller=biller, number=number, value=value)
    for name, value in (("BalanceForward", "1"), ("AllowPartialPayments", "1")):
        definition = BifCustomizationDefinition.objects.filter(name=name).first()
        if definition:
            BillerCustomization.objects.get_or_create(biller=biller, definition=definition, defaults={"value": value})
    group, _ = Group.objects.get_or_create(name=f"Biller {spec.bid} staff")
    group.permissions.set(Permission.objects.filter(codename__startswith="view_",
                                                    content_type__app_label__in=["billers", "payments", "exchanges"]))
    BillerStaffScope.objects.update_or_create(group=group, defaults={"biller": biller})
    return biller


def _invoice_header(spec: DemoBiller, account: Account, i: int, month: int) -> dict[str, str]:
    base, _, sub = account.account_number.partition("-")
    header = {"Custom1": f"{i + 1:03d}", "Custom2": base, "Custom3": sub or "", "Custom4": f"3210450{i:05d}",
              "Custom9": f"{9000 + i}", "Custom10": f"{base}-{12345 + month}"}
    return {k: v for k, v in header.items() if v}


def _accounts_and_invoices(spec: DemoBiller, biller: Biller) -> list[Account]:
    accounts = []
    for i, (name, street, email, phone) in enumerate(PEOPLE):
        number = _account_number(spec, i)
        account, _ = Account.objects.update_or_create(
            biller=biller,
            account_number=number,
            defaults={"name": name, "address1": street, "city": "Springfield", "state": "VA", "zip": "20110",
                      "email": email, "phone": phone, "customer_number": f"C{i + 1:04d}",
                      "location_number": f"L{i + 1:04d}", "display_account_number": number.lstrip("0"),
                      "balance_due": Decimal("84.12") + i * 10, "past_due": Decimal("12.50") if i == 3 else 0,
                      "block_ach": i == 4, "balance_source": "invoice file"},
        )
        accounts.append(account)
        for month in (10, 11):
            amount = Decimal("71.62") + i * 10 + (month - 10) * Decimal("12.50")
            Invoice.objects.update_or_create(
                biller=biller,
                invoice_number=f"{number.replace('-', '')}{month:02d}26",
                defaults={"account": account, "invoice_date": date(2026, month, 1), "due_date": date(2026, month, 25),
                          "total_amount_due": amount, "balance_due": amount, "invoice_type_id": 42,
                          "header": _invoice_header(spec, account, i, month),
                          "customer": packed({"AccountNumber": number, "CustomerName": name, "Address1": street,
                                              "City": "Springfield", "State": "VA", "Zip": "20110",
                                              "EmailAddress": email}, CR_FIELDS),
                          "details": [packed({"CustomField1": "001", "CustomField3": "Water", "CustomField9": "4500",
                                              "CustomField10": str(amount)}, ID_FIELDS)]},
            )
    return accounts


def _payments(spec: DemoBiller, biller: Biller, accounts: list[Account]) -> None:
    zone = ZoneInfo(spec.time_zone)
    plans = [("card", "visa", "web"), ("ach", "", "ivr"), ("card", "mastercard", "kiosk"), ("echeck", "", "obd"),
             ("card", "amex", "autopay")]
    for i, (account, (tender, brand, channel)) in enumerate(zip(accounts, plans)):
        guid = _key("payment", spec.bid, i)
        payment, _ = pm.Payment.objects.update_or_create(
            payment_guid=guid,
            defaults={"biller": biller, "account": account, "amount": Decimal("75.00") + i,
                      "convenience_fee": Decimal("2.95") if tender == "card" else 0, "tender": tender,
                      "card_brand": brand, "channel": channel, "approval_code": f"A01 - Approved {100 + i}",
                      "kiosk_id": "BHappy" if channel == "kiosk" else "", "source_id": 0,
                      "invoice_number": f"{account.account_number.replace('-', '')}1126",
                      "paid_at": datetime.combine(DEMO_DAY, time(9 + i, 15), zone)},
        )
        if i == 1:
            pm.AchReject.objects.update_or_create(
                payment=payment, defaults={"return_code": "R01", "reason": "Insufficient funds",
                                           "rejected_at": datetime.combine(DEMO_DAY + timedelta(days=2), time(8), zone)})
        if i == 2:
            pm.Void.objects.update_or_create(
                payment=payment, defaults={"reason": "Payer paid twice", "voided_at": payment.paid_at + timedelta(hours=1)})
    changed = datetime.combine(DEMO_DAY, time(14), zone)
    for account in accounts[:2]:
        pm.AutopayEnrollment.objects.update_or_create(biller=biller, account=account, defaults={"enrolled_at": changed})
        pm.PaperlessEnrollment.objects.update_or_create(biller=biller, account=account, defaults={"enrolled_at": changed})
        for kind, old, new in (("autopay", "0", "1"), ("paperless", "0", "1"),
                               ("email", "old@example.com", account.email), ("phone", "5550000", account.phone)):
            pm.ChangeLog.objects.update_or_create(
                biller=biller, account=account, kind=kind, changed_at=changed,
                defaults={"old_value": old, "new_value": new, "actor": "payer", "invoice_type": "Utility"})
    pm.ScheduledPayment.objects.update_or_create(
        biller=biller, account=accounts[3], scheduled_for=DEMO_DAY + timedelta(days=10),
        defaults={"amount": Decimal("156.25"), "invoice_number": f"{accounts[3].account_number.replace('-', '')}1126"})


@transaction.atomic
def seed_demo() -> list[Biller]:
    """Create or refresh the five demo billers and their data; return them."""
    billers = []
    for spec in DEMO_BILLERS:
        biller = _biller(spec)
        accounts = _accounts_and_invoices(spec, biller)
        _payments(spec, biller, accounts)
        billers.append(biller)
    return billers
