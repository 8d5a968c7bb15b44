"""Cayenta bill images: the ``Get_StmntPdf`` web service (the seed's "PDF Remote Link").

Cayenta answers with the statement PDF itself (base64 in ``STATEMENT.PDF``), so we fetch it and
stream it to the user. Settings: the endpoint is the biller's bill setup ``service_url`` when given,
else the RTDR endpoint (setting 8); credentials are settings 9/10.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from partners.balances import setting
from partners.bill_image import BillImage, BillImageMissing, pdf_image
from partners.cayenta.rtdr import SETTING_ENDPOINT, SETTING_PASSWORD, SETTING_USER, WSDL_PATH
from partners.soap import get_client

OPERATION = "Get_StmntPdf"


def fetch_bill_image(
    settings: Mapping[int, str],
    *,
    account_number: str,
    invoice_number: str = "",
    bill_date: date | None = None,
    endpoint: str = "",
    timeout: tuple[float, float] = (2.0, 10.0),
) -> BillImage:
    """Call Get_StmntPdf and return the statement's PDF.

    Raises like ``partners.aus.bill_image.fetch_bill_image``: ``PartnerError(permanent=True)`` for a
    missing endpoint, :class:`BillImageMissing` for an empty answer, ``SoapError`` / ``OutcomeUnknown``.
    """
    url = endpoint.strip() or setting(settings, SETTING_ENDPOINT)
    arguments: dict[str, object] = {
        "USER_ID": setting(settings, SETTING_USER, required=False),
        "PASSWORD": setting(settings, SETTING_PASSWORD, required=False),
        "ACCOUNT_NO": account_number,
    }
    if bill_date is not None:
        arguments["STMNT_DATE"] = bill_date
    if invoice_number:
        arguments["BILL_NO"] = invoice_number
    with get_client(WSDL_PATH, url, connect_timeout=timeout[0], read_timeout=timeout[1]) as client:
        call = client.call(OPERATION, None, **arguments)
    source = f"cayenta {OPERATION}"
    if call.value is None:
        raise BillImageMissing(f"{source}: empty answer for account {account_number}")
    return pdf_image(
        getattr(call.value, "PDF", None), getattr(call.value, "CONTENT_TYPE", None), source=source, call=call
    )
