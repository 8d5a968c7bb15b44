"""A bill image a partner's web service returned (AUS RetrieveBillPrintImageV2, Cayenta Get_StmntPdf).

Shared by ``partners/<code>/bill_image.py``; the billers app streams ``content`` to the user.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from partners.balances import setting
from partners.base import PartnerError
from partners.soap import CallResult, get_client, malformed

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class BillImage:
    """The PDF bytes of one bill and the (masked) exchange that produced them."""

    content: bytes
    content_type: str
    source: str  # "<partner> <operation>"
    request_xml: str = ""
    response_xml: str = ""
    duration_ms: float = 0.0


class BillImageMissing(PartnerError):
    """The partner answered, but holds no bill image for this account or date (permanent)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def is_pdf(content: bytes) -> bool:
    """Return True when ``content`` starts like a PDF (the header may follow up to 1 KiB of junk)."""
    return PDF_MAGIC in content[:1024]


def pdf_image(content: bytes | None, content_type: str | None, *, source: str, call: CallResult) -> BillImage:
    """Return a :class:`BillImage` for a partner's answer.

    Raises :class:`BillImageMissing` for an empty document and a transient ``SoapError`` (malformed
    answer) when the bytes are not a PDF.
    """
    data = bytes(content or b"")
    if not data:
        raise BillImageMissing(f"{source}: the answer holds no document")
    if not is_pdf(data):
        raise malformed(call, f"{source}: the document is not a PDF ({data[:16]!r}...)")
    kind = (content_type or "").strip() or "application/pdf"
    if kind.lower() != "application/pdf":
        kind = "application/pdf"  # the bytes are a PDF whatever the label says
    return BillImage(data, kind, source, call.request_xml, call.response_xml, call.duration_ms)


@dataclass(frozen=True)
class SoapPdfService:
    """A partner's SOAP service that answers with the bill's PDF: operation and element names.

    The endpoint is the biller's bill setup ``service_url`` when given, else the RTDR endpoint setting;
    user name and password settings are optional.
    """

    partner: str
    wsdl_path: Path
    operation: str
    endpoint_setting: int
    user_setting: int
    password_setting: int
    user_arg: str
    password_arg: str
    account_arg: str
    date_arg: str
    invoice_arg: str
    document_field: str
    content_type_field: str

    def fetch(
        self,
        settings: Mapping[int, str],
        *,
        account_number: str,
        invoice_number: str = "",
        bill_date: date | None = None,
        endpoint: str = "",
        timeout: tuple[float, float] = (2.0, 10.0),
    ) -> BillImage:
        """Call the operation and return the bill's PDF.

        Raises ``PartnerError(permanent=True)`` when no endpoint is configured, :class:`BillImageMissing`
        when the partner returns no document, ``SoapError`` (permanent for "unknown account" faults,
        transient for timeouts, 5xx and non-PDF answers) and ``OutcomeUnknown`` as ``partners.soap``
        documents.
        """
        url = endpoint.strip() or setting(settings, self.endpoint_setting)
        arguments: dict[str, object] = {
            self.user_arg: setting(settings, self.user_setting, required=False),
            self.password_arg: setting(settings, self.password_setting, required=False),
            self.account_arg: account_number,
        }
        if bill_date is not None:
            arguments[self.date_arg] = bill_date
        if invoice_number:
            arguments[self.invoice_arg] = invoice_number
        with get_client(self.wsdl_path, url, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
            call = client.call(self.operation, None, **arguments)
        source = f"{self.partner} {self.operation}"
        if call.value is None:
            raise BillImageMissing(f"{source}: empty answer for account {account_number}")
        return pdf_image(getattr(call.value, self.document_field, None),
                         getattr(call.value, self.content_type_field, None), source=source, call=call)
