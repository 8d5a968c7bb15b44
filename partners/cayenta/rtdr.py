"""Cayenta real-time balance: GetAccountBalance -> BalanceResult.

Blocks come from the account's block/EFT indicator code, matched against the biller's setting 28
JSON ``{"block_ach": [codes], "block_cc": [codes], "cash_only": [codes]}`` (a cash-only code sets
both blocks). Setting 107 names the past-due column of the answer (default ``PASTDUE_AMT``).
The standard Cayenta integration has no budget billing. Settings: 8 = endpoint, 9/10 = credentials.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree
from zeep.helpers import serialize_object

from partners.balances import BalanceResult, money, setting
from partners.base import PartnerError
from partners.soap import CallResult, get_client, malformed

logger = logging.getLogger(__name__)

WSDL_PATH = Path(__file__).parent / "wsdl" / "cayenta.wsdl"
SETTING_ENDPOINT, SETTING_USER, SETTING_PASSWORD = 8, 9, 10
SETTING_BLOCK_CODES, SETTING_PAST_DUE_FIELD = 28, 107
DEFAULT_PAST_DUE_FIELD = "PASTDUE_AMT"
#: setting 28 key -> the blocks a matching indicator code sets.
BLOCK_RULES: dict[str, frozenset[str]] = {
    "block_ach": frozenset({"block_ach"}),
    "block_cc": frozenset({"block_cc"}),
    "cash_only": frozenset({"block_ach", "block_cc", "cash_only"}),
}


def block_codes(settings: Mapping[int, str]) -> dict[str, frozenset[str]]:
    """Return setting 28 as {rule: upper-cased codes}; raises ``PartnerError(permanent=True)`` if invalid."""
    text = setting(settings, SETTING_BLOCK_CODES, required=False)
    if not text:
        return {}
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ValueError("expected an object of code lists")
    except ValueError as exc:
        raise PartnerError(
            f"advanced setting 28 is not valid block-code JSON: {exc}", permanent=True
        ) from exc
    unknown = set(data) - set(BLOCK_RULES)
    if unknown:
        raise PartnerError(f"advanced setting 28 has unknown keys {sorted(unknown)}", permanent=True)
    return {rule: frozenset(str(code).strip().upper() for code in codes) for rule, codes in data.items()}


def blocks_for(code: str | None, codes: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Return the blocks ("block_ach", "block_cc", "cash_only") the indicator ``code`` sets."""
    wanted = (code or "").strip().upper()
    if not wanted:
        return frozenset()
    return frozenset().union(*(BLOCK_RULES[rule] for rule, listed in codes.items() if wanted in listed))


def extra_columns(value: Any) -> dict[str, str]:
    """Return the answer's columns after the fixed ones (the lax tail) as {name: text}."""
    columns: dict[str, str] = {}
    for element in getattr(value, "_value_1", None) or []:
        if isinstance(element, etree._Element) and isinstance(element.tag, str):
            columns[etree.QName(element).localname] = (element.text or "").strip()
    return columns


def to_balance(
    account_number: str, call: CallResult, *, codes: Mapping[str, frozenset[str]], past_due_field: str
) -> BalanceResult:
    """Map a GetAccountBalance answer.

    Raises ValueError when the answer is empty, for another account, or has an unreadable amount.
    """
    data = call.value
    if data is None:
        raise ValueError("empty GetAccountBalanceResult")
    if str(data.ACCOUNT_NO or "").strip() != account_number.strip():
        raise ValueError(f"answer is for account {data.ACCOUNT_NO!r}, not {account_number!r}")
    columns = extra_columns(data)
    column = next((name for name in columns if name.upper() == past_due_field.upper()), None)
    if column is None:
        logger.warning(
            "GetAccountBalance: no past-due column %s for %s; past due = 0", past_due_field, account_number
        )
    blocks = blocks_for(data.BLOCK_EFT_IND, codes)
    serialized = dict(serialize_object(data, dict))  # type: ignore[no-untyped-call]
    raw = {k: v for k, v in serialized.items() if k != "_value_1"}
    return BalanceResult(
        account_number=account_number,
        balance_due=money(data.BALANCE_AMT, field_name="BALANCE_AMT"),
        past_due=money(columns.get(column) if column else None, field_name=past_due_field),
        due_date=data.DUE_DATE,
        block_cc="block_cc" in blocks,
        block_ach="block_ach" in blocks,
        cash_only="cash_only" in blocks,
        raw={**raw, "columns": columns},
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
    """Call GetAccountBalance for ``account_number`` and return its balance, past due and blocks.

    ``options`` may carry ``soap_action`` to override the WSDL's. Raises ``PartnerError(permanent=
    True)`` when setting 8 is missing, setting 28 is invalid or Cayenta says the account is
    unknown; ``SoapError`` / ``OutcomeUnknown`` (``permanent=False``) on timeouts, 5xx and
    malformed answers.
    """
    codes = block_codes(settings)
    past_due_field = setting(settings, SETTING_PAST_DUE_FIELD, required=False) or DEFAULT_PAST_DUE_FIELD
    endpoint = setting(settings, SETTING_ENDPOINT)
    with get_client(WSDL_PATH, endpoint, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
        call = client.call(
            "GetAccountBalance",
            (options or {}).get("soap_action") or None,
            USER_ID=setting(settings, SETTING_USER, required=False),
            PASSWORD=setting(settings, SETTING_PASSWORD, required=False),
            ACCOUNT_NO=account_number,
        )
    try:
        return to_balance(account_number, call, codes=codes, past_due_field=past_due_field)
    except (ValueError, AttributeError) as exc:
        raise malformed(call, f"GetAccountBalance: {exc}") from exc
