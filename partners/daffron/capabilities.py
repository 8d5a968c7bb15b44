"""Daffron / Milsoft (MultiSpeak 3.0): capability matrix derived from seed 003's API sections.

The seed has no flow or product table: flows come from its API and file sections, supports only from
what it states (user stories, payment notes, BIF customization table).
"""
from __future__ import annotations

from partners.base import (
    CUSTOM,
    FEATURE,
    PRODUCT,
    REQUIRED,
    SUPPORTED,
    Capabilities,
    Flow,
    Support,
)

_NOT_DESCRIBED = "Not described in the Daffron technical design."
_NOT_SUPPORTED = "Not Supported"

CAPABILITIES = Capabilities(
    code="daffron",
    name="Daffron/Milsoft",
    summary=(
        "Daffron / Milsoft (Toolbox iXp) through MultiSpeak 3.0 web services. MultiSpeak is a 3rd-party "
        "web service specification (multispeakorg.net) instead of a hosted web service provided by a "
        "software partner; IC Madison (formerly PSN) already has a subscription. Daffron sends the IC BIF "
        "(pipe, BID_MMDDYYYY) upon billing; IC reads balances and allowed payment types in real time "
        "(GetPayableItemsList) and pumps payments (CommitPaymentTransaction), paperless "
        "(ModifyCBDataForCustomer) and autopay / scheduled-payment comments (WriteAccountHistoryComments). "
        "Bills are presented by PDF linking (setting 20, version in setting 119). Daffron calls IC web "
        "services for remote registration, account linking, e-mail, password and phone updates. "
        "Prepaid accounts are supported (EBPP-1659: prepaid balances, balance threshold e-mail "
        "notifications, prepaid UI). EBPP-1647: all e-mail history is available in the Daffron biller "
        "portal. Jira INT-2321, ITR 15988."
    ),
    flows=(
        Flow(
            "invoice",
            "BIF",
            "SFTP",
            "Daffron is sending us the IC BIF format.\n"
            "File extension: BIF. File naming convention: BID_MMDDYYYY. File delimiter: pipe. File transfer "
            "frequency: upon billing. (IC web service CloudInvoicing.asmx/UploadInvoiceFile is also listed "
            "for loading invoice files.)\n"
            "InvoiceNumber = max BPBCTR for this account/sub (concat acct-sub number if it needs to be "
            "unique); Custom2 = account base number, Custom3 = sub account number, Custom4 = location ID, "
            "Custom9 = bill control number, Custom10 = base account-billing control number (e.g. "
            "1234-12345), used for bill presentment or to group invoices into one autopay transaction; "
            "PastDue (407) = BP Prior Balance; AccountNumber = MSACCT-MSUB.\n"
            "The e-mail address is sent in the invoice file; it is used as the primary address in the CIS "
            "and a temporary Owner record in Invoice Cloud. Secondary e-mail addresses stored in the CIS "
            "are not sent to Invoice Cloud.",
        ),
        Flow(
            "adjustments",
            "RTDR API Method: GetPayableItemsList",
            "RTDR",
            "MultiSpeak CB_Server GetPayableItemsList (SOAPAction "
            "http://www.multispeak.org/Version_3.0/GetPayableItemsList): the requester asks the CB for the "
            "payable items of an account (accountNumber = AccountNumber); the CB returns a payableItemList.\n"
            "All currentAmount values from each service are added together (no exclusions) to get "
            "BalanceDue; all pastDueAmount values are added together to get PastDue.\n"
            "Prepaid accounts carry the extension remainingBalance (and remainingDays): if it exists, "
            "BalanceDue = its extValue.\n"
            "allowableTransactionTypes = allow/block payment types based on the allowed transaction types "
            "(seed: Cash Only - Block ACH; SPEC.md: a missing card type blocks CC, a missing ACH/eCheck "
            "type blocks ACH, cash only blocks both, no list blocks nothing). If the extension "
            "preventCreditCard = Y is present, block CC.\n"
            "Endpoint and credentials: Advanced Settings 8, 9, 10. Setting 32 keeps the block flags "
            "read-only for biller portal users.\n"
            "EBPP-8383: when retrieving an existing invoice via CloudPayV2, IC displays the Balance Due from "
            "the CloudPayV2 web service call (regardless of the IC invoice record).",
        ),
        Flow(
            "payments",
            "Data Pump API Method: CommitPaymentTransaction",
            "Data Pump",
            "The publisher asks the CB to process transactions the payment processor has already "
            "authorized, sent as a paymentTransactionsList; the CB returns information about them.\n"
            "accountNumber = account number. Payment array: achPayment, cashPayment, creditCardPayment, "
            "eCheckPayment.\n"
            "amount = transaction amount only (no service/convenience fees); format per Advanced Setting 35 "
            "(ServiceVersion2, INT-2321).\n"
            "authorizationCode = the full approval code (ITG-3305 reverted ITG-3014, which had appended the "
            "payment GUID).\n"
            "Extension transactionId on all payment transactions: extValue = PaymentGUID if Advanced "
            "Setting 131 exists, else the approval code. Milsoft uses it to detect duplicate payments.\n"
            "paymentMode: Advanced Settings 64 (CC) / 65 (ACH), default WEB. As of 3/2/2023 Online Bank "
            "Direct payments send OBD instead of WEB or EFT.\n"
            "Kiosk transactions add extension billerReference = the Kiosk ID provided by Dynatouch.\n"
            "Donation invoice types are skipped when setting 131 has "
            "Daffron.DataPumpConfigs.SkipDonationTypes = true (BID 2495).\n"
            "Autopay grouping (EBPP-8383, with CRM Option 128): invoices of linked accounts sharing a "
            "Custom10 value are consolidated into one autopay transaction and one receipt (United "
            "Cooperative BID 3337 only).\n"
            "CSR payments (workflow in progress): via CloudPay V2; all web service payments = CSR payments; "
            "IC reports and Biller Portal search show who made the payment.\n"
            "Endpoint and credentials: Advanced Settings 11, 12, 13.",
        ),
        Flow("ach_rejects", _NOT_SUPPORTED, "N/A", _NOT_DESCRIBED, supported=False),
        Flow("void", _NOT_SUPPORTED, "N/A", _NOT_DESCRIBED, supported=False),
        Flow(
            "autopay_changes",
            "Data Pump API Method: WriteAccountHistoryComments",
            "Data Pump",
            "comment = AUTOPAY ON or AUTOPAY OFF. customerID = base+sub; serviceLocationID = Custom4 (must "
            "be sent; INT-8007 fixed autopay status posted without it); logTime = current date/time as "
            "yyyy-MM-ddTHH:mm:ss+/-hh:mm.\n"
            "Scheduled payments (INT-11451, a per-biller switch; only Lowell Light & Power BID 2661 in the "
            "seed) are posted to the same method, comment max 70 characters: "
            "SCHED_PAY {MMDDYYYY} {156.25} {InvoiceNumber} when scheduled, SCHED_PAY_CNCL ... when "
            "canceled, SCHED_PAY_UPDT ... when updated (e.g. SCHED_PAY 08152024 156.25 121940013401).\n"
            "CSR sign-up for AutoPay must use the Biller Portal; IC reports reflect the CSR sign-up.\n"
            "Endpoint and credentials: Advanced Settings 17, 18, 19.",
        ),
        Flow(
            "paperless_changes",
            "Data Pump API Method: ModifyCBDataForCustomer",
            "Data Pump",
            "Add/remove paperless billing: customer objectID = base+sub; extension extName = EBILL, extValue "
            "Y to enroll, N to un-enroll. DO NOT SEND unless enrolling or un-enrolling.\n"
            "CSR paperless sign-up is completed in the Daffron CIS; Daffron then calls the IC update "
            "paperless API.\n"
            "Endpoint and credentials: Advanced Settings 14, 15, 16.",
        ),
        Flow(
            "phone_changes",
            _NOT_SUPPORTED,
            "N/A",
            _NOT_DESCRIBED + " (Other direction: when a phone number changes in the CIS, Daffron calls IC "
            "Web Services (SOAP): Cloud Management > Update Customer Record.)",
            supported=False,
        ),
        Flow(
            "email_changes",
            _NOT_SUPPORTED,
            "N/A",
            _NOT_DESCRIBED + " (Other direction: when an e-mail address changes in the CIS or the Daffron "
            "customer portal, Daffron calls IC Web Services (REST): Remote Authentication > Update E-mail "
            "Address, or Register Accounts when not yet registered.)",
            supported=False,
        ),
        Flow(
            "bill_images",
            "PDF Linking",
            "Remote PDF web service (Advanced Setting 20, port 8086)",
            "InvoiceFormatGuid: Daffron - PDF Remote Link (BA1CEC36-997C-48E3-8406-437640EDFF84).\n"
            "ACCT = account number, SUB = sub, BCTR = bill control number, LDMO = bill date.\n"
            "IC supports 4 versions, set by Advanced Setting 119 Remote PDF Service Version:\n"
            "1 (default): PROCESSING_TYPE=HISTORY, ACCT={Custom2}, SUB={Custom3} (e.g. 2778 City of "
            "Manassas VA Utilities);\n"
            "2: adds BCTR={Custom10} (e.g. 2738 Grundy Electric Cooperative, Inc);\n"
            "3: adds LDMO={InvoiceDate year + month} (e.g. 2557 Benton Municipal Light and Waterworks);\n"
            "4: adds PRINT_FORM=TRUE (e.g. 2661 Lowell Light & Power).\n"
            "If Custom9 has INV or EBIL, v2 is forced for that invoice regardless of the setup version.\n"
            "To pass only the value after the '-' in Custom10 (INT-5475), configure Advanced Setting 131 "
            '{"PdfConfig":{"BCTRModifier":"ValueAfterDash"}}.',
        ),
    ),
    supports=(
        Support(
            PRODUCT,
            "Kiosk",
            SUPPORTED,
            "Kiosk payments add the extension billerReference = the Kiosk ID provided by Dynatouch to "
            "CommitPaymentTransaction.",
        ),
        Support(
            PRODUCT,
            "Online Bank Direct - OBD",
            SUPPORTED,
            "As of 3/2/2023 OBD payments are pumped with paymentMode OBD instead of WEB or EFT.",
        ),
        Support(
            FEATURE,
            "Account Linking",
            SUPPORTED,
            "Via remote registration: to register and link accounts, Daffron passes all accounts (Account + "
            "Sub) in remote registration (IC web services RegisterAccountsForUser, linkaccounts). Linking a "
            "second account to an existing account happens in Daffron.",
        ),
        Support(
            FEATURE,
            "Multi-User Log In",
            SUPPORTED,
            "A login is created for each e-mail (user) registered through Daffron's eBiz portal; no "
            "invitations.",
        ),
        Support(
            FEATURE,
            "Co-Owner Registration",
            SUPPORTED,
            "No invitations; permissions are all co-owner (co-owner permission for each user).",
        ),
        Support(
            FEATURE,
            "SSO",
            SUPPORTED,
            "Payer experience: One Time Pay / Customer Portal Single Sign On, Customer Portal SSO - "
            "Prepaid, Mobile Customer Portal SSO. SSO Customer Login URL = Advanced Setting 3.",
        ),
        Support(FEATURE, "Balance Forward", REQUIRED, "Required BIF customization"),
        Support(
            FEATURE,
            "Block Payment",
            SUPPORTED,
            "RTDR GetPayableItemsList: allowableTransactionTypes (cash only = block ACH) and extension "
            "preventCreditCard = Y (block CC). Setting 32 keeps the flags read-only in IC.",
        ),
        Support(FEATURE, "Paperless", SUPPORTED, "Pumped with ModifyCBDataForCustomer (EBILL Y/N)."),
        Support(
            FEATURE,
            "Past Due Payments",
            SUPPORTED,
            "PastDue (FileSpecID 407, BP Prior Balance) in the BIF; pastDueAmount summed via RTDR.",
        ),
        Support(
            FEATURE,
            "Scheduled Payments",
            CUSTOM,
            "Posting scheduled payments to Daffron (WriteAccountHistoryComments SCHED_PAY / SCHED_PAY_CNCL "
            "/ SCHED_PAY_UPDT, INT-11451) is enabled per biller; only Lowell Light & Power (BID 2661) in "
            "the seed.",
        ),
    ),
    bif_customizations={
        "AchServiceFee": "N/A",
        "AllowPartialPayments": "Biller Questionnaire - BIF customization",
        "AutoPayCollectionDate": "Biller Questionnaire - BIF customization",
        "BalanceForward": "Required BIF customization",
        "CreditCardServiceFee": "N/A",
        "FirstNotifyRequestedDate": "Biller Questionnaire - BIF customization",
        "InvoiceDate": "N/A",
        "InvoiceDueDate": "N/A",
        "InvoiceFormatGuid": "Invoice Cloud will set the InvoiceFormatGUID going forward - it should be "
        "Daffron - PDF Remote Link: (BA1CEC36-997C-48E3-8406-437640EDFF84)",
        "InvoiceTypeID": "N/A",
        "LateFeeDate": "N/A",
        "LocationReference": "N/A",
        "MinimumAmountDue": "In BIF",
        "PaymentExpirationDate": "Biller Questionnaire - BIF customization",
        "PaymentExpirationMessage": "Biller Questionnaire - BIF customization",
        "PromptPayExpirationDate": "N/A",
        "RegistrationValue": "N/A",
        "SecondNotifyRequestedDate": "Biller Questionnaire - BIF customization",
        "ThirdNotifyRequestedDate": "Biller Questionnaire - BIF customization",
    },
    required_settings=(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20),
)
