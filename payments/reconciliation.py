"""Reconciliation of a batch: every payment taken is voided, exported, or pumped, by tender and channel.

Each payment of the batch (kind payment) lands in exactly one column:

- ``voided``: voided before the batch closed (never sent);
- ``exported``: in the batch's payment file(s) (``awaiting_export`` while they are not written yet);
- ``delivered``, ``retrying``, ``unknown``, ``dead``, ``not_sent``: its data pump event's state
  (``pumped_counts``, which reads the outbox once an ``OutboxEvent`` model exists);
- ``not_tracked``: sent by the pump, but no outbox exists yet to say what became of it;
- ``unaccounted``: none of the above: a payment the partner will never hear of.

The batch disagrees when a payment is unaccounted or dead, when the payment files on disk are missing,
altered, or hold other counts or totals than the payments they were made from, or when the payments in
the batch's period changed since it closed. It is pending while anything is still in flight.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Model, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from payments.batch_models import Batch, BatchExportStatus, ExportKind, ReconciliationStatus
from payments.exports import batch_payments, exported_payments, file_path, file_sha256, outbox_model
from payments.models import Channel, Payment, PaymentKind, Tender

PUMP_STATES = ("delivered", "retrying", "unknown", "dead", "not_sent")
COLUMNS = ("taken", "voided", "exported", "awaiting_export", *PUMP_STATES, "not_tracked", "unaccounted")
#: OutboxEvent status -> reconciliation column. ``for_export`` is absent on purpose: a payment the pump
#: routed to a file that is not in the batch's files is unaccounted.
OUTBOX_STATE = {
    "delivered": "delivered", "pending": "retrying", "delivering": "retrying", "retrying": "retrying",
    "for_download": "retrying", "unknown": "unknown", "dead": "dead", "skipped": "not_sent",
    "not_applicable": "not_sent",
}
LABELS = {"tender": dict(Tender.choices), "channel": dict(Channel.choices)}

Tally = dict[str, Any]  # {"total": cell, "tender": {code: cell}, "channel": {code: cell}}


def _cell() -> dict[str, Any]:
    return {"count": 0, "amount": Decimal(0)}


def empty_tally() -> Tally:
    return {"total": _cell(), "tender": {}, "channel": {}}


def _add(tally: Tally, tender: str, channel: str, count: int, amount: Decimal) -> None:
    for cell in (tally["total"], tally["tender"].setdefault(tender, _cell()),
                 tally["channel"].setdefault(channel, _cell())):
        cell["count"] += count
        cell["amount"] += amount


def tally(payments: QuerySet[Payment]) -> Tally:
    """Counts and amounts (fees included) of ``payments`` in total, by tender and by channel."""
    result = empty_tally()
    rows = payments.values("tender", "channel").annotate(n=Count("pk"), amount=Sum("amount")).order_by()
    for r in rows:
        _add(result, r["tender"], r["channel"], r["n"], r["amount"] or Decimal(0))
    return result


def _pump_candidates(batch: Batch) -> QuerySet[Payment]:
    """The batch's payments that are neither voided before close nor exported: the pump's to send."""
    exported = exported_payments(batch).values("pk")
    return (batch_payments(batch).filter(kind=PaymentKind.PAYMENT)
            .exclude(void__voided_at__lt=batch.period_end).exclude(pk__in=exported))


def _latest_event_status(model: type[Model]) -> Subquery | None:
    """Each payment's latest payment event status, or None if the outbox lacks the expected fields."""
    names = {f.name for f in model._meta.get_fields()}
    if not {"content_type", "object_id", "event_type", "status"} <= names:
        return None
    from django.contrib.contenttypes.models import ContentType

    events = model._default_manager.filter(content_type=ContentType.objects.get_for_model(Payment),
                                           event_type="payment", object_id=OuterRef("pk"))
    return Subquery(events.order_by("-pk").values("status")[:1])


def pumped_counts(batch: Batch) -> dict[str, Tally]:
    """The pump's outcome for the batch's payments: {state: tally} for each of PUMP_STATES.

    Reads the latest outbox event of each payment that is neither voided before close nor exported.
    Zeros for every state until an ``OutboxEvent`` model exists (``outbox_available`` says which).
    Payments without an event, or routed to a file they are not in, are left out (unaccounted).
    """
    result = {state: empty_tally() for state in PUMP_STATES}
    model = outbox_model()
    status = _latest_event_status(model) if model is not None else None
    if status is None:
        return result
    rows = (_pump_candidates(batch).annotate(event_status=status).exclude(event_status=None)
            .values("tender", "channel", "event_status").annotate(n=Count("pk"), amount=Sum("amount")).order_by())
    for r in rows:
        state = OUTBOX_STATE.get(str(r["event_status"]))
        if state is not None:
            _add(result[state], r["tender"], r["channel"], r["n"], r["amount"] or Decimal(0))
    return result


def outbox_available() -> bool:
    model = outbox_model()
    return model is not None and _latest_event_status(model) is not None


def _subtract(a: Tally, b: Tally) -> Tally:
    out = empty_tally()
    out["total"] = {"count": a["total"]["count"] - b["total"]["count"],
                    "amount": a["total"]["amount"] - b["total"]["amount"]}
    for dim in ("tender", "channel"):
        for key in set(a[dim]) | set(b[dim]):
            x, y = a[dim].get(key, _cell()), b[dim].get(key, _cell())
            out[dim][key] = {"count": x["count"] - y["count"], "amount": x["amount"] - y["amount"]}
    return out


def _sum(tallies: list[Tally]) -> Tally:
    out = empty_tally()
    for t in tallies:
        for dim in ("tender", "channel"):
            for key, cell in t[dim].items():
                target = out[dim].setdefault(key, _cell())
                target["count"] += cell["count"]
                target["amount"] += cell["amount"]
        out["total"]["count"] += t["total"]["count"]
        out["total"]["amount"] += t["total"]["amount"]
    return out


def _file_issues(batch: Batch) -> list[str]:
    """Payment files that are missing, altered on disk, or disagree with the batch's payments."""
    issues = []
    files = list(batch.files.filter(kind=ExportKind.PAYMENTS))
    for f in files:
        try:
            path = file_path(f)
            if not path.exists():
                issues.append(f"{f.file_name}: missing on disk")
            elif file_sha256(path) != f.sha256:
                issues.append(f"{f.file_name}: content on disk differs from the recorded SHA-256")
        except ValueError as exc:
            issues.append(str(exc))
    if batch.export_status == BatchExportStatus.DONE:
        selection = exported_payments(batch)
        agg = selection.aggregate(n=Count("pk"), gross=Sum("amount"), fees=Sum("convenience_fee"))
        expected_rows, expected_total = agg["n"], (agg["gross"] or Decimal(0)) - (agg["fees"] or Decimal(0))
        rows, total = sum(f.row_count for f in files), sum((f.total for f in files), Decimal(0))
        if (rows, total) != (expected_rows, expected_total):
            issues.append(f"payment files hold {rows} rows totalling {total}; the batch's payments for export "
                          f"are {expected_rows} totalling {expected_total}")
    elif batch.export_status == BatchExportStatus.FAILED:
        issues.append(f"export refused: {batch.export_error}")
    return issues


def reconcile(batch: Batch) -> dict[str, Any]:
    """Compute the batch's reconciliation: {"status", "columns", "tallies", "issues", "outbox"}."""
    taken_qs = batch_payments(batch).filter(kind=PaymentKind.PAYMENT)
    t: dict[str, Tally] = {c: empty_tally() for c in COLUMNS}
    t["taken"] = tally(taken_qs)
    t["voided"] = tally(taken_qs.filter(void__voided_at__lt=batch.period_end))
    selection = tally(exported_payments(batch))
    if batch.export_status == BatchExportStatus.DONE:
        t["exported"] = selection
    elif batch.export_status in (BatchExportStatus.PENDING, BatchExportStatus.RUNNING):
        t["awaiting_export"] = selection
    has_outbox = outbox_available()
    if has_outbox:
        t.update(pumped_counts(batch))
    else:
        t["not_tracked"] = tally(_pump_candidates(batch))
    t["unaccounted"] = _subtract(t["taken"], _sum([t[c] for c in COLUMNS if c not in ("taken", "unaccounted")]))
    issues = _file_issues(batch)
    if (t["taken"]["total"]["count"], t["taken"]["total"]["amount"]) != (batch.payment_count, batch.payment_total):
        issues.append(f"the batch closed with {batch.payment_count} payments totalling {batch.payment_total}; "
                      f"its period now holds {t['taken']['total']['count']} totalling "
                      f"{t['taken']['total']['amount']}")
    unaccounted = t["unaccounted"]["total"]
    if unaccounted["count"] or unaccounted["amount"]:
        issues.append(f"{unaccounted['count']} payments ({unaccounted['amount']}) neither exported nor pumped")
    if t["dead"]["total"]["count"]:
        issues.append(f"{t['dead']['total']['count']} payments dead in the pump")
    in_flight = sum(t[c]["total"]["count"] for c in ("retrying", "unknown", "awaiting_export", "not_tracked"))
    if issues:
        status = ReconciliationStatus.DISAGREES
    elif in_flight:
        status = ReconciliationStatus.PENDING
    else:
        status = ReconciliationStatus.AGREES
    return {"status": status, "columns": list(COLUMNS), "tallies": t, "issues": issues, "outbox": has_outbox}


def _jsonable(report: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The report with amounts as strings and rows laid out for display (stored on the batch)."""
    t = report["tallies"]

    def cells(dim: str, key: str) -> dict[str, dict[str, Any]]:
        out = {}
        for col in COLUMNS:
            cell = t[col]["total"] if dim == "total" else t[col][dim].get(key, _cell())
            out[col] = {"count": cell["count"], "amount": f"{cell['amount']:.2f}"}
        return out

    rows = [{"dimension": "total", "key": "total", "label": "All payments", "cells": cells("total", "")}]
    for dim in ("tender", "channel"):
        for key in sorted(t["taken"][dim] | t["unaccounted"][dim]):
            rows.append({"dimension": dim, "key": key, "label": LABELS[dim].get(key, key),
                         "cells": cells(dim, key)})
    return {"status": str(report["status"]), "columns": report["columns"], "rows": rows,
            "issues": report["issues"], "outbox": report["outbox"], "checked_at": now.isoformat()}


def batch_reconcile(*, batch: Batch, now: datetime | None = None) -> Batch:
    """Reconcile the batch and store the result and its status (flagged when it disagrees)."""
    now = now or timezone.now()
    report = _jsonable(reconcile(batch), now)
    Batch.objects.filter(pk=batch.pk).update(reconciliation=report, reconciliation_status=report["status"],
                                             reconciled_at=now)
    batch.reconciliation, batch.reconciliation_status, batch.reconciled_at = report, report["status"], now
    return batch
