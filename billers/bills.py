"""View a bill: how each invoice's bill is served, chosen by the biller's setup and partner.

``bill_for(invoice)`` returns a :class:`BillResult`: a URL to redirect to (Daffron PDF link, or to
proxy when the biller says so), PDF bytes (AUS ``RetrieveBillPrintImageV2``, Cayenta
``Get_StmntPdf``), or a file (an extracted PDF, a rendered template). When there is no bill to show
it raises :class:`BillUnavailable` with the HTTP status the page should carry: 404 when the bill
does not exist, 503 when the biller's setup is incomplete, 502 when the partner failed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import TemplateDoesNotExist

from billers.bill_models import BillerBillSetup, BillMode, ExtractedBill, LinkDelivery
from billers.bill_render import bill_render, rendered_path
from billers.models import Biller, Invoice
from billers.selectors import setting_values
from partners.aus import bill_image as aus_bill_image
from partners.base import PartnerError
from partners.bill_image import BillImage, BillImageMissing, is_pdf
from partners.cayenta import bill_image as cayenta_bill_image
from partners.daffron.bill_link import LinkInvoice, build_link
from partners.soap import SoapError

logger = logging.getLogger(__name__)

#: (connect, read) seconds for partner PDF services.
TIMEOUT: tuple[float, float] = (3.0, 15.0)
PROXY_CHUNK = 64 * 1024

#: Partner -> the bill modes its integration supports, the default first (seeds' "Bill Images" rows:
#: AUS and Cayenta link or extraction, template not supported; Daffron PDF linking; inHance and
#: FlexiBill templates, or PDFs their print vendor delivers).
PARTNER_MODES: dict[str, tuple[str, ...]] = {
    "aus": (BillMode.LINK, BillMode.EXTRACTION),
    "cayenta": (BillMode.LINK, BillMode.EXTRACTION),
    "daffron": (BillMode.LINK,),
    "inhance": (BillMode.TEMPLATE, BillMode.EXTRACTION),
    "flexibill": (BillMode.TEMPLATE, BillMode.EXTRACTION),
}


class BillUnavailable(Exception):
    """No bill can be shown; ``status`` is the HTTP status of the page that says why."""

    def __init__(self, message: str, *, status: int = 404) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class BillResult:
    """How to answer "view bill": exactly one of ``url``, ``content`` or ``path`` is set."""

    invoice_number: str
    bid: int
    mode: str
    source: str
    url: str = ""
    proxy: bool = False  # with url: fetch it and stream the PDF instead of redirecting
    content: bytes | None = None
    path: Path | None = None
    content_type: str = "application/pdf"

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.invoice_number)
        return f"bill-{self.bid}-{safe}.pdf"


def partner_modes(partner_code: str) -> tuple[str, ...]:
    """Return the bill modes partner ``partner_code`` supports, its default first (() if unknown)."""
    return tuple(str(m) for m in PARTNER_MODES.get(partner_code, ()))


def default_bill_setup(biller: Biller) -> BillerBillSetup:
    """Return the unsaved setup of a biller without one: its partner's first mode, redirect links."""
    modes = partner_modes(biller.partner.code)
    return BillerBillSetup(biller=biller, mode=modes[0] if modes else BillMode.EXTRACTION)


def bill_setup_for(biller: Biller) -> BillerBillSetup:
    """Return the biller's bill setup, or :func:`default_bill_setup`."""
    setup = BillerBillSetup.objects.filter(biller=biller).select_related("template").first()
    return setup if setup is not None else default_bill_setup(biller)


# --- the three modes ----------------------------------------------------------------------------


def _daffron_link(invoice: Invoice, setup: BillerBillSetup, timeout: tuple[float, float]) -> BillResult:
    link = LinkInvoice(
        invoice_number=invoice.invoice_number,
        custom2=invoice.custom(2),
        custom3=invoice.custom(3),
        custom9=invoice.custom(9),
        custom10=invoice.custom(10),
        invoice_date=invoice.invoice_date,
    )
    url = build_link(setting_values(invoice.biller), link)
    return BillResult(
        invoice.invoice_number,
        invoice.biller.bid,
        BillMode.LINK,
        "daffron PDF link",
        url=url,
        proxy=setup.link_delivery == LinkDelivery.PROXY,
    )


def _soap_fetch(fetch: Callable[..., BillImage]) -> Callable[[Invoice, BillerBillSetup, tuple[float, float]], BillResult]:
    def handler(invoice: Invoice, setup: BillerBillSetup, timeout: tuple[float, float]) -> BillResult:
        image = fetch(
            setting_values(invoice.biller),
            account_number=invoice.account.account_number,
            invoice_number=invoice.invoice_number,
            bill_date=invoice.invoice_date,
            endpoint=setup.service_url,
            timeout=timeout,
        )
        logger.info("bill %s/%s fetched by %s in %.0f ms", invoice.biller.bid, invoice.invoice_number,
                    image.source, image.duration_ms)
        return BillResult(
            invoice.invoice_number, invoice.biller.bid, BillMode.LINK, image.source,
            content=image.content, content_type=image.content_type,
        )

    return handler


#: Link mode: partner code -> how its link is made.
LINKS: dict[str, Callable[[Invoice, BillerBillSetup, tuple[float, float]], BillResult]] = {
    "daffron": _daffron_link,
    "aus": _soap_fetch(aus_bill_image.fetch_bill_image),
    "cayenta": _soap_fetch(cayenta_bill_image.fetch_bill_image),
}


def _link(invoice: Invoice, setup: BillerBillSetup, timeout: tuple[float, float]) -> BillResult:
    handler = LINKS.get(invoice.biller.partner.code)
    if handler is None:
        raise BillUnavailable(
            f"{invoice.biller.partner.name} has no PDF link service; set the biller's bill mode to "
            "extraction or template.",
            status=503,
        )
    try:
        return handler(invoice, setup, timeout)
    except (BillImageMissing, SoapError) as exc:
        if exc.permanent:
            raise BillUnavailable(f"The partner has no bill image for this invoice: {exc}") from exc
        raise BillUnavailable(f"The partner's PDF service did not answer: {exc}", status=502) from exc
    except PartnerError as exc:
        status = 503 if exc.permanent else 502
        raise BillUnavailable(f"Bill images are not set up correctly for this biller: {exc}", status=status) from exc


def _extracted(invoice: Invoice, setup: BillerBillSetup, timeout: tuple[float, float]) -> BillResult:
    row = ExtractedBill.objects.filter(biller_id=invoice.biller_id, invoice_number=invoice.invoice_number).first()
    if row is None:
        raise BillUnavailable(f"No PDF was delivered for invoice {invoice.invoice_number}.")
    path = Path(settings.DATA_DIR) / row.path
    if not path.is_file():
        logger.error("extracted bill %s is recorded but its file %s is missing", row.pk, path)
        raise BillUnavailable(f"The PDF of invoice {invoice.invoice_number} is missing from storage.")
    return BillResult(invoice.invoice_number, invoice.biller.bid, BillMode.EXTRACTION, row.source, path=path)


def _template(invoice: Invoice, setup: BillerBillSetup, timeout: tuple[float, float]) -> BillResult:
    try:
        row = bill_render(invoice=invoice)
    except (TemplateDoesNotExist, ValidationError) as exc:
        raise BillUnavailable(f"The bill template of this biller cannot be used: {exc}", status=503) from exc
    source = f"template {row.template_path} v{row.template_version}"
    return BillResult(invoice.invoice_number, invoice.biller.bid, BillMode.TEMPLATE, source, path=rendered_path(row))


MODES: dict[str, Callable[[Invoice, BillerBillSetup, tuple[float, float]], BillResult]] = {
    BillMode.LINK: _link,
    BillMode.EXTRACTION: _extracted,
    BillMode.TEMPLATE: _template,
}


def bill_for(invoice: Invoice, *, timeout: tuple[float, float] = TIMEOUT) -> BillResult:
    """Return how to show ``invoice``'s bill, following its biller's setup.

    Raises :class:`BillUnavailable` (404 no such bill, 502 partner failure, 503 incomplete setup).
    """
    setup = bill_setup_for(invoice.biller)
    return MODES[setup.mode](invoice, setup, timeout)


# --- proxying a linked PDF (the HTTP seam) ------------------------------------------------------


def proxy_stream(url: str, *, timeout: tuple[float, float] = TIMEOUT) -> Iterator[bytes]:
    """Fetch the PDF at ``url`` and return an iterator over its bytes (the first chunk already read).

    Raises :class:`BillUnavailable`: 404 when the partner answers 404/410, 502 for other failures
    or when the answer is not a PDF. The connection is closed when the iterator is exhausted.
    """
    try:
        response = requests.get(url, stream=True, timeout=timeout, allow_redirects=True)
    except requests.RequestException as exc:
        raise BillUnavailable(f"The partner's PDF service did not answer: {exc}", status=502) from exc
    if response.status_code in (404, 410):
        response.close()
        raise BillUnavailable("The partner's PDF service has no bill for this invoice (HTTP "
                              f"{response.status_code}).")
    if response.status_code != 200:
        response.close()
        raise BillUnavailable(f"The partner's PDF service answered HTTP {response.status_code}.", status=502)
    chunks = response.iter_content(PROXY_CHUNK)
    try:
        first = next(chunks, b"")
    except requests.RequestException as exc:
        response.close()
        raise BillUnavailable(f"The partner's PDF service broke off: {exc}", status=502) from exc
    if not is_pdf(first):
        response.close()
        raise BillUnavailable("The partner's PDF service did not return a PDF.", status=502)

    def stream() -> Iterator[bytes]:
        try:
            yield first
            yield from chunks
        finally:
            response.close()

    return stream()
