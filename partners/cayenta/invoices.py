"""Cayenta invoice XML (``billheader_DATE.xml``) into BIF, streamed with defusedxml.

The seed leaves the element names to us (SPEC section 3). The document, without namespace::

    <billheaders biller="1368" created="2026-11-20" count="3" total="412.57">
      <bill>
        <recordType>N</recordType>  <invoiceNumber/>  <billDate/>  <dueDate/>  <amountDue/> ...
        <customer> <accountNumber/> <name/> ... </customer>
        <lines> <line> <service/> <meterNumber/> ... <amount/> </line> ... </lines>
      </bill>
      ...
    </billheaders>

``BILL_FIELDS`` and ``LINE_FIELDS`` map element paths (relative to ``<bill>`` and ``<line>``) to BIF
fields. Dates are ``YYYY-MM-DD`` (xs:date; MM/DD/YYYY and YYYYMMDD also read), amounts plain
decimals; values are stripped; unknown elements inside a bill are ignored. ``recordType`` defaults
to N. The root's optional ``biller`` must be the biller's BID; optional ``count`` and ``total`` are
checked against the bills read, like a BIF FH. Any DTD is refused, so no entity (internal or
external) can be declared: billion-laughs and XXE files are rejected before any expansion.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from partners.bif import (
    BifInvoice,
    BifRecord,
    ColumnMap,
    FieldError,
    FileRejected,
    InvalidInvoice,
    check_file_name,
    invoice_errors,
    normalize_date,
    parse_amount,
    reject,
)
from partners.bif_fields import CR, ID, IH

CONVENTION = "billheader_DATE.xml"
_NAME = re.compile(r"billheader_(?P<date>\d{8})(?P<bid>)\.xml$", re.IGNORECASE | re.ASCII)
ROOT, BILL = "billheaders", "bill"
MAX_BILL_ELEMENTS = 10_000  # a bill bigger than this is not a bill: refuse before memory goes


@dataclass(frozen=True, slots=True)
class XmlField:
    """An element path (relative to <bill> or <line>) and the BIF field its text fills."""

    path: str
    row_type: str
    bif_field: str
    is_date: bool = False


BILL_FIELDS: tuple[XmlField, ...] = (
    XmlField("recordType", IH, "RecordType"),
    XmlField("invoiceNumber", IH, "InvoiceNumber"),
    XmlField("billDate", IH, "InvoiceDate", is_date=True),
    XmlField("dueDate", IH, "InvoiceDueDate", is_date=True),
    XmlField("amountDue", IH, "TotalAmountDue"),
    XmlField("balanceDue", IH, "BalanceDue"),
    XmlField("pastDue", IH, "PastDue"),  # shown in the payment route (seed, BID 1368)
    XmlField("customerId", IH, "Custom2"),
    XmlField("premiseId", IH, "Custom3"),
    XmlField("serviceAddress", IH, "Custom4"),
    XmlField("billCycle", IH, "Custom5"),
    XmlField("customer/accountNumber", CR, "AccountNumber"),
    XmlField("customer/name", CR, "CustomerName"),
    XmlField("customer/name2", CR, "CustomerName2"),
    XmlField("customer/address1", CR, "Address1"),
    XmlField("customer/address2", CR, "Address2"),
    XmlField("customer/city", CR, "City"),
    XmlField("customer/state", CR, "State"),
    XmlField("customer/zip", CR, "Zip"),
    XmlField("customer/phone", CR, "Phone"),
    XmlField("customer/email", CR, "EmailAddress"),
)
LINE_PATH = "lines/line"
LINE_FIELDS: tuple[XmlField, ...] = (
    XmlField("lineNumber", ID, "CustomField1"),
    XmlField("service", ID, "CustomField3"),
    XmlField("rate", ID, "CustomField4"),
    XmlField("meterNumber", ID, "CustomField5"),
    XmlField("currentRead", ID, "CustomField6"),
    XmlField("previousRead", ID, "CustomField7"),
    XmlField("consumption", ID, "CustomField9"),
    XmlField("amount", ID, "CustomField10"),
    XmlField("fromDate", ID, "CustomField41", is_date=True),  # service from/to, as FlexiBill's D record
    XmlField("toDate", ID, "CustomField43", is_date=True),
)


class _LineBuilder(TreeBuilder):
    """A TreeBuilder noting the line each bill starts on, and refusing oversized bills."""

    def __init__(self, file_name: str) -> None:
        super().__init__()
        self.file_name = file_name
        self.expat: Any = None  # the expat parser (untyped), set once the XML parser exists
        self.root_line = 1
        self.bill_lines: deque[int] = deque()
        self.depth = self.in_bill = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.depth += 1
        if self.depth == 1:
            self.root_line = self.expat.CurrentLineNumber
        elif self.depth == 2:
            self.bill_lines.append(self.expat.CurrentLineNumber)
            self.in_bill = 0
        self.in_bill += 1
        if self.in_bill > MAX_BILL_ELEMENTS:
            raise reject(
                self.expat.CurrentLineNumber,
                tag[:100],
                "",
                f"a bill with more than {MAX_BILL_ELEMENTS} elements",
                self.file_name,
            )
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self.depth -= 1
        return super().end(tag)


def _texts(
    element: Element, fields: Sequence[XmlField], line: int, errors: list[FieldError]
) -> dict[str, dict[str, str]]:
    """Return {row type: {BIF field: value}} of ``element``'s mapped, non-empty texts."""
    rows: dict[str, dict[str, str]] = {IH: {}, CR: {}, ID: {}}
    for field in fields:
        value = (element.findtext(field.path) or "").strip()
        if value and field.is_date:
            normalized = normalize_date(value)
            if normalized is None:
                errors.append(
                    FieldError(line, field.path, value, f"{field.bif_field}: not a YYYY-MM-DD date")
                )
            else:
                value = normalized
        if value:
            rows[field.row_type][field.bif_field] = value
    return rows


def map_bill(bill: Element, line: int) -> BifRecord:
    """Return the BIF invoice of one <bill> element that starts on ``line``."""
    errors: list[FieldError] = []
    rows = _texts(bill, BILL_FIELDS, line, errors)
    header = {"RecordType": "N", **rows[IH]}
    details = [
        detail for item in bill.iterfind(LINE_PATH) if (detail := _texts(item, LINE_FIELDS, line, errors)[ID])
    ]
    invoice = BifInvoice(line, header, rows[CR], details)
    converted = {f.bif_field for f in BILL_FIELDS if f.path in {e.field for e in errors}}
    errors += [e for e in invoice_errors(invoice) if e.field not in converted]
    if not errors:
        return invoice
    return InvalidInvoice(line, tostring(bill, encoding="unicode").splitlines(), errors)


def _check_root(root: Element, line: int, bid: int, file_name: str) -> tuple[int | None, Decimal | None]:
    """Check the root element; return its optional (count, total). Raise FileRejected if wrong."""
    if root.tag != ROOT:
        raise reject(line, "root", root.tag[:100], f"the root element must be <{ROOT}>", file_name)
    biller = root.get("biller", "")
    if biller and biller != str(bid):
        raise reject(line, "biller", biller, f"the file is for BID {biller}, not {bid}", file_name)
    count, total = root.get("count"), root.get("total")
    if count is not None and not (count.isascii() and count.isdigit()):
        raise reject(line, "count", count, "not a whole number", file_name)
    if total is not None and parse_amount(total) is None:
        raise reject(line, "total", total, "not a plain decimal", file_name)
    return (int(count) if count is not None else None), (parse_amount(total) if total is not None else None)


def parse(
    stream: BinaryIO,
    *,
    file_name: str,
    bid: int,
    kind: str = "invoices",
    mapping: Sequence[ColumnMap] | None = None,
) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per <bill> of a Cayenta billheader XML, streaming.

    ``mapping`` is not used (BILL_FIELDS/LINE_FIELDS are the mapping). Raises ValueError for another
    kind; FileRejected for a name off ``billheader_DATE.xml``, a root other than <billheaders> or for
    another biller, a root child other than <bill>, malformed XML or encoding, any DTD or entity,
    an oversized bill, or (at the end) a root count/total that differs from the bills read.
    """
    if kind != "invoices":
        raise ValueError(f"Cayenta sends only invoice files, not {kind!r}")
    check_file_name(file_name, _NAME, bid, CONVENTION)
    builder = _LineBuilder(file_name)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    expected: tuple[int | None, Decimal | None] = (None, None)
    count, total, total_known, depth = 0, Decimal(0), True, 0
    root: Element | None = None
    try:
        for event, element in iterparse(stream, events=("start", "end"), parser=parser):
            if event == "start":
                depth += 1
                if depth == 1:
                    root, expected = element, _check_root(element, builder.root_line, bid, file_name)
                continue
            depth -= 1
            if depth != 1:
                continue
            line = builder.bill_lines.popleft()
            if element.tag != BILL:
                raise reject(
                    line, element.tag[:100], "", f"<{ROOT}> may only hold <{BILL}> elements", file_name
                )
            record = map_bill(element, line)
            count += 1
            amount = parse_amount((element.findtext("amountDue") or "").strip())
            total_known = total_known and amount is not None
            total += amount or 0
            assert root is not None
            root.remove(element)  # keep memory flat: the bill is mapped
            yield record
    except ParseError as exc:
        raise reject(exc.position[0], "xml", "", f"not well-formed XML: {exc}", file_name) from None
    except (LookupError, UnicodeError) as exc:  # an unknown or lying encoding declaration
        raise reject(
            parser.parser.CurrentLineNumber, "encoding", str(exc)[:200], "unreadable encoding", file_name
        ) from None
    except DefusedXmlException as exc:
        line = parser.parser.CurrentLineNumber
        raise reject(
            line, type(exc).__name__, str(exc)[:200], "DTDs and entities are refused", file_name
        ) from None
    _check_totals(expected, builder.root_line, count, total if total_known else None, file_name)


def _check_totals(
    expected: tuple[int | None, Decimal | None], line: int, count: int, total: Decimal | None, file_name: str
) -> None:
    errors = []
    if expected[0] is not None and expected[0] != count:
        errors.append(FieldError(line, "count", str(expected[0]), f"the file has {count} bills"))
    if expected[1] is not None and total is not None and expected[1] != total:
        errors.append(FieldError(line, "total", str(expected[1]), f"the bills total {total}"))
    if errors:
        raise FileRejected(errors, file_name)
