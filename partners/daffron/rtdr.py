"""Daffron / Milsoft real-time balance: MultiSpeak 3.0 GetPayableItemsList -> BalanceResult.

Rules (SPEC section 3): BalanceDue = sum of every payableItem's currentAmount, unless a
``remainingBalance`` extension exists (prepaid), then its value; PastDue = sum of pastDueAmount.
``allowableTransactionTypes``, when present, blocks CC if no card type is listed and ACH if no
ACH/eCheck type is listed (cash only = both blocked); absent, it blocks nothing. Extension
``preventCreditCard`` = Y blocks CC. Extensions are read wherever they sit (before or after an
object's fields, on the items or on the result); unknown elements are logged, never fatal.

Settings: 8 = endpoint, 9 = user, 10 = password. ``options``: ``operation`` (default
``GetPayableItemsList``) and ``soap_action`` (default the MultiSpeak 3.0 action for the operation).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from partners.balances import BalanceResult, money, setting
from partners.daffron import multispeak as ms
from partners.soap import CallResult, get_client, malformed

logger = logging.getLogger(__name__)

SETTING_ENDPOINT, SETTING_USER, SETTING_PASSWORD = 8, 9, 10

#: transactionType (lower-cased) -> payment family, first match wins.
TRANSACTION_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"credit|card"), "cc"),
    (re.compile(r"^ach|echeck"), "ach"),
    (re.compile(r"cash"), "cash"),
)
PREPAID_EXTENSION = "remainingbalance"
PREVENT_CC_EXTENSION = "preventcreditcard"
YES = frozenset({"y", "yes", "true", "1"})
ITEM_MONEY = ("currentAmount", "pastDueAmount", "lastPaymentAmount")
ITEM_TEXT = ("description", "chargeCode", "dueDate", "disconnectDate", "lastPaymentDate")
ITEM_IGNORED = ("extensions", "comments")


@dataclass
class PayableItems:
    """A GetPayableItemsList result read tolerantly; amounts still as sent."""

    items: list[dict[str, str]] = field(default_factory=list)
    allowable: list[str] | None = None
    extensions: list[tuple[str, str, str | None]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def extension(self, name: str) -> str | None:
        """Return the value of the first extension called ``name`` (case-insensitive), or None."""
        return next((value for ext, value, _ in self.extensions if ext.lower() == name), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "allowableTransactionTypes": self.allowable,
            "extensions": [{"name": n, "value": v, "type": t} for n, v, t in self.extensions],
            "unknown": self.unknown,
        }


def read_payable_items(result: etree._Element) -> PayableItems:
    """Return the payable items, allowable types and extensions found under a ``…Result`` element."""
    parsed = PayableItems()
    for element in ms.children(result):
        name = ms.local_name(element)
        if name == "payableItem":
            parsed.items.append(_read_item(element, parsed))
        elif name == "allowableTransactionTypes":
            parsed.allowable = [(t.text or "").strip() for t in ms.children(element, "transactionType")]
        elif name == "extensionsList":
            parsed.extensions.extend(ms.extension_items(element))
        elif name not in ITEM_IGNORED:
            parsed.unknown.append(name)
    if parsed.unknown:
        logger.info("GetPayableItemsList: ignored unknown elements %s", sorted(set(parsed.unknown)))
    return parsed


def _read_item(item: etree._Element, parsed: PayableItems) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in ms.children(item):
        name = ms.local_name(element)
        if name in ITEM_MONEY or name in ITEM_TEXT:
            values[name] = (element.text or "").strip()
        elif name == "extensionsList":
            parsed.extensions.extend(ms.extension_items(element))
        elif name not in ITEM_IGNORED:
            parsed.unknown.append(f"payableItem/{name}")
    return values


def payment_families(allowable: list[str]) -> set[str]:
    """Return the families ("cc", "ach", "cash") named by allowable transaction types."""
    families: set[str] = set()
    for kind in allowable:
        lowered = kind.lower()
        family = next((fam for pattern, fam in TRANSACTION_TYPES if pattern.search(lowered)), None)
        if family is None:
            logger.info("GetPayableItemsList: unknown transactionType %r", kind)
        else:
            families.add(family)
    return families


def _due_date(items: list[dict[str, str]]) -> date | None:
    """Return the earliest dueDate (the date as written, before any offset); ValueError if unreadable."""
    dates = [date.fromisoformat(item["dueDate"][:10]) for item in items if item.get("dueDate")]
    return min(dates) if dates else None


def to_balance(account_number: str, parsed: PayableItems, call: CallResult) -> BalanceResult:
    """Map parsed payable items to a BalanceResult; raises ValueError on unreadable amounts or dates."""
    prepaid = parsed.extension(PREPAID_EXTENSION)
    if prepaid is not None:
        balance = money(prepaid, field_name="remainingBalance")
    else:
        balance = sum(
            (money(i.get("currentAmount"), field_name="currentAmount") for i in parsed.items), Decimal("0.00")
        )
    past_due = sum(
        (money(i.get("pastDueAmount"), field_name="pastDueAmount") for i in parsed.items), Decimal("0.00")
    )
    families = payment_families(parsed.allowable) if parsed.allowable is not None else {"cc", "ach"}
    block_cc = "cc" not in families or (parsed.extension(PREVENT_CC_EXTENSION) or "").lower() in YES
    block_ach = "ach" not in families
    return BalanceResult(
        account_number=account_number,
        balance_due=balance,
        past_due=past_due,
        due_date=_due_date(parsed.items),
        block_cc=block_cc,
        block_ach=block_ach,
        cash_only=parsed.allowable is not None and not families & {"cc", "ach"},
        raw=parsed.as_dict(),
        request_xml=call.request_xml,
        response_xml=call.response_xml,
        duration_ms=call.duration_ms,
    )


def fetch_balance(
    settings: Mapping[int, str],
    account_number: str,
    *,
    timeout: tuple[float, float] = (2.0, 5.0),
    options: Mapping[str, str] | None = None,
) -> BalanceResult:
    """Call the biller's GetPayableItemsList and return the account's balance and blocks.

    Raises ``PartnerError(permanent=True)`` when setting 8 is missing or the partner says the
    account is unknown; ``SoapError``/``OutcomeUnknown`` (``permanent=False``) on timeouts, 5xx and
    malformed answers, with the masked envelopes attached.
    """
    options = options or {}
    operation = options.get("operation") or ms.DEFAULT_PAYABLE_ITEMS_OPERATION
    soap_action = options.get("soap_action") or ms.soap_action_for(operation)
    endpoint = setting(settings, SETTING_ENDPOINT)
    credentials = ms.Credentials(
        setting(settings, SETTING_USER, required=False), setting(settings, SETTING_PASSWORD, required=False)
    )
    envelope = ms.payable_items_request(credentials, account_number, operation=operation)
    with get_client(ms.WSDL_PATH, endpoint, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
        call = client.post(envelope, soap_action=soap_action, operation=operation)
    result = ms.result_of(call.value)
    try:
        if result is None:
            raise ValueError(f"no {operation}Result in the answer")
        return to_balance(account_number, read_payable_items(result), call)
    except ValueError as exc:
        raise malformed(call, f"{operation}: {exc}") from exc
