"""Advanced setting definitions: every setting number the seeds name, its value kind and help text.

``unique_per_biller`` follows the Daffron settings table ("Is Value Unique Per Biller? (Y/N)"); for
numbers outside that table it is a judgment, said so in the help text. Credentials are never copied.
"""
from __future__ import annotations

from dataclasses import dataclass

TEXT, INT, BOOL, URL, SECRET, JSON, CODE_LIST = "text", "int", "bool", "url", "secret", "json", "code_list"
KINDS: tuple[str, ...] = (TEXT, INT, BOOL, URL, SECRET, JSON, CODE_LIST)


@dataclass(frozen=True)
class SettingDefinition:
    number: int
    name: str
    kind: str
    unique_per_biller: bool
    help_text: str
    partners: tuple[str, ...]


#: RTDR (8-10) and data pump endpoints (11-19) are used by every partner we call over SOAP.
_SOAP_PARTNERS = ("aus", "cayenta", "daffron")
_D = ("daffron",)
_ENDPOINT_EXAMPLE = "Ex. https://cis.partner.example:8083/tbx-daily/services/CB (MultiSpeak CB service)."
_USERNAME = "Ex. InvoiceCloud. Same for every biller of the partner."
_SECRET = "Stored encrypted and never shown back in full. Same for every biller of the partner."
_JUDGMENT = "Not in the Daffron settings table: unique-per-biller is a judgment."

DEFINITIONS: tuple[SettingDefinition, ...] = (
    SettingDefinition(3, "SSO Customer Login URL", URL, True, "Usually the biller's home URL.", _D),
    SettingDefinition(
        6,
        "Customer Portal - Suppress Change Email",
        BOOL,
        True,
        "0 or 1 (defaults to 0 if not set). 1 stops payers changing their e-mail address in the customer "
        "portal. (The seed spells it 'Supress'.)",
        _D,
    ),
    SettingDefinition(8, "RTDR EndPoint/Webservice URL", URL, True, _ENDPOINT_EXAMPLE, _SOAP_PARTNERS),
    SettingDefinition(9, "RTDR Username if Applicable", TEXT, False, _USERNAME, _SOAP_PARTNERS),
    SettingDefinition(10, "RTDR Key or Password if Applicable", SECRET, False, _SECRET, _SOAP_PARTNERS),
    SettingDefinition(11, "DataPump Payments EndPoint/Webservice URL", URL, True, _ENDPOINT_EXAMPLE, _SOAP_PARTNERS),
    SettingDefinition(12, "DataPump Payments EndPoint/Webservice Username", TEXT, False, _USERNAME, _SOAP_PARTNERS),
    SettingDefinition(13, "DataPump Payments EndPoint/Webservice Password", SECRET, False, _SECRET, _SOAP_PARTNERS),
    SettingDefinition(14, "DataPump Paperless EndPoint/Webservice URL", URL, True, _ENDPOINT_EXAMPLE, _SOAP_PARTNERS),
    SettingDefinition(15, "DataPump Paperless EndPoint/Webservice Username", TEXT, False, _USERNAME, _SOAP_PARTNERS),
    SettingDefinition(16, "DataPump Paperless EndPoint/Webservice Password", SECRET, False, _SECRET, _SOAP_PARTNERS),
    SettingDefinition(17, "DataPump Autopay EndPoint/Webservice URL", URL, True, _ENDPOINT_EXAMPLE, _SOAP_PARTNERS),
    SettingDefinition(18, "DataPump Autopay EndPoint/Webservice Username", TEXT, False, _USERNAME, _SOAP_PARTNERS),
    SettingDefinition(19, "DataPump Autopay EndPoint/Webservice Password", SECRET, False, _SECRET, _SOAP_PARTNERS),
    SettingDefinition(
        20,
        "Remote PDF EndPoint/Webservice URL",
        URL,
        True,
        "Base URL of the remote PDF (bill image) service, e.g. https://cis.partner.example:8086/eprint/. "
        "The query string depends on setting 119.",
        _D,
    ),
    SettingDefinition(
        28,
        "Cayenta Customer Block EFT Indicator",
        JSON,
        True,
        "The Customer Block EFT Indicator codes Cayenta provides for this biller (unique to each biller), "
        "grouped by the block they cause: "
        '{"block_ach": ["<code>", ...], "block_cc": ["<code>", ...], "cash_only": ["<code>", ...]}. '
        "An account whose indicator is in block_ach gets block ACH, in block_cc block CC, in cash_only "
        "both. Read from GetAccountBalance (RTDR).",
        ("cayenta",),
    ),
    SettingDefinition(
        32,
        "Customer Profile - Set Block ACH/CC as ReadOnly",
        BOOL,
        False,
        "1 = the block ACH/CC flags cannot be set in IC by a biller portal user and are only updated via "
        "RTDR (or the invoice file). Value 1 for every biller that has it.",
        ("aus", "cayenta", "daffron"),
    ),
    SettingDefinition(
        35,
        "Service Version",
        INT,
        True,
        "1 or 2 (defaults to 1 if not set). Format of CommitPaymentTransaction amounts ('ServiceVersion2', "
        "INT-2321): 1 sends the shortest decimal (232.1), 2 sends exactly two decimals (232.10).",
        _D,
    ),
    SettingDefinition(
        64,
        "DataPump Payments CC Code",
        CODE_LIST,
        True,
        "paymentMode sent for card payments, per payment source: <paymentSourceID>(<code>), pipe "
        "delimited, e.g. 0(WEB)|2(CSRWEB)|8(POS). Sources not listed send WEB.",
        _D,
    ),
    SettingDefinition(
        65,
        "DataPump Payments ACH Code",
        CODE_LIST,
        True,
        "paymentMode sent for ACH payments, per payment source: <paymentSourceID>(<code>), pipe "
        "delimited, e.g. 0(WEB)|2(CSRWEB)|8(POS). Sources not listed send WEB; Online Bank Direct sends OBD.",
        _D,
    ),
    SettingDefinition(
        75,
        "Account Linking by Customer Number",
        BOOL,
        False,
        "1 = link together any customer accounts that have the same customer number (AUS account "
        "linking; with 76 too, accounts with the same e-mail address, password and customer number are "
        "linked). " + _JUDGMENT + " A flag, not biller-specific data.",
        ("aus",),
    ),
    SettingDefinition(
        76,
        "Account Linking by Email Address",
        BOOL,
        False,
        "1 = link together any customer accounts that have a common e-mail address (AUS account linking; "
        "applies to Non-SSO and SSO). " + _JUDGMENT + " A flag, not biller-specific data.",
        ("aus",),
    ),
    SettingDefinition(
        107,
        "Past Due Field Name",
        TEXT,
        False,
        "Name of the past-due amount field, e.g. PASTDUE_AMT (Cayenta past due payments; descriptor for "
        "value 30 in Invoice Types - Past Due). " + _JUDGMENT + " The seed gives one value for all billers.",
        ("cayenta",),
    ),
    SettingDefinition(
        114,
        "Pump Credits",
        BOOL,
        False,
        "1 = credits are pumped to Cayenta (AddARItem) as transaction type 6 - credit. Without it credits "
        "are not pumped. " + _JUDGMENT + " A flag, not biller-specific data.",
        ("cayenta",),
    ),
    SettingDefinition(
        119,
        "Remote PDF Service Version",
        INT,
        False,
        "1, 2, 3 or 4 (default 1). Daffron PDF link query: 1 PROCESSING_TYPE=HISTORY&ACCT={Custom2}"
        "&SUB={Custom3}; 2 adds BCTR={Custom10}; 3 adds LDMO={InvoiceDate YYYYMM}; 4 adds PRINT_FORM=TRUE. "
        "Custom9 containing INV or EBIL forces version 2.",
        _D,
    ),
    SettingDefinition(
        131,
        "JSON Configuration",
        JSON,
        True,
        "Per-biller JSON options. Examples from the seed: "
        '{"PdfConfig":{"BCTRModifier":"ValueAfterDash"}} (bill presentment sends only the part of Custom10 '
        'after the "-") and {"Daffron":{"DataPumpConfigs":{"SkipDonationTypes":true}}} (donation invoice '
        "types are not pumped; BID 2495). Its presence also makes the CommitPaymentTransaction "
        "transactionId extension carry the payment GUID instead of the approval code. The seed's table "
        "lists 131 twice (N and Y); Y is chosen because the content differs from biller to biller.",
        _D,
    ),
)
