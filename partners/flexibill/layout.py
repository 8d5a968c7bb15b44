"""FlexiBill fixed-width invoice records (.BIF, and .BRF replacements): the layout as one table.

Each invoice is an ``HDR`` record followed by its ``D`` (detail) records. Every record starts with a
3-character record id (``HDR`` or ``D`` padded with spaces); the fields follow in the seed's mapping
table order, each at a fixed width in characters (not bytes; files are UTF-8). Values are
left-justified and space padded; amounts may also be right-justified or zero padded (``-12.50``,
``000000000156.25``); dates are MM/DD/YYYY. A record may stop early (trailing blank fields
trimmed) but never run past the layout's width.

Widths are the seed's character limits. Where the seed gives none the width is ours, marked
``chosen``: the record id, Account 17 + CoDiv 3 (the seed limits Account+CoDiv to 20 together, and
CoDiv is the account's last three characters, per the payment export), Active, EmailAddress and
every D field (the seed lists no D limits).

``maps_to`` names the BIF fields a value is copied to; the BIF fields the seed derives (InvoiceNumber,
AccountNumber, CustomerName ...) come from the rule functions in ``HDR_RULES``, each beside the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from partners.bif import AMOUNT_PATTERN
from partners.bif_fields import CR, IH

TEXT, DATE, AMOUNT = "text", "date", "amount"


@dataclass(frozen=True, slots=True)
class Field:
    """One fixed-width field: FlexiBill name, width in characters, BIF fields it is copied to."""

    name: str
    width: int
    maps_to: tuple[str, ...] = ()
    kind: str = TEXT  # DATE and AMOUNT values are checked and normalized
    note: str = ""


def _f(name: str, width: int, *maps_to: str, kind: str = TEXT, note: str = "") -> Field:
    return Field(name, width, maps_to, kind, note)


CHOSEN = "width chosen: the seed gives none"

HDR: tuple[Field, ...] = (
    _f("RecordID", 3, note="'HDR'; " + CHOSEN),
    _f("Account", 17, "Custom2", "DisplayAccountNumber", note="Account+CoDiv 20 in the seed; 17 + 3 chosen"),
    _f("CoDiv", 3, note="company/division: the account's last three characters"),
    _f("BillID", 10),
    _f("BillDate", 10, "InvoiceDate", "Custom4", kind=DATE),
    _f("DueDate", 10, "InvoiceDueDate", "Custom5", kind=DATE),
    _f("Amount", 15, "TotalAmountDue", "Custom8", kind=AMOUNT),
    _f("LineID", 3, "Custom1"),
    _f("Location", 40, "Custom3"),
    _f("From", 10, "Custom6"),
    _f("To", 10, "Custom7"),
    _f("PriorDue", 15, "Custom9"),
    _f("TotalDue", 15, "Custom10"),
    _f("BalanceDue", 15, "BalanceDue", kind=AMOUNT),
    _f("DueAfterAmt", 15, "Custom11"),
    _f("NumOfDaysService", 5, "Custom12"),
    _f("BillToName", 35, "Custom13"),
    _f("BillAddress1", 30, "Custom14", "Address1"),
    _f("BillAddress2", 30, "Custom15", "Address2"),
    _f("City", 25, "Custom16", "City"),
    _f("State", 2, "Custom17", "State"),
    _f("Zip", 10, "Custom18", "Zip"),
    _f("AutoPayMessage", 50, "Custom19"),
    *(_f(f"BillMessage{n}", 30, f"Custom{19 + n}") for n in range(1, 5)),
    _f("BillMemoMsg", 50, "Custom24"),
    _f("BillToName2", 35, "Custom25"),
    _f("BudgetBillIfOnBB", 8, "Custom26"),
    _f("AlternateID", 22, "Custom27"),
    _f("MailGroup", 4, "Custom28"),
    _f("AutoPayCustomer", 7, "Custom29"),
    _f("Class", 4, "Custom30"),
    *(_f(f"UserDefined{n}", 30 if n <= 7 else 15, f"Custom{30 + n}") for n in range(1, 11)),
    _f("LastPaymentDate", 10, "Custom41"),
    _f("LastPaymentAmount", 15, "Custom42"),
    _f("ACHSettlementDate", 10, "Custom43"),
    _f("PenaltySinceLastBill", 15, "Custom44"),
    _f("YTDVariance", 15, "Custom45"),
    _f("ActualAmount", 15, "Custom46"),
    *(
        f
        for n in range(1, 7)
        for f in (
            _f(f"TaxCode{n}", 2, f"Custom{45 + 2 * n}"),
            _f(f"TaxAmount{n}", 7, f"Custom{46 + 2 * n}"),
        )
    ),
    _f("LinkedID", 10, "Custom59"),
    _f("DelinquentMessage", 30, "Custom60"),
    _f("DiscountAmount", 15, kind=AMOUNT, note="PromptPayDiscountAmount by rule"),
    _f("DiscountDate", 10, kind=DATE, note="PromptPayExpirationDate by rule"),
    _f("Active", 1, "Active", note=CHOSEN),
    _f("EmailAddress", 60, "EmailAddress", note=CHOSEN),
)

DETAIL: tuple[Field, ...] = (
    _f("RecordID", 3, note="'D'; " + CHOSEN),
    _f("LineID", 3, "CustomField1"),
    _f("Account", 20, "CustomField2"),
    _f("Service", 10, "CustomField3"),
    _f("Rate", 10, "CustomField4"),
    _f("MeterNo", 15, "CustomField5"),
    _f("Current", 10, "CustomField6"),
    _f("Previous", 10, "CustomField7"),
    _f("Multiplier", 10, "CustomField8"),
    _f("Consumption", 12, "CustomField9"),
    _f("Amount", 15, "CustomField10"),
    _f("ActualAmount", 15, "CustomField11", note="for budget billing"),
    _f("VarianceAmount", 15, "CustomField12", note="for budget billing"),
    _f("RateDiscount", 15, "CustomField13"),
    *(
        f
        for n in range(1, 14)
        for f in (
            _f(f"PreviousConsumption{n}", 12, f"CustomField{12 + 2 * n}"),
            _f(
                f"PreviousReadDate{n}",
                10,
                f"CustomField{13 + 2 * n}",
                note="the seed says PreviousReadDate12 twice" if n == 13 else "",
            ),
        )
    ),
    _f("MeterReadingCode", 4, "CustomField40"),
    _f("ServiceFromDate", 10, "CustomField41"),
    _f("ServiceToDate", 10, "CustomField43", note="CustomField42 is absent from the seed"),
    _f("BaseRate", 12, "CustomField44"),
    _f("BaseConsumption", 12, "CustomField45"),
    *(
        f
        for n in range(1, 9)
        for f in (
            _f(f"RateStep{n}Rate", 12, f"CustomField{44 + 2 * n}"),
            _f(f"RateStep{n}Cons", 12, f"CustomField{45 + 2 * n}"),
        )
    ),
    _f("Adj", 15, "CustomField62", note="if adjustment"),
    *(
        f
        for n in range(1, 7)
        for f in (
            _f(f"TaxCode{n}", 2, f"CustomField{61 + 2 * n}"),
            _f(f"TaxAmount{n}", 7, f"CustomField{62 + 2 * n}"),
        )
    ),
    *(
        f
        for m in (2, 3)
        for f in (
            _f(f"MeterNo{m}", 15, f"CustomField{75 + 4 * (m - 2)}"),
            _f(f"CurrentReadMeterNo{m}", 10, f"CustomField{76 + 4 * (m - 2)}"),
            _f(f"PreviousReadMeterNo{m}", 10, f"CustomField{77 + 4 * (m - 2)}"),
            _f(f"ConsumptionMeterNo{m}", 12, f"CustomField{78 + 4 * (m - 2)}"),
        )
    ),
    _f("Units", 10, "CustomField83"),
    _f("PriorDue", 15, "CustomField84", note="not in .BRF files (struck through in the seed)"),
)

HDR_WIDTH = sum(f.width for f in HDR)
DETAIL_WIDTH = sum(f.width for f in DETAIL)


def positions(fields: tuple[Field, ...]) -> list[tuple[Field, int, int]]:
    """Return (field, first column, last column), 1-based and inclusive, for documentation."""
    out, start = [], 1
    for field in fields:
        out.append((field, start, start + field.width - 1))
        start += field.width
    return out


def format_record(fields: tuple[Field, ...], values: dict[str, str]) -> str:
    """Return one fixed-width record of ``values`` (by FlexiBill name), fully padded.

    Amounts are right-justified, everything else left-justified. Raises ValueError for a value
    wider than its field.
    """
    out = []
    for field in fields:
        value = values.get(field.name, "")
        if len(value) > field.width:
            raise ValueError(f"{field.name} {value!r} is wider than {field.width}")
        out.append(value.rjust(field.width) if field.kind == AMOUNT else value.ljust(field.width))
    return "".join(out)


# The seed's conditional logic, one function each. Each takes the record's values by FlexiBill
# name (stripped, amounts normalized) and returns the BIF value ("" = not saved).
Values = dict[str, str]


def invoice_number(v: Values) -> str:
    """InvoiceNumber = Account + CoDiv + BillID."""
    return v["Account"] + v["CoDiv"] + v["BillID"]


def account_number(v: Values) -> str:
    """AccountNumber = Account + CoDiv."""
    return v["Account"] + v["CoDiv"]


def customer_name(v: Values) -> str:
    """CustomerName = BillToName; when BillToName is empty, BillToName2."""
    return v["BillToName"] or v["BillToName2"]


def customer_name2(v: Values) -> str:
    """CustomerName2 = BillToName2, only when BillToName is present (else it became CustomerName)."""
    return v["BillToName2"] if v["BillToName"] else ""


def biller_invoice_number(v: Values) -> str:
    """Account with leading zeros trimmed; not saved ("") when the account is all zeros."""
    return v["Account"].lstrip("0")


def _no_discount(v: Values) -> bool:
    """No (or no valid) DiscountAmount, or a zero one: only zeros, a sign and a point."""
    amount = v["DiscountAmount"]
    return not AMOUNT_PATTERN.fullmatch(amount) or not amount.strip("-0.")


def prompt_pay_discount_amount(v: Values) -> str:
    """DiscountAmount, empty when DiscountAmount is 0 (or blank)."""
    return "" if _no_discount(v) else v["DiscountAmount"]


def prompt_pay_expiration_date(v: Values) -> str:
    """DiscountDate, empty when DiscountAmount is 0 (or blank)."""
    return "" if _no_discount(v) else v["DiscountDate"]


def invoice_type_id(v: Values) -> str:
    """Always 42 (IC generated)."""
    return "42"


def biller_installment_number(v: Values) -> str:
    """BillDate as yyMMdd (BillDate is MM/DD/YYYY)."""
    bill_date = v["BillDate"]
    return bill_date[8:10] + bill_date[0:2] + bill_date[3:5]


def biller_bill_year(v: Values) -> str:
    """BillDate's year, yyyy."""
    return v["BillDate"][6:10]


@dataclass(frozen=True, slots=True)
class Rule:
    """A BIF field the seed derives: row type, BIF field, the FlexiBill inputs, the function."""

    row_type: str
    bif_field: str
    inputs: tuple[str, ...]
    derive: Callable[[Values], str]


HDR_RULES: tuple[Rule, ...] = (
    Rule(IH, "InvoiceNumber", ("Account", "CoDiv", "BillID"), invoice_number),
    Rule(IH, "PromptPayDiscountAmount", ("DiscountAmount",), prompt_pay_discount_amount),
    Rule(IH, "PromptPayExpirationDate", ("DiscountAmount", "DiscountDate"), prompt_pay_expiration_date),
    Rule(IH, "InvoiceTypeID", (), invoice_type_id),
    Rule(IH, "BillerInstallmentNumber", ("BillDate",), biller_installment_number),
    Rule(IH, "BillerBillYear", ("BillDate",), biller_bill_year),
    Rule(IH, "BillerInvoiceNumber", ("Account",), biller_invoice_number),
    Rule(CR, "AccountNumber", ("Account", "CoDiv"), account_number),
    Rule(CR, "CustomerName", ("BillToName", "BillToName2"), customer_name),
    Rule(CR, "CustomerName2", ("BillToName", "BillToName2"), customer_name2),
)


def record_type(kind: str) -> str:
    """RecordType: N for an invoice file (.BIF), R for a replacement file (.BRF)."""
    return {"invoices": "N", "replacements": "R"}[kind]


def excluded_detail_fields(kind: str) -> frozenset[str]:
    """D fields read but not loaded for ``kind``: a .BRF leaves out PriorDue (CustomField84)."""
    return frozenset() if kind == "invoices" else frozenset({"PriorDue"})
