"""The one network seam for partner SOAP web services (AUS, Cayenta, Daffron/MultiSpeak).

``get_client(wsdl, endpoint, connect_timeout=..., read_timeout=...)`` returns a :class:`SoapClient`.
Each WSDL is parsed once per process (zeep ``Document`` cached by path); a client for another
endpoint reuses the parsed document. Every call has explicit (connect, read) timeouts, and its
request and response envelopes are captured with secrets masked.

Errors are ``PartnerError`` subclasses carrying the masked envelopes:

- :class:`SoapError` ``permanent=False``: connect failure or timeout, HTTP 5xx without a SOAP fault,
  a response we cannot parse, a fault that does not say the request itself is wrong;
- :class:`SoapError` ``permanent=True``: SOAP faults saying the account is unknown or the request is
  invalid (``soap:Client`` faults, "not found", "validation" ...), HTTP 4xx, a bad endpoint URL;
- :class:`OutcomeUnknown` (``permanent=False``): the request was sent and no answer came back (read
  timeout, connection dropped mid-exchange). A pump call ending so may have been posted: do not
  resend blindly (SPEC "Ambiguous outcomes").
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Self

import requests
import zeep
from lxml import etree
from urllib3.exceptions import ProtocolError
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, ValidationError
from zeep.plugins import Plugin
from zeep.transports import Transport
from zeep.wsdl import Document
from zeep.wsdl.bindings.soap import Soap11Binding

from partners.base import PartnerError

logger = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MASK = "********"
#: Element or attribute local names whose values never leave this module unmasked.
SECRET_NAME = re.compile(r"password|passwd|pwd|secret|token|key$", re.IGNORECASE)
#: SOAP fault texts that say retrying the same request cannot help.
PERMANENT_FAULT = re.compile(
    r"unknown account|account\b.*\b(not found|does not exist|unknown)|no such account|invalid account"
    r"|validation|invalid|not valid|is required|malformed request",
    re.IGNORECASE,
)
#: HTTP 4xx statuses that are worth retrying.
TRANSIENT_4XX = frozenset({408, 425, 429})

ZEEP_SETTINGS = zeep.Settings(strict=True, xsd_ignore_sequence_order=True, forbid_dtd=True)


def safe_parser() -> etree.XMLParser:
    """Return a new parser that resolves no entities and fetches nothing (one per parse: thread-safe)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class CallResult:
    """One completed call: the parsed answer and the exchange that produced it.

    ``value`` is zeep's parsed result for :meth:`SoapClient.call`, or the first element inside
    ``soap:Body`` (an lxml element) for :meth:`SoapClient.post`; ``None`` for an empty answer.
    """

    value: Any
    request_xml: str
    response_xml: str
    duration_ms: float
    status_code: int | None = None


class SoapError(PartnerError):
    """A SOAP call failed; the masked envelopes and HTTP status travel with the error."""

    def __init__(
        self,
        message: str,
        permanent: bool = False,
        *,
        request_xml: str = "",
        response_xml: str = "",
        status_code: int | None = None,
        fault_code: str | None = None,
        duration_ms: float = 0.0,
    ) -> None:
        super().__init__(message, permanent)
        self.request_xml = request_xml
        self.response_xml = response_xml
        self.status_code = status_code
        self.fault_code = fault_code
        self.duration_ms = duration_ms


class OutcomeUnknown(SoapError):
    """The request was sent but no answer came back: the partner may or may not have applied it."""

    def __init__(self, message: str, permanent: bool = False, **kwargs: Any) -> None:
        super().__init__(message, False, **kwargs)  # never permanent: the IM or a dedup key decides


def malformed(call: CallResult, message: str) -> SoapError:
    """Return the transient error for an answer that arrived but cannot be mapped, envelopes attached."""
    return SoapError(
        f"malformed response: {message}",
        False,
        request_xml=call.request_xml,
        response_xml=call.response_xml,
        status_code=call.status_code,
        duration_ms=call.duration_ms,
    )


# --- masking -----------------------------------------------------------------------------------

_ATTR_SECRET = re.compile(
    r"""(\b[\w:.-]*(?:password|passwd|pwd|secret|token|key)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE
)
_ELEM_SECRET = re.compile(
    r"(<((?:[\w.-]+:)?[\w.-]*(?:password|passwd|pwd|secret|token|key))\b[^>]*(?<!/)>)(.*?)(</\2\s*>)",
    re.IGNORECASE | re.DOTALL,
)


def is_secret_name(name: str) -> bool:
    """Return True when an element or attribute called ``name`` (any namespace) holds a secret."""
    return bool(SECRET_NAME.search(name.rsplit("}", 1)[-1]))


def mask_xml(xml: etree._Element | bytes | str | None) -> str:
    """Return ``xml`` as text with every secret element's text and secret attribute masked.

    Text that is not well-formed XML (an HTML error page, a broken answer) is masked by pattern.
    """
    if xml is None:
        return ""
    if isinstance(xml, etree._Element):
        root = copy.deepcopy(xml)
    else:
        raw = xml.encode("utf-8") if isinstance(xml, str) else xml
        try:
            root = etree.fromstring(raw, safe_parser())
        except etree.XMLSyntaxError:
            text = raw.decode("utf-8", errors="replace")
            return _ELEM_SECRET.sub(rf"\1{MASK}\4", _ATTR_SECRET.sub(rf"\1\2{MASK}\2", text))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in element.attrib:
            if is_secret_name(name):
                element.attrib[name] = MASK
        if is_secret_name(element.tag):
            for child in list(element):
                element.remove(child)
            element.text = MASK
    return str(etree.tostring(root, encoding="unicode"))


# --- WSDL cache --------------------------------------------------------------------------------

_documents: dict[Path, Document] = {}
_documents_lock = threading.Lock()


def load_document(wsdl_path: Path) -> Document:
    """Return the parsed WSDL at ``wsdl_path``, parsing it only the first time in this process.

    Raises ``PartnerError(permanent=True)`` when the file does not exist.
    """
    key = Path(wsdl_path).resolve()
    with _documents_lock:
        document = _documents.get(key)
        if document is None:
            if not key.is_file():
                raise PartnerError(f"WSDL not found: {key}", permanent=True)
            # zeep annotates ``transport`` as a class; it takes an instance.
            document = Document(str(key), Transport(), settings=ZEEP_SETTINGS)  # type: ignore[arg-type,no-untyped-call]
            _documents[key] = document
            logger.debug("parsed WSDL %s", key)
        return document


def clear_cache() -> None:
    """Forget every parsed WSDL (tests, or after a WSDL file changed on disk)."""
    with _documents_lock:
        _documents.clear()


def _soap11_binding(document: Document) -> str:
    """Return the QName text of the first SOAP 1.1 binding declared by a service port."""
    for service in document.services.values():
        for port in service.ports.values():
            if isinstance(port.binding, Soap11Binding):
                return str(port.binding.name)
    raise PartnerError(f"no SOAP 1.1 port in {document.location}", permanent=True)


# --- capture -----------------------------------------------------------------------------------


class _Capture(Plugin):
    """Per-call plugin: sets a SOAPAction override and keeps the masked envelopes."""

    def __init__(self, soap_action: str | None) -> None:
        self.soap_action = soap_action
        self.request_xml = ""
        self.response_xml = ""
        self.status_code: int | None = None
        self.has_fault = False

    def egress(
        self, envelope: Any, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> Any:
        if self.soap_action is not None:
            http_headers["SOAPAction"] = f'"{self.soap_action}"'
        self.request_xml = mask_xml(envelope)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        self.response_xml = mask_xml(envelope)
        self.has_fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") is not None
        return envelope, http_headers

    def received(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.response_xml = mask_xml(response.content)


class _RecordingTransport(Transport):
    """zeep Transport that hands the raw HTTP answer to the call's capture (HTML 500s included)."""

    def __init__(self, capture: _Capture, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self._capture = capture

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response: requests.Response = super().post(address, message, headers)  # type: ignore[no-untyped-call]
        self._capture.received(response)
        return response


# --- error mapping -----------------------------------------------------------------------------


class _Failure(NamedTuple):
    kind: type[SoapError]
    message: str
    permanent: bool
    fault_code: str | None = None


def _http_error(status: int | None, what: str) -> _Failure:
    permanent = status is not None and 400 <= status < 500 and status not in TRANSIENT_4XX
    return _Failure(SoapError, f"HTTP {status}: {what}", permanent)


def _fault_error(code: str | None, message: str | None) -> _Failure:
    code_text, text = (code or "").strip(), (message or "").strip()
    client_fault = code_text.split(":")[-1].split(".")[0].lower() in {"client", "sender"}
    permanent = client_fault or bool(PERMANENT_FAULT.search(text))
    return _Failure(
        SoapError, f"SOAP fault {code_text or '?'}: {text or '(no message)'}", permanent, code_text
    )


def _request_error(exc: requests.RequestException, timeout: tuple[float, float]) -> _Failure:
    """Map a requests failure: before the request left (transient), or after (outcome unknown)."""
    # Order matters: ConnectTimeout is also a ConnectionError.
    table: tuple[tuple[type[Exception], Callable[[], _Failure]], ...] = (
        (requests.ConnectTimeout, lambda: _Failure(SoapError, f"connect timeout after {timeout[0]}s", False)),
        (requests.ReadTimeout, lambda: _Failure(OutcomeUnknown, f"no answer within {timeout[1]}s", False)),
        (requests.ConnectionError, lambda: _connection_error(exc)),
        (requests.exceptions.InvalidURL, lambda: _Failure(SoapError, f"bad endpoint: {exc}", True)),
        (requests.exceptions.MissingSchema, lambda: _Failure(SoapError, f"bad endpoint: {exc}", True)),
        (requests.exceptions.InvalidSchema, lambda: _Failure(SoapError, f"bad endpoint: {exc}", True)),
    )
    for kind, build in table:
        if isinstance(exc, kind):
            return build()
    return _Failure(SoapError, f"request failed: {exc}", False)


def _connection_error(exc: requests.RequestException) -> _Failure:
    # requests wraps a connection dropped after the request went out as ConnectionError(ProtocolError).
    if exc.args and isinstance(exc.args[0], ProtocolError):
        return _Failure(OutcomeUnknown, f"connection dropped after sending: {exc.args[0]}", False)
    return _Failure(SoapError, f"cannot connect: {exc}", False)


def _zeep_error(exc: ZeepError, capture: _Capture) -> _Failure:
    if isinstance(exc, Fault) and capture.has_fault:
        return _fault_error(exc.code, exc.message)
    if isinstance(exc, ValidationError) and capture.status_code is None:
        return _Failure(SoapError, f"request does not match the WSDL: {exc}", True)
    if capture.status_code is not None and capture.status_code != 200:
        return _http_error(capture.status_code, "no SOAP fault in the answer")
    return _Failure(SoapError, f"malformed response: {exc}", False)


def _operation_of(envelope: etree._Element) -> str:
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    first = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    return etree.QName(first).localname if first is not None else "?"


# --- client ------------------------------------------------------------------------------------


class SoapClient:
    """Calls one partner endpoint through a parsed WSDL, or with envelopes built by the caller.

    Use it as a context manager (or call :meth:`close`) to release its HTTP connections.
    """

    def __init__(
        self, document: Document, endpoint: str, *, connect_timeout: float, read_timeout: float
    ) -> None:
        if not re.match(r"^https?://", endpoint or ""):
            raise PartnerError(f"endpoint is not an http(s) URL: {endpoint!r}", permanent=True)
        self.document = document
        self.endpoint = endpoint
        self.timeout: tuple[float, float] = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self._binding = _soap11_binding(document)

    def close(self) -> None:
        """Close the HTTP session and its pooled connections."""
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, soap_action: str | None = None, **kwargs: Any) -> CallResult:
        """Call WSDL ``operation`` with ``kwargs`` (zeep style); ``soap_action`` overrides the WSDL's.

        Returns a :class:`CallResult` whose ``value`` is zeep's parsed answer. Raises
        :class:`OutcomeUnknown` or :class:`SoapError` (see the module docstring).
        """
        capture = _Capture(soap_action)
        transport = _RecordingTransport(capture, session=self.session, operation_timeout=self.timeout)
        client = zeep.Client(  # type: ignore[no-untyped-call]
            self.document, transport=transport, plugins=[capture], settings=ZEEP_SETTINGS
        )
        service = client.create_service(self._binding, self.endpoint)  # type: ignore[no-untyped-call]
        started = time.monotonic()
        try:
            value = service[operation](**kwargs)
        except requests.RequestException as exc:
            raise self._raise(_request_error(exc, self.timeout), capture, started, operation) from exc
        except ZeepError as exc:
            raise self._raise(_zeep_error(exc, capture), capture, started, operation) from exc
        return self._done(value, capture, started, operation)

    def post(self, envelope: etree._Element, *, soap_action: str, operation: str = "") -> CallResult:
        """POST an envelope built with lxml (e.g. MultiSpeak with a per-biller operation name).

        Returns a :class:`CallResult` whose ``value`` is the first element in the answer's
        ``soap:Body``. Raises like :meth:`call`.
        """
        capture = _Capture(soap_action)
        capture.request_xml = mask_xml(envelope)
        operation = operation or _operation_of(envelope)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{soap_action}"'}
        data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        started = time.monotonic()
        try:
            response = self.session.post(self.endpoint, data=data, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise self._raise(_request_error(exc, self.timeout), capture, started, operation) from exc
        capture.received(response)
        return self._done(
            self._read_reply(response, capture, started, operation), capture, started, operation
        )

    def _read_reply(
        self, response: requests.Response, capture: _Capture, started: float, operation: str
    ) -> etree._Element | None:
        if response.status_code in (201, 202) and not response.content:
            return None
        try:
            document = etree.fromstring(response.content, safe_parser())
        except etree.XMLSyntaxError as exc:
            failure = (
                _http_error(response.status_code, "no SOAP fault in the answer")
                if response.status_code != 200
                else _Failure(SoapError, f"malformed response: {exc}", False)
            )
            raise self._raise(failure, capture, started, operation) from exc
        fault = document.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        if fault is not None:
            failure = _fault_error(fault.findtext("faultcode"), fault.findtext("faultstring"))
            raise self._raise(failure, capture, started, operation)
        body = document.find(f"{{{SOAP_ENV}}}Body")
        if response.status_code != 200:
            raise self._raise(_http_error(response.status_code, "no SOAP fault"), capture, started, operation)
        if body is None:
            raise self._raise(
                _Failure(SoapError, "malformed response: no soap:Body", False), capture, started, operation
            )
        return next((child for child in body if isinstance(child.tag, str)), None)

    def _done(self, value: Any, capture: _Capture, started: float, operation: str) -> CallResult:
        duration_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s -> %s in %.0f ms", operation, self.endpoint, capture.status_code, duration_ms)
        return CallResult(value, capture.request_xml, capture.response_xml, duration_ms, capture.status_code)

    def _raise(self, failure: _Failure, capture: _Capture, started: float, operation: str) -> SoapError:
        duration_ms = (time.monotonic() - started) * 1000
        logger.warning(
            "%s %s failed after %.0f ms: %s", operation, self.endpoint, duration_ms, failure.message
        )
        return failure.kind(
            f"{operation}: {failure.message}",
            failure.permanent,
            request_xml=capture.request_xml,
            response_xml=capture.response_xml,
            status_code=capture.status_code,
            fault_code=failure.fault_code,
            duration_ms=duration_ms,
        )


def get_client(wsdl_path: Path, endpoint: str, *, connect_timeout: float, read_timeout: float) -> SoapClient:
    """Return a :class:`SoapClient` for ``endpoint`` over the (cached) WSDL at ``wsdl_path``.

    Raises ``PartnerError(permanent=True)`` when the WSDL is missing or the endpoint is not a URL.
    """
    document = load_document(wsdl_path)
    return SoapClient(document, endpoint, connect_timeout=connect_timeout, read_timeout=read_timeout)
