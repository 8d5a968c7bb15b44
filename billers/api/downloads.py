"""inHance downloads: payments and change logs not yet acknowledged, and their acknowledgement.

Each item is handed out, oldest recorded first, on every download until the biller's system acknowledges
it; after that it is never handed out again. The acknowledgement state lives in ``DownloadAck``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from billers.api.base import money
from billers.api_models import ApiKey, DownloadAck, DownloadKind
from billers.models import Account, Biller
from payments.models import ChangeLog, Payment, Tender
from payments.outbox import outbox_events_settle
from payments.outbox_models import OutboxEvent


def _unacked(qs: QuerySet, biller: Biller, kind: str) -> QuerySet:
    acked = DownloadAck.objects.filter(biller=biller, kind=kind, object_id=OuterRef("pk"))
    return qs.filter(biller=biller).exclude(Exists(acked))


def payments_pending(biller: Biller, *, after: int = 0, limit: int = 100) -> list[Payment]:
    """Up to ``limit`` unacknowledged payments with id > ``after``, oldest first."""
    qs = _unacked(Payment.objects.all(), biller, DownloadKind.PAYMENT).filter(pk__gt=after)
    return list(qs.select_related("account").order_by("pk")[:limit])


def changes_pending(biller: Biller, *, after: int = 0, limit: int = 100) -> list[ChangeLog]:
    """Up to ``limit`` unacknowledged autopay / paperless / email / phone change logs with id > ``after``."""
    qs = _unacked(ChangeLog.objects.all(), biller, DownloadKind.CHANGE).filter(pk__gt=after)
    return list(qs.select_related("account").order_by("pk")[:limit])


def payment_item(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "payment_guid": str(p.payment_guid),
        "account_number": p.account.account_number,
        "invoice_number": p.invoice_number,
        "kind": p.kind,
        "amount": money(p.amount),
        "convenience_fee": money(p.convenience_fee),
        "net_amount": money(Decimal(p.amount) - p.convenience_fee),
        "tender": p.card_brand if p.tender == Tender.CARD and p.card_brand else p.tender,
        "card_brand": p.card_brand,
        "channel": p.channel,
        "approval_code": p.approval_code,
        "kiosk_id": p.kiosk_id,
        "check_number": p.check_number,
        "status": p.status,
        "paid_at": p.paid_at.isoformat(),
    }


def change_item(c: ChangeLog) -> dict[str, Any]:
    return {
        "id": c.pk,
        "kind": c.kind,
        "account_number": c.account.account_number,
        "old_value": c.old_value,
        "new_value": c.new_value,
        "invoice_type": c.invoice_type,
        "changed_at": c.changed_at.isoformat(),
    }


@dataclass
class AckResult:
    acknowledged: dict[str, int] = field(default_factory=lambda: {"payments": 0, "changes": 0})
    already_acknowledged: dict[str, int] = field(default_factory=lambda: {"payments": 0, "changes": 0})
    unknown: dict[str, list[int]] = field(default_factory=lambda: {"payments": [], "changes": []})


ACK_TARGETS: dict[str, tuple[str, type[Payment | ChangeLog]]] = {
    "payments": (DownloadKind.PAYMENT, Payment),
    "changes": (DownloadKind.CHANGE, ChangeLog),
}


@transaction.atomic
@transaction.atomic
def downloads_acknowledge(
    *, biller: Biller, key: ApiKey | None, payments: list[int], changes: list[int]
) -> AckResult:
    """Acknowledge payment and change ids of ``biller``; ids of other billers or unknown are reported back.

    The outbox events of what is newly acknowledged (``for_download``) are settled as delivered, so the
    reconciliation and the dashboard see inHance's payments as received.
    """
    result = AckResult()
    now = timezone.now()
    for name, ids in (("payments", payments), ("changes", changes)):
        kind, model = ACK_TARGETS[name]
        wanted = list(dict.fromkeys(ids))
        mine = set(model.objects.filter(biller=biller, pk__in=wanted).values_list("pk", flat=True))
        done = set(
            DownloadAck.objects.filter(biller=biller, kind=kind, object_id__in=mine).values_list(
                "object_id", flat=True
            )
        )
        new = [i for i in wanted if i in mine and i not in done]
        DownloadAck.objects.bulk_create(
            [DownloadAck(biller=biller, kind=kind, object_id=i, acked_at=now, key=key) for i in new],
            ignore_conflicts=True,
        )
        if new:
            outbox_events_settle(
                events=OutboxEvent.objects.filter(
                    biller=biller, content_type=ContentType.objects.get_for_model(model), object_id__in=new),
                note=f"acknowledged through the inHance download API{f' (key {key.pk})' if key else ''}",
            )
        result.acknowledged[name] = len(new)
        result.already_acknowledged[name] = len(done)
        result.unknown[name] = [i for i in wanted if i not in mine]
    return result


BALANCE_SOURCE = "inhance web service"


@transaction.atomic
def balances_apply(*, biller: Biller, rows: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Store balance updates (balance due, optional past due and block flags); return (updated, not found)."""
    now = timezone.now()
    numbers = [r["account_number"] for r in rows]
    ids = dict(
        Account.objects.filter(biller=biller, account_number__in=numbers).values_list("account_number", "pk")
    )
    updated, missing = 0, []
    for row in rows:
        pk = ids.get(row["account_number"])
        if pk is None:
            missing.append(row["account_number"])
            continue
        values = {
            "balance_due": row["balance_due"],
            "balance_source": BALANCE_SOURCE,
            "balance_updated_at": now,
            "updated_at": now,
        }
        values.update({f: row[f] for f in ("past_due", "block_cc", "block_ach") if f in row})
        updated += Account.objects.filter(pk=pk).update(**values)
    return updated, missing
