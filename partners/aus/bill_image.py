"""Harris Advanced AUS bill images: Advanced Utility PdfViewer's ``RetrieveBillPrintImageV2``.

The seed names the PdfViewer (1918BF19-973B-4930-800E-2005C652C62A) and the operation; AUS answers
with the PDF itself (base64 in ``BillImage.Document``), so we fetch it and stream it to the user.
Settings: the PDF service endpoint is the biller's bill setup ``service_url`` when given, else the
RTDR endpoint (setting 8); user name and password are settings 9/10 (both optional).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from partners.aus.rtdr import SETTING_ENDPOINT, SETTING_PASSWORD, SETTING_USER, WSDL_PATH
from partners.balances import setting
from partners.bill_image import BillImage, BillImageMissing, pdf_image
from partners.soap import get_client

OPERATION = "RetrieveBillPrintImageV2"


def fetch_bill_image(
    settings: Mapping[int, str],
    *,
    account_number: str,
    invoice_number: str = "",
    bill_date: date | None = None,
    endpoint: str = "",
    timeout: tuple[float, float] = (2.0, 10.0),
) -> BillImage:
    """Call RetrieveBillPrintImageV2 and return the bill's PDF.

    Raises ``PartnerError(permanent=True)`` when no endpoint is configured, :class:`BillImageMissing`
    when AUS returns no document, ``SoapError`` (permanent for "unknown account" faults, transient for
    timeouts, 5xx and non-PDF answers) and ``OutcomeUnknown`` as ``partners.soap`` documents.
    """
    url = endpoint.strip() or setting(settings, SETTING_ENDPOINT)
    arguments: dict[str, object] = {
        "UserName": setting(settings, SETTING_USER, required=False),
        "Password": setting(settings, SETTING_PASSWORD, required=False),
        "AccountNumber": account_number,
    }
    if bill_date is not None:
        arguments["BillDate"] = bill_date
    if invoice_number:
        arguments["InvoiceNumber"] = invoice_number
    with get_client(WSDL_PATH, url, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
        call = client.call(OPERATION, None, **arguments)
    source = f"aus {OPERATION}"
    if call.value is None:
        raise BillImageMissing(f"{source}: empty answer for account {account_number}")
    return pdf_image(
        getattr(call.value, "Document", None), getattr(call.value, "ContentType", None), source=source, call=call
    )
