"""Cayenta: capability matrix transcribed from seed 001, with SPEC.md section 3 applied."""
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

_SEED_SWAP = (
    "\nNote: the seed lists _PostPaperLessChangeXML under AutoPay Enrollment and _PostAutopayChangeXML "
    "under Paperless Enrollment; the alert codes settle it (SPEC.md): autopay changes send AUTOP via "
    "_PostAutopayChangeXML, paperless changes send EBILL via _PostPaperLessChangeXML."
)
_BIF_NOT_USED = "Set via BIF customization. Generally not used."
_DEVICE_POS = "Device is connected to computer and called by POSConnect or called from Biller Portal."

CAPABILITIES = Capabilities(
    code="cayenta",
    name="Cayenta",
    summary=(
        "Cayenta Utilities (CU), with the legacy Cayenta CSS portal or the new SilverBlaze portal. "
        "Invoices arrive as an XML file (billheader_DATE.xml) over sFTP; balances, past due and ACH/CC "
        "blocks are read in real time (GetAccountBalance, block codes from setting 28); payments "
        "(credits with setting 114), optional ACH rejects, voids and autopay/paperless enrollments are "
        "pumped to the Cayenta API. POSConnect payments are never pumped (Cayenta posts them itself). "
        "Phone and e-mail change logs are not supported."
    ),
    flows=(
        Flow(
            "invoice",
            "XML",
            "sFTP",
            "Invoice Cloud maps the XML file to BIF format.\nStandard naming convention: billheader_DATE.xml",
        ),
        Flow(
            "adjustments",
            "Cayenta API: GetAccountBalance",
            "RTDR",
            "Invoice Cloud updates Balance, Block CC, and Block ACH.\n"
            "The standard Cayenta integration does not support Budget billing.\n"
            "When IC calls GetAccountBalance from Cayenta, Past Due Balance is passed and Invoice Cloud can "
            "display that in the payment route. Ex: Clayton County Water Authority (BID: 1368).\n"
            "Block ACH, block CC and/or cash only are set from the biller's Cayenta Customer Block EFT "
            "Indicator codes in Advanced Setting 28.",
        ),
        Flow(
            "payments",
            "Cayenta API: AddARItem",
            "Data Pump",
            "Credits are posted. To pump credits, Invoice Cloud sets up advanced setting #114. Invoice Cloud "
            'identifies the transaction type "6" - credit.\n'
            "POSConnect transactions are NOT sent through the data pump for Cayenta billers (Cayenta posts "
            "them into Cayenta Utilities; pumping them would cause duplicate payments).",
        ),
        Flow(
            "ach_rejects",
            "Cayenta API: AddReturnedCheck",
            "Data Pump",
            "C-Code Rejects are not included.\n"
            "The actual Web API has its own firewall/security. Posting ACH rejects is optional. Invoice "
            "Cloud will need Cayenta's permission to use the ACH Reject, which is configured per biller.",
        ),
        Flow("void", "Cayenta API", "Data Pump", "The seed names no specific Cayenta API method for voids."),
        Flow(
            "autopay_changes",
            "Cayenta API: _PostAutopayChangeXML",
            "Data Pump",
            'When we data pump Autopay enrollment we send an Alert Code "AUTOP".' + _SEED_SWAP,
        ),
        Flow(
            "paperless_changes",
            "Cayenta API: _PostPaperLessChangeXML",
            "Data Pump",
            'When we data pump a paperless enrollment we send an Alert Code "EBILL".' + _SEED_SWAP,
        ),
        Flow("phone_changes", "Not Supported", "N/A", supported=False),
        Flow("email_changes", "Not Supported", "N/A", supported=False),
        Flow(
            "bill_images",
            "PDF Linking - Supported; PDF Extraction - Supported; Template - Not Supported",
            "Web service Get_StmntPdf (PDF remote link)",
            "PDF Remote Link - Web Service 'Get_StmntPdf'.\n"
            "The integration supports PDF Linking and PDF Extraction. If the biller wants to provide bill "
            "images outside of the standard integration process, the setup would need to be handled "
            "directly with the biller. Template is not supported.\n"
            "Standard: PDF Linking.",
        ),
    ),
    supports=(
        Support(
            PRODUCT,
            "AgentConnect",
            SUPPORTED,
            "Used to link various pages of their biller admin portal to Invoice Cloud. The AgentConnect API "
            "is similar to our older product, CloudCSRConnect, but has additional security and "
            "functionality to better serve both Insurance and GUB biller needs.",
        ),
        Support(
            PRODUCT,
            "Check Free - FISERV - Cash",
            SUPPORTED_STAR,
            "Only supported if biller uses our Online Bank Direct Product.\n"
            "This product would be used if municipalities allowed coordinating bill pay with customers' "
            "banks. A payer will set up a recurring payment or autopay using their bank account and the "
            "bank sends over the paper check via FiServ to be applied to the customer's account in IC.",
        ),
        Support(PRODUCT, "CloudPay", NOT_SUPPORTED),
        Support(PRODUCT, "CloudPay Web Services", NOT_SUPPORTED),
        Support(
            PRODUCT,
            "CloudStore",
            SUPPORTED,
            "We can put our Cloud Store in the Virtual Site or we can provide a link which is embedded into "
            "the CSS website. This is used for ad hoc non-invoice payments.\n"
            "Payments are handled manually by the biller.",
        ),
        Support(
            PRODUCT,
            "CSRConnect",
            NOT_SUPPORTED_STAR,
            "Note: It's still used by some billers; however, Cayenta no longer uses it.\n"
            "*Biller must be on CU Version 7.9.0 or higher and CSS gen 3 to support CSRConnect.\n"
            "https://invoicecloud.box.com/s/0u2obyomrlbub9xqlc7auwpp912n3cpt\n"
            "This can be used to sign up a new account for paperless and autopay services.",
        ),
        Support(PRODUCT, "EMV", SUPPORTED, "Biller Portal payments only."),
        Support(
            PRODUCT,
            "IVR",
            SUPPORTED,
            "Standard: SearchByAccountNumber\nWe can also read a past due amount to the caller.",
        ),
        Support(PRODUCT, "Kiosk", SUPPORTED),
        Support(PRODUCT, "Online Bank Direct - OBD", SUPPORTED),
        Support(PRODUCT, "Outbound IVR", SUPPORTED),
        Support(
            PRODUCT,
            "POSConnect",
            SUPPORTED_STAR,
            "*Biller must be on CU Version 7.9.0 or higher and CSS gen 3 to support POSConnect.\n"
            "POSConnect transactions will NOT be sent through the data pump for Cayenta billers. Cayenta "
            "posts the payments into Cayenta Utilities after they are made, so activating these payments "
            "in the data pump would cause duplicate payments on each account.\n"
            "https://invoicecloud.box.com/s/1r78csswp6redm1f188r90fzyagguvtq\n"
            "EMV devices were implemented and integrated into POSConnect for Clayton County only.",
        ),
        Support(
            FEATURE,
            "Account Linking",
            SUPPORTED,
            "Non-SSO Cayenta billers use standard IC email/pwd linking.\n"
            "If SSO Biller is on Cayenta CSS, Cayenta's legacy Portal Solution, linking is completed on the "
            "CSS side.\n"
            "If SSO Biller is on SilverBlaze, Cayenta's new Portal Solution, linking is completed on the "
            "SilverBlaze side.",
        ),
        Support(FEATURE, "Multi-User Log In", NOT_SUPPORTED),
        Support(FEATURE, "Co-Owner Registration", NOT_SUPPORTED),
        Support(
            FEATURE,
            "SSO",
            SUPPORTED,
            "Supported with legacy Cayenta CSS Portal or new SilverBlaze Portal.\n"
            "Standard Invoice Cloud SSO using an embedded iFrame or a redirect.\n"
            "(The seed links: Screenshots of CSS Redirects; One Time Payment Demo; "
            "Paperless/AutoPay/Payment Method Demo.)",
        ),
        Support(FEATURE, "AutoPay Collection Date", SUPPORTED, "Set via BIF Customization"),
        Support(
            FEATURE,
            "Batch Closure",
            CUSTOM,
            "It is best practice for the Implementation Project Manager to coordinate the Invoice Cloud "
            "batch close in league with Cayenta and the biller. Cayenta, the biller, and Invoice Cloud "
            "should come to an agreement on a batch close time and then set up maintenance windows around "
            "that time. Often the biller will be rebooting resources and Cayenta has some functions in "
            "that maintenance window as well.",
        ),
        Support(FEATURE, "Bill Processor", NOT_SUPPORTED, "No longer implemented"),
        Support(FEATURE, "Balance Forward", REQUIRED),
        Support(FEATURE, "Open Item Billing", NOT_SUPPORTED),
        Support(
            FEATURE,
            "Block Payment",
            SUPPORTED,
            "RTDR\nWe support block ACH, block CC and/or cash only based on Advanced Setting 28 (Cayenta "
            "Customer Block EFT Indicator). Within this setting we configure the codes provided by Cayenta "
            "that are unique to each biller.\n"
            "Advanced setting 32 is also configured to ensure the block payments flags are not set in IC "
            "by a biller portal user, and only updated via RTDR.",
        ),
        Support(FEATURE, "Conveyance", NOT_SUPPORTED),
        Support(
            FEATURE,
            "Data Conversions",
            SUPPORTED,
            "Cayenta can provide the data if we are converting autopay that resided in the Cayenta Billing "
            "system. Otherwise data would come from the biller.\n"
            "Cayenta does not like to give IC passwords. Cayenta always advises payers to re-register.",
        ),
        Support(FEATURE, "Email Notification Schedule", SUPPORTED, "Set via BIF Customization"),
        Support(FEATURE, "Expire Bill for Payment", SUPPORTED, _BIF_NOT_USED),
        Support(FEATURE, "Flex Pay", SUPPORTED, "Generally not used"),
        Support(FEATURE, "Minimum Payment", SUPPORTED, _BIF_NOT_USED),
        Support(FEATURE, "Paperless", SUPPORTED),
        Support(FEATURE, "Partial Payments", SUPPORTED, "Set via BIF Customization"),
        Support(
            FEATURE,
            "Past Due Payments",
            SUPPORTED,
            'Set through file and RTDR. Descriptor for value 30 in "Invoice Types" - Past Due. Advanced '
            "Setting 107 should be populated with PASTDUE_AMT.",
        ),
        Support(FEATURE, "Scheduled Payments", SUPPORTED),
        Support(DEVICE, "Magtek REV Devices", SUPPORTED, _DEVICE_POS),
        Support(DEVICE, "IDTech SRED Key", SUPPORTED, _DEVICE_POS),
        Support(DEVICE, "Ingenico EMV", SUPPORTED, "Biller Portal EMV"),
        Support(DEVICE, "Other EMV Devices", SUPPORTED, "Biller Portal EMV"),
    ),
    bif_customizations={
        "AllowPartialPayments": "Set via BIF Customization (Partial Payments)",
        "AutoPayCollectionDate": "Set via BIF Customization (AutoPay Collection Date)",
        "BalanceForward": "Required (Balance Forward)",
        "FirstNotifyRequestedDate": "Set via BIF Customization (Email Notification Schedule)",
        "SecondNotifyRequestedDate": "Set via BIF Customization (Email Notification Schedule)",
        "ThirdNotifyRequestedDate": "Set via BIF Customization (Email Notification Schedule)",
        "MinimumAmountDue": "Set via BIF customization (Minimum Payment); generally not used",
        "PaymentExpirationDate": "Set via BIF customization (Expire Bill for Payment); generally not used",
        "PaymentExpirationMessage": "Set via BIF customization (Expire Bill for Payment); generally not used",
    },
    required_settings=(28, 32, 107),
)
