"""Reads of invoice intake shared by commands, admin and the API."""
from __future__ import annotations

from typing import Any

from billers.models import Invoice
from partners.bif import IH_FIELDS, format_date


def _ordered(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``values`` with non-empty BIF fields in BIF column order, then any other key (customizations)."""
    known = set(names)
    out = {name: values[name] for name in names if values.get(name) not in (None, "")}
    out.update((k, v) for k, v in values.items() if k not in known and v not in (None, ""))
    return out


def invoice_as_bif(invoice: Invoice) -> dict[str, Any]:
    """Return a stored invoice keyed by BIF field names: header fields, "customer" and "details".

    Header values are as loaded (BIF text), except those later files change on the row: BalanceDue
    (.BAF) and PaymentExpirationDate/Message (.SPF, customizations) show the stored value.
    """
    header = dict(invoice.header or {})
    if invoice.balance_due is not None:
        header["BalanceDue"] = f"{invoice.balance_due:.2f}"
    if invoice.payment_expiration_date:
        header["PaymentExpirationDate"] = format_date(invoice.payment_expiration_date)
    if invoice.payment_expiration_message:
        header["PaymentExpirationMessage"] = invoice.payment_expiration_message
    result = _ordered(header, IH_FIELDS)
    result["customer"] = invoice.customer_fields
    result["details"] = invoice.detail_fields
    return result
