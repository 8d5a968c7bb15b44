"""The outbox: events waiting for delivery to the biller's partner (or for export)."""
from __future__ import annotations

from typing import Any


def record_event(*, event_type: str, biller: Any, obj: Any) -> None:
    """Create the outbox event for ``obj`` in the current transaction."""
    # Delivery (the data pump) builds on this; until an event model exists nothing is queued.
    return None
