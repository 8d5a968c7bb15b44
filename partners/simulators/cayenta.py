"""Cayenta simulator answers, in the shapes of ``partners/cayenta/wsdl/cayenta.wsdl``.

Fixtures: account number -> {"balance", "due_date" (ISO or None), "block_code", "columns"
({column: value} after the fixed ones, e.g. PASTDUE_AMT)}. Default accounts, with setting 28
``{"block_ach": ["A"], "block_cc": ["C"], "cash_only": ["X"]}`` in mind: 2001 (no block),
2002 (code A), 2003 (code C), 2004 (code X, cash only), 2005 (past due in ARREARS_AMT, for setting 107).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from partners.simulators.common import ResultShape, add, find_text, nil, unknown_operation

NS = "urn:billbridge:cayenta:1"
SHAPE = ResultShape(NS, "ACCOUNT_NO", "SUCCESS", "MESSAGE", "OK", "ITEM_ID", "CAY", "CONTENT_TYPE", "PDF")
_account, _wrapped, pump, statement = SHAPE.account_of, SHAPE.wrapped, SHAPE.pump, SHAPE.pdf
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


def balance(operation: str, request: etree._Element, handle: Any) -> etree._Element:
    number, data = _account(request, handle)
    response, result = _wrapped(operation)
    add(result, NS, "ACCOUNT_NO", number)
    add(result, NS, "BALANCE_AMT", str(data["balance"]))
    due = add(result, NS, "DUE_DATE", data.get("due_date"))
    if not data.get("due_date"):
        nil(due)
    add(result, NS, "BLOCK_EFT_IND", data.get("block_code") or "")
    for column, value in (data.get("columns") or {}).items():
        add(result, NS, column, str(value))
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
