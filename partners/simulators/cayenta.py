"""Cayenta simulator answers, in the shapes of ``partners/cayenta/wsdl/cayenta.wsdl``.

Fixtures: account number -> {"balance", "due_date" (ISO or None), "block_code", "columns"
({column: value} after the fixed ones, e.g. PASTDUE_AMT)}. Default accounts, with setting 28
``{"block_ach": ["A"], "block_cc": ["C"], "cash_only": ["X"]}`` in mind: 2001 (no block),
2002 (code A), 2003 (code C), 2004 (code X, cash only), 2005 (past due in ARREARS_AMT, for setting 107).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from lxml import etree

from partners.simulators.aus import SAMPLE_PDF
from partners.simulators.common import add, find_text, root, unknown_account, unknown_operation

NS = "urn:billbridge:cayenta:1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SAMPLE_BLOCK_SETTING = '{"block_ach": ["A"], "block_cc": ["C"], "cash_only": ["X"]}'

DEFAULT_FIXTURES: dict[str, dict[str, Any]] = {
    "2001": {
        "balance": "150.00",
        "due_date": "2025-07-20",
        "block_code": "",
        "columns": {"PASTDUE_AMT": "0.00"},
    },
    "2002": {
        "balance": "75.40",
        "due_date": "2025-07-20",
        "block_code": "A",
        "columns": {"PASTDUE_AMT": "12.30"},
    },
    "2003": {
        "balance": "99.99",
        "due_date": "2025-07-21",
        "block_code": "C",
        "columns": {"PASTDUE_AMT": "0"},
    },
    "2004": {"balance": "410.00", "due_date": None, "block_code": "X", "columns": {"PASTDUE_AMT": "410.00"}},
    "2005": {
        "balance": "88.00",
        "due_date": "2025-07-22",
        "block_code": "",
        "columns": {"ARREARS_AMT": "40.00", "PASTDUE_AMT": "0.00"},
    },
}


def _account(request: etree._Element, handle: Any) -> tuple[str, dict[str, Any]]:
    number = find_text(request, "ACCOUNT_NO")
    if number not in handle.fixtures:
        raise unknown_account(number)
    return number, handle.fixtures[number]


def _wrapped(operation: str) -> tuple[etree._Element, etree._Element]:
    response = root(NS, f"{operation}Response")
    return response, add(response, NS, f"{operation}Result")


def balance(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    number, data = _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "ACCOUNT_NO", number)
    add(result, NS, "BALANCE_AMT", str(data["balance"]))
    due = add(result, NS, "DUE_DATE", data.get("due_date"))
    if not data.get("due_date"):
        due.set(f"{{{XSI}}}nil", "true")
    add(result, NS, "BLOCK_EFT_IND", data.get("block_code") or "")
    for column, value in (data.get("columns") or {}).items():
        add(result, NS, column, str(value))
    return response


def pump(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "SUCCESS", "true")
    add(result, NS, "MESSAGE", "OK")
    add(result, NS, "ITEM_ID", f"CAY-{len(handle.calls)}")
    return response


def statement(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "CONTENT_TYPE", "application/pdf")
    add(result, NS, "PDF", base64.b64encode(SAMPLE_PDF).decode("ascii"))
    return response


OPERATIONS: dict[str, Callable[[str, etree._Element, Any], etree._Element]] = {
    "GetAccountBalance": balance,
    "AddARItem": pump,
    "AddReturnedCheck": pump,
    "VoidPayment": pump,
    "_PostAutopayChangeXML": pump,
    "_PostPaperLessChangeXML": pump,
    "Get_StmntPdf": statement,
}


def respond(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    """Return the response body element for ``operation``; raises SoapFault for unknown ones."""
    if operation not in OPERATIONS:
        raise unknown_operation(operation)
    return OPERATIONS[operation](operation, request, handle)
