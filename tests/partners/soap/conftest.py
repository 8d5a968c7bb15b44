"""Fixtures for the SOAP layer tests: one loopback simulator per partner, reset between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from partners.simulators import SimulatorHandle, serve

PROJECT = Path(__file__).resolve().parents[3]
CB_SERVER_WSDL = Path(
    os.environ.get("MULTISPEAK_WSDL", PROJECT.parent / "shared" / "multispeak" / "CB_Server_v3.0ac.wsdl")
)
#: Small timeouts keep failure tests fast: (connect, read) seconds.
FAST = (0.5, 0.3)
CAYENTA_BLOCKS = '{"block_ach": ["A"], "block_cc": ["C"], "cash_only": ["X"]}'


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[str, SimulatorHandle]]:
    handles = {partner: serve(partner) for partner in ("aus", "cayenta", "daffron")}
    yield handles
    for handle in handles.values():
        handle.stop()


def _fresh(handle: SimulatorHandle) -> SimulatorHandle:
    handle.reset()
    handle.slow_seconds = 3.0
    return handle


@pytest.fixture
def aus_sim(_servers: dict[str, SimulatorHandle]) -> SimulatorHandle:
    return _fresh(_servers["aus"])


@pytest.fixture
def cayenta_sim(_servers: dict[str, SimulatorHandle]) -> SimulatorHandle:
    return _fresh(_servers["cayenta"])


@pytest.fixture
def daffron_sim(_servers: dict[str, SimulatorHandle]) -> SimulatorHandle:
    return _fresh(_servers["daffron"])


def settings_for(handle: SimulatorHandle, extra: dict[int, str] | None = None) -> dict[int, str]:
    """Advanced settings pointing RTDR (8) at ``handle``, credentials 9/10, Cayenta's 28, plus ``extra``."""
    base = {8: handle.url, 9: "InvoiceCloud", 10: "s3cret-pw"}
    if handle.partner == "cayenta":
        base[28] = CAYENTA_BLOCKS
    return {**base, **(extra or {})}
