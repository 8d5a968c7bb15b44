"""Daffron / Milsoft MultiSpeak 3.0 CB simulator.

Payable items answer under whatever operation name was asked (``GetPayableItemsList``, the 3.0ac
dump's ``PayableItemsList``, or a biller's own). Fixtures: account number -> {"items": [{field:
text}], "allowable": [transactionType] or None (no list), "extensions": [(name, value, type)],
"extensions_at": "first" (schema order, in the first item) | "last" (as the seed shows) | "result",
"extra": {unknown element: text} added to the first item}.

CommitPaymentTransaction answers like the seed's sample; a repeated ``transactionId`` extension is
recorded in ``handle.duplicates`` and answered Success without posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from partners.simulators.common import SoapFault, add, find_text, root, text_pdf, unknown_account, unknown_operation

NS = "http://www.multispeak.org/Version_3.0"
ITEM_FIELDS = (
    "pastDueAmount",
    "currentAmount",
    "description",
    "chargeCode",
    "dueDate",
    "disconnectDate",
    "lastPaymentAmount",
    "lastPaymentDate",
)
ALL_TYPES = ["creditCardPayment", "achPayment", "eCheckPayment", "cashPayment"]


def _item(current: str, past_due: str, description: str, due: str = "2025-07-15T00:00:00") -> dict[str, str]:
    return {"pastDueAmount": past_due, "currentAmount": current, "description": description, "dueDate": due}


DEFAULT_FIXTURES: dict[str, dict[str, Any]] = {
    # Two services: balance 155.25 (120.10 + 35.15), past due 25.05 (20.00 + 5.05); everything allowed.
    "35909001": {
        "items": [
            _item("120.10", "20.00", "Electric"),
            _item("35.15", "5.05", "Water", "2025-07-12T00:00:00"),
        ],
        "allowable": ALL_TYPES,
    },
    # Prepaid, extensions after the fields as in the seed: balance = remainingBalance 4.93.
    "267002": {
        "items": [_item("0", "0", "Prepaid electric")],
        "allowable": ALL_TYPES,
        "extensions": [("remainingBalance", "4.93", "decimal"), ("remainingDays", "1", "decimal")],
        "extensions_at": "last",
    },
    # Prepaid with the extensions first (schema order).
    "267003": {
        "items": [_item("12.00", "0", "Prepaid electric")],
        "allowable": ALL_TYPES,
        "extensions": [("remainingBalance", "18.40", "decimal")],
        "extensions_at": "first",
    },
    # Cash only: both blocked.
    "3001": {"items": [_item("80.00", "80.00", "Electric")], "allowable": ["cashPayment"]},
    # preventCreditCard = Y, extensions first.
    "3002": {
        "items": [_item("42.50", "0", "Electric")],
        "allowable": ALL_TYPES,
        "extensions": [("preventCreditCard", "Y", "string")],
        "extensions_at": "first",
    },
    # No allowableTransactionTypes list: nothing blocked by it.
    "3003": {"items": [_item("10.00", "0", "Electric")], "allowable": None},
    # Card only: ACH blocked.
    "3004": {"items": [_item("20.00", "0", "Electric")], "allowable": ["creditCardPayment"]},
    # eCheck and cash, mixed case: CC blocked, ACH allowed; plus unknown elements to tolerate.
    "3005": {
        "items": [_item("1.5E1", "0.5", "Electric")],
        "allowable": ["ECHECKPAYMENT", "CashPayment"],
        "extra": {"serviceCategory": "residential"},
    },
}


def response_header() -> etree._Element:
    """Return the MultiSpeakMsgHeader the seed's sample answer carries."""
    return etree.Element(
        f"{{{NS}}}MultiSpeakMsgHeader",
        {
            "Company": "Daffron and Associates, Inc.",
            "AppName": "Toolbox iXp",
            "AppVersion": "2.0",
            "Version": "3.0",
            "SessionID": "2013-01-01_010101",
        },
        nsmap={None: NS},
    )


def _extensions(parent: etree._Element, extensions: list[tuple[str, str, str]]) -> None:
    holder = add(parent, NS, "extensionsList")
    for name, value, kind in extensions:
        item = add(holder, NS, "extensionsItem")
        add(item, NS, "extName", name)
        add(item, NS, "extValue", value)
        add(item, NS, "extType", kind)


def payable_items(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    number = find_text(request, "accountNumber")
    if number not in handle.fixtures:
        raise unknown_account(number)
    data = handle.fixtures[number]
    response = root(NS, f"{operation}Response")
    result = add(response, NS, f"{operation}Result")
    extensions, where = data.get("extensions") or [], data.get("extensions_at", "last")
    for index, fields in enumerate(data.get("items") or []):
        item = add(result, NS, "payableItem")
        if index == 0 and extensions and where == "first":
            _extensions(item, extensions)
        for name in ITEM_FIELDS:
            if name in fields:
                add(item, NS, name, fields[name])
        if index == 0:
            for name, text in (data.get("extra") or {}).items():
                add(item, NS, name, text)
            if extensions and where == "last":
                _extensions(item, extensions)
    if data.get("allowable") is not None:
        types = add(result, NS, "allowableTransactionTypes")
        for kind in data["allowable"]:
            add(types, NS, "transactionType", kind)
    if extensions and where == "result":
        _extensions(result, extensions)
    return response


def _transaction_id(tender: etree._Element) -> str:
    for item in tender.iter(f"{{{NS}}}extensionsItem"):
        if find_text(item, "extName").lower() == "transactionid":
            return find_text(item, "extValue")
    return ""


def commit_payment(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    response = root(NS, f"{operation}Response")
    result = add(response, NS, f"{operation}Result")
    for transaction in request.iter(f"{{{NS}}}paymentTransaction"):
        number = find_text(transaction, "accountNumber")
        if number not in handle.fixtures:
            raise unknown_account(number)
        answer = add(result, NS, "paymentTransaction")
        add(answer, NS, "accountNumber", number)
        for tender in transaction.iter(f"{{{NS}}}tender"):
            key = _transaction_id(tender)
            if not key:
                raise SoapFault("soap:Client", "validation error: transactionId extension is required")
            handle.seen_before(key)
            kind = etree.QName(tender.getparent()).localname
            answered = add(add(answer, NS, kind), NS, "tender")
            add(answered, NS, "amount", find_text(tender, "amount"))
            add(answered, NS, "authorizationCode", find_text(tender, "authorizationCode"))
            add(answered, NS, "responseCode", "Success")
    return response


def _errors_for(operation: str, ids: list[str], handle: Any) -> etree._Element:
    """Answer an ArrayOfErrorObject: one errorObject per unknown customer, empty when all went well."""
    response = root(NS, f"{operation}Response")
    result = add(response, NS, f"{operation}Result")
    for object_id in ids:
        if object_id not in handle.fixtures:
            error = add(result, NS, "errorObject")
            error.set("objectID", object_id)
            error.set("errorString", f"Unknown customer {object_id}")
    return response


def modify_customer(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    ids = [c.get("objectID", "") for c in request.iter(f"{{{NS}}}customer")]
    return _errors_for(operation, ids, handle)


def history_comments(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    comments = list(request.iter(f"{{{NS}}}historyComment"))
    if any(len(find_text(c, "comment")) > 70 for c in comments):
        raise SoapFault("soap:Client", "validation error: comment longer than 70 characters")
    return _errors_for(operation, [find_text(c, "customerID") for c in comments], handle)


OPERATIONS: dict[str, Callable[[str, etree._Element, Any], etree._Element]] = {
    "CommitPaymentTransaction": commit_payment,
    "ModifyCBDataForCustomer": modify_customer,
    "WriteAccountHistoryComments": history_comments,
}


def eprint(query: dict[str, str], handle: Any) -> tuple[int, str, bytes]:
    """The e-print bill page (PDF linking, ``partners/daffron/bill_link.py``): ACCT and SUB name the
    account (fixture key ``ACCT-SUB``); the answer is a one-page PDF naming what was asked for."""
    account = f"{query.get('ACCT', '')}-{query.get('SUB', '')}"
    if query.get("PROCESSING_TYPE") != "HISTORY" or account not in handle.fixtures:
        return 404, "text/html", b"<html><body><h1>No bill for this account</h1></body></html>"
    asked = ", ".join(f"{key}={value}" for key, value in sorted(query.items()))
    return 200, "application/pdf", text_pdf([f"Daffron e-print bill for account {account}", asked])


#: GET paths the simulator serves besides SOAP (path -> answer).
GET_ROUTES: dict[str, Callable[[dict[str, str], Any], tuple[int, str, bytes]]] = {"/eprint/": eprint}


def respond(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    """Return the response body element for ``operation``; raises SoapFault for unknown ones."""
    if operation.endswith("PayableItemsList"):
        return payable_items(operation, request, handle)
    if operation not in OPERATIONS:
        raise unknown_operation(operation)
    return OPERATIONS[operation](operation, request, handle)
