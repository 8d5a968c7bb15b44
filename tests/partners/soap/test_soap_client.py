"""partners.soap: error classification, timeouts, masking, WSDL parsed once, SOAPAction override."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from partners import soap
from partners.aus import rtdr as aus
from partners.base import PartnerError
from partners.cayenta import rtdr as cayenta
from partners.daffron import rtdr as daffron
from partners.simulators import SimulatorHandle, serve
from partners.soap import MASK, OutcomeUnknown, SoapError

from .conftest import FAST, settings_for

#: partner -> (RTDR function, an account the simulator knows)
RTDR: dict[str, tuple[Callable[..., Any], str]] = {
    "aus": (aus.fetch_balance, "1001"),
    "cayenta": (cayenta.fetch_balance, "2001"),
    "daffron": (daffron.fetch_balance, "35909001"),
}


@pytest.fixture(params=sorted(RTDR))
def sim(request: pytest.FixtureRequest) -> SimulatorHandle:
    handle: SimulatorHandle = request.getfixturevalue(f"{request.param}_sim")
    return handle


def _fetch(
    handle: SimulatorHandle, *, account: str | None = None, timeout: tuple[float, float] = FAST
) -> Any:
    fetch, known = RTDR[handle.partner]
    return fetch(settings_for(handle), account or known, timeout=timeout)


def _error(handle: SimulatorHandle, **kwargs: Any) -> SoapError:
    with pytest.raises(SoapError) as caught:
        _fetch(handle, **kwargs)
    return caught.value


def test_ok_answer_carries_masked_envelopes_and_timing(sim: SimulatorHandle) -> None:
    result = _fetch(sim)
    assert result.request_xml and result.response_xml
    assert "s3cret-pw" not in result.request_xml
    assert MASK in result.request_xml
    assert result.duration_ms > 0
    assert len(sim.calls) == 1


def test_soap_fault_from_server_is_transient(sim: SimulatorHandle) -> None:
    sim.mode = "fault"
    error = _error(sim)
    assert error.permanent is False
    assert not isinstance(error, OutcomeUnknown)
    assert error.status_code == 500 and error.fault_code == "soap:Server"
    assert "s3cret-pw" not in error.request_xml and MASK in error.request_xml
    assert "Simulated server error" in error.response_xml


def test_unknown_account_fault_is_permanent(sim: SimulatorHandle) -> None:
    sim.mode = "unknown_account"
    assert _error(sim).permanent is True


def test_account_missing_from_fixtures_is_permanent(sim: SimulatorHandle) -> None:
    error = _error(sim, account="999999")
    assert error.permanent is True
    assert "Unknown account 999999" in str(error)


def test_malformed_answer_is_transient_with_envelopes(sim: SimulatorHandle) -> None:
    sim.mode = "malformed"
    error = _error(sim)
    assert error.permanent is False and not isinstance(error, OutcomeUnknown)
    assert "malformed" in str(error)
    assert "<soap:Bo" in error.response_xml
    assert MASK in error.request_xml


def test_http_500_without_fault_is_transient(sim: SimulatorHandle) -> None:
    sim.mode = "http500"
    error = _error(sim)
    assert error.permanent is False and error.status_code == 500
    assert "Internal Server Error" in error.response_xml


def test_read_timeout_after_sending_is_outcome_unknown_within_the_timeout(sim: SimulatorHandle) -> None:
    sim.mode, sim.slow_seconds = "slow", 3.0
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as caught:
        _fetch(sim, timeout=(0.5, 0.2))
    assert time.monotonic() - started < 1.0
    assert caught.value.permanent is False
    assert isinstance(caught.value, PartnerError)
    assert MASK in caught.value.request_xml and "s3cret-pw" not in caught.value.request_xml
    assert len(sim.calls) == 1  # the partner did receive it: the outcome really is unknown


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose listen backlog is full: new connections hang in SYN (a connect timeout)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # non-blocking connect: completes in the backlog
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in (*fillers, server):
        sock.close()


@pytest.mark.parametrize("partner", sorted(RTDR))
def test_connect_timeout_is_transient_not_unknown(partner: str, unaccepting_port: int) -> None:
    fetch, account = RTDR[partner]
    settings = {8: f"http://127.0.0.1:{unaccepting_port}/{partner}", 28: "{}"}
    started = time.monotonic()
    with pytest.raises(SoapError) as caught:
        fetch(settings, account, timeout=(0.2, 0.2))
    if "connect timeout" not in str(caught.value):
        pytest.skip(f"this kernel accepted the connection anyway: {caught.value}")
    assert time.monotonic() - started < 1.0
    assert caught.value.permanent is False
    assert not isinstance(caught.value, OutcomeUnknown)


def test_connection_refused_is_transient() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(SoapError) as caught:
        daffron.fetch_balance({8: f"http://127.0.0.1:{port}/"}, "1", timeout=FAST)
    assert caught.value.permanent is False and not isinstance(caught.value, OutcomeUnknown)


def test_missing_endpoint_setting_is_permanent() -> None:
    with pytest.raises(PartnerError) as caught:
        aus.fetch_balance({9: "user"}, "1001")
    assert caught.value.permanent is True


def test_wsdl_is_parsed_once_for_many_calls_and_endpoints(
    monkeypatch: pytest.MonkeyPatch, aus_sim: SimulatorHandle
) -> None:
    parsed: list[str] = []

    class CountingDocument(soap.Document):  # type: ignore[misc]
        def __init__(self, location: str, *args: Any, **kwargs: Any) -> None:
            parsed.append(location)
            super().__init__(location, *args, **kwargs)

    monkeypatch.setattr(soap, "Document", CountingDocument)
    soap.clear_cache()
    try:
        for _ in range(15):
            aus.fetch_balance(settings_for(aus_sim), "1001", timeout=FAST)
        with serve("aus") as other:
            aus.fetch_balance(settings_for(other), "1002", timeout=FAST)
    finally:
        soap.clear_cache()
    assert parsed == [str(aus.WSDL_PATH.resolve())]


def test_concurrent_calls_share_one_document(daffron_sim: SimulatorHandle) -> None:
    accounts = ["35909001", "267002", "3001", "3002", "3003", "3004"] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda a: _fetch(daffron_sim, account=a), accounts))
    assert [r.account_number for r in results] == accounts
    assert len(daffron_sim.calls) == len(accounts)


def test_soap_action_override_is_sent(aus_sim: SimulatorHandle) -> None:
    aus.fetch_balance(settings_for(aus_sim), "1001", timeout=FAST, options={"soap_action": "urn:custom/Get"})
    aus.fetch_balance(settings_for(aus_sim), "1001", timeout=FAST)
    assert aus_sim.soap_actions == ["urn:custom/Get", "urn:billbridge:aus:1/GetAccountData"]


def test_pump_operation_through_zeep_records_and_succeeds(cayenta_sim: SimulatorHandle) -> None:
    client = soap.get_client(cayenta.WSDL_PATH, cayenta_sim.url, connect_timeout=0.5, read_timeout=1)
    result = client.call(
        "AddARItem",
        USER_ID="u",
        PASSWORD="hunter2",
        ACCOUNT_NO="2001",
        TRAN_TYPE=6,
        AMOUNT=Decimal("10.50"),
        TRAN_DATE="2025-07-01T10:00:00-05:00",
        TENDER_TYPE="CC",
        REFERENCE_NO="guid-1",
    )
    assert result.value.SUCCESS is True
    assert "<ns0:TRAN_TYPE>6</ns0:TRAN_TYPE>" in result.request_xml
    assert "hunter2" not in result.request_xml
    assert cayenta_sim.operations() == ["AddARItem"]


def test_request_not_matching_the_wsdl_is_permanent(aus_sim: SimulatorHandle) -> None:
    client = soap.get_client(aus.WSDL_PATH, aus_sim.url, connect_timeout=0.5, read_timeout=1)
    with pytest.raises(SoapError) as caught:
        client.call("AddPendingPayment", UserName="u", Password="p", AccountNumber="1001")  # no Amount
    assert caught.value.permanent is True
    assert aus_sim.calls == []


@pytest.mark.parametrize(
    ("xml", "secret"),
    [
        ('<h UserID="me" Pwd="pw1"/>', "pw1"),
        ("<a><Password>pw2</Password></a>", "pw2"),
        ("<a><ns:PASSWORD xmlns:ns='urn:x'>pw3</ns:PASSWORD></a>", "pw3"),
        ('<a apiKey="k1"><SecretKey>k2</SecretKey></a>', "k1"),
        ("<a><SecretKey>k2</SecretKey></a>", "k2"),
        ('<html><p Pwd="pw4">broken <Password>pw5</Password>', "pw4"),
        ('<html><p Pwd="pw4">broken <Password>pw5</Password>', "pw5"),
    ],
)
def test_mask_xml_hides_secrets(xml: str, secret: str) -> None:
    masked = soap.mask_xml(xml)
    assert secret not in masked and MASK in masked


def test_mask_xml_keeps_other_values() -> None:
    masked = soap.mask_xml('<h UserID="InvoiceCloud" Pwd="x"><accountNumber>42</accountNumber></h>')
    assert 'UserID="InvoiceCloud"' in masked and "<accountNumber>42</accountNumber>" in masked


@pytest.fixture
def hang_up_port() -> Iterator[int]:
    """A server that reads the request and closes the connection without answering."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(2)

    def serve_once() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            connection.recv(65536)
            connection.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    thread.join(timeout=2)
    server.close()


def test_connection_dropped_after_sending_is_outcome_unknown(hang_up_port: int) -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        daffron.fetch_balance({8: f"http://127.0.0.1:{hang_up_port}/", 10: "pw"}, "35909001", timeout=FAST)
    assert "dropped" in str(caught.value)
    assert 'Pwd="********"' in caught.value.request_xml
