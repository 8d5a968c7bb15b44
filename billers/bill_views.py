"""View a bill: ``/bills/invoice/<id>/`` and ``/bills/<BID>/<invoice number>/`` (login required).

Superusers and implementation managers (staff without a biller scope) see every biller's bills;
biller staff only their biller's. The answer is a redirect, a streamed or proxied PDF, or a clear
page saying why there is no bill (404, 502 or 503), never a server error for a missing PDF.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from billers.bills import BillResult, BillUnavailable, bill_for, proxy_stream
from billers.models import Invoice
from billers.scoping import scoped_biller_ids

LOGIN_URL = "admin:login"


def visible_invoices(user: Any) -> Any:
    """Return the invoices ``user`` may view bills of; PermissionDenied for users without access."""
    if not user.is_superuser and not user.has_perm("billers.view_invoice"):
        raise PermissionDenied("You may not view bills.")
    ids = scoped_biller_ids(user)
    qs = Invoice.objects.select_related("biller__partner", "account")
    if ids is not None:
        return qs.filter(biller_id__in=ids)
    if not (user.is_superuser or user.is_staff):
        raise PermissionDenied("You may not view bills.")
    return qs


def unavailable_page(request: HttpRequest, message: str, *, status: int, invoice: Invoice | None = None) -> HttpResponse:
    """Return the "no bill to show" page with ``status``."""
    titles = {404: "Bill not found", 502: "Bill service unavailable", 503: "Bill images not set up"}
    context = {"title": titles.get(status, "Bill unavailable"), "message": message, "invoice": invoice,
               "status": status}
    return render(request, "billers/bill_unavailable.html", context, status=status)


def _pdf_response(result: BillResult) -> HttpResponse:
    if result.url and not result.proxy:
        return HttpResponseRedirect(result.url)
    response: HttpResponse
    if result.url:
        response = StreamingHttpResponse(proxy_stream(result.url), content_type=result.content_type)
        response["Content-Disposition"] = f'inline; filename="{result.filename}"'
    elif result.content is not None:
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'inline; filename="{result.filename}"'
    else:
        assert result.path is not None
        response = FileResponse(result.path.open("rb"), content_type=result.content_type, filename=result.filename)
    # Names come from partner deliveries: keep the header printable (no newlines) and short.
    response["X-Bill-Source"] = "".join(c for c in result.source if c.isprintable())[:200]
    return response


def bill_response(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """Return the bill of ``invoice`` as its biller's setup says, or the unavailable page."""
    try:
        response = _pdf_response(bill_for(invoice))
    except BillUnavailable as exc:
        response = unavailable_page(request, exc.message, status=exc.status, invoice=invoice)
    patch_cache_control(response, private=True, no_store=True)  # bills carry personal data
    return response


@login_required(login_url=LOGIN_URL)
def invoice_bill(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The bill of invoice ``invoice_id``."""
    invoice = visible_invoices(request.user).filter(pk=invoice_id).first()
    if invoice is None:
        return unavailable_page(request, f"There is no invoice {invoice_id} you may see.", status=404)
    return bill_response(request, invoice)


@login_required(login_url=LOGIN_URL)
def biller_invoice_bill(request: HttpRequest, bid: int, invoice_number: str) -> HttpResponse:
    """The bill of invoice ``invoice_number`` of biller ``bid``."""
    invoice = visible_invoices(request.user).filter(biller__bid=bid, invoice_number=invoice_number).first()
    if invoice is None:
        return unavailable_page(request, f"Biller {bid} has no invoice {invoice_number} you may see.", status=404)
    return bill_response(request, invoice)
