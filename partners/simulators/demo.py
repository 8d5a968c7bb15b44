"""Simulator fixtures for the demo billers' accounts, so RTDR answers for them under ``make run``.

The account numbers are those ``billers/demo.py`` (``_account_number``) creates: AUS BID 123
``12300001``..``12300005``, Cayenta BID 1368 ``136800001``..``136800005``, Daffron BID 2778
``035909-001``..``035913-005`` (a test checks they stay in step). Each partner's five accounts show its
rules: a plain balance, a past due, and the payment blocks (Cayenta's block codes are the demo
biller's setting 28: NOACH, NOCC, CASH).
"""

from __future__ import annotations

from typing import Any

from partners.simulators.daffron import ALL_TYPES

_DUE = "2026-12-15"

AUS: dict[str, dict[str, Any]] = {
    "12300001": {"balance": "96.40", "past_due": "0.00", "due_date": _DUE, "cash_only": False},
    "12300002": {"balance": "118.12", "past_due": "21.50", "due_date": _DUE, "cash_only": False},
    "12300003": {"balance": "104.12", "past_due": "0.00", "due_date": _DUE, "cash_only": False},
    "12300004": {"balance": "228.74", "past_due": "114.37", "due_date": _DUE, "cash_only": False},
    "12300005": {"balance": "124.12", "past_due": "124.12", "due_date": None, "cash_only": True},  # both blocks
}
for _number, _data in AUS.items():
    _data.update(customer_number=f"C{int(_number[-2:]):04d}", location_number=f"L{int(_number[-2:]):04d}")

CAYENTA: dict[str, dict[str, Any]] = {
    "136800001": {"balance": "84.12", "due_date": _DUE, "block_code": "", "columns": {"PASTDUE_AMT": "0.00"}},
    "136800002": {"balance": "94.12", "due_date": _DUE, "block_code": "NOACH", "columns": {"PASTDUE_AMT": "0.00"}},
    "136800003": {"balance": "104.12", "due_date": _DUE, "block_code": "NOCC", "columns": {"PASTDUE_AMT": "0.00"}},
    "136800004": {"balance": "126.62", "due_date": _DUE, "block_code": "", "columns": {"PASTDUE_AMT": "12.50"}},
    "136800005": {"balance": "124.12", "due_date": None, "block_code": "CASH", "columns": {"PASTDUE_AMT": "40.00"}},
}


def _item(current: str, past_due: str, description: str) -> dict[str, str]:
    return {"pastDueAmount": past_due, "currentAmount": current, "description": description,
            "dueDate": f"{_DUE}T00:00:00"}


DAFFRON: dict[str, dict[str, Any]] = {
    # Two services: balance = the sum of currentAmount, past due = the sum of pastDueAmount.
    "035909-001": {"items": [_item("60.00", "0", "Electric"), _item("24.12", "0", "Water")], "allowable": ALL_TYPES},
    # Prepaid: balance = remainingBalance.
    "035910-002": {
        "items": [_item("0", "0", "Prepaid electric")],
        "allowable": ALL_TYPES,
        "extensions": [("remainingBalance", "14.93", "decimal"), ("remainingDays", "3", "decimal")],
        "extensions_at": "last",
    },
    # preventCreditCard = Y: CC blocked.
    "035911-003": {
        "items": [_item("104.12", "0", "Electric")],
        "allowable": ALL_TYPES,
        "extensions": [("preventCreditCard", "Y", "string")],
        "extensions_at": "first",
    },
    # Card only: ACH blocked; with a past due.
    "035912-004": {"items": [_item("101.62", "12.50", "Electric"), _item("12.50", "0", "Water")],
                   "allowable": ["creditCardPayment"]},
    # Cash only: both blocked.
    "035913-005": {"items": [_item("124.12", "124.12", "Electric")], "allowable": ["cashPayment"]},
}

#: Partner code -> fixtures merged over the simulator's defaults by ``python -m partners.simulators``.
FIXTURES: dict[str, dict[str, dict[str, Any]]] = {"aus": AUS, "cayenta": CAYENTA, "daffron": DAFFRON}
