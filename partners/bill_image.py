"""A bill image a partner's web service returned (AUS RetrieveBillPrintImageV2, Cayenta Get_StmntPdf).

Shared by ``partners/<code>/bill_image.py``; the billers app streams ``content`` to the user.
"""
from __future__ import annotations

from dataclasses import dataclass

from partners.base import PartnerError
from partners.soap import CallResult, malformed

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
