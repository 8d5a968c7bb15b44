"""Every request the Daffron pump sends validates against the MultiSpeak 3.0 types of the reference WSDL.

The reference (``../shared/multispeak/CB_Server_v3.0ac.wsdl``) lives outside the project; the tests skip
when it is absent. Requests are taken as the simulator received them, so this is what went on the wire.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from payments import delivery, services

from .conftest import CB_SERVER_WSDL, MSP, SOAP_ENV

XS = "http://www.w3.org/2001/XMLSchema"


@pytest.fixture(scope="module")
def reference() -> etree.XMLSchema:
    if not CB_SERVER_WSDL.is_file():
        pytest.skip(f"MultiSpeak reference WSDL not found at {CB_SERVER_WSDL}")
    schema = etree.parse(str(CB_SERVER_WSDL)).find(f".//{{{XS}}}schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def _validate_all(schema: etree.XMLSchema, sim: Any) -> list[str]:
    """Validate header and body of every request received; return the operations seen."""
    seen = []
    for operation, xml in sim.calls:
        root = etree.fromstring(xml.encode())
        header = root.find(f"{{{SOAP_ENV}}}Header/{{{MSP}}}MultiSpeakMsgHeader")
        body = next(c for c in root.find(f"{{{SOAP_ENV}}}Body") if isinstance(c.tag, str))
        for element in (header, body):
            standalone = etree.fromstring(etree.tostring(element))
            assert schema.validate(standalone), (operation, schema.error_log.filter_from_errors())
        seen.append(operation)
    return seen


def test_every_daffron_request_validates(reference: etree.XMLSchema, pump_biller: Callable[..., Any],
                                         account_for: Callable[..., Any], pay: Callable[..., Any],
                                         sims: dict[str, Any]) -> None:
    biller = pump_biller("daffron", 2661, settings={35: "2", 131: "{}", 64: "0(WEB)|8(POS)", 65: "2(CSRWEB)"},
                         post_scheduled_payments=True)
    account = account_for(biller, "35909-001", invoice_number="121940013401")
    for tender, channel, extra in (("card", "web", {}), ("ach", "obd", {}), ("echeck", "csr", {"source_id": 2}),
                                   ("cash", "kiosk", {"kiosk_id": "BHappy"}), ("card", "pos", {"source_id": 8})):
        pay(account, "232.10", fee="2.95", tender=tender, channel=channel, approval_code=f"{tender}-{channel}",
            **extra)
    services.autopay_set(account=account, active=True, actor="payer")
    services.autopay_set(account=account, active=False, actor="payer")
    services.paperless_set(account=account, active=True, actor="payer")
    services.paperless_set(account=account, active=False, actor="payer")
    scheduled = services.scheduled_payment_create(account=account, amount=Decimal("156.25"),
                                                  scheduled_for=date(2024, 8, 15), invoice_number="121940013401")
    services.scheduled_payment_update(scheduled=scheduled, amount=Decimal("100"))
    services.scheduled_payment_cancel(scheduled=scheduled)
    assert delivery.pump_biller_run(biller.pk).as_dict()["delivered"] == 12
    seen = _validate_all(reference, sims["daffron"])
    assert sorted(set(seen)) == ["CommitPaymentTransaction", "ModifyCBDataForCustomer", "WriteAccountHistoryComments"]
    assert len(seen) == 12
