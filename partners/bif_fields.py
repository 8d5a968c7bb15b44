"""The BIF field catalogue: every canonical BIF field with its FileSpecID and row type.

Drawn from the Daffron and FlexiBill mapping tables in the seeds (AUS adds 357). Rows are kept in
the seeds' order; BIF columns per row type are the fields in ascending FileSpecID, ties broken by
this order (the seeds number CustomField11..19 and CustomField20..28 both 208-216).
"""
from __future__ import annotations

from dataclasses import dataclass

FH, IH, CR, ID = "FH", "IH", "CR", "ID"
ROW_TYPES = (FH, IH, CR, ID)
ROW_TYPE_NAMES = {FH: "File Header", IH: "Invoice Header", CR: "Customer Record", ID: "Invoice Detail"}


@dataclass(frozen=True)
class BifField:
    file_spec_id: int
    name: str
    row_type: str
    note: str = ""


def _customs() -> list[BifField]:
    """Custom1..10 are 38-47; Custom11..60 are 94-143 (93 is BalanceDue)."""
    fields = [BifField(37 + n, f"Custom{n}", IH) for n in range(1, 11)]
    fields += [BifField(83 + n, f"Custom{n}", IH) for n in range(11, 61)]
    return fields


def _custom_fields() -> list[BifField]:
    """CustomField1..84 with the FileSpecIDs exactly as the FlexiBill seed numbers them."""
    ids = (
        list(range(83, 93))  # CustomField1..10
        + list(range(208, 217))  # CustomField11..19
        + list(range(208, 221))  # CustomField20..32 (the seed repeats 208-216)
        + list(range(230, 239))  # CustomField33..41
        + [239]  # CustomField42: absent from the seed, numbered in its gap
        + list(range(240, 248))  # CustomField43..50
        + list(range(255, 289))  # CustomField51..84
    )
    assert len(ids) == 84
    return [
        BifField(spec, f"CustomField{n}", ID, "FileSpecID inferred: not in the seeds" if n == 42 else "")
        for n, spec in enumerate(ids, start=1)
    ]


FIELDS: tuple[BifField, ...] = tuple(
    [
        BifField(1, "RowType", FH, "Always FH"),
        BifField(2, "BillerGuid", FH),
        BifField(4, "FileCreationDate", FH),
        BifField(5, "InvoiceCount", FH, "Must equal the invoices in the file"),
        BifField(6, "TotalInvoiceAmount", FH, "Must equal the sum of TotalAmountDue"),
        BifField(7, "RowType", IH, "Always IH"),
        BifField(8, "RecordType", IH, "N = new, R = replacement"),
        BifField(9, "InvoiceFormatGuid", IH),
        BifField(10, "InvoiceNumber", IH),
        BifField(11, "InvoiceDate", IH),
        BifField(12, "InvoiceDueDate", IH),
        BifField(13, "TotalAmountDue", IH),
        *_customs(),
        BifField(93, "BalanceDue", IH),
        BifField(249, "PromptPayDiscountAmount", IH),
        BifField(250, "PromptPayExpirationDate", IH),
        BifField(252, "InvoiceTypeID", IH),
        BifField(345, "BillerInstallmentNumber", IH),
        BifField(346, "BillerBillYear", IH),
        BifField(347, "BillerInvoiceNumber", IH),
        BifField(375, "Active", IH),
        BifField(407, "PastDue", IH),
        BifField(58, "RowType", CR, "Always CR"),
        BifField(59, "AccountNumber", CR),
        BifField(60, "CustomerName", CR),
        BifField(61, "Address1", CR),
        BifField(62, "Address2", CR),
        BifField(63, "City", CR),
        BifField(64, "State", CR),
        BifField(65, "Zip", CR),
        BifField(66, "Phone", CR),
        BifField(67, "EmailAddress", CR),
        BifField(356, "BlockPaymentsCC", CR),
        BifField(357, "BlockPaymentsACH", CR, "From the AUS seed (field 357)"),
        BifField(371, "CustomerName2", CR),
        BifField(373, "DisplayAccountNumber", CR),
        BifField(70, "RowType", ID, "Always ID"),
        *_custom_fields(),
    ]
)


def columns(row_type: str) -> list[str]:
    """Return the BIF column names of a row type, RowType first, in ascending FileSpecID."""
    ordered = sorted(
        (f for f in FIELDS if f.row_type == row_type),
        key=lambda f: (f.name != "RowType", f.file_spec_id, FIELDS.index(f)),
    )
    return [f.name for f in ordered]


def layout() -> dict[str, list[str]]:
    """Return {row type: column names} for every BIF row type."""
    return {rt: columns(rt) for rt in ROW_TYPES}
