"""Template filters of the bill templates (``{% load bill_format %}``)."""
from __future__ import annotations

from decimal import Decimal

from django import template

from billers.bill_render import decimal_or_none

register = template.Library()


@register.filter
def money(value: object) -> str:
    """``Decimal("1234.5")`` -> ``$1,234.50``; negative -> ``-$5.00``; blank or not a number -> ``""``."""
    number = value if isinstance(value, Decimal) else decimal_or_none(value)
    if number is None:
        return ""
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}"


@register.filter
def number(value: object) -> str:
    """``"4500"`` -> ``4,500``; decimals kept as given; text that is not a number is returned as is."""
    parsed = value if isinstance(value, Decimal) else decimal_or_none(value)
    if parsed is None:
        return str(value or "")
    return f"{parsed:,}" if parsed == parsed.to_integral_value() else f"{parsed:,f}"
