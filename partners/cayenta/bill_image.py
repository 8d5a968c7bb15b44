"""Cayenta bill images: the ``Get_StmntPdf`` web service (the seed's "PDF Remote Link").

Cayenta answers with the statement PDF itself (base64 in ``STATEMENT.PDF``), so we fetch it and
stream it to the user. Settings: the endpoint is the biller's bill setup ``service_url`` when given,
else the RTDR endpoint (setting 8); credentials are settings 9/10.
"""
from __future__ import annotations

from partners.bill_image import SoapPdfService
from partners.cayenta.rtdr import SETTING_ENDPOINT, SETTING_PASSWORD, SETTING_USER, WSDL_PATH

OPERATION = "Get_StmntPdf"

SERVICE = SoapPdfService(
    partner="cayenta", wsdl_path=WSDL_PATH, operation=OPERATION,
    endpoint_setting=SETTING_ENDPOINT, user_setting=SETTING_USER, password_setting=SETTING_PASSWORD,
    user_arg="USER_ID", password_arg="PASSWORD", account_arg="ACCOUNT_NO", date_arg="STMNT_DATE",
    invoice_arg="BILL_NO", document_field="PDF", content_type_field="CONTENT_TYPE",
)
fetch_bill_image = SERVICE.fetch
