"""BIF records into staging rows: typed columns, JSON once, column limits, BIF customizations.

One ``invoice_row`` call per invoice (the loader's hot path): it reads the BIF records once, keeps
the header's non-empty values by name (an absent key means empty, as in ``partners.bif``) and the
customer record and detail rows as lists of their values in column order (``partners.bif.packed``),
and returns either the row tuple in ``INVOICE_COLUMNS`` order or the problems that keep it out.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import compress
from operator import itemgetter

from partners.bif import (
    CR_FIELDS,
    ID_FIELDS,
    IH_FIELDS,
    BifInvoice,
    FieldError,
    format_date,
    packed,
    parse_amount,
    parse_date,
    trimmed,
)

#: Staging columns of an invoice row (also its account's columns), in tuple order.
INVOICE_COLUMNS: tuple[str, ...] = (
    "seq", "line", "account_number", "display_account_number", "customer_number", "location_number", "name",
    "name2", "address1", "address2", "city", "state", "zip", "phone", "email", "block_cc", "block_ach",
    "acct_balance", "acct_past_due", "invoice_number", "record_type", "invoice_format_guid", "invoice_date",
    "due_date", "total_amount_due", "balance_due", "past_due", "minimum_amount_due", "invoice_type_id",
    "payment_expiration_date", "payment_expiration_message", "active", "header", "customer", "details",
)
#: (CR field, model column max length) of the account columns taken from the customer record.
_CR_LIMITS = (("AccountNumber", 60), ("DisplayAccountNumber", 60), ("CustomerName", 200), ("CustomerName2", 200),
              ("Address1", 200), ("Address2", 200), ("City", 100), ("State", 30), ("Zip", 20), ("Phone", 40),
              ("EmailAddress", 254))
_SHORTEST_LIMIT = min(limit for _, limit in _CR_LIMITS)
_FLAGS = {"": None, "Y": True, "N": False, "1": True, "0": False}
_INACTIVE = frozenset({"N", "0", "F", "n", "f"})
_json_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
try:  # orjson encodes these string dicts ~7x faster than the json module (a third of the hot path)
    import orjson

    def _encode(value: object) -> str:
        try:
            return orjson.dumps(value).decode()
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: the json module escapes it
            return _json_encode(value)
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _encode = _json_encode  # type: ignore[assignment]

# ---- BIF customizations -----------------------------------------------------------------------

#: Date customizations: a MM/DD/YYYY date, or a signed number of days after the invoice's due date.
DATE_CUSTOMIZATIONS = frozenset({"PaymentExpirationDate", "PromptPayExpirationDate", "LateFeeDate",
                                 "AutoPayCollectionDate", "FirstNotifyRequestedDate", "SecondNotifyRequestedDate",
                                 "ThirdNotifyRequestedDate"})
FLAG_WORDS = {"Y": True, "YES": True, "1": True, "TRUE": True, "N": False, "NO": False, "0": False, "FALSE": False}

CUSTOMIZATION_EFFECTS: dict[str, str] = {
    "InvoiceFormatGuid": "sets the invoice's presentment format GUID (column invoice_format_guid, max 40)",
    "InvoiceTypeID": "sets the invoice type (column invoice_type_id, a whole number)",
    "MinimumAmountDue": "sets the minimum payment (column minimum_amount_due, a plain decimal)",
    "PaymentExpirationDate": "sets payment_expiration_date: a MM/DD/YYYY date or N days after the due date",
    "PaymentExpirationMessage": "sets payment_expiration_message (max 200)",
    "InvoiceDate": "replaces the invoice date with a MM/DD/YYYY date",
    "InvoiceDueDate": "replaces the due date: a MM/DD/YYYY date or N days after the invoice date",
    "BalanceForward": "Y/1/TRUE: each loaded invoice makes the account's earlier invoices inactive",
    "PromptPayExpirationDate": "header date: a MM/DD/YYYY date or N days after the due date",
}
#: Anything else (AllowPartialPayments, AchServiceFee, LateFeeDate ...) is stored in the header as given.


class CustomizationError(ValueError):
    """A biller's BIF customization value cannot be applied (names the customization)."""


def _offset_or_date(name: str, value: str) -> date | int:
    if parse_date(value) is not None:
        return parse_date(value)  # type: ignore[return-value]
    try:
        return int(value)
    except ValueError:
        raise CustomizationError(f"BIF customization {name} = {value!r}: expected a MM/DD/YYYY date or a "
                                 "whole number of days") from None


@dataclass
class Customizations:
    """The biller's enabled customizations, checked once per file; ``apply`` runs per invoice."""

    values: dict[str, str] = field(default_factory=dict)
    relative: dict[str, date | int] = field(default_factory=dict)
    balance_forward: bool = False

    @classmethod
    def build(cls, pairs: list[tuple[str, str]]) -> Customizations:
        """Return the checked customizations of (name, value) pairs; CustomizationError on a bad value."""
        result = cls()
        for name, value in pairs:
            value = value.strip()
            if not value:
                continue
            if name == "BalanceForward":
                if value.upper() not in FLAG_WORDS:
                    raise CustomizationError(f"BIF customization BalanceForward = {value!r}: expected Y or N")
                result.balance_forward = FLAG_WORDS[value.upper()]
                continue
            if name in DATE_CUSTOMIZATIONS or name == "InvoiceDueDate":
                result.relative[name] = _offset_or_date(name, value)
                continue
            if name == "InvoiceDate" and parse_date(value) is None:
                raise CustomizationError(f"BIF customization InvoiceDate = {value!r}: expected MM/DD/YYYY")
            if name == "InvoiceTypeID" and not (value.isascii() and value.isdigit() and int(value) < 2**31):
                raise CustomizationError(f"BIF customization InvoiceTypeID = {value!r}: expected a whole number")
            if name == "MinimumAmountDue" and parse_amount(value) is None:
                raise CustomizationError(f"BIF customization MinimumAmountDue = {value!r}: expected 1234.50")
            limit = {"InvoiceFormatGuid": 40, "PaymentExpirationMessage": 200}.get(name, 10_000)
            if len(value) > limit:
                raise CustomizationError(f"BIF customization {name} is longer than {limit} characters")
            result.values[name] = value
        return result

    def __bool__(self) -> bool:
        return bool(self.values or self.relative)

    def apply(self, header: dict[str, str]) -> None:
        """Set every customized field in ``header`` (BIF names, BIF formats), in place."""
        header.update(self.values)
        if not self.relative:
            return
        due = self.relative.get("InvoiceDueDate")
        if due is not None:
            base = parse_date(header.get("InvoiceDate", ""))
            if isinstance(due, date):
                header["InvoiceDueDate"] = format_date(due)
            elif base is not None:
                header["InvoiceDueDate"] = format_date(base + timedelta(days=due))
        due_date = parse_date(header.get("InvoiceDueDate", ""))
        for name, rule in self.relative.items():
            if name == "InvoiceDueDate":
                continue
            if isinstance(rule, date):
                header[name] = format_date(rule)
            elif due_date is not None:
                header[name] = format_date(due_date + timedelta(days=rule))


# ---- Rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowContext:
    """What shapes every row of one file: customizations, and where customer/location numbers come from."""

    customizations: Customizations
    customer_location_from: tuple[str, str] | None = None  # AUS: ("Custom2", "Custom3")


_ISO: dict[str, str | None] = {}  # MM/DD/YYYY -> ISO date (None: not a date); files repeat their dates


def _iso(value: str) -> str | None:
    try:
        return _ISO[value]
    except KeyError:
        pass
    parsed = parse_date(value) if value else None
    if len(_ISO) > 20_000:
        _ISO.clear()
    iso = _ISO[value] = parsed.isoformat() if parsed else None
    return iso


_IH_NAMES = ("RowType", *IH_FIELDS)
_CR_PLACE = {name: i for i, name in enumerate(CR_FIELDS)}
_NO_CUSTOMER = [""] * len(CR_FIELDS)
#: The account columns a customer record gives (staging order), by place in the stored record.
_ACCOUNT_FIELDS = itemgetter(*(_CR_PLACE[name] for name in (
    "AccountNumber", "DisplayAccountNumber", "CustomerName", "CustomerName2", "Address1", "Address2", "City",
    "State", "Zip", "Phone", "EmailAddress", "BlockPaymentsCC", "BlockPaymentsACH")))
_CR_LIMIT_PLACES = tuple((name, _CR_PLACE[name], limit) for name, limit in _CR_LIMITS)


def stored_values(invoice: BifInvoice) -> tuple[dict[str, str], list[str], list[list[str]]]:
    """Return the invoice's header (its non-empty values by name), customer record and detail rows
    as a stored invoice keeps them (``partners.bif.packed``: values in column order).

    A header that holds no empty value (what parsers give) is returned as it is, not copied: a
    caller that changes it copies it first (``invoice_row`` does, for customizations).

    An invoice ``read_bif`` made and nobody has touched still holds its split rows
    (``BifInvoice._rows`` / ``_cr``, see partners/bif.py): they are read directly, which skips
    building the full 75- and 84-key dicts (3x faster on this hot path). The header is filtered in
    C (``compress``).
    """
    rows, cr = invoice._rows, invoice._cr
    if rows is not None and invoice._header is None and invoice._customer is None and invoice._details is None:
        ih = rows[0]
        header = dict(compress(zip(_IH_NAMES, ih), ih))
        del header["RowType"]
        return header, trimmed(cr[1:]) if cr else [], [trimmed(row[1:]) for row in rows if row[0] == "ID"]
    header = invoice.header
    if not invoice.compact and not all(header.values()):
        header = dict(compress(header.items(), header.values()))
    details = invoice._stored_details
    if details is None or invoice._details is not None:  # none, or the dicts were built (and maybe changed)
        details = [packed(detail, ID_FIELDS) for detail in invoice.details]
    return header, packed(invoice.customer, CR_FIELDS), details


def invoice_row(invoice: BifInvoice, seq: int, ctx: RowContext) -> tuple | list[FieldError]:
    """Return the staging row of a valid BIF invoice, or the problems that keep it from loading.

    The parser already checked the BIF rules; this checks what the database adds: column lengths,
    a whole-number InvoiceTypeID, and amounts/dates set by customizations.
    """
    line = invoice.line
    header, customer, details = stored_values(invoice)
    if ctx.customizations:
        header = dict(header)
        ctx.customizations.apply(header)
    get = header.get
    errors: list[FieldError] | None = None
    (account_number, display_number, name, name2, address1, address2, city, state, zip_code, phone, email, block_cc,
     block_ach) = _ACCOUNT_FIELDS(customer + _NO_CUSTOMER[len(customer):])
    longest = max(map(len, customer)) if customer else 0
    if longest > _SHORTEST_LIMIT and (longest > 60 or len(zip_code) > 20 or len(state) > 30 or len(phone) > 40):
        for field_name, place, limit in _CR_LIMIT_PLACES:
            value = customer[place] if place < len(customer) else ""
            if len(value) > limit:
                errors = (errors or []) + [FieldError(line, field_name, value[:200],
                                                      f"longer than {limit} characters")]
    number = get("InvoiceNumber", "")
    if len(number) > 60:
        errors = (errors or []) + [FieldError(line, "InvoiceNumber", number[:200], "longer than 60 characters")]
    type_id = get("InvoiceTypeID")
    if type_id is not None and not (type_id.isascii() and type_id.isdigit() and int(type_id) < 2**31):
        errors = (errors or []) + [FieldError(line, "InvoiceTypeID", type_id[:200], "not a whole number")]
    guid = get("InvoiceFormatGuid", "")
    if len(guid) > 40:
        errors = (errors or []) + [FieldError(line, "InvoiceFormatGuid", guid[:200], "longer than 40 characters")]
    minimum = get("MinimumAmountDue")
    if minimum is not None and parse_amount(minimum) is None:
        errors = (errors or []) + [FieldError(line, "MinimumAmountDue", minimum[:200], "not a plain decimal")]
    invoice_date, due_date = _iso(get("InvoiceDate", "")), _iso(get("InvoiceDueDate", ""))
    if invoice_date is None or due_date is None:
        errors = (errors or []) + [FieldError(line, "InvoiceDate", get("InvoiceDate", ""), "not a MM/DD/YYYY date")]
    if errors:
        return errors
    customer_number = location_number = None
    if ctx.customer_location_from:
        customer_number = get(ctx.customer_location_from[0], "")[:60]
        location_number = get(ctx.customer_location_from[1], "")[:60]
    total, balance, past_due = get("TotalAmountDue"), get("BalanceDue"), get("PastDue")
    return (
        seq, line, account_number, display_number, customer_number, location_number, name, name2, address1,
        address2, city, state, zip_code, phone, email, _FLAGS.get(block_cc), _FLAGS.get(block_ach),
        balance or total, past_due or "0",
        number, get("RecordType", "N"), guid, invoice_date, due_date, total, balance, past_due, minimum,
        int(type_id) if type_id is not None else None,
        _iso(get("PaymentExpirationDate", "")), get("PaymentExpirationMessage", "")[:200],
        get("Active", "Y")[:1] not in _INACTIVE,
        _encode(header), _encode(customer), _encode(details),
    )


def amount_text(value: Decimal) -> str:
    """Return a Decimal as the plain text the staging tables take."""
    return format(value, "f")


RowBuilder = Callable[[object, int], "tuple | list[FieldError]"]
