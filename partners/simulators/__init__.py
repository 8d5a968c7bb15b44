"""Loopback SOAP simulators for the partners with web services (AUS, Cayenta, Daffron).

``serve(partner, port=0, fixtures=None) -> SimulatorHandle``; ``python -m partners.simulators``
runs them for the demo. Network: 127.0.0.1 only.
"""

from __future__ import annotations

from partners.simulators.server import MODES, PARTNERS, SimulatorHandle, serve

__all__ = ["MODES", "PARTNERS", "SimulatorHandle", "serve"]
