"""Shapes and helpers shared by the partner data pumps (``partners/<code>/pump.py``).

A pump module is pure: it gets a :class:`PumpEvent` (the event type and the plain-data snapshot taken
when the payment or change was recorded) and a :class:`PumpContext` (the biller's time zone, its
advanced settings ``{number: value}`` and the timeouts), builds the partner's request and sends it
through ``partners.soap``. It never touches the database.

Each pump module declares:

- ``OPERATIONS``: event type -> :class:`Operation` (endpoint key and partner operation), and only
  the event types the partner supports;
- ``AUTO_RESEND``: the event types whose unknown outcome may be resent automatically because the
  partner detects duplicates by a key we send (SPEC "Ambiguous outcomes");
- ``deliver(event, ctx) -> PumpResult`` and ``render(event, ctx) -> Rendered``.

Failures are raised: ``partners.soap.OutcomeUnknown`` (request sent, no answer), ``SoapError`` /
``PartnerError`` with ``permanent`` saying whether retrying can help.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import requests
import zeep
from lxml import etree

from partners.balances import setting
from partners.base import PartnerError
from partners.soap import (
    ZEEP_SETTINGS,
    CallResult,
    SoapClient,
    SoapError,
    get_client,
    load_document,
    mask_xml,
)


@dataclass(frozen=True)
class Endpoint:
    """The advanced settings holding one pump endpoint's URL, user name and password."""

    key: str
    url: int
    user: int
    password: int


#: Endpoint key -> settings (URL, user, password), the same numbers for every pushing partner.
ENDPOINTS: dict[str, Endpoint] = {
    "payments": Endpoint("payments", 11, 12, 13),
    "paperless": Endpoint("paperless", 14, 15, 16),
    "autopay": Endpoint("autopay", 17, 18, 19),
}


@dataclass(frozen=True)
class Operation:
    """How one event type goes out: the endpoint (queue) and the partner's operation name."""

    endpoint: str
    name: str


@dataclass(frozen=True)
class PumpEvent:
    """What a pump module needs of an outbox event: all plain data, no model instances."""

    event_type: str
    payload: Mapping[str, Any]
    key: str  # the idempotency key (the payment GUID where there is one)
    created_at: datetime


@dataclass(frozen=True)
class PumpContext:
    """The biller side of a delivery: time zone, advanced settings and (connect, read) timeouts."""

    bid: int
    time_zone: str
    settings: Mapping[int, str] = field(repr=False)
    connect_timeout: float = 3.0
    read_timeout: float = 20.0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local(self, moment: datetime) -> datetime:
        """Return the aware ``moment`` in the biller's time zone."""
        return moment.astimezone(self.zone)


@dataclass(frozen=True)
class PumpResult:
    """A delivered event: the exchange that delivered it (envelopes masked)."""

    operation: str
    endpoint_url: str
    request_xml: str
    response_xml: str
    duration_ms: float
    status_code: int | None = None
    reference: str = ""


@dataclass(frozen=True)
class Rendered:
    """A request built but not sent (dry run): the masked envelope and where it would go."""

    operation: str
    endpoint_url: str
    xml: str


@dataclass(frozen=True)
class Credentials:
    url: str
    user: str
    password: str = field(repr=False)


def credentials(ctx: PumpContext, endpoint_key: str) -> Credentials:
    """Return the endpoint's URL, user and password; ``PartnerError(permanent=True)`` if the URL is unset."""
    endpoint = ENDPOINTS[endpoint_key]
    try:
        url = setting(ctx.settings, endpoint.url)
    except PartnerError:
        raise PartnerError(
            f"advanced setting {endpoint.url} ({endpoint_key} endpoint URL) is not set for biller {ctx.bid}",
            permanent=True,
        ) from None
    return Credentials(
        url,
        setting(ctx.settings, endpoint.user, required=False),
        setting(ctx.settings, endpoint.password, required=False),
    )


def safe_url(url: str) -> str:
    """Return ``url`` without any user:password part, for logs and attempt rows."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


# --- clients -----------------------------------------------------------------------------------

_local = threading.local()


def client_for(wsdl: Path, url: str, ctx: PumpContext) -> SoapClient:
    """Return this thread's client for ``url`` (kept open: the pump sends many events in a row)."""
    cache: dict[tuple[Path, str, float, float], SoapClient] = getattr(_local, "clients", None) or {}
    _local.clients = cache
    key = (wsdl, url, ctx.connect_timeout, ctx.read_timeout)
    client = cache.get(key)
    if client is None:
        if len(cache) > 32:  # many billers through one worker: do not hoard sockets
            for old in cache.values():
                old.close()
            cache.clear()
        client = get_client(wsdl, url, connect_timeout=ctx.connect_timeout, read_timeout=ctx.read_timeout)
        _environment_once(client.session, url)
        cache[key] = client
    return client


def _environment_once(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment once for this session instead of on every request.

    requests re-reads the environment per request (``trust_env``), which costs more than a loopback
    call; the pump sends thousands in a row to one endpoint.
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def close_clients() -> None:
    """Close this thread's cached clients."""
    for client in (getattr(_local, "clients", None) or {}).values():
        client.close()
    _local.clients = {}


def zeep_envelope(wsdl: Path, operation: str, **arguments: Any) -> str:
    """Return the masked envelope zeep would send for ``operation`` (dry run); nothing is sent.

    Raises ``PartnerError(permanent=True)`` when the arguments do not match the WSDL.
    """
    document = load_document(wsdl)
    client = zeep.Client(document, settings=ZEEP_SETTINGS)  # type: ignore[no-untyped-call]
    binding = next(iter(next(iter(document.services.values())).ports.values())).binding
    service = client.create_service(str(binding.name), "http://localhost/")  # type: ignore[no-untyped-call]
    try:
        envelope = client.create_message(service, operation, **arguments)  # type: ignore[no-untyped-call]
    except (zeep.exceptions.Error, TypeError) as exc:
        raise PartnerError(f"{operation}: request does not match the WSDL: {exc}", permanent=True) from exc
    return mask_xml(envelope)


def lxml_envelope(envelope: etree._Element) -> str:
    """Return a masked serialization of an envelope built with lxml (dry run)."""
    return mask_xml(envelope)


# --- answers -----------------------------------------------------------------------------------


def refused(call: CallResult, message: str) -> SoapError:
    """Return the permanent error for an answer in which the partner refused the request."""
    return SoapError(
        message,
        True,
        request_xml=call.request_xml,
        response_xml=call.response_xml,
        status_code=call.status_code,
        duration_ms=call.duration_ms,
    )


def result(call: CallResult, operation: str, url: str, reference: object = "") -> PumpResult:
    """Return the :class:`PumpResult` of a successful call."""
    return PumpResult(
        operation=operation,
        endpoint_url=safe_url(url),
        request_xml=call.request_xml,
        response_xml=call.response_xml,
        duration_ms=call.duration_ms,
        status_code=call.status_code,
        reference=str(reference or ""),
    )


# --- payload readers -------------------------------------------------------------------------


def text(payload: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    """Return ``payload[name]`` as stripped text; ``PartnerError(permanent=True)`` when required and blank."""
    value = str(payload.get(name) or "").strip()
    if required and not value:
        raise PartnerError(f"event payload has no {name}", permanent=True)
    return value


def decimal(payload: Mapping[str, Any], name: str) -> Decimal:
    """Return ``payload[name]`` (a decimal string) as a Decimal; permanent PartnerError if unreadable."""
    try:
        return Decimal(str(payload[name]))
    except (KeyError, ArithmeticError, ValueError):
        raise PartnerError(f"event payload field {name} is not a decimal: {payload.get(name)!r}",
                           permanent=True) from None


def moment(payload: Mapping[str, Any], name: str) -> datetime:
    """Return ``payload[name]`` (ISO 8601, aware) as a datetime; permanent PartnerError otherwise."""
    try:
        value = datetime.fromisoformat(str(payload[name]))
    except (KeyError, ValueError):
        raise PartnerError(f"event payload field {name} is not a date-time: {payload.get(name)!r}",
                           permanent=True) from None
    if value.tzinfo is None:
        raise PartnerError(f"event payload field {name} has no time zone: {value}", permanent=True)
    return value


#: Our tender -> the payment method word AUS and Cayenta receive.
TENDER_CODES: dict[str, str] = {"card": "CC", "ach": "ACH", "echeck": "ACH", "cash": "CASH"}


def tender_code(payload: Mapping[str, Any]) -> str:
    """Return CC / ACH / CASH for the payment's tender; permanent PartnerError for an unknown one."""
    tender = text(payload, "tender")
    try:
        return TENDER_CODES[tender]
    except KeyError:
        raise PartnerError(f"unknown tender {tender!r}", permanent=True) from None



@dataclass(frozen=True)
class ZeepPump:
    """A partner whose pump operations are zeep calls answered by a success flag (AUS, Cayenta)."""

    partner: str
    wsdl_path: Any
    operations: Mapping[str, Operation]
    builders: Mapping[str, Callable[[PumpEvent, PumpContext], dict[str, Any]]]
    user_field: str
    password_field: str
    success_field: str
    message_field: str
    reference_field: str
    empty_answer: str

    def prepare(self, event: PumpEvent, ctx: PumpContext) -> tuple[Operation, Credentials, dict[str, Any]]:
        try:
            operation = self.operations[event.event_type]
        except KeyError:
            raise PartnerError(f"{self.partner} has no operation for {event.event_type}", permanent=True) from None
        found = credentials(ctx, operation.endpoint)
        arguments = {self.user_field: found.user, self.password_field: found.password,
                     **self.builders[event.event_type](event, ctx)}
        return operation, found, arguments

    def render(self, event: PumpEvent, ctx: PumpContext) -> Rendered:
        """Return the masked envelope ``deliver`` would send; raises PartnerError like ``deliver``."""
        operation, found, arguments = self.prepare(event, ctx)
        return Rendered(operation.name, safe_url(found.url), zeep_envelope(self.wsdl_path, operation.name, **arguments))

    def deliver(self, event: PumpEvent, ctx: PumpContext) -> PumpResult:
        """Send the event; a false success flag in the answer is a permanent refusal (``SoapError``)."""
        operation, found, arguments = self.prepare(event, ctx)
        call = client_for(self.wsdl_path, found.url, ctx).call(operation.name, **arguments)
        answer = call.value
        if answer is None or not getattr(answer, self.success_field, False):
            message = getattr(answer, self.message_field, None) or self.empty_answer
            raise refused(call, f"{operation.name}: {self.partner} refused it: {message}")
        return result(call, operation.name, found.url, getattr(answer, self.reference_field, "") or "")
