"""An account's balance as callers see it: fresh from the partner where it offers RTDR, else stored.

The RTDR call itself, its breaker and its exchange records live in ``billers.rtdr``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billers.models import Account


@dataclass(frozen=True)
class BalanceView:
    account_number: str
    balance_due: Decimal
    past_due: Decimal
    block_cc: bool
    block_ach: bool
    stale: bool
    stale_reason: str
    source: str  # "rtdr", "invoice file", "balance file", "stored" ...
    updated_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account_number,
            "balance_due": str(self.balance_due),
            "past_due": str(self.past_due),
            "block_cc": self.block_cc,
            "block_ach": self.block_ach,
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "source": self.source,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def stored_balance(account: Account, *, stale: bool = False, reason: str = "") -> BalanceView:
    """The last known balance of the account."""
    return BalanceView(
        account_number=account.account_number,
        balance_due=account.balance_due,
        past_due=account.past_due,
        block_cc=account.block_cc,
        block_ach=account.block_ach,
        stale=stale,
        stale_reason=reason,
        source=account.balance_source or "stored",
        updated_at=account.balance_updated_at,
    )


def account_balance(account: Account, *, refresh: bool = True) -> BalanceView:
    """Return the account's balance, refreshed from the partner when it offers RTDR and ``refresh`` is set.

    Partners without RTDR (inHance, FlexiBill) give the stored balance, ``source`` as stored. Never
    raises for a partner failure: the last known balance comes back marked stale with the reason
    (timeout, connection error, SOAP fault, HTTP error, malformed response, breaker open).
    """
    if not refresh:
        return stored_balance(account)
    # Imported here: billers.rtdr builds on BalanceView and stored_balance from this module.
    from billers.rtdr import refresh_balance

    return refresh_balance(account)
