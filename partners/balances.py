"""The result of a real-time balance call (RTDR), shared by every partner that offers one.

Each ``partners/<code>/rtdr.py`` maps its partner's answer into :class:`BalanceResult`; the billers
app stores it (balance, past due, blocks) and ``exchanges`` keeps the envelopes and the timing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from partners.base import PartnerError

CENT = Decimal("0.01")


@dataclass(frozen=True)
class BalanceResult:
    """What a partner told us about one account, with the exchange that told us.

    ``block_cc`` / ``block_ach`` are the payment blocks to apply; ``cash_only`` says the partner
    accepts only cash (both blocks are then set too). ``raw`` is the parsed answer as plain data,
    for the exchange log; the envelopes are masked.
    """

    account_number: str
    balance_due: Decimal
    past_due: Decimal
    due_date: date | None
    block_cc: bool
    block_ach: bool
    cash_only: bool
    raw: dict[str, Any] = field(default_factory=dict)
    request_xml: str = ""
    response_xml: str = ""
    duration_ms: float = 0.0


def money(value: object, *, field_name: str = "amount") -> Decimal:
    """Return ``value`` as a Decimal rounded to cents (half up); ``None`` or blank counts as zero.

    Partners send xsd:float / xsd:decimal text such as ``232.1`` or ``1.5E2``: it is parsed with
    Decimal, never through float. Raises ``ValueError`` for text that is not a finite number and
    ``TypeError`` for a float (zeep gives Decimal for xsd:decimal: a float means a caller bug).
    """
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        # zeep never gives floats for our xsd:decimal fields; refuse rather than round silently.
        raise TypeError(f"{field_name}: float given, expected text or Decimal")
    text = str(value).strip()
    if not text:
        return Decimal("0.00")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{field_name}: {text!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{field_name}: {text!r} is not a finite number")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def setting(settings: Mapping[int, str], number: int, *, required: bool = True) -> str:
    """Return advanced setting ``number`` from a ``Mapping[int, str]``, stripped.

    Raises ``PartnerError(permanent=True)`` when a required setting is missing or blank: the
    biller is misconfigured and retrying cannot help.
    """
    value = str(settings.get(number, "") or "").strip()
    if required and not value:
        raise PartnerError(f"advanced setting {number} is not set", permanent=True)
    return value
