"""Harris Advanced AUS (and Logis variants): capability matrix transcribed from seed 000."""
from __future__ import annotations

from partners.base import (
    CUSTOM,
    DEVICE,
    FEATURE,
    NOT_SUPPORTED,
    NOT_SUPPORTED_STAR,
    PRODUCT,
    REQUIRED,
    SUPPORTED,
    SUPPORTED_STAR,
    Capabilities,
    Flow,
    Support,
)

_BLOCKS = (
    "We receive blocks for ACH and CC in the billing/invoice file and also update via RTDR:\n"
    "AUS will provide this in field 356 of the billing/invoice file if a customer is blocked from "
    "making CC payments.\n"
    "AUS will provide this in field 357 of the billing/invoice file if a customer is blocked from "
    "making ACH payments.\n"
    'For Adjustments/Balances transmitted via RTDR, the AUS "cash only" flag will update the '
    '"block ACH" and "block CC" options in IC. There is no separate AUS flag to block only one - '
    'this AUS "cash only" flag will block both payment types.'
)
_CARD_READERS = (
    "Card readers are used for POSConnect or CloudPay. AUS will call our APIs to process "
    "transactions. For AUS billers, Mount Pleasant is the only biller using POSConnect."
)
_BLUEFIN = (
    "AUS supports Bluefin EMV readers via CloudPayV2 API on AUS version 4.\n"
    "A biller can implement the devices via the Biller Portal."
)
_BANK_BILL_PAY = (
    "This product would be used if municipalities allowed coordinating bill pay with customers' "
    "banks. A payer will set up a recurring payment or autopay using their bank account and the bank "
    "sends over the paper check via FiServ"
)
_IFRAME_SSO = "Standard Invoice Cloud SSO using an embedded iFrame or a redirect."
_BIF_NOT_USED = "Set via BIF customization. Generally not used."
_Q4_2022 = "Note: We are aiming to support this in Q4 of 2022."

CAPABILITIES = Capabilities(
    code="aus",
    name="Harris Advanced AUS",
    summary=(
        "Harris Advanced Utility Systems (AUS), including the Logis variants. Invoices arrive as a TXT "
        "file over FTPS (default) or SFTP; balances and ACH/CC blocks are read in real time (RTDR "
        "GetAccountData); payments and autopay/paperless enrollments are pushed to AUS's DataPump API. "
        "Phone and e-mail change logs, ACH rejects and voids are not supported.\n"
        "Harris is rolling out AUS V5. This has no impact on the Invoice Cloud integration: all "
        "integration steps that are defined for previous versions are compatible with AUS V5."
    ),
    flows=(
        Flow(
            "invoice",
            "TXT File",
            "FTPS (Default) or SFTP (if required)",
            "Invoice Cloud maps the TXT file to BIF format.\n"
            'Standard naming convention: BID_TIMESTAMP_BillType.TXT (example: "123_20180201_UB.TXT").\n'
            'The AUS team refers to this file as the "Initial Data Dump" before going live, because they '
            "will query in the past to retrieve information of all the accounts etc. After the biller "
            'goes live they refer to it as the "IC Daily Export" file.\n'
            "Field 356 = block CC payments, field 357 = block ACH payments (see Adjustments/Balances).",
        ),
        Flow("adjustments", "RTDR API Method: GetAccountData", "RTDR", _BLOCKS),
        Flow("payments", "DataPump API Method: AddPendingPayment", "Data Pump"),
        Flow("ach_rejects", "Not Supported", "N/A", supported=False),
        Flow("void", "Not Supported", "N/A", supported=False),
        Flow("autopay_changes", "DataPump API Method: UpdatePaymentPlan", "Data Pump"),
        Flow(
            "paperless_changes",
            "DataPump API Method: UpdateCisLinkTableEBillAndLinkRegistration",
            "Data Pump",
        ),
        Flow("phone_changes", "Not Supported", "N/A", _Q4_2022, supported=False),
        Flow("email_changes", "Not Supported", "N/A", _Q4_2022, supported=False),
        Flow(
            "bill_images",
            "PDF Linking - Supported; PDF Extraction - Supported; Template - Not Supported",
            "Web service RetrieveBillPrintImageV2 (REST or SOAP)",
            "The standard AUS integration uses Advanced Utility PdfViewer "
            "(1918BF19-973B-4930-800E-2005C652C62A), web service: RetrieveBillPrintImageV2.\n"
            "The integration supports PDF Linking and PDF Extraction. If the biller wants to provide bill "
            "images outside of the standard integration process, the setup would need to be handled "
            "directly with the biller. Template is not supported.\n"
            "Advanced SSO Standard: Remote Linking.\n"
            "Advanced Non SSO Standard: Either Remote Linking or PDF Extraction. This depends on the "
            "print vendor.\n"
            "Logis Standard: PDF Extraction.\n"
            "PDF Linking is supported for REST or SOAP. Implementations will need to confirm which API "
            "calls are available for the biller.",
        ),
    ),
    supports=(
        Support(PRODUCT, "AgentConnect", NOT_SUPPORTED, _Q4_2022),
        Support(
            PRODUCT,
            "Check Free - FISERV - Cash",
            SUPPORTED_STAR,
            "*Only supported if biller uses our Online Bank Direct Product.\n"
            + _BANK_BILL_PAY
            + " to be applied to the customer's account in IC.",
        ),
        Support(
            PRODUCT,
            "CloudPay",
            NOT_SUPPORTED_STAR,
            "*Not supported for Standard Advanced Integrations. Logis integrations: Logis coded to "
            "CloudPay v1 for eProperty payments. eProperty payments are in-person payments that take "
            "place in the biller's office or over-the-phone payments that are processed by the biller's "
            "Customer Service Representative (CSR). These payments are not sent through the Data Pump. "
            "Therefore, a Payment Export File needs to be coded by IC IT and sent to the biller daily with "
            "any CloudPay payments that are made. The Payment Export File can be sent via email or FTP "
            "(preferred) for import into Logis. (Sample file was provided to Logis and integration appears "
            "to be completed per ITRs 11596, 11840, and 12836.)",
        ),
        Support(PRODUCT, "CloudPay Web Services", NOT_SUPPORTED),
        Support(
            PRODUCT,
            "CloudStore",
            SUPPORTED,
            "This is used for ad hoc non-invoice payments. Biller would have to manually update payment "
            "in their CIS and IC doesn't send CloudStore payments through the data pump.",
        ),
        Support(
            PRODUCT,
            "CSRConnect",
            NOT_SUPPORTED,
            "No longer implemented - applies to legacy integrations only.",
        ),
        Support(PRODUCT, "EMV", NOT_SUPPORTED, _Q4_2022),
        Support(PRODUCT, "POSPay", SUPPORTED, _BLUEFIN),
        Support(
            PRODUCT,
            "IVR",
            SUPPORTED,
            "Advanced Utility setup with IVR Tech uses a specific search method: "
            "SearchByAdvancedUtilityCustomerAndLocationNumber",
        ),
        Support(PRODUCT, "Kiosk", SUPPORTED),
        Support(
            PRODUCT,
            "Online Bank Direct - OBD",
            SUPPORTED,
            _BANK_BILL_PAY + " or Mastercard RPPS to be applied to the customer's account in IC.",
        ),
        Support(
            PRODUCT,
            "Outbound IVR",
            SUPPORTED,
            "Advanced would need to supply the csv file to generate a call campaign. For example, a shut "
            "off call - Advanced would need to generate a csv of all of the shut off calls and the biller "
            "would load that through outbound campaigns.",
        ),
        Support(
            PRODUCT,
            "POSConnect",
            NOT_SUPPORTED_STAR,
            "*Only Mount Pleasant Waterworks (BID 1165) uses POSConnect.",
        ),
        Support(
            FEATURE,
            "Account Linking",
            SUPPORTED,
            "Advanced Settings 75 and 76 are used for AUS account linking. Advanced Setting 75 will link "
            "together any customer account that has the same customer number. Advanced Setting 76 will "
            "link together any customer account that has a common e-mail address. Having both settings "
            "enabled will link together any account(s) with the same e-mail address and password and "
            "customer number.\n"
            "This would apply for both Non-SSO and SSO. The SSO vendor (if using a 3rd party) would need "
            "to include the API call to link the accounts.",
        ),
        Support(
            FEATURE,
            "Multi-User Log In",
            SUPPORTED,
            "Multi user functionality is handled by the SSO vendor or Invoice Cloud, depending on how "
            "customers access their online account.",
        ),
        Support(FEATURE, "Co-Owner Registration", SUPPORTED),
        Support(FEATURE, "SSO", SUPPORTED, _IFRAME_SSO),
        Support(FEATURE, "AutoPay Collection Date", SUPPORTED, "Set via BIF customization"),
        Support(
            FEATURE,
            "Batch Closure",
            CUSTOM,
            "Suggested Batch Closure Time: 11:59 PM in the local time zone the biller is located in. This "
            "way their batch will close immediately instead of closing between 12-1 am local time.",
        ),
        Support(FEATURE, "Bill Processor", NOT_SUPPORTED, "No longer implemented"),
        Support(
            FEATURE,
            "Balance Forward",
            REQUIRED,
            "There is also a BIF customization in the CRM that needs to be enabled if balance forward is "
            "supported.",
        ),
        Support(FEATURE, "Open Item Billing", NOT_SUPPORTED),
        Support(
            FEATURE,
            "Block Payment",
            SUPPORTED,
            _BLOCKS + "\nAdvanced setting 32 is also configured to ensure the block payments flags are not "
            "set in IC by a biller portal user, and only updated via RTDR.",
        ),
        Support(
            FEATURE,
            "Conveyance",
            NOT_SUPPORTED,
            "Normally when a payer moves, the biller updates their own CIS with the new tenant's name, as "
            "account numbers stay with the customer and the location number stays with the property. AUS "
            "will send these details over to IC in the next billing cycle and IC will update the account "
            "with the new tenant's name.",
        ),
        Support(
            FEATURE,
            "Data Conversions",
            SUPPORTED,
            "For any data conversions, this is to be provided by AUS or the biller securely using our "
            "secure upload URL.\nLogis can convert paperless and autopay users.",
        ),
        Support(FEATURE, "Email Notification Schedule", SUPPORTED, "Set via BIF customization"),
        Support(FEATURE, "Expire Bill for Payment", SUPPORTED, _BIF_NOT_USED),
        Support(FEATURE, "Flex Pay", SUPPORTED, "Generally not used"),
        Support(FEATURE, "Minimum Payment", SUPPORTED, "In BIF"),
        Support(FEATURE, "Paperless", SUPPORTED),
        Support(FEATURE, "Partial Payments", SUPPORTED, "Set via BIF customization"),
        Support(
            FEATURE,
            "Past Due Payments",
            SUPPORTED,
            "This is now supported now that the INT-Mod INT-4300 is resolved.",
        ),
        Support(FEATURE, "Scheduled Payments", SUPPORTED),
        Support(DEVICE, "Magtek REV Devices", SUPPORTED, _CARD_READERS),
        Support(DEVICE, "IDTech SRED Key", SUPPORTED, _CARD_READERS),
        Support(DEVICE, "Bluefin/PAX EMV Devices", SUPPORTED, _BLUEFIN),
        Support(DEVICE, "Other EMV Devices", NOT_SUPPORTED),
    ),
    bif_customizations={
        "AllowPartialPayments": "Set via BIF customization (Partial Payments)",
        "AutoPayCollectionDate": "Set via BIF customization (AutoPay Collection Date)",
        "BalanceForward": "Required: a BIF customization in the CRM needs to be enabled if balance forward "
        "is supported",
        "FirstNotifyRequestedDate": "Set via BIF customization (Email Notification Schedule)",
        "SecondNotifyRequestedDate": "Set via BIF customization (Email Notification Schedule)",
        "ThirdNotifyRequestedDate": "Set via BIF customization (Email Notification Schedule)",
        "MinimumAmountDue": "In BIF (Minimum Payment)",
        "PaymentExpirationDate": "Set via BIF customization (Expire Bill for Payment); generally not used",
        "PaymentExpirationMessage": "Set via BIF customization (Expire Bill for Payment); generally not used",
        "InvoiceFormatGuid": "Advanced Utility PdfViewer (1918BF19-973B-4930-800E-2005C652C62A), web "
        "service RetrieveBillPrintImageV2",
    },
    required_settings=(32,),
)
