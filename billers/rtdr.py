"""Real-time balances (RTDR): ask the biller's partner, store the answer, never fail the lookup.

``refresh_balance(account)`` calls the partner's ``fetch_balance`` (AUS ``GetAccountData``, Cayenta
``GetAccountBalance``, Daffron ``GetPayableItemsList``) with the biller's advanced settings and the
``RTDR_CONNECT_TIMEOUT`` / ``RTDR_READ_TIMEOUT`` timeouts, writes balance, past due and both payment
blocks on the account (RTDR is one of the two writers setting 32 allows), and records an ``Exchange``
(kind rtdr, source soap) whose raw payload is the masked envelopes (``billers.rtdr_envelopes``).

A timeout, connection error, SOAP fault, HTTP error or malformed answer gives the last known balance,
``stale`` with the reason; so does an open circuit breaker (``billers.rtdr_health``), without calling.

The lookup path stays within a millisecond or so of the SOAP call itself: the biller's settings are
reused for ``RTDR_SETTINGS_TTL`` seconds, the breaker is read from memory, and with
``RTDR_WRITE_BEHIND`` an answered call outside any transaction is handed to a background writer
(``billers.write_behind``) that stores account, exchange, envelopes and health in batches within
``RTDR_WRITE_DELAY`` seconds. The caller gets the fresh balance at once. Failures, and lookups inside a
caller's transaction, are written before the lookup returns.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billers.balances import BalanceView, stored_balance
from billers.models import Account, Biller
from billers.rtdr_envelopes import StoredEnvelopes, envelopes_store
from billers.rtdr_health import (
    BreakerConfig,
    Outcome,
    breaker_admit,
    breaker_config,
    breaker_open_here,
    breaker_skipped,
    endpoint_key,
    health_for,
    health_record,
    health_successes_record,
)
from billers.rtdr_models import BreakerState, RtdrHealth
from billers.selectors import setting_values_recent
from billers.write_behind import WriteBehind
from exchanges.models import Exchange, ExchangeKind, ExchangeSource, ExchangeStatus
from partners.aus import rtdr as aus_rtdr
from partners.balances import BalanceResult
from partners.base import PartnerError
from partners.cayenta import rtdr as cayenta_rtdr
from partners.daffron import multispeak
from partners.daffron import rtdr as daffron_rtdr
from partners.soap import OutcomeUnknown, SoapError

logger = logging.getLogger(__name__)

Fetcher = Callable[..., BalanceResult]

#: Partner code -> its RTDR call. Partners absent here (inHance, FlexiBill) have no RTDR.
RTDR_FETCHERS: dict[str, Fetcher] = {
    "aus": aus_rtdr.fetch_balance,
    "cayenta": cayenta_rtdr.fetch_balance,
    "daffron": daffron_rtdr.fetch_balance,
}
#: Partner code -> the operation called (Daffron's may be renamed per biller, see ``partner_options``).
RTDR_OPERATIONS: dict[str, str] = {
    "aus": "GetAccountData",
    "cayenta": "GetAccountBalance",
    "daffron": multispeak.DEFAULT_PAYABLE_ITEMS_OPERATION,
}
SETTING_ENDPOINT, SETTING_PASSWORD, SETTING_JSON = 8, 10, 131
BREAKER_OPEN_REASON = "partner unavailable (breaker open)"
SOURCE_RTDR = "rtdr"


def offers_rtdr(biller: Biller) -> bool:
    """Return True when the biller's partner offers RTDR (whether or not setting 8 is filled in)."""
    return biller.partner.code in RTDR_FETCHERS


def partner_options(partner_code: str, values: Mapping[int, str]) -> dict[str, str]:
    """Return the ``options`` for ``fetch_balance``: Daffron's operation / SOAPAction from setting 131.

    Setting 131 ``{"Daffron": {"RtdrConfigs": {"Operation": "PayableItemsList", "SoapAction": "..."}}}``
    renames the payable-items operation for billers whose server follows the 3.0ac dump. Unreadable
    JSON is ignored with a warning (admin validates 131 as JSON already).
    """
    if partner_code != "daffron" or not values.get(SETTING_JSON):
        return {}
    try:
        configs = json.loads(values[SETTING_JSON]).get("Daffron", {}).get("RtdrConfigs", {})
    except (ValueError, AttributeError):
        logger.warning("setting 131 is not a JSON object; default RTDR operation used")
        return {}
    options = {"operation": configs.get("Operation"), "soap_action": configs.get("SoapAction")}
    return {key: str(value) for key, value in options.items() if value}


def failure_category(exc: Exception) -> str:
    """Return a short name for why a call failed: timeout, connection error, SOAP fault, HTTP error,
    malformed response, misconfigured or unexpected error."""
    if not isinstance(exc, PartnerError):
        return "unexpected error"
    if not isinstance(exc, SoapError):
        return "misconfigured" if exc.permanent else "partner error"
    text = str(exc).lower()
    if exc.fault_code:
        return "SOAP fault"
    if exc.status_code is not None and exc.status_code >= 400:
        return "HTTP error"
    if "malformed response" in text:
        return "malformed response"
    if "timeout" in text or "no answer within" in text:
        return "timeout"
    if isinstance(exc, OutcomeUnknown) or "connect" in text:
        return "connection error"
    return "partner error"


@dataclass(frozen=True)
class RtdrCall:
    """One attempt: the mapped result, or the reason it failed; the masked envelopes either way."""

    operation: str
    endpoint: str
    started_at: datetime
    outcome: Outcome
    result: BalanceResult | None
    reason: str
    request_xml: str
    response_xml: str
    status_code: int | None
    duration_ms: float
    fault_code: str | None = None


def _call(
    fetch: Fetcher,
    values: Mapping[int, str],
    account_number: str,
    *,
    operation: str,
    endpoint: str,
    options: dict[str, str],
    config: BreakerConfig,
) -> RtdrCall:
    """Call ``fetch`` and fold every failure into the returned :class:`RtdrCall` (never raises)."""
    started_at, started = timezone.now(), time.monotonic()
    try:
        result = fetch(values, account_number, timeout=config.timeout, options=options or None)
    except Exception as exc:  # a lookup never fails because of the partner
        if not isinstance(exc, PartnerError):
            logger.exception("RTDR %s for %s failed unexpectedly", operation, account_number)
        permanent = isinstance(exc, PartnerError) and exc.permanent
        return RtdrCall(
            operation, endpoint, started_at,
            Outcome.REJECTED if permanent else Outcome.FAILED,
            None,
            f"{failure_category(exc)}: {exc}",
            getattr(exc, "request_xml", ""),
            getattr(exc, "response_xml", ""),
            getattr(exc, "status_code", None),
            getattr(exc, "duration_ms", 0.0) or (time.monotonic() - started) * 1000,
            getattr(exc, "fault_code", None),
        )
    return RtdrCall(
        operation, endpoint, started_at, Outcome.OK, result, "", result.request_xml, result.response_xml,
        200, result.duration_ms or (time.monotonic() - started) * 1000,
    )


def refresh_balance(account: Account, *, write_behind: bool | None = None) -> BalanceView:
    """Return the account's balance fresh from its partner, or the stored one marked stale with why.

    Billers whose partner has no RTDR (inHance, FlexiBill), or without an RTDR endpoint (setting 8),
    get the stored balance, not stale. Never raises for a partner failure. ``write_behind=False``
    stores the call before returning (admin's refresh button: the exchange is shown next);
    the default follows ``RTDR_WRITE_BEHIND``.
    """
    biller = account.biller
    fetch = RTDR_FETCHERS.get(biller.partner.code)
    if fetch is None:
        return stored_balance(account)
    config, now = breaker_config(), timezone.now()
    if breaker_open_here(biller_id=biller.pk, now=now, config=config):
        return stored_balance(account, stale=True, reason=BREAKER_OPEN_REASON)
    values = setting_values_recent(biller, float(getattr(settings, "RTDR_SETTINGS_TTL", 1.0)))
    endpoint = endpoint_key(values.get(SETTING_ENDPOINT, ""))
    if not endpoint:
        return stored_balance(account)
    health = health_for(biller=biller, endpoint=endpoint, config=config)
    if not breaker_admit(health=health, now=now, config=config):
        breaker_skipped(health=health, now=now, config=config)
        return stored_balance(account, stale=True, reason=BREAKER_OPEN_REASON)
    options = partner_options(biller.partner.code, values)
    operation = options.get("operation") or RTDR_OPERATIONS[biller.partner.code]
    call = _call(fetch, values, account.account_number, operation=operation, endpoint=endpoint,
                 options=options, config=config)
    secrets = [values.get(SETTING_PASSWORD, "")]
    if write_behind is None:
        write_behind = bool(getattr(settings, "RTDR_WRITE_BEHIND", False))
    outermost = not transaction.get_connection().in_atomic_block
    deferrable = call.result is not None and health.breaker_state == BreakerState.CLOSED
    if write_behind and deferrable and outermost:
        finished_at = timezone.now()
        fields = _account_fields(call.result, finished_at)
        for name, value in fields.items():
            setattr(account, name, value)
        rtdr_writer.submit(PendingCall(account, call, health, tuple(secrets), finished_at, fields))
        return stored_balance(account)
    if outermost:  # calls handed over before are written first, so the health row sees them in order
        rtdr_writer.flush()
    return rtdr_call_record(account=account, call=call, health=health, config=config, secrets=secrets)


@dataclass(frozen=True)
class PendingCall:
    """An answered call handed to the writer: what ``rtdr_calls_record`` stores."""

    account: Account
    call: RtdrCall
    health: RtdrHealth
    secrets: tuple[str, ...]
    finished_at: datetime
    account_fields: dict[str, object]


def rtdr_calls_record(pending: list[PendingCall]) -> None:
    """Store a batch of answered calls: envelopes files, then one transaction for accounts, exchanges
    (one bulk insert) and health rows (one UPDATE per endpoint)."""
    exchanges = [
        _exchange(p.account, p.call, _envelopes(p.account, p.call, list(p.secrets)), p.finished_at)
        for p in pending
    ]
    by_health: dict[int, list[PendingCall]] = {}
    for p in pending:
        by_health.setdefault(p.health.pk, []).append(p)
    with transaction.atomic():
        _commit_without_flush_wait()
        for p in pending:
            Account.objects.filter(pk=p.account.pk).update(**p.account_fields)
        Exchange.objects.bulk_create(exchanges)
        for calls in by_health.values():
            health_successes_record(
                health=calls[0].health, samples=[(p.call.duration_ms, p.finished_at) for p in calls],
                config=breaker_config(),
            )


rtdr_writer: WriteBehind[PendingCall] = WriteBehind(
    "rtdr-writer", rtdr_calls_record, delay=lambda: float(getattr(settings, "RTDR_WRITE_DELAY", 0.05)),
)


def rtdr_call_record(
    *, account: Account, call: RtdrCall, health: RtdrHealth, config: BreakerConfig, secrets: list[str]
) -> BalanceView:
    """Store one call: envelopes file, the account's balance (on success), the Exchange, the health row.

    Returns what the caller is told: the fresh balance, or the stored one marked stale with the reason.
    """
    finished_at = timezone.now()
    stored = _envelopes(account, call, secrets)
    result = call.result
    outermost = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        if outermost:
            _commit_without_flush_wait()
        if result is not None:
            fields = _account_fields(result, finished_at)
            Account.objects.filter(pk=account.pk).update(**fields)
            for name, value in fields.items():
                setattr(account, name, value)
        _exchange(account, call, stored, finished_at).save(force_insert=True)
        health_record(health=health, outcome=call.outcome, duration_ms=call.duration_ms,
                      error=call.reason, now=finished_at, config=config)
    if result is None:
        return stored_balance(account, stale=True, reason=call.reason)
    return stored_balance(account)


def _commit_without_flush_wait() -> None:
    """On PostgreSQL, let this transaction commit without waiting for its WAL flush.

    What RTDR writes can be fetched again (the partner stays the source of truth): a crash may lose
    the last fraction of a second of RTDR records, never corrupt them, and a lookup does not wait for
    the disk. Only for a transaction of our own: a caller's transaction keeps its durability.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _envelopes(account: Account, call: RtdrCall, secrets: list[str]) -> StoredEnvelopes | None:
    return envelopes_store(
        bid=account.biller.bid, account_number=account.account_number, started_at=call.started_at,
        secrets=secrets, record=_envelope_record(account, call),
    )


def _exchange(account: Account, call: RtdrCall, stored: StoredEnvelopes | None, finished_at: datetime) -> Exchange:
    """Return the (unsaved) exchange recording ``call``; its raw payload is the envelopes file."""
    biller = account.biller
    return Exchange(
        biller=biller, partner_id=biller.partner_id, kind=ExchangeKind.RTDR, source=ExchangeSource.SOAP,
        status=ExchangeStatus.SUCCEEDED if call.result is not None else ExchangeStatus.FAILED,
        file_name=stored.file_name if stored else "", checksum=stored.checksum if stored else "",
        raw_path=stored.raw_path if stored else "", raw_size=stored.raw_size if stored else None,
        counts=_counts(account, call), errors=_errors(call, stored is not None),
        progress_done=1, progress_total=1, message=_message(account, call),
        started_at=call.started_at, finished_at=finished_at,
    )


def _account_fields(result: BalanceResult, now: datetime) -> dict[str, object]:
    """The partner's balance and blocks (setting 32 lets RTDR and files write the blocks)."""
    return {
        "balance_due": result.balance_due,
        "past_due": result.past_due,
        "block_cc": result.block_cc,
        "block_ach": result.block_ach,
        "balance_source": SOURCE_RTDR,
        "balance_updated_at": now,
        "updated_at": now,
    }


def _envelope_record(account: Account, call: RtdrCall) -> dict[str, object]:
    return {
        "kind": "rtdr",
        "biller": account.biller.bid,
        "partner": account.biller.partner.code,
        "account": account.account_number,
        "operation": call.operation,
        "endpoint": call.endpoint,
        "started_at": call.started_at.isoformat(),
        "duration_ms": round(call.duration_ms, 1),
        "http_status": call.status_code,
        "outcome": call.outcome.value,
        "error": call.reason,
        "request": call.request_xml,
        "response": call.response_xml,
    }


def _counts(account: Account, call: RtdrCall) -> dict[str, object]:
    counts: dict[str, object] = {
        "account": account.account_number,
        "operation": call.operation,
        "endpoint": call.endpoint,
        "http_status": call.status_code,
        "duration_ms": round(call.duration_ms, 1),
        "outcome": call.outcome.value,
    }
    if call.result is not None:
        counts.update(
            balance_due=str(call.result.balance_due), past_due=str(call.result.past_due),
            block_cc=call.result.block_cc, block_ach=call.result.block_ach, cash_only=call.result.cash_only,
        )
    return counts


def _errors(call: RtdrCall, envelopes_kept: bool) -> list[dict[str, object]]:
    errors: list[dict[str, object]] = []
    if call.result is None:
        errors.append({"line": None, "field": call.operation, "value": "", "message": call.reason,
                       "permanent": call.outcome == Outcome.REJECTED, "fault_code": call.fault_code})
    if not envelopes_kept:
        errors.append({"line": None, "field": "raw_path", "value": "", "message": "envelopes not written"})
    return errors


def _message(account: Account, call: RtdrCall) -> str:
    head = f"{call.operation} {account.account_number}"
    if call.result is None:
        return f"{head}: {call.reason}"[:2000]
    r = call.result
    blocks = ", ".join(name for name, on in (("CC", r.block_cc), ("ACH", r.block_ach)) if on) or "none"
    return (f"{head}: balance {r.balance_due}, past due {r.past_due}, blocks {blocks} "
            f"({call.duration_ms:.0f} ms)")
