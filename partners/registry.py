"""The partner registry: every partner's capability matrix, by partner code (explicit, no discovery)."""
from __future__ import annotations

from partners.aus.capabilities import CAPABILITIES as AUS
from partners.base import Capabilities
from partners.cayenta.capabilities import CAPABILITIES as CAYENTA
from partners.daffron.capabilities import CAPABILITIES as DAFFRON
from partners.flexibill.capabilities import CAPABILITIES as FLEXIBILL
from partners.inhance.capabilities import CAPABILITIES as INHANCE

CAPABILITIES: dict[str, Capabilities] = {
    "aus": AUS,
    "cayenta": CAYENTA,
    "inhance": INHANCE,
    "daffron": DAFFRON,
    "flexibill": FLEXIBILL,
}
PARTNER_CODES: tuple[str, ...] = tuple(CAPABILITIES)


def capabilities(code: str) -> Capabilities:
    """Return the capability matrix of partner ``code``; KeyError naming the known codes otherwise."""
    try:
        return CAPABILITIES[code]
    except KeyError:
        raise KeyError(f"Unknown partner code {code!r}; known codes: {', '.join(PARTNER_CODES)}") from None
