"""Harris Advanced AUS real-time data: GetAccountData -> BalanceResult, and the IVR account search.

AUS has one "cash only" flag and no separate CC/ACH blocks over RTDR: cash only sets both blocks
(SPEC section 3). Settings: 8 = endpoint, 9 = user name, 10 = password (both optional).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeep.helpers import serialize_object

from partners.balances import BalanceResult, money, setting
from partners.soap import CallResult, get_client, malformed

WSDL_PATH = Path(__file__).parent / "wsdl" / "aus.wsdl"
SETTING_ENDPOINT, SETTING_USER, SETTING_PASSWORD = 8, 9, 10


def _call(
    settings: Mapping[int, str],
    timeout: tuple[float, float],
    operation: str,
    soap_action: str | None = None,
    **arguments: Any,
) -> CallResult:
    """Call ``operation`` at the RTDR endpoint (setting 8) with the credentials (9/10) AUS requires."""
    endpoint = setting(settings, SETTING_ENDPOINT)
    credentials = {
        "UserName": setting(settings, SETTING_USER, required=False),
        "Password": setting(settings, SETTING_PASSWORD, required=False),
    }
    with get_client(WSDL_PATH, endpoint, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
        return client.call(operation, soap_action, **credentials, **arguments)


def _same_account(asked: str, answered: Any) -> bool:
    return str(answered or "").strip().lstrip("0") == asked.strip().lstrip("0")


def to_balance(account_number: str, call: CallResult) -> BalanceResult:
    """Map a GetAccountData answer; raises ValueError when it is empty or for another account."""
    data = call.value
    if data is None:
        raise ValueError("empty GetAccountDataResult")
    if not _same_account(account_number, data.AccountNumber):
        raise ValueError(f"answer is for account {data.AccountNumber!r}, not {account_number!r}")
    cash_only = bool(data.CashOnly)
    return BalanceResult(
        account_number=account_number,
        balance_due=money(data.BalanceDue, field_name="BalanceDue"),
        past_due=money(data.PastDueAmount, field_name="PastDueAmount"),
        due_date=data.DueDate,
        block_cc=cash_only,
        block_ach=cash_only,
        cash_only=cash_only,
        raw=dict(serialize_object(data, dict)),  # type: ignore[no-untyped-call]
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
    """Call GetAccountData for ``account_number`` and return its balance, past due, due date, blocks.

    ``options`` may carry ``soap_action`` to override the WSDL's. Raises ``PartnerError(permanent=
    True)`` when setting 8 is missing or AUS says the account is unknown; ``SoapError`` /
    ``OutcomeUnknown`` (``permanent=False``) on timeouts, 5xx and malformed answers.
    """
    soap_action = (options or {}).get("soap_action") or None
    call = _call(settings, timeout, "GetAccountData", soap_action, AccountNumber=account_number)
    try:
        return to_balance(account_number, call)
    except (ValueError, AttributeError) as exc:
        raise malformed(call, f"GetAccountData: {exc}") from exc


@dataclass(frozen=True)
class AccountSearch:
    """Account numbers AUS holds for one customer number at one location (IVR lookup)."""

    account_numbers: tuple[str, ...]
    request_xml: str
    response_xml: str
    duration_ms: float


def search_accounts(
    settings: Mapping[int, str],
    customer_number: str,
    location_number: str,
    *,
    timeout: tuple[float, float] = (2.0, 5.0),
) -> AccountSearch:
    """Call SearchByAdvancedUtilityCustomerAndLocationNumber; raises like :func:`fetch_balance`."""
    call = _call(
        settings,
        timeout,
        "SearchByAdvancedUtilityCustomerAndLocationNumber",
        CustomerNumber=customer_number,
        LocationNumber=location_number,
    )
    # zeep unwraps a result holding one repeated element to a plain list (None when empty).
    found = call.value if isinstance(call.value, list) else getattr(call.value, "AccountNumber", None)
    numbers = tuple(str(n).strip() for n in (found or []))
    return AccountSearch(numbers, call.request_xml, call.response_xml, call.duration_ms)
