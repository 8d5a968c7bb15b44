"""Harris FlexiBill: capability matrix derived from seed 004's file sections (a batch-based partner).

The seed has no flow or product table: flows come from its file mapping sections, supports only from
what it states. It names no advanced settings ("Advanced Settings NA").
"""
from __future__ import annotations

from partners.base import FEATURE, SUPPORTED, Capabilities, Flow, Support

_BATCH = "Batch file (transfer path not given in the seed)"
_NOT_SUPPORTED = "Not Supported"
_QUESTIONNAIRE = "Refer to Biller Questionnaire"



CAPABILITIES = Capabilities(
    code="flexibill",
    name="Harris FlexiBill",
    summary=(
        "Harris FlexiBill is a batch-based software partner (no API, no standard bill template, no "
        "advanced settings). FlexiBill sends fixed-width invoice files (.BIF, replacements .BRF), a daily "
        "balance file (.BAF) and a payment expiration file (.SPF); IC sends a payment export file per "
        "CoDiv and autopay, paperless and e-mail change log files. Voids are processed manually in the "
        "biller portal and ACH rejects manually in FlexiBill. Payers access Invoice Cloud from the biller "
        "website (URL redirect) and use the IC Virtual Site and Customer Portal; billers use the Biller "
        "Portal. Jira INT-4411."
    ),
    flows=(
        Flow(
            "invoice",
            "BIF / BRF File (fixed width, HDR/D blocks)",
            _BATCH,
            "Utility_Invoices_Base (.BIF, no delimiter; IF_Flexibill Utility Base, StratusInvoiceFileTypeID "
            "437, StratusWebServices Utility_Invoices_Base.vb): BIF supplied by the software partner. "
            'Invoices are broken up into blocks: each new invoice starts with "HDR" and every subsequent '
            '"D" line that follows is part of the invoice block. RecordType is always N; InvoiceTypeID is '
            "always 42.\n"
            "InvoiceNumber = Account+CoDiv+BillID; AccountNumber = Account+CoDiv. CustomerName = BillToName, "
            "or BillToName2 when BillToName is empty; CustomerName2 = BillToName2 when BillToName is not "
            "empty. BillerInvoiceNumber = Account with leading zeros trimmed, not saved when all zeros. "
            "PromptPayDiscountAmount / PromptPayExpirationDate (DiscountAmount / DiscountDate) empty when "
            'DiscountAmount is 0. BillerInstallmentNumber = BillDate("yyMMdd"); BillerBillYear = '
            'BillDate("yyyy").\n'
            "Replacement file (.BRF; IF_Flexibill Utility Replacement Base, StratusInvoiceFileTypeID 440, "
            "Utility_Replacement_Invoices_Base.vb): same fields as the base file with RecordType always R. "
            "File transfer frequency: quarterly. SFTP file path: NA.",
        ),
        Flow(
            "adjustments",
            "BAF File (daily balance) and SPF File (payment expiration), pipe delimited",
            _BATCH,
            "Daily balance (.BAF, delimiter |; IF_Flexibill Daily Balance Base, StratusAdjustmentFileTypeID "
            "150, Utility_DailyBalance_Base.vb): transfers updated bill/invoice balance data to IC from the "
            "biller. AccountNumber = first column, InvoiceNumber = second column, AdjustmentAmount = third "
            "column (a negative value is converted to positive). InvoiceTypeID always 42; AdjustmentTypeID "
            "= BalanceDifferential (always 2); AdjustmentDate = now, current CST date and time.\n"
            "Payment expiration (.SPF, _MCS_MMDDYYYYSSSSSS.SPF, delimiter |; Flexibill Payment Expiration "
            "File, StratusMiscFileTypeID 25, Utility_PaymentExpiration_Base.vb): expires payments, received "
            "from the biller. AccountNumber = column 1; InvoiceNumber = column 1 + column 2 (concatenated); "
            "PaymentExpirationDate = column 3 - 1 day; PaymentExpirationMessage = column 4.",
        ),
        Flow(
            "payments",
            "MCS Payment Export File (fixed width, one file per CoDiv)",
            _BATCH,
            "Utility Payment (.mcs; IF_Flexibill Payment Export Base, StratusPaymentFileTypeID 202, "
            "Utility_Payment_Export_Base.vb): transfers payment data from IC to the biller. File naming "
            "convention: ICPayments_YYYYMMDDSSSSSS.mcs. Payment files are separated by the CoDiv in the "
            "customer's account number (last three characters) and the extension (e.g. .mcs) is the file "
            "identifier (SPEC.md: ICPayments_YYYYMMDDHHMMSS.<codiv>, CoDiv lower-cased). Space delimited; "
            "all values left justified and padded right with spaces, except "
            "Amount and ConvenienceFee (right justified, zero padded, two decimals: 00156.25).\n"
            "Fields: AccountNumber 30 (Custom2); Amount 8 (PaymentAmount - ConvenienceFee); TenderType 1 "
            "(Visa=V, Mastercard=M, Discover=D, American Express=A, ACH=C, Other=X); Description 24 (always "
            '"Invoice Cloud Payment"); Authorization 20 (PaymentMessage); PaymentDate 14 (yyyyMMddhhmmss); '
            "CheckNum 10 (CheckNumber, last 10 chars); ConvenienceFee 8.\n"
            "C-Code rejects included: No. Credits: No. Chargebacks: No. Negative values with dash "
            "indicator: No.",
        ),
        Flow(
            "ach_rejects",
            _NOT_SUPPORTED,
            "N/A",
            "ACH Rejects are manually processed in FlexiBill. (C-Code rejects are not included in the "
            "payment file.)",
            supported=False,
        ),
        Flow(
            "void",
            _NOT_SUPPORTED,
            "N/A",
            "Voids are manually processed in the biller portal.",
            supported=False,
        ),
        Flow(
            "autopay_changes",
            "TXT File (pipe) - Autopay Change Report",
            _BATCH,
            "Utility Autopay Changelogs: transfers change log data from IC to the biller. File naming "
            "convention: ICAutoPayChangeReport_YYYYMMDDSSSSSS.txt. File delimiter: |. IF_Harris Flexibill "
            "Autopay Change Logs (StratusChangeLogFileTypeID 23), StratusWebServices "
            "Utility_Autopay_ChangeLogs_Export_Base.vb.\n"
            "Fields: CustomerName (IC database) | AccountNumber (invoice field Custom2) | "
            'InvoiceType,Autopay(Yes/No) (InvoiceTypeDesc; Autopay = "Yes" if NewValue = 1 else "No") | '
            "Autopay change date (MMDDYYYYHHMMSS).",
        ),
        Flow(
            "paperless_changes",
            "TXT File (pipe) - Paperless Changes Report",
            _BATCH,
            "Utility Paperless Change Logs: transfers change log data from IC to the biller. File naming "
            "convention: ICPaperlessChangesReport_YYYYMMDDSSSSSS.txt. File delimiter: |. Flexibill Paperless "
            "Change Logs (StratusMiscFileTypeID 15), StratusWebServices "
            "Utility_Paperless_ChangeLogs_Export_Base.vb.\n"
            "Fields: CustomerName (IC database) | AccountNumber (invoice field Custom2) | "
            'InvoiceType,Paperless(Yes/No) (InvoiceTypeDesc; Paperless = "Yes" if NewValue = 1 else "No") '
            "| Paperless change date.",
        ),
        Flow(
            "phone_changes",
            _NOT_SUPPORTED,
            "N/A",
            "Not described in the FlexiBill technical design.",
            supported=False,
        ),
        Flow(
            "email_changes",
            "TXT File (pipe) - Email Changes Report",
            _BATCH,
            "Utility Email Change Logs: transfers change log data from IC to the biller. File naming "
            "convention: ICEmailChangesReport_YYYYMMDDSSSSSS.txt. File delimiter: |. Flexibill Email Change "
            "Logs (StratusMiscFileTypeID 14), StratusWebServices Utility_Email_ChangeLogs_Export_Base.vb.\n"
            "Fields: CustomerName (IC database) | AccountNumber (invoice field Custom2) | "
            "OldValue (ChangeLogs OldValue) | NewValue (ChangeLogs NewValue) | Email change date.",
        ),
        Flow(
            "bill_images",
            "Template or PDF",
            "Not specified in the seed",
            "Billers may have Template or PDF. This partner does not have a standard template.",
        ),
    ),
    supports=(
        Support(
            FEATURE,
            "Expire Bill for Payment",
            SUPPORTED,
            "Via the .SPF payment expiration file from FlexiBill (PaymentExpirationDate = column 3 - 1 "
            "day, PaymentExpirationMessage = column 4).",
        ),
        Support(
            FEATURE,
            "Paperless",
            SUPPORTED,
            "Paperless changes are exported in the paperless change log file.",
        ),
    ),
    bif_customizations={
        "AllowPartialPayments": _QUESTIONNAIRE,
        "AutoPayCollectionDate": _QUESTIONNAIRE,
        "BalanceForward": _QUESTIONNAIRE,
        "FirstNotifyRequestedDate": _QUESTIONNAIRE,
        "InvoiceFormatGuid": _QUESTIONNAIRE,
        "SecondNotifyRequestedDate": _QUESTIONNAIRE,
        "ThirdNotifyRequestedDate": _QUESTIONNAIRE,
    },
    required_settings=(),
)
