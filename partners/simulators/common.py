"""Pieces shared by the partner simulators: faults and small lxml helpers."""

from __future__ import annotations

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


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
