"""Harris Advanced AUS bill images: Advanced Utility PdfViewer's ``RetrieveBillPrintImageV2``.

The seed names the PdfViewer (1918BF19-973B-4930-800E-2005C652C62A) and the operation; AUS answers
with the PDF itself (base64 in ``BillImage.Document``), so we fetch it and stream it to the user.
Settings: the PDF service endpoint is the biller's bill setup ``service_url`` when given, else the
RTDR endpoint (setting 8); user name and password are settings 9/10 (both optional).
"""
from __future__ import annotations

from partners.aus.rtdr import SETTING_ENDPOINT, SETTING_PASSWORD, SETTING_USER, WSDL_PATH
from partners.bill_image import SoapPdfService

OPERATION = "RetrieveBillPrintImageV2"

SERVICE = SoapPdfService(
    partner="aus", wsdl_path=WSDL_PATH, operation=OPERATION,
    endpoint_setting=SETTING_ENDPOINT, user_setting=SETTING_USER, password_setting=SETTING_PASSWORD,
    user_arg="UserName", password_arg="Password", account_arg="AccountNumber", date_arg="BillDate",
    invoice_arg="InvoiceNumber", document_field="Document", content_type_field="ContentType",
)
fetch_bill_image = SERVICE.fetch
