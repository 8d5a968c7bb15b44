"""A biller's own column mapping for delimited invoice files (AUS): services over InvoiceColumnMapping."""
from __future__ import annotations

from django.db import transaction

from billers.models import Biller
from exchanges.intake_models import InvoiceColumnMapping
from partners.aus.invoices import DEFAULT_MAPPING, validate_mapping
from partners.bif import ColumnMap


@transaction.atomic
def mapping_reset(*, biller: Biller) -> int:
    """Replace the biller's column table with the shipped AUS default; return the rows written."""
    InvoiceColumnMapping.objects.filter(biller=biller).delete()
    InvoiceColumnMapping.objects.bulk_create(
        InvoiceColumnMapping(biller=biller, column=m.column, bif_field=m.bif_field, row_type=m.row_type)
        for m in DEFAULT_MAPPING)
    return len(DEFAULT_MAPPING)


def mapping_of(biller: Biller) -> tuple[ColumnMap, ...] | None:
    """Return the biller's own column table, or None when it has none (the parser's default applies).

    Raises ValueError (naming the problem) when the table repeats a column or field or names an
    unknown BIF field.
    """
    rows = InvoiceColumnMapping.objects.filter(biller=biller).order_by("column")
    mapping = tuple(ColumnMap(r.column, r.bif_field, r.row_type) for r in rows)
    if not mapping:
        return None
    validate_mapping(mapping)
    return mapping
