"""What we send Daffron validates against the MultiSpeak 3.0 types of the reference CB_Server WSDL.

The reference lives outside the project (``../shared/multispeak/``); the tests skip when it is absent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from partners import soap
from partners.daffron import multispeak as ms
from partners.daffron import rtdr as daffron
from partners.simulators import SimulatorHandle

from .conftest import CB_SERVER_WSDL, FAST, settings_for

XS = "http://www.w3.org/2001/XMLSchema"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CREDENTIALS = ms.Credentials("InvoiceCloud", "s3cret-pw")
#: The reference dump drops the "Get" prefix; our subset uses the official names.
DUMP_NAMES = {
    "GetPayableItemsList": "PayableItemsList",
    "GetPayableItemsListResponse": "PayableItemsListResponse",
    "GetPayableItemsListResult": "PayableItemsListResult",
}


def _schema_element(wsdl: Path) -> etree._Element:
    schema = etree.parse(str(wsdl)).find(f".//{{{XS}}}schema")
    assert schema is not None
    return schema


def _compile(wsdl: Path) -> etree.XMLSchema:
    # Re-serialize so the schema document carries the WSDL root's namespace declarations.
    return etree.XMLSchema(etree.fromstring(etree.tostring(_schema_element(wsdl))))


@pytest.fixture(scope="module")
def reference() -> etree.XMLSchema:
    if not CB_SERVER_WSDL.is_file():
        pytest.skip(f"MultiSpeak reference WSDL not found at {CB_SERVER_WSDL} (set MULTISPEAK_WSDL)")
    return _compile(CB_SERVER_WSDL)


@pytest.fixture(scope="module")
def subset() -> etree.XMLSchema:
    return _compile(ms.WSDL_PATH)


def _parts(envelope: etree._Element | str) -> tuple[etree._Element, etree._Element]:
    """Return (MultiSpeakMsgHeader, body element) of an envelope, each as its own document."""
    root = etree.fromstring(envelope.encode()) if isinstance(envelope, str) else envelope
    header = root.find(f"{{{SOAP_ENV}}}Header/{{{ms.NS}}}MultiSpeakMsgHeader")
    body = next(iter(root.find(f"{{{SOAP_ENV}}}Body")))
    return etree.fromstring(etree.tostring(header)), etree.fromstring(etree.tostring(body))


def _as_dump_names(element: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(element))
    local = etree.QName(copy).localname
    copy.tag = f"{{{ms.NS}}}{DUMP_NAMES.get(local, local)}"
    return copy


def _assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), schema.error_log.filter_from_errors()


def test_payable_items_request_as_sent_validates(
    reference: etree.XMLSchema, subset: etree.XMLSchema, daffron_sim: SimulatorHandle
) -> None:
    daffron.fetch_balance(settings_for(daffron_sim), "35909001", timeout=FAST)
    header, body = _parts(daffron_sim.calls[-1][1])
    assert etree.QName(body).localname == "GetPayableItemsList"
    for element in (header, body):
        _assert_valid(subset, element)
    _assert_valid(reference, header)
    _assert_valid(reference, _as_dump_names(body))  # same type, the dump's element name


def test_payable_items_request_under_the_dump_name_validates_as_is(
    reference: etree.XMLSchema, daffron_sim: SimulatorHandle
) -> None:
    daffron.fetch_balance(
        settings_for(daffron_sim), "3003", timeout=FAST, options={"operation": "PayableItemsList"}
    )
    header, body = _parts(daffron_sim.calls[-1][1])
    _assert_valid(reference, header)
    _assert_valid(reference, body)


def _payments() -> list[ms.PaymentTender]:
    return [
        ms.PaymentTender(
            "35909001",
            "creditCardPayment",
            Decimal("232.10"),
            "A01 - Approved (EXACT MATCH)",
            "WEB",
            "e4deba7f-86e7-4850-8226-d6a2fbfb0ab6",
        ),
        ms.PaymentTender("267002", "achPayment", Decimal("15.00"), "ACH123", "OBD", "guid-2"),
        ms.PaymentTender(
            "3001", "cashPayment", Decimal(5), "K1", "KIOSK", "guid-3", biller_reference="BHappy"
        ),
        ms.PaymentTender("3002", "eCheckPayment", Decimal("7.5"), "E1", "WEB", "guid-4"),
    ]


def _pump_envelopes() -> dict[str, etree._Element]:
    log_time = datetime(2025, 8, 6, 0, 1, 32, tzinfo=ZoneInfo("America/Chicago"))
    return {
        "CommitPaymentTransaction": ms.commit_payment_request(CREDENTIALS, _payments()),
        "ModifyCBDataForCustomer": ms.modify_ebill_request(CREDENTIALS, "35909001", True),
        "WriteAccountHistoryComments": ms.history_comments_request(
            CREDENTIALS, [ms.HistoryComment("35909001", "321045080002", log_time, "AUTOPAY ON")]
        ),
    }


@pytest.mark.parametrize("operation", sorted(_pump_envelopes()))
def test_pump_requests_as_sent_validate(
    reference: etree.XMLSchema, subset: etree.XMLSchema, daffron_sim: SimulatorHandle, operation: str
) -> None:
    client = soap.get_client(ms.WSDL_PATH, daffron_sim.url, connect_timeout=0.5, read_timeout=1)
    result = client.post(_pump_envelopes()[operation], soap_action=ms.soap_action_for(operation))
    assert daffron_sim.soap_actions == [f"{ms.NS}/{operation}"]
    header, body = _parts(daffron_sim.calls[-1][1])
    for schema in (reference, subset):
        _assert_valid(schema, header)
        _assert_valid(schema, body)
    answer = etree.fromstring(etree.tostring(result.value))
    _assert_valid(reference, answer)  # the simulator answers in the contract's shapes too
    assert 'Pwd="********"' in result.request_xml


def test_extensions_list_comes_first_in_tender() -> None:
    envelope = ms.commit_payment_request(CREDENTIALS, _payments()[:1])
    tender = envelope.find(f".//{{{ms.NS}}}tender")
    assert [etree.QName(c).localname for c in tender] == [
        "extensionsList",
        "amount",
        "authorizationCode",
        "paymentMode",
    ]
    values = [i.findtext(f"{{{ms.NS}}}extValue") for i in tender.iter(f"{{{ms.NS}}}extensionsItem")]
    assert values == ["e4deba7f-86e7-4850-8226-d6a2fbfb0ab6"]


@pytest.mark.parametrize(("version", "text"), [(1, "232.1"), (2, "232.10")])
def test_amount_format_follows_setting_35(version: int, text: str) -> None:
    envelope = ms.commit_payment_request(CREDENTIALS, _payments()[:1], service_version=version)
    assert envelope.findtext(f".//{{{ms.NS}}}amount") == text


def test_shortest_amounts() -> None:
    assert [ms.format_amount(Decimal(a)) for a in ("230.00", "0.00", "15", "0.10")] == [
        "230",
        "0",
        "15",
        "0.1",
    ]


def test_authorization_code_is_cut_at_50_characters() -> None:
    long_code = "A" * 60
    payment = ms.PaymentTender("1", "creditCardPayment", Decimal(1), long_code, "WEB", "g")
    envelope = ms.commit_payment_request(CREDENTIALS, [payment])
    assert envelope.findtext(f".//{{{ms.NS}}}authorizationCode") == "A" * 50


@pytest.mark.parametrize(
    "comment",
    [
        ms.HistoryComment("1", "2", datetime(2025, 1, 1), "AUTOPAY ON"),
        ms.HistoryComment("1", "2", datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC")), "X" * 71),
    ],
)
def test_history_comment_rules(comment: ms.HistoryComment) -> None:
    with pytest.raises(ValueError):
        ms.history_comments_request(CREDENTIALS, [comment])


def test_log_time_keeps_the_biller_offset() -> None:
    log_time = datetime(2020, 8, 6, 0, 1, 32, tzinfo=ZoneInfo("America/Chicago"))
    envelope = ms.history_comments_request(
        CREDENTIALS, [ms.HistoryComment("1001", "3210", log_time, "AUTOPAY ON")]
    )
    assert envelope.findtext(f".//{{{ms.NS}}}logTime") == "2020-08-06T00:01:32-05:00"


def _canonical(element: etree._Element) -> tuple[Any, ...]:
    """Structure of a schema definition with QName values resolved, names mapped to the dump's."""
    attributes = []
    for key, value in sorted(element.attrib.items()):
        if key in ("type", "base", "ref") and ":" in value:
            prefix, local = value.split(":", 1)
            value = f"{{{element.nsmap[prefix]}}}{local}"
        attributes.append((key, DUMP_NAMES.get(value, value)))
    children = tuple(_canonical(c) for c in element if isinstance(c.tag, str))
    return etree.QName(element).localname, tuple(attributes), children


def test_subset_types_are_identical_to_the_reference() -> None:
    if not CB_SERVER_WSDL.is_file():
        pytest.skip(f"MultiSpeak reference WSDL not found at {CB_SERVER_WSDL}")

    def definitions(wsdl: Path) -> dict[tuple[str, str], etree._Element]:
        return {
            (etree.QName(d).localname, DUMP_NAMES.get(d.get("name"), d.get("name"))): d
            for d in _schema_element(wsdl)
            if isinstance(d.tag, str)
        }

    ours, theirs = definitions(ms.WSDL_PATH), definitions(CB_SERVER_WSDL)
    assert len(ours) == 43
    for key, definition in ours.items():
        assert key in theirs, key
        assert _canonical(definition) == _canonical(theirs[key]), key
