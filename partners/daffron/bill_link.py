"""Daffron / Milsoft PDF linking: the remote bill URL for one invoice (pure: no database, no I/O).

The base URL is advanced setting 20 (e.g. ``https://cis.partner.example:8086/eprint/``); the query
depends on the version in setting 119 (default 1). Each version adds parameters to the previous
one (SPEC section 3, seed 003 "Bill Presentment"):

====  =====================================================================
 1    PROCESSING_TYPE=HISTORY & ACCT={Custom2} & SUB={Custom3}
 2    + BCTR={Custom10}
 3    + LDMO={InvoiceDate as YYYYMM}
 4    + PRINT_FORM=TRUE
====  =====================================================================

Rules beside the table: Custom9 containing ``INV`` or ``EBIL`` (any case) forces version 2 for that
invoice; setting 131 ``{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}}`` sends only the part of
Custom10 after its first ``-`` (the whole value when it has none).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode, urlsplit

from partners.base import PartnerError

SETTING_BASE_URL, SETTING_VERSION, SETTING_JSON = 20, 119, 131
DEFAULT_VERSION = 1
#: Custom9 values containing one of these force version 2 (invoice and e-bill control numbers).
FORCE_V2 = re.compile(r"INV|EBIL", re.IGNORECASE)
FORCED_VERSION = 2


@dataclass(frozen=True)
class LinkInvoice:
    """The invoice fields the link reads: BIF Custom2/3/9/10 and InvoiceDate."""

    invoice_number: str
    custom2: str
    custom3: str
    custom9: str
    custom10: str
    invoice_date: date


@dataclass(frozen=True)
class LinkOptions:
    """What setting 131 says about the link (only ``PdfConfig`` matters here)."""

    bctr_modifier: str = ""


# --- parameter values: one small named function each -------------------------------------------


def _acct(invoice: LinkInvoice, options: LinkOptions) -> str:
    if not invoice.custom2.strip():
        raise PartnerError(
            f"invoice {invoice.invoice_number}: Custom2 (account base number) is empty; "
            "the Daffron PDF link needs ACCT",
            permanent=True,
        )
    return invoice.custom2.strip()


def _sub(invoice: LinkInvoice, options: LinkOptions) -> str:
    return invoice.custom3.strip()


def _bctr(invoice: LinkInvoice, options: LinkOptions) -> str:
    return BCTR_MODIFIERS[options.bctr_modifier](invoice.custom10.strip())


def _ldmo(invoice: LinkInvoice, options: LinkOptions) -> str:
    return f"{invoice.invoice_date.year:04d}{invoice.invoice_date.month:02d}"


def _value_after_dash(value: str) -> str:
    """``1234-12345`` -> ``12345``; a value without a dash is sent whole."""
    return value.split("-", 1)[1] if "-" in value else value


#: Setting 131 ``PdfConfig.BCTRModifier`` -> how Custom10 becomes BCTR ("" = unchanged).
BCTR_MODIFIERS: dict[str, Callable[[str], str]] = {
    "": lambda value: value,
    "ValueAfterDash": _value_after_dash,
}


@dataclass(frozen=True)
class Param:
    """One query parameter: its name, the first version that sends it, how its value is made."""

    name: str
    since: int
    value: Callable[[LinkInvoice, LinkOptions], str]


#: The link's query parameters in the order they are sent; version N sends every ``since <= N``.
PARAMS: tuple[Param, ...] = (
    Param("PROCESSING_TYPE", 1, lambda invoice, options: "HISTORY"),
    Param("ACCT", 1, _acct),
    Param("SUB", 1, _sub),
    Param("BCTR", 2, _bctr),
    Param("LDMO", 3, _ldmo),
    Param("PRINT_FORM", 4, lambda invoice, options: "TRUE"),
)
VERSIONS: dict[int, tuple[str, ...]] = {
    version: tuple(p.name for p in PARAMS if p.since <= version) for version in (1, 2, 3, 4)
}


# --- settings -----------------------------------------------------------------------------------


def configured_version(value: str | None) -> int:
    """Return the version in setting 119 (1 when unset); PartnerError(permanent) if not 1-4."""
    text = str(value or "").strip()
    if not text:
        return DEFAULT_VERSION
    if not text.isdigit() or int(text) not in VERSIONS:
        raise PartnerError(
            f"advanced setting {SETTING_VERSION} (Remote PDF Service Version) is {text!r}; "
            f"expected one of {', '.join(str(v) for v in VERSIONS)}",
            permanent=True,
        )
    return int(text)


def effective_version(configured: int, custom9: str) -> int:
    """Return the version used for one invoice: Custom9 with INV or EBIL forces version 2."""
    return FORCED_VERSION if FORCE_V2.search(custom9 or "") else configured


def link_options(value: str | None) -> LinkOptions:
    """Read ``PdfConfig`` from setting 131's JSON (unset -> defaults).

    Raises PartnerError(permanent) when the JSON is invalid or names an unknown BCTRModifier.
    """
    text = str(value or "").strip()
    if not text:
        return LinkOptions()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PartnerError(
            f"advanced setting {SETTING_JSON} (JSON Configuration) is not valid JSON: {exc}", permanent=True
        ) from None
    pdf_config = data.get("PdfConfig") if isinstance(data, dict) else None
    if not isinstance(pdf_config, dict):
        return LinkOptions()
    modifier = str(pdf_config.get("BCTRModifier") or "")
    if modifier not in BCTR_MODIFIERS:
        known = ", ".join(m for m in BCTR_MODIFIERS if m)
        raise PartnerError(
            f"advanced setting {SETTING_JSON}: PdfConfig.BCTRModifier {modifier!r} is unknown; known: {known}",
            permanent=True,
        )
    return LinkOptions(bctr_modifier=modifier)


def _base_url(value: str | None) -> str:
    base = str(value or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PartnerError(
            f"advanced setting {SETTING_BASE_URL} (Remote PDF EndPoint) is {base!r}; an http(s) URL is needed",
            permanent=True,
        )
    return base


# --- the link -----------------------------------------------------------------------------------


def query_params(invoice: LinkInvoice, version: int, options: LinkOptions) -> list[tuple[str, str]]:
    """Return the (name, value) pairs version ``version`` sends for ``invoice``, in order."""
    return [(p.name, p.value(invoice, options)) for p in PARAMS if p.since <= version]


def build_link(settings: Mapping[int, str], invoice: LinkInvoice) -> str:
    """Return the remote PDF URL of ``invoice`` from settings 20, 119 and 131.

    Raises ``PartnerError(permanent=True)`` when setting 20 is missing or not an http(s) URL, 119 is
    not 1-4, 131 is invalid, or the invoice has no Custom2.
    """
    base = _base_url(settings.get(SETTING_BASE_URL))
    version = effective_version(configured_version(settings.get(SETTING_VERSION)), invoice.custom9)
    query = urlencode(query_params(invoice, version, link_options(settings.get(SETTING_JSON))))
    separator = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        separator = ""
    return f"{base}{separator}{query}"
