"""Admin of bill images (imported by the app's admin module): setups, templates, PDFs, jobs, "view bill".

Biller-owned rows use BillerScopedAdmin so biller staff see only their biller. Extracted and
rendered PDFs and jobs are written by the services, never edited by hand (read-only here).
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from billers.bill_models import (
    BillerBillSetup,
    BillJob,
    BillTemplate,
    ExtractedBill,
    InvoiceBill,
    RenderedBill,
)
from billers.bill_views import bill_response
from billers.bills import default_bill_setup
from billers.scoping import BillerScopedAdmin


def view_bill_link(invoice_id: int | None) -> str:
    if invoice_id is None:
        return "-"
    return format_html('<a href="{}" target="_blank">view bill</a>', reverse("bills:invoice", args=[invoice_id]))


class ReadOnlyAdmin(BillerScopedAdmin):
    """Rows written by the bill services: visible and searchable, not editable."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BillTemplate)
class BillTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "invoice_format_guid", "path", "version", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name", "invoice_format_guid", "path", "description"]


@admin.register(BillerBillSetup)
class BillerBillSetupAdmin(BillerScopedAdmin):
    list_display = ["biller", "partner", "mode", "link_delivery", "template", "service_url", "updated_at"]
    list_filter = ["mode", "link_delivery", "biller__partner"]
    search_fields = ["=biller__bid", "biller__name", "service_url", "template__name"]
    list_select_related = ["biller__partner", "template"]
    raw_id_fields = ["biller"]

    @admin.display(description="partner", ordering="biller__partner__name")
    def partner(self, obj: BillerBillSetup) -> str:
        return str(obj.biller.partner)


@admin.register(ExtractedBill)
class ExtractedBillAdmin(ReadOnlyAdmin):
    list_display = ["invoice_number", "biller", "size", "source", "updated_at", "view_bill"]
    list_filter = ["biller__partner"]
    search_fields = ["invoice_number", "=biller__bid", "biller__name", "source", "sha256"]
    list_select_related = ["biller"]
    raw_id_fields = ["biller", "invoice"]

    @admin.display(description="bill")
    def view_bill(self, obj: ExtractedBill) -> str:
        return view_bill_link(obj.invoice_id)


@admin.register(RenderedBill)
class RenderedBillAdmin(ReadOnlyAdmin):
    biller_path = "invoice__biller"
    list_display = ["invoice", "biller", "template_path", "template_version", "size", "render_ms", "rendered_at",
                    "view_bill"]
    list_filter = ["template_path", "invoice__biller__partner"]
    search_fields = ["invoice__invoice_number", "=invoice__biller__bid", "invoice__biller__name", "template_path",
                     "sha256"]
    list_select_related = ["invoice__biller"]
    raw_id_fields = ["invoice", "template"]

    @admin.display(description="biller", ordering="invoice__biller__bid")
    def biller(self, obj: RenderedBill) -> str:
        return str(obj.invoice.biller)

    @admin.display(description="bill")
    def view_bill(self, obj: RenderedBill) -> str:
        return view_bill_link(obj.invoice_id)


@admin.register(BillJob)
class BillJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "biller", "kind", "status", "progress", "message", "started_at", "finished_at"]
    list_filter = ["kind", "status", "biller__partner"]
    search_fields = ["=biller__bid", "biller__name", "source", "message"]
    list_select_related = ["biller"]

    @admin.display(description="progress")
    def progress(self, obj: BillJob) -> str:
        total = "?" if obj.progress_total is None else obj.progress_total
        return f"{obj.progress_done} / {total}"


@admin.register(InvoiceBill)
class InvoiceBillAdmin(ReadOnlyAdmin):
    """Every invoice with how its bill is served and a "view bill" link (also at ``<id>/bill/``)."""

    list_display = ["invoice_number", "account", "biller", "invoice_date", "total_amount_due", "bill_mode",
                    "view_bill"]
    list_filter = ["biller__partner", "invoice_date"]
    search_fields = ["invoice_number", "account__account_number", "account__name", "=biller__bid"]
    list_select_related = ["biller__partner", "biller__bill_setup", "account"]
    fields = ["biller", "account", "invoice_number", "invoice_date", "due_date", "total_amount_due",
              "invoice_format_guid"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="bill mode")
    def bill_mode(self, obj: InvoiceBill) -> str:
        try:
            setup = obj.biller.bill_setup
        except BillerBillSetup.DoesNotExist:
            setup = default_bill_setup(obj.biller)
        return setup.get_mode_display()

    @admin.display(description="bill")
    def view_bill(self, obj: InvoiceBill) -> str:
        return format_html(
            '<a href="{}" target="_blank">view bill</a>',
            reverse("admin:billers_invoicebill_bill", args=[obj.pk]),
        )

    def get_urls(self) -> list[Any]:
        extra = [
            path("<path:object_id>/bill/", self.admin_site.admin_view(self.bill_view),
                 name="billers_invoicebill_bill"),
        ]
        return extra + super().get_urls()

    def bill_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The invoice's bill, for users who may view this invoice in admin (scoped to their biller)."""
        if not self.has_view_permission(request):
            raise Http404("no such invoice")
        invoice = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        if invoice is None:
            raise Http404("no such invoice")
        return bill_response(request, invoice)
