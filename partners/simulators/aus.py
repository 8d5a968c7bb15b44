"""AUS simulator answers, in the shapes of ``partners/aus/wsdl/aus.wsdl``.

Fixtures: account number -> {"balance", "past_due", "due_date" (ISO or None), "cash_only",
"customer_number", "location_number"}. Default accounts: 1001 (current), 1002 (past due),
1003 (cash only: both blocks), 1001 and 1002 share customer C100 at location L200.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from partners.simulators.common import ResultShape, add, find_text, nil, unknown_operation

NS = "urn:billbridge:aus:1"
SHAPE = ResultShape(NS, "AccountNumber", "Success", "Message", "Accepted", "ReferenceNumber", "AUS",
                    "ContentType", "Document")
_account, _wrapped, pump, bill_image = SHAPE.account_of, SHAPE.wrapped, SHAPE.pump, SHAPE.pdf

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


def account_data(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    number, data = _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "AccountNumber", number)
    add(result, NS, "BalanceDue", str(data["balance"]))
    add(result, NS, "PastDueAmount", str(data["past_due"]))
    due = add(result, NS, "DueDate", data.get("due_date"))
    if not data.get("due_date"):
        nil(due)
    add(result, NS, "CashOnly", "true" if data.get("cash_only") else "false")
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
