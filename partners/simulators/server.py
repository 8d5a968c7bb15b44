"""Loopback SOAP simulator: a threading HTTP server on 127.0.0.1 answering as one partner.

``serve("daffron")`` returns a :class:`SimulatorHandle` with ``url``, ``stop()``, the received
``calls`` and switches settable while it runs: ``mode`` (see :data:`MODES`) and ``slow_seconds``.
Each partner module (``aus``, ``cayenta``, ``daffron``) supplies ``DEFAULT_FIXTURES`` and
``respond(operation, request, handle) -> response body element``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from types import ModuleType
from typing import Any, Self

from lxml import etree

from partners.simulators import aus, cayenta, daffron
from partners.simulators.common import SOAP_ENV, SoapFault
from partners.soap import safe_parser

logger = logging.getLogger(__name__)

PARTNERS: dict[str, ModuleType] = {"aus": aus, "cayenta": cayenta, "daffron": daffron}
MODES = ("ok", "slow", "fault", "unknown_account", "malformed", "http500")


class SimulatorHandle:
    """A running simulator. ``calls`` and ``duplicates`` are thread-safe snapshots."""

    def __init__(self, partner: str, fixtures: dict[str, Any]) -> None:
        self.partner = partner
        self.fixtures = fixtures
        self.mode = "ok"
        self.slow_seconds = 3.0
        self.url = ""
        self._lock = threading.Lock()
        self._calls: list[tuple[str, str]] = []
        self._soap_actions: list[str] = []
        self._duplicates: list[str] = []
        self._keys: set[str] = set()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(operation, request XML) of every request received, in order."""
        with self._lock:
            return list(self._calls)

    @property
    def soap_actions(self) -> list[str]:
        """The SOAPAction header of every request received (unquoted), in order."""
        with self._lock:
            return list(self._soap_actions)

    @property
    def duplicates(self) -> list[str]:
        """Idempotency keys (Daffron transactionId) received more than once, once per repeat."""
        with self._lock:
            return list(self._duplicates)

    def operations(self) -> list[str]:
        """Return the operation names received, in order."""
        return [operation for operation, _ in self.calls]

    def record(self, operation: str, request_xml: str, soap_action: str = "") -> None:
        with self._lock:
            self._calls.append((operation, request_xml))
            self._soap_actions.append(soap_action)

    def seen_before(self, key: str) -> bool:
        """Remember ``key``; return True (and record a duplicate) if it was seen already."""
        with self._lock:
            if key in self._keys:
                self._duplicates.append(key)
                return True
            self._keys.add(key)
            return False

    def reset(self) -> None:
        """Forget calls, duplicates and keys, and go back to mode "ok"."""
        with self._lock:
            self._calls.clear()
            self._soap_actions.clear()
            self._duplicates.clear()
            self._keys.clear()
        self.mode = "ok"

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when the simulator stops."""
        self._stopping.wait(seconds)

    def stop(self) -> None:
        """Stop serving and release the port; sleeping "slow" requests are woken."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def envelope_bytes(body: etree._Element | None, header: etree._Element | None = None) -> bytes:
    """Return a serialized SOAP 1.1 envelope around ``body`` (and ``header``)."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    if header is not None:
        etree.SubElement(root, f"{{{SOAP_ENV}}}Header").append(header)
    body_element = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    if body is not None:
        body_element.append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def fault_bytes(code: str, message: str) -> bytes:
    """Return a SOAP 1.1 fault envelope."""
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    return envelope_bytes(fault)


def _ok(
    handle: SimulatorHandle, module: ModuleType, operation: str, request: etree._Element
) -> tuple[int, str, bytes]:
    try:
        body = module.respond(operation, request, handle)
    except SoapFault as fault:
        return 500, "text/xml; charset=utf-8", fault_bytes(fault.code, fault.message)
    header = module.response_header() if hasattr(module, "response_header") else None
    return 200, "text/xml; charset=utf-8", envelope_bytes(body, header)


def _slow(
    handle: SimulatorHandle, module: ModuleType, operation: str, request: etree._Element
) -> tuple[int, str, bytes]:
    handle.wait(handle.slow_seconds)
    return _ok(handle, module, operation, request)


#: mode -> how the simulator answers a request it has recorded.
ANSWERS: dict[str, Callable[[SimulatorHandle, ModuleType, str, etree._Element], tuple[int, str, bytes]]] = {
    "ok": _ok,
    "slow": _slow,
    "fault": lambda h, m, o, r: (
        500,
        "text/xml; charset=utf-8",
        fault_bytes("soap:Server", "Simulated server error"),
    ),
    "unknown_account": lambda h, m, o, r: (
        500,
        "text/xml; charset=utf-8",
        fault_bytes("soap:Client", "Unknown account: account not found"),
    ),
    "malformed": lambda h, m, o, r: (
        200,
        "text/xml; charset=utf-8",
        b"<?xml version='1.0'?><soap:Envelope><soap:Bo",
    ),
    "http500": lambda h, m, o, r: (
        500,
        "text/html",
        b"<html><body><h1>500 Internal Server Error</h1></body></html>",
    ),
}


def _handler_for(handle: SimulatorHandle, module: ModuleType) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = (self.headers.get("SOAPAction") or "").strip().strip('"')
            try:
                request = etree.fromstring(raw, safe_parser())
                body = request.find(f"{{{SOAP_ENV}}}Body")
                operation = etree.QName(next(c for c in body if isinstance(c.tag, str))).localname
            except (etree.XMLSyntaxError, TypeError, StopIteration) as exc:
                handle.record("?", raw.decode("utf-8", errors="replace"), action)
                self._send(
                    500, "text/xml; charset=utf-8", fault_bytes("soap:Client", f"malformed request: {exc}")
                )
                return
            handle.record(operation, raw.decode("utf-8", errors="replace"), action)
            answer = ANSWERS.get(handle.mode, _ok)
            self._send(*answer(handle, module, operation, request))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            route = getattr(module, "GET_ROUTES", {}).get(parts.path)
            handle.record(f"GET {parts.path}", self.path)
            if route is None:
                self._send(404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")
                return
            self._send(*route(dict(parse_qsl(parts.query)), handle))

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                logger.debug("client left before the answer (it timed out)")

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s simulator: " + format, handle.partner, *args)

    return Handler


def serve(partner: str, port: int = 0, fixtures: dict[str, Any] | None = None) -> SimulatorHandle:
    """Start the ``partner`` simulator on 127.0.0.1:``port`` (0 = any free port) in a thread.

    ``fixtures`` (account number -> data, in the partner module's shape) are merged over the
    module's ``DEFAULT_FIXTURES``. Returns the running :class:`SimulatorHandle`; raises KeyError
    for an unknown partner and OSError when the port is taken.
    """
    module = PARTNERS[partner]
    handle = SimulatorHandle(partner, {**module.DEFAULT_FIXTURES, **(fixtures or {})})
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(handle, module))
    server.daemon_threads = True
    handle._server = server
    handle.url = f"http://127.0.0.1:{server.server_address[1]}/{partner}"
    handle._thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{partner}", daemon=True
    )
    handle._thread.start()
    return handle
