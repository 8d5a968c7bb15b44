"""The loopback partner simulators: pump answers, duplicate detection, run-time switches, CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from partners import soap
from partners.aus import rtdr as aus
from partners.cayenta import rtdr as cayenta
from partners.daffron import multispeak as ms
from partners.daffron import rtdr as daffron
from partners.simulators import SimulatorHandle, serve
from partners.soap import OutcomeUnknown, SoapError

from .conftest import FAST, PROJECT, settings_for

CREDENTIALS = ms.Credentials("InvoiceCloud", "s3cret-pw")
COMMIT = ms.soap_action_for("CommitPaymentTransaction")


def _commit(handle: SimulatorHandle, transaction_id: str) -> soap.CallResult:
    payment = ms.PaymentTender(
        "35909001",
        "creditCardPayment",
        Decimal("232.10"),
        "A01 - Approved (EXACT MATCH)",
        "WEB",
        transaction_id,
    )
    client = soap.get_client(ms.WSDL_PATH, handle.url, connect_timeout=0.5, read_timeout=1)
    return client.post(ms.commit_payment_request(CREDENTIALS, [payment]), soap_action=COMMIT)


def test_commit_answers_like_the_seed_and_detects_a_repeated_transaction_id(
    daffron_sim: SimulatorHandle,
) -> None:
    first = _commit(daffron_sim, "e4deba7f-86e7-4850-8226-d6a2fbfb0ab6")
    _commit(daffron_sim, "another-guid")
    again = _commit(daffron_sim, "e4deba7f-86e7-4850-8226-d6a2fbfb0ab6")
    expected = [
        {
            "accountNumber": "35909001",
            "authorizationCode": "A01 - Approved (EXACT MATCH)",
            "responseCode": "Success",
        }
    ]
    assert ms.tender_outcomes(first.value) == expected == ms.tender_outcomes(again.value)
    assert "<amount>232.1</amount>" in first.response_xml
    assert "Toolbox iXp" in first.response_xml  # the seed's answer header
    assert daffron_sim.duplicates == ["e4deba7f-86e7-4850-8226-d6a2fbfb0ab6"]
    assert daffron_sim.operations() == ["CommitPaymentTransaction"] * 3


def test_change_logs_answer_error_objects_only_for_unknown_customers(daffron_sim: SimulatorHandle) -> None:
    client = soap.get_client(ms.WSDL_PATH, daffron_sim.url, connect_timeout=0.5, read_timeout=1)
    action = ms.soap_action_for("ModifyCBDataForCustomer")
    known = client.post(ms.modify_ebill_request(CREDENTIALS, "35909001", False), soap_action=action)
    unknown = client.post(ms.modify_ebill_request(CREDENTIALS, "nobody", True), soap_action=action)
    assert ms.error_objects(known.value) == []
    assert ms.error_objects(unknown.value) == [
        {"objectID": "nobody", "errorString": "Unknown customer nobody"}
    ]


def test_mode_switches_at_run_time(daffron_sim: SimulatorHandle) -> None:
    assert daffron.fetch_balance(settings_for(daffron_sim), "3003", timeout=FAST).balance_due == Decimal(
        "10.00"
    )
    daffron_sim.mode = "fault"
    with pytest.raises(SoapError):
        daffron.fetch_balance(settings_for(daffron_sim), "3003", timeout=FAST)
    daffron_sim.mode = "ok"
    assert daffron.fetch_balance(settings_for(daffron_sim), "3003", timeout=FAST).balance_due == Decimal(
        "10.00"
    )
    assert len(daffron_sim.calls) == 3


def test_slow_pump_call_is_recorded_and_outcome_unknown(daffron_sim: SimulatorHandle) -> None:
    daffron_sim.mode = "slow"
    client = soap.get_client(ms.WSDL_PATH, daffron_sim.url, connect_timeout=0.5, read_timeout=0.2)
    payment = ms.PaymentTender("35909001", "achPayment", Decimal(5), "ok", "WEB", "guid-slow")
    with pytest.raises(OutcomeUnknown) as caught:
        client.post(ms.commit_payment_request(CREDENTIALS, [payment]), soap_action=COMMIT)
    assert "guid-slow" in caught.value.request_xml
    assert daffron_sim.operations() == ["CommitPaymentTransaction"]


def test_stop_wakes_slow_requests_and_frees_the_port() -> None:
    handle = serve("aus")
    handle.mode, handle.slow_seconds = "slow", 30
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(aus.fetch_balance({8: handle.url}, "1001", timeout=(0.5, 5)))
        except SoapError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not handle.calls:
        time.sleep(0.01)
    started = time.monotonic()
    handle.stop()
    caller.join(timeout=5)
    assert time.monotonic() - started < 1.5
    assert len(outcome) == 1  # woken early: answered (or cut off), never left hanging for 30 s
    port = int(handle.url.split(":")[2].split("/")[0])
    with serve("aus", port) as again:  # the demo can restart on the same port at once
        assert aus.fetch_balance({8: again.url}, "1001", timeout=FAST).balance_due == Decimal("125.50")


def test_fixtures_are_merged_over_the_defaults() -> None:
    extra: dict[str, dict[str, object]] = {
        "9001": {"balance": "1.00", "due_date": None, "block_code": "X", "columns": {}}
    }
    with serve("cayenta", fixtures=extra) as handle:
        settings = settings_for(handle)
        assert cayenta.fetch_balance(settings, "9001", timeout=FAST).cash_only is True
        assert cayenta.fetch_balance(settings, "2001", timeout=FAST).balance_due == Decimal("150.00")


@pytest.mark.parametrize(
    ("partner", "wsdl", "operation", "arguments", "field"),
    [
        (
            "aus",
            aus.WSDL_PATH,
            "RetrieveBillPrintImageV2",
            {"UserName": "u", "Password": "p", "AccountNumber": "1001"},
            "Document",
        ),
        (
            "cayenta",
            cayenta.WSDL_PATH,
            "Get_StmntPdf",
            {"USER_ID": "u", "PASSWORD": "p", "ACCOUNT_NO": "2001"},
            "PDF",
        ),
    ],
)
def test_bill_images_come_back_as_pdf_bytes(
    request: pytest.FixtureRequest,
    partner: str,
    wsdl: Path,
    operation: str,
    arguments: dict[str, str],
    field: str,
) -> None:
    handle: SimulatorHandle = request.getfixturevalue(f"{partner}_sim")
    result = soap.get_client(wsdl, handle.url, connect_timeout=0.5, read_timeout=1).call(
        operation, **arguments
    )
    assert getattr(result.value, field).startswith(b"%PDF-")


def _free_port_run(count: int) -> int:
    """Return a port P with P..P+count-1 free on 127.0.0.1 (checked just before use)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as check:
                    check.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    pytest.skip("no run of free ports")


def test_command_line_runs_all_three_on_consecutive_ports() -> None:
    base = _free_port_run(3)
    process = subprocess.Popen(
        [sys.executable, "-m", "partners.simulators", "--all", "--port", str(base)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().split() for _ in range(3)]
        assert lines == [
            ["aus", f"http://127.0.0.1:{base}/aus"],
            ["cayenta", f"http://127.0.0.1:{base + 1}/cayenta"],
            ["daffron", f"http://127.0.0.1:{base + 2}/daffron"],
        ]
        result = daffron.fetch_balance({8: lines[2][1]}, "267002", timeout=FAST)
        assert result.balance_due == Decimal("4.93")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
