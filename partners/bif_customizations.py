"""BIF customization definitions: every customization the seeds name, with what it controls.

Per-partner notes (Required, In BIF, Biller Questionnaire, N/A ...) live in each partner's
``Capabilities.bif_customizations``.
"""
from __future__ import annotations

BIF_CUSTOMIZATIONS: tuple[tuple[str, str], ...] = (
    ("AchServiceFee", "The service (convenience) fee charged to payers on ACH payments."),
    ("AllowPartialPayments", "Whether payers may pay less than the full amount due (Partial Payments)."),
    ("AutoPayCollectionDate",
     "When autopay collects an invoice relative to its due date (AutoPay Collection Date)."),
    ("BalanceForward", "Balance forward billing: each new invoice carries the account's whole balance and "
     "replaces the earlier open invoices (instead of open item billing)."),
    ("CreditCardServiceFee", "The service (convenience) fee charged to payers on credit card payments."),
    ("FirstNotifyRequestedDate",
     "When the first bill notification e-mail is sent (Email Notification Schedule)."),
    ("InvoiceDate", "How the invoice date of loaded invoices is set when not taken as sent in the file."),
    ("InvoiceDueDate", "How the due date of loaded invoices is set when not taken as sent in the file."),
    ("InvoiceFormatGuid", "The bill presentment format (template, PDF extraction or remote PDF link) used to "
     "show invoice images, identified by GUID."),
    ("InvoiceTypeID",
     "The invoice type assigned to loaded invoices (e.g. utility bill, past due, donation)."),
    ("LateFeeDate", "The date after which a late fee applies, shown to payers."),
    ("LocationReference", "Which invoice value identifies the service location shown to payers."),
    ("MinimumAmountDue", "The minimum amount a payer must pay on an invoice (Minimum Payment)."),
    ("PaymentExpirationDate",
     "The date after which an invoice can no longer be paid (Expire Bill for Payment)."),
    ("PaymentExpirationMessage", "The message payers see once an invoice has expired for payment."),
    ("PromptPayExpirationDate", "The last date a prompt-payment discount applies."),
    ("RegistrationValue", "Which invoice value a payer must enter to register an account."),
    ("SecondNotifyRequestedDate",
     "When the second bill notification e-mail is sent (Email Notification Schedule)."),
    ("ThirdNotifyRequestedDate",
     "When the third bill notification e-mail is sent (Email Notification Schedule)."),
)
