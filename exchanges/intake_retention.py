"""Retention of raw exchange payloads: files older than the retention days go, the rows stay."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from exchanges import storage
from exchanges.models import Exchange, ExchangeStatus


def prune_raw_files(*, older_than_days: int, dry_run: bool = False, now: datetime | None = None) -> dict[str, object]:
    """Delete the raw files of exchanges created before now - ``older_than_days``; return a summary.

    Each pruned row keeps its path, size and checksum and gets ``raw_pruned_at``. Exchanges still
    pending or running are skipped. A file already gone counts as ``missing`` (and is marked too).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    candidates = (Exchange.objects.filter(created_at__lt=cutoff, raw_pruned_at__isnull=True)
                  .exclude(raw_path="").exclude(status__in=[ExchangeStatus.PENDING, ExchangeStatus.RUNNING])
                  .only("pk", "raw_path", "raw_size").order_by("pk"))
    pruned = missing = size = 0
    for exchange in candidates.iterator(chunk_size=500):
        size += exchange.raw_size or 0
        if dry_run:
            pruned += 1
            continue
        try:
            removed = storage.remove(exchange.raw_path)
        except ValueError:  # a path outside the store is never deleted
            removed = False
        pruned += removed
        missing += not removed
        Exchange.objects.filter(pk=exchange.pk).update(raw_pruned_at=now)
    return {"pruned": pruned, "missing": missing, "bytes": size, "older_than_days": older_than_days,
            "cutoff": cutoff.isoformat(), "dry_run": dry_run}
