"""Pieces shared by the partner simulators: faults, small lxml helpers, and the answer shapes of
the two document/literal partners (AUS and Cayenta differ in element names only)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def text_pdf(lines: list[str]) -> bytes:
    """Return a one-page letter PDF showing ``lines`` in Helvetica (a standard font: nothing embedded)."""
    escaped = (line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines)
    text = "".join(f"({line}) Tj 0 -18 Td " for line in escaped)
    content = f"BT /F1 13 Tf 72 720 Td {text}ET".encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content) + 1, content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


#: What the simulated bill-image services return: a readable one-page PDF.
SAMPLE_PDF = text_pdf(["Sample bill from a partner simulator", "(the partner's own bill image appears here)"])


class SoapFault(Exception):
    """Raised by a partner module to answer with a SOAP fault (HTTP 500)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def unknown_account(account: str) -> SoapFault:
    """Return the fault a partner gives for an account it does not know (a permanent error)."""
    return SoapFault("soap:Client", f"Unknown account {account}: account not found")


def unknown_operation(operation: str) -> SoapFault:
    """Return the fault for an operation the simulated partner does not offer."""
    return SoapFault("soap:Client", f"Unknown operation {operation}")


def find_text(request: etree._Element, name: str) -> str:
    """Return the stripped text of the first descendant called ``name`` (any namespace), or ''."""
    for element in request.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == name:
            return (element.text or "").strip()
    return ""


def add(parent: etree._Element, namespace: str, name: str, text: str | None = None) -> etree._Element:
    """Append element ``{namespace}name`` with ``text`` to ``parent`` and return it."""
    child = etree.SubElement(parent, f"{{{namespace}}}{name}")
    if text is not None:
        child.text = text
    return child


def root(namespace: str, name: str) -> etree._Element:
    """Return a new element ``{namespace}name`` declaring ``namespace`` as the default."""
    return etree.Element(f"{{{namespace}}}{name}", nsmap={None: namespace})


def nil(element: etree._Element) -> etree._Element:
    """Mark ``element`` xsi:nil and return it."""
    element.set(f"{{{XSI}}}nil", "true")
    return element


@dataclass(frozen=True)
class ResultShape:
    """How a partner names things in its requests and answers: ``<Operation>Response/<Operation>Result``
    in ``namespace``, the account element of requests, and the fields of pump and PDF answers."""

    namespace: str
    account: str
    success: str
    message: str
    message_text: str
    reference: str
    reference_prefix: str
    content_type: str
    document: str

    def account_of(self, request: etree._Element, handle: Any) -> tuple[str, dict[str, Any]]:
        """Return the requested account and its fixture; a fault for an unknown one."""
        number = find_text(request, self.account)
        if number not in handle.fixtures:
            raise unknown_account(number)
        return number, handle.fixtures[number]

    def wrapped(self, operation: str) -> tuple[etree._Element, etree._Element]:
        """Return (the response element, its result element) of ``operation``."""
        response = root(self.namespace, f"{operation}Response")
        return response, add(response, self.namespace, f"{operation}Result")

    def pump(self, operation: str, request: etree._Element, handle: Any) -> etree._Element:
        """Accept a data pump call for a known account, with a reference numbered by calls so far."""
        self.account_of(request, handle)
        response, result = self.wrapped(operation)
        add(result, self.namespace, self.success, "true")
        add(result, self.namespace, self.message, self.message_text)
        add(result, self.namespace, self.reference, f"{self.reference_prefix}-{len(handle.calls)}")
        return response

    def pdf(self, operation: str, request: etree._Element, handle: Any) -> etree._Element:
        """Answer a bill image request for a known account with :data:`SAMPLE_PDF` (base64)."""
        self.account_of(request, handle)
        response, result = self.wrapped(operation)
        add(result, self.namespace, self.content_type, "application/pdf")
        add(result, self.namespace, self.document, base64.b64encode(SAMPLE_PDF).decode("ascii"))
        return response
