"""django-q2 tasks of invoice intake: run a stored exchange's import in the cluster."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction

from exchanges.models import Exchange, ExchangeStatus

RUN_IMPORT = "exchanges.tasks.run_import"


def run_import(exchange_id: int) -> str:
    """Claim a pending exchange (conditional UPDATE) and import its stored raw file; return a summary.

    A second delivery of the same task finds the exchange no longer pending and does nothing.
    """
    from exchanges.intake import run_exchange

    claimed = Exchange.objects.filter(pk=exchange_id, status=ExchangeStatus.PENDING).update(
        status=ExchangeStatus.RUNNING)
    if not claimed:
        return f"exchange #{exchange_id}: not pending, nothing to do"
    exchange = run_exchange(Exchange.objects.select_related("biller__partner").get(pk=exchange_id))
    counts = exchange.counts or {}
    return (f"exchange #{exchange.pk} {exchange.status}: {counts.get('invoices', 0)} invoices, "
            f"{len(exchange.errors or [])} errors")


def enqueue_import(exchange: Exchange) -> None:
    """Queue ``run_import`` for a pending exchange once the current transaction commits."""
    from django_q.tasks import async_task

    exchange_id = exchange.pk
    transaction.on_commit(lambda: async_task(RUN_IMPORT, exchange_id, task_name=f"import exchange {exchange_id}",
                                             group="intake", cluster=settings.IMPORT_CLUSTER))
