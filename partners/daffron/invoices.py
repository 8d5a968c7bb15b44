"""Daffron / Milsoft invoice files: Daffron sends our canonical pipe BIF, named ``BID_MMDDYYYY``.

The name may carry a prefix and an extension (``daffron_2778_11202026.BIF``); the BID is the number
before the ``_MMDDYYYY`` that ends the stem and must be the biller's. Daffron fills (seed's mapping):
InvoiceNumber (max bill control number), Custom2 base account, Custom3 sub account, Custom4
location, Custom9 bill control number, Custom10 ``Base-BillControl``, PastDue; CR AccountNumber
(``MSACCT-MSUB``), name, address, phone, email, BlockPaymentsCC, DisplayAccountNumber.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from partners.bif import BifRecord, ColumnMap, check_file_name, reject, utf8_text
from partners.bif_reader import FilePart, read_bif

_NAME = re.compile(
    r"(?:^|_)(?P<bid>\d+)_(?P<mm>\d\d)(?P<dd>\d\d)(?P<yyyy>\d{4})(?:\.[A-Za-z0-9]+)?$", re.ASCII
)
CONVENTION = "BID_MMDDYYYY"


def parse(
    stream: BinaryIO,
    *,
    file_name: str,
    bid: int,
    kind: str = "invoices",
    mapping: Sequence[ColumnMap] | None = None,
    part: FilePart | None = None,
) -> Iterator[BifRecord]:
    """Yield a BifInvoice or InvalidInvoice per invoice of a Daffron BIF file, streaming.

    Lazy like every parser: nothing is checked before the first ``next()``. Only
    ``kind="invoices"`` exists (ValueError otherwise); ``mapping`` is not used. Raises
    FileRejected when the name is off ``BID_MMDDYYYY`` or names another BID, and for every
    file-level problem ``read_bif`` finds (see there). ``part``: the stream is that slice of the
    file (``read_bif``).
    """
    if kind != "invoices":
        raise ValueError(f"Daffron sends only invoice files, not {kind!r}")
    match = check_file_name(file_name, _NAME, bid, CONVENTION)
    assert match is not None
    month, day = int(match.group("mm")), int(match.group("dd"))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise reject(
            0, "file_name", file_name, f"MMDDYYYY in the name is not a date ({CONVENTION})", file_name
        )
    with utf8_text(stream) as lines:  # read_bif checks the UTF-8 of every line itself
        yield from read_bif(lines, file_name=file_name, part=part)
