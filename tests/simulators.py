"""The three SOAP partner simulators on loopback, for the RTDR, pump and bill-image tests."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from partners.simulators import SimulatorHandle, serve

SOAP_PARTNERS = ("aus", "cayenta", "daffron")


@contextmanager
def running_simulators(fixtures: Mapping[str, dict[str, Any]] | None = None) -> Iterator[dict[str, SimulatorHandle]]:
    """Serve AUS, Cayenta and Daffron (``fixtures`` per partner merged over each one's defaults)."""
    handles = {partner: serve(partner, fixtures=(fixtures or {}).get(partner)) for partner in SOAP_PARTNERS}
    try:
        yield handles
    finally:
        for handle in handles.values():
            handle.stop()


def simulators_reset(handles: dict[str, SimulatorHandle], *, slow_seconds: float) -> dict[str, SimulatorHandle]:
    """Put every simulator back in mode "ok" with no recorded calls; "slow" answers take ``slow_seconds``."""
    for handle in handles.values():
        handle.reset()
        handle.slow_seconds = slow_seconds
    return handles
