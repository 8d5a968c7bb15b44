"""Harris inHance (v1): capability matrix transcribed from seed 002."""
from __future__ import annotations

from partners.base import (
    CUSTOM,
    DEVICE,
    FEATURE,
    NOT_SUPPORTED,
    PRODUCT,
    SUPPORTED,
    Capabilities,
    Flow,
    Support,
)

_CUSTOMER_JOB = (
    "InHance Customer job: This job downloads any flags or minor changes from Invoice Cloud - "
    "paperless, emails and phone numbers."
)
_IC_WS = "IC Web Services"
_WS = "Webservices"

CAPABILITIES = Capabilities(
    code="inhance",
    name="Harris inHance",
    summary=(
        "Harris inHance v1 pulls from and pushes to Invoice Cloud web services: it uploads invoices in BIF "
        "format every 15 minutes, sends balance updates (every 15 minutes, and all balances weekly on "
        "Sunday), downloads payments, and downloads autopay, paperless, e-mail and phone changes. ACH "
        "rejects and voids are not supported. No advanced settings are required."
    ),
    flows=(
        Flow("invoice", "BIF", _WS, "Invoices are sent to IC via web services every 15 minutes."),
        Flow(
            "adjustments",
            _IC_WS,
            _WS,
            'Balance Updates:\nInHance "Balance Job" runs every 15 minutes.\n'
            'InHance "Balance All Job" runs once a week on Sunday.',
        ),
        Flow(
            "payments",
            _IC_WS,
            _WS,
            "There are 2 ways to handle the payments coming from Invoice Cloud and the choice is the "
            "biller's: through pending payments or live to the account.\n"
            "If the biller goes the pending payments route, all payments downloaded from Invoice Cloud will "
            "sit in the View Pending Payments screen under Batch Entries until someone (the biller) goes in "
            "and manually posts them.\n"
            "If the biller chooses the live route, all payments downloaded from Invoice Cloud will be posted "
            "directly to the customers' accounts by a dummy clerk inHance sets up named IC Clerk. The biller "
            "will get a report through Open Transactions for this clerk for all payments made that day.",
        ),
        Flow("ach_rejects", "Not Supported", "N/A", supported=False),
        Flow("void", "Not Supported", "N/A", supported=False),
        Flow(
            "autopay_changes",
            _IC_WS,
            _WS,
            "InHance Auto Pay job: This job downloads a flag that tells inHance that Invoice Cloud will "
            "handle the ACH. When inHance downloads this flag, they set the customer to Draft and put dummy "
            "bank account info on the account. The bank name is Invoice Cloud Bank and the account number is "
            "000000000 with a dummy routing number. If the biller does not currently handle any bank drafts "
            "at all, the biller will need to make sure they are including drafts when printing bills.",
        ),
        Flow("paperless_changes", _IC_WS, _WS, _CUSTOMER_JOB),
        Flow("phone_changes", _IC_WS, _WS, _CUSTOMER_JOB),
        Flow("email_changes", _IC_WS, _WS, _CUSTOMER_JOB),
        Flow(
            "bill_images",
            "PDF Linking - Supported*; PDF Extraction - Supported*; Template - Supported",
            "Template data in the BIF (Webservices); Linking or Extraction via the biller's print vendor",
            "Note: the InvoiceFormatGUID needs to be requested for the bill presentment type that's being "
            "implemented. *InHance only supports templates but IC can support Linking or Extraction between "
            "IC and their print vendor.",
        ),
    ),
    supports=(
        Support(PRODUCT, "AgentConnect", NOT_SUPPORTED),
        Support(PRODUCT, "Check Free - FISERV - Cash", NOT_SUPPORTED),
        Support(PRODUCT, "CloudPay", NOT_SUPPORTED),
        Support(PRODUCT, "CloudPay Web Services", NOT_SUPPORTED),
        Support(PRODUCT, "CloudStore", SUPPORTED),
        Support(PRODUCT, "CSRConnect", NOT_SUPPORTED),
        Support(PRODUCT, "EMV", NOT_SUPPORTED),
        Support(PRODUCT, "IVR", SUPPORTED, "Search by account number"),
        Support(PRODUCT, "Kiosk", SUPPORTED),
        Support(PRODUCT, "Online Bank Direct - OBD", SUPPORTED),
        Support(PRODUCT, "Outbound IVR", SUPPORTED),
        Support(
            PRODUCT,
            "POSConnect",
            SUPPORTED,
            "IM helps the biller with installing the software.\n"
            "Provide the biller with Guid, Web Service Key and Invoice Type ID.\n"
            "SRED card swipe devices.\n"
            "Biller can download the software from the biller portal (documentation - integration docs - "
            "specifications, click on CloudPOSconnect). Under Installation make sure you click on Download "
            "next to CloudPOSconnect and NOT CloudPOSPay.",
        ),
        Support(
            FEATURE,
            "Account Registration",
            SUPPORTED,
            "Biller can use email address or username for registration",
        ),
        Support(FEATURE, "Account Linking", SUPPORTED, "Standard account linking on IC"),
        Support(FEATURE, "Multi-User Log In", SUPPORTED),
        Support(FEATURE, "Co-Owner Registration", SUPPORTED),
        Support(FEATURE, "SSO", NOT_SUPPORTED),
        Support(FEATURE, "AutoPay Collection Date", SUPPORTED, "BIF customization"),
        Support(FEATURE, "Batch Closure", CUSTOM, "Auto or Custom"),
        Support(FEATURE, "Bill Processor", NOT_SUPPORTED),
        Support(FEATURE, "Balance Forward", SUPPORTED, "in BIF"),
        Support(FEATURE, "Open Item Billing", NOT_SUPPORTED),
        Support(FEATURE, "Block Payment", SUPPORTED, "Managed in the biller portal"),
        Support(
            FEATURE,
            "Conveyance",
            SUPPORTED,
            "inHance does use conveyance/auto conveyance depending on their client",
        ),
        Support(
            FEATURE,
            "Data Conversions",
            SUPPORTED,
            "Typically, inHance only sends the past two billing cycles. If the Biller wants more, it needs "
            "to be requested from inHance.",
        ),
        Support(
            FEATURE,
            "Email Notification Schedule",
            SUPPORTED,
            "BIF customization - BIF customizations are set by inHance EXCEPT email notification dates.",
        ),
        Support(FEATURE, "Expire Bill for Payment", SUPPORTED, "in BIF"),
        Support(FEATURE, "Minimum Payment", SUPPORTED, "in BIF"),
        Support(FEATURE, "Paperless", SUPPORTED),
        Support(FEATURE, "Partial Payments", SUPPORTED, "in BIF"),
        Support(FEATURE, "Past Due Payments", NOT_SUPPORTED),
        Support(FEATURE, "Scheduled Payments", SUPPORTED),
        Support(FEATURE, "Flex Pay", SUPPORTED),
        Support(DEVICE, "Magtek REV Devices", NOT_SUPPORTED),
        Support(DEVICE, "IDTech SRED Key", NOT_SUPPORTED),
        Support(DEVICE, "Ingenico EMV", SUPPORTED, "Supported through the biller portal"),
        Support(DEVICE, "Other EMV Devices", SUPPORTED, "Supported through the biller portal"),
    ),
    bif_customizations={
        "AllowPartialPayments": "in BIF (Partial Payments)",
        "AutoPayCollectionDate": "BIF customization (AutoPay Collection Date)",
        "BalanceForward": "in BIF (Balance Forward)",
        "FirstNotifyRequestedDate": "BIF customization; BIF customizations are set by inHance EXCEPT email "
        "notification dates",
        "SecondNotifyRequestedDate": "BIF customization; BIF customizations are set by inHance EXCEPT email "
        "notification dates",
        "ThirdNotifyRequestedDate": "BIF customization; BIF customizations are set by inHance EXCEPT email "
        "notification dates",
        "MinimumAmountDue": "in BIF (Minimum Payment)",
        "PaymentExpirationDate": "in BIF (Expire Bill for Payment)",
        "PaymentExpirationMessage": "in BIF (Expire Bill for Payment)",
        "InvoiceFormatGuid": "Needs to be requested for the bill presentment type that's being implemented "
        "(inHance only supports templates; IC can support Linking or Extraction with their print vendor)",
    },
    required_settings=(),
)
