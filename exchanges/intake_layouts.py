"""Each partner's file layouts as data (for ``manage.py layout`` and docs), read from the parsers' tables.

``partner_layout(code)`` returns {record type: [field, ...]}: per record type, each field in file
order with where it sits (``column``; ``start``/``end``/``width`` for fixed width; ``path`` for
XML) and ``bif_field``, the BIF field(s) it maps to ("" when it is read but not loaded directly).
"""
from __future__ import annotations

from typing import Any

from partners.aus.invoices import DEFAULT_MAPPING
from partners.bif import ColumnMap
from partners.bif_fields import layout as bif_layout
from partners.cayenta.invoices import BILL_FIELDS, LINE_FIELDS, LINE_PATH, ROOT
from partners.flexibill.balances import BAF_COLUMNS, SPF_COLUMNS
from partners.flexibill.layout import DETAIL, HDR, HDR_RULES, Field, positions

Layout = dict[str, list[dict[str, Any]]]


def _bif() -> Layout:
    return {row_type: [{"name": name, "column": i, "bif_field": name} for i, name in enumerate(names, 1)]
            for row_type, names in bif_layout().items()}


def _fixed(fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    return [{"name": f.name, "start": start, "end": end, "width": f.width, "bif_field": ", ".join(f.maps_to),
             **({"note": f.note} if f.note else {})} for f, start, end in positions(fields)]


def _flexibill() -> Layout:
    rules = [{"name": r.bif_field, "row_type": r.row_type, "bif_field": r.bif_field,
              "from": ", ".join(r.inputs), "rule": (r.derive.__doc__ or "").strip()} for r in HDR_RULES]
    baf = [{"name": name, "column": i, "bif_field": name} for i, name in enumerate(BAF_COLUMNS, 1)]
    spf = [{"name": name, "column": i, "bif_field": name} for i, name in enumerate(SPF_COLUMNS, 1)]
    spf[1]["note"] = "InvoiceNumber = column 1 + column 2"
    spf[2]["note"] = "PaymentExpirationDate = this date minus one day"
    return {"HDR": _fixed(HDR), "D": _fixed(DETAIL), "HDR derived": rules, "BAF": baf, "SPF": spf}


def _aus(mapping: tuple[ColumnMap, ...] | None = None) -> Layout:
    rows = mapping or DEFAULT_MAPPING
    return {"TXT": [{"name": f"column {m.column}", "column": m.column, "row_type": m.row_type,
                     "bif_field": m.bif_field} for m in rows]}


def _cayenta() -> Layout:
    return {
        ROOT: [{"name": "biller", "path": "@biller", "bif_field": "", "note": "must be the biller's BID"},
               {"name": "count", "path": "@count", "bif_field": "InvoiceCount"},
               {"name": "total", "path": "@total", "bif_field": "TotalInvoiceAmount"}],
        "bill": [{"name": f.path, "path": f.path, "row_type": f.row_type, "bif_field": f.bif_field}
                 for f in BILL_FIELDS],
        LINE_PATH: [{"name": f.path, "path": f"{LINE_PATH}/{f.path}", "row_type": f.row_type,
                     "bif_field": f.bif_field} for f in LINE_FIELDS],
    }


LAYOUTS = {"daffron": _bif, "inhance": _bif, "flexibill": _flexibill, "aus": _aus, "cayenta": _cayenta}


def partner_layout(code: str, *, mapping: tuple[ColumnMap, ...] | None = None) -> Layout:
    """Return the partner's layouts; KeyError naming the known partner codes for an unknown one.

    ``mapping`` (AUS only) shows a biller's own column table instead of the shipped default.
    """
    if code not in LAYOUTS:
        raise KeyError(f"unknown partner {code!r}; known: {', '.join(sorted(LAYOUTS))}")
    return _aus(mapping) if code == "aus" else LAYOUTS[code]()
