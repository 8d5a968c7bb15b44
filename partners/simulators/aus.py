"""AUS simulator answers, in the shapes of ``partners/aus/wsdl/aus.wsdl``.

Fixtures: account number -> {"balance", "past_due", "due_date" (ISO or None), "cash_only",
"customer_number", "location_number"}. Default accounts: 1001 (current), 1002 (past due),
1003 (cash only: both blocks), 1001 and 1002 share customer C100 at location L200.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from lxml import etree

from partners.simulators.common import add, find_text, root, unknown_account, unknown_operation

NS = "urn:billbridge:aus:1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"

DEFAULT_FIXTURES: dict[str, dict[str, Any]] = {
    "1001": {
        "balance": "125.50",
        "past_due": "0.00",
        "due_date": "2025-07-15",
        "cash_only": False,
        "customer_number": "C100",
        "location_number": "L200",
    },
    "1002": {
        "balance": "310.75",
        "past_due": "85.25",
        "due_date": "2025-07-10",
        "cash_only": False,
        "customer_number": "C100",
        "location_number": "L200",
    },
    "1003": {
        "balance": "64.00",
        "past_due": "64.00",
        "due_date": None,
        "cash_only": True,
        "customer_number": "C300",
        "location_number": "L300",
    },
}


def _account(request: etree._Element, handle: Any) -> tuple[str, dict[str, Any]]:
    number = find_text(request, "AccountNumber")
    if number not in handle.fixtures:
        raise unknown_account(number)
    return number, handle.fixtures[number]


def _wrapped(operation: str) -> tuple[etree._Element, etree._Element]:
    response = root(NS, f"{operation}Response")
    return response, add(response, NS, f"{operation}Result")


def account_data(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    number, data = _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "AccountNumber", number)
    add(result, NS, "BalanceDue", str(data["balance"]))
    add(result, NS, "PastDueAmount", str(data["past_due"]))
    due = add(result, NS, "DueDate", data.get("due_date"))
    if not data.get("due_date"):
        due.set(f"{{{XSI}}}nil", "true")
    add(result, NS, "CashOnly", "true" if data.get("cash_only") else "false")
    return response


def pump(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "Success", "true")
    add(result, NS, "Message", "Accepted")
    add(result, NS, "ReferenceNumber", f"AUS-{len(handle.calls)}")
    return response


def bill_image(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "ContentType", "application/pdf")
    add(result, NS, "Document", base64.b64encode(SAMPLE_PDF).decode("ascii"))
    return response


def search(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    wanted = (find_text(request, "CustomerNumber"), find_text(request, "LocationNumber"))
    response, result = _wrapped(operation)
    for number, data in handle.fixtures.items():
        if (data.get("customer_number"), data.get("location_number")) == wanted:
            add(result, NS, "AccountNumber", number)
    return response


OPERATIONS: dict[str, Callable[[str, etree._Element, Any], etree._Element]] = {
    "GetAccountData": account_data,
    "AddPendingPayment": pump,
    "UpdatePaymentPlan": pump,
    "UpdateCisLinkTableEBillAndLinkRegistration": pump,
    "RetrieveBillPrintImageV2": bill_image,
    "SearchByAdvancedUtilityCustomerAndLocationNumber": search,
}


def respond(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    """Return the response body element for ``operation``; raises SoapFault for unknown ones."""
    if operation not in OPERATIONS:
        raise unknown_operation(operation)
    return OPERATIONS[operation](operation, request, handle)
