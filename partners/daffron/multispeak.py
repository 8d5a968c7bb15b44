"""MultiSpeak 3.0 envelopes for Daffron / Milsoft, built with lxml, and tolerant readers of answers.

We build envelopes ourselves (not through zeep) because the payable-items operation name and
SOAPAction are configurable per biller, and because answers from real servers put extensions
where the schema does not. What we send validates against the MultiSpeak 3.0 types (see
``wsdl/multispeak_cb_subset.wsdl`` and the tests): in every object deriving from ``mspObject``
(``tender``, ``customer``, ``payableItem``) ``extensionsList`` comes before the object's fields.

Post the envelopes with ``partners.soap.get_client(WSDL_PATH, endpoint, ...).post(...)``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from lxml import etree

from partners.base import PartnerError

NS = "http://www.multispeak.org/Version_3.0"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_PATH = Path(__file__).parent / "wsdl" / "multispeak_cb_subset.wsdl"
DEFAULT_PAYABLE_ITEMS_OPERATION = "GetPayableItemsList"
APP_NAME = "Billbridge"
APP_VERSION = "1.0"
MAX_COMMENT = 70
MAX_AUTHORIZATION_CODE = 50
_NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")

PaymentKind = Literal["creditCardPayment", "achPayment", "eCheckPayment", "cashPayment"]
#: paymentTransaction children in schema order.
PAYMENT_KINDS: tuple[PaymentKind, ...] = ("creditCardPayment", "eCheckPayment", "achPayment", "cashPayment")


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def local_name(element: etree._Element) -> str:
    """Return an element's name without namespace ('' for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def soap_action_for(operation: str) -> str:
    """Return the MultiSpeak 3.0 SOAPAction for ``operation``."""
    return f"{NS}/{operation}"


@dataclass(frozen=True)
class Credentials:
    """UserID / Pwd for the MultiSpeakMsgHeader; the password never appears in ``repr``."""

    user_id: str
    password: str = field(repr=False)


# --- amounts -----------------------------------------------------------------------------------


def _shortest(amount: Decimal) -> str:
    text = format(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _two_decimals(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


#: Advanced setting 35 (Service Version) -> amount format: 1 = ``232.1``, 2 = ``232.10``.
AMOUNT_FORMATS: dict[int, Callable[[Decimal], str]] = {1: _shortest, 2: _two_decimals}


def format_amount(amount: Decimal, service_version: int = 1) -> str:
    """Return ``amount`` as Daffron expects it for setting 35; raises ValueError for other versions."""
    try:
        return AMOUNT_FORMATS[service_version](amount)
    except KeyError:
        raise ValueError(f"service version {service_version} is not 1 or 2") from None


# --- building ----------------------------------------------------------------------------------


def msg_header(credentials: Credentials, *, now: datetime | None = None) -> etree._Element:
    """Return a ``MultiSpeakMsgHeader`` with credentials, our app name and a fresh MessageID."""
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return etree.Element(
        _q("MultiSpeakMsgHeader"),
        {
            "Version": "3.0",
            "UserID": credentials.user_id,
            "Pwd": credentials.password,
            "AppName": APP_NAME,
            "AppVersion": APP_VERSION,
            "MessageID": str(uuid.uuid4()),
            "TimeStamp": stamp,
        },
        nsmap={None: NS},
    )


def envelope(body: etree._Element, header: etree._Element) -> etree._Element:
    """Return a SOAP 1.1 envelope around ``header`` and ``body``."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(root, f"{{{SOAP_ENV}}}Header").append(header)
    etree.SubElement(root, f"{{{SOAP_ENV}}}Body").append(body)
    return root


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(name))
    if text is not None:
        child.text = text
    return child


def _body(operation: str) -> etree._Element:
    if not _NCNAME.match(operation or ""):
        raise PartnerError(f"not a valid operation name: {operation!r}", permanent=True)
    return etree.Element(_q(operation), nsmap={None: NS})


def extensions_list(parent: etree._Element, items: Iterable[tuple[str, str, str | None]]) -> etree._Element:
    """Append ``extensionsList`` with (extName, extValue, extType or None) items to ``parent``."""
    holder = _sub(parent, "extensionsList")
    for name, value, kind in items:
        item = _sub(holder, "extensionsItem")
        _sub(item, "extName", name)
        _sub(item, "extValue", value)
        if kind:
            _sub(item, "extType", kind)
    return holder


def payable_items_request(
    credentials: Credentials, account_number: str, *, operation: str = DEFAULT_PAYABLE_ITEMS_OPERATION
) -> etree._Element:
    """Return the envelope asking for one account's payable items, under ``operation``'s name."""
    body = _body(operation)
    _sub(body, "accountNumber", account_number)
    return envelope(body, msg_header(credentials))


@dataclass(frozen=True)
class PaymentTender:
    """One payment to commit. ``amount`` excludes convenience fees (SPEC section 3)."""

    account_number: str
    kind: PaymentKind
    amount: Decimal
    authorization_code: str
    payment_mode: str
    transaction_id: str
    biller_reference: str | None = None  # the kiosk id, for kiosk payments


def commit_payment_request(
    credentials: Credentials, payments: Sequence[PaymentTender], *, service_version: int = 1
) -> etree._Element:
    """Return the ``CommitPaymentTransaction`` envelope for ``payments`` (amounts per setting 35)."""
    body = _body("CommitPaymentTransaction")
    transactions = _sub(body, "transactions")
    for payment in payments:
        if payment.kind not in PAYMENT_KINDS:
            raise ValueError(f"unknown payment kind {payment.kind!r}")
        transaction = _sub(transactions, "paymentTransaction")
        _sub(transaction, "accountNumber", payment.account_number)
        tender = _sub(_sub(transaction, payment.kind), "tender")
        extensions = [("transactionId", payment.transaction_id, "string")]
        if payment.biller_reference:
            extensions.append(("billerReference", payment.biller_reference, "string"))
        extensions_list(tender, extensions)
        _sub(tender, "amount", format_amount(payment.amount, service_version))
        _sub(tender, "authorizationCode", payment.authorization_code[:MAX_AUTHORIZATION_CODE])
        _sub(tender, "paymentMode", payment.payment_mode)
    return envelope(body, msg_header(credentials))


def modify_ebill_request(credentials: Credentials, customer_id: str, enrolled: bool) -> etree._Element:
    """Return the ``ModifyCBDataForCustomer`` envelope setting extension EBILL to Y or N."""
    body = _body("ModifyCBDataForCustomer")
    customer = _sub(_sub(body, "customerData"), "customer")
    customer.set("objectID", customer_id)
    # The seed's sample says extType "double" for a Y/N value; "string" is what the value is.
    extensions_list(customer, [("EBILL", "Y" if enrolled else "N", "string")])
    return envelope(body, msg_header(credentials))


@dataclass(frozen=True)
class HistoryComment:
    """One account history comment; ``log_time`` must be aware (in the biller's time zone)."""

    customer_id: str
    service_location_id: str
    log_time: datetime
    comment: str


def history_comments_request(credentials: Credentials, comments: Sequence[HistoryComment]) -> etree._Element:
    """Return the ``WriteAccountHistoryComments`` envelope.

    Raises ValueError for a naive ``log_time`` or a comment longer than 70 characters.
    """
    body = _body("WriteAccountHistoryComments")
    holder = _sub(body, "comments")
    for entry in comments:
        if entry.log_time.tzinfo is None or entry.log_time.utcoffset() is None:
            raise ValueError("log_time must be timezone-aware")
        if len(entry.comment) > MAX_COMMENT:
            raise ValueError(f"comment longer than {MAX_COMMENT} characters: {entry.comment!r}")
        item = _sub(holder, "historyComment")
        _sub(item, "customerID", entry.customer_id)
        _sub(item, "serviceLocationID", entry.service_location_id)
        _sub(item, "logTime", entry.log_time.isoformat(timespec="seconds"))
        _sub(item, "comment", entry.comment)
    return envelope(body, msg_header(credentials))


# --- reading -----------------------------------------------------------------------------------


def children(element: etree._Element | None, name: str | None = None) -> list[etree._Element]:
    """Return ``element``'s child elements (any namespace), only those called ``name`` if given."""
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and (name is None or local_name(c) == name)]


def child_text(element: etree._Element, name: str) -> str | None:
    """Return the stripped text of the first child called ``name`` (any namespace), or None."""
    found = children(element, name)
    return (found[0].text or "").strip() if found else None


def result_of(response: etree._Element | None) -> etree._Element | None:
    """Return the ``…Result`` child of an operation's response element, or None."""
    return next((c for c in children(response) if local_name(c).endswith("Result")), None)


def extension_items(holder: etree._Element) -> list[tuple[str, str, str | None]]:
    """Return (extName, extValue, extType) of each ``extensionsItem`` under an ``extensionsList``."""
    return [
        (child_text(item, "extName") or "", child_text(item, "extValue") or "", child_text(item, "extType"))
        for item in children(holder, "extensionsItem")
    ]


def tender_outcomes(response: etree._Element | None) -> list[dict[str, str | None]]:
    """Return accountNumber / authorizationCode / responseCode per tender of a commit answer."""
    outcomes: list[dict[str, str | None]] = []
    for transaction in children(result_of(response), "paymentTransaction"):
        for payment in children(transaction):
            for tender in children(payment, "tender"):
                outcomes.append(
                    {
                        "accountNumber": child_text(transaction, "accountNumber"),
                        "authorizationCode": child_text(tender, "authorizationCode"),
                        "responseCode": child_text(tender, "responseCode"),
                    }
                )
    return outcomes


def error_objects(response: etree._Element | None) -> list[dict[str, str]]:
    """Return the attributes of each ``errorObject`` in an ArrayOfErrorObject answer (empty = success)."""
    return [dict(error.attrib) for error in children(result_of(response), "errorObject")]
