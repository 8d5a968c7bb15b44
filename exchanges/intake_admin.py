"""Admin of invoice intake: upload a file (run in the task cluster) and watch it, re-run failed imports,
correct and re-import quarantined records, edit a biller's column mapping (AUS)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billers.models import Biller
from billers.scoping import BillerScopedAdmin, scoped_biller_ids
from exchanges import intake
from exchanges.intake_models import InvoiceColumnMapping, InvoiceUpload, QuarantinedRecord, QuarantineStatus
from exchanges.models import ExchangeSource, ExchangeStatus
from exchanges.tasks import enqueue_import

BILLER_CHANGE_FORM = "admin/exchanges/biller_change_form.html"
MAX_SHOWN_ERRORS = 20


class UploadForm(forms.Form):
    biller = forms.ModelChoiceField(queryset=Biller.objects.select_related("partner"))
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in intake.INTAKE_KINDS], initial="invoices")
    file = forms.FileField(help_text="The file exactly as the partner sends it; its name is checked (BID).")

    def __init__(self, *args: Any, billers: QuerySet[Biller], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["biller"].queryset = billers


def progress_payload(exchange: Any) -> dict[str, Any]:
    """The progress page's JSON: progress, status, counts and the first errors."""
    done = exchange.status not in (ExchangeStatus.PENDING, ExchangeStatus.RUNNING)
    return {"exchange": exchange.pk, "status": exchange.status, "done": done,
            "progress_done": exchange.progress_done, "progress_total": exchange.progress_total,
            "counts": exchange.counts or {}, "errors": (exchange.errors or [])[:MAX_SHOWN_ERRORS],
            "error_count": len(exchange.errors or []), "message": exchange.message}


@admin.action(description="Re-run the selected failed imports (from their kept raw files)", permissions=["rerun"])
def rerun_failed_imports(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    """Queue the selected failed (or stuck) file imports again; other exchanges are skipped and counted."""
    queued = 0
    for exchange in queryset.filter(kind__in=intake.INTAKE_KINDS, status__in=[
            ExchangeStatus.FAILED, ExchangeStatus.PENDING, ExchangeStatus.RUNNING]):
        try:
            intake.requeue_exchange(exchange, actor=request.user.get_username())
            queued += 1
        except ValueError as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
    skipped = queryset.count() - queued
    modeladmin.message_user(request, f"{queued} import(s) queued again" + (
        f"; {skipped} skipped (only failed or pending file imports are re-run)" if skipped else ""))


@admin.register(InvoiceUpload)
class InvoiceUploadAdmin(BillerScopedAdmin):
    """"Invoice intake": every file import (any source), the upload form, progress pages, re-run."""

    list_display = ["id", "biller", "kind", "source", "file_name", "status", "progress", "created_at", "watch"]
    list_filter = ["status", "kind", "source", "partner"]
    search_fields = ["=id", "file_name", "checksum", "=biller__bid", "biller__name"]
    list_select_related = ["biller"]
    date_hierarchy = "created_at"
    actions = [rerun_failed_imports]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(kind__in=intake.INTAKE_KINDS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rows are written by the pipeline only; the Exchange admin shows every field

    @admin.display(description="progress")
    def progress(self, obj: InvoiceUpload) -> str:
        return f"{obj.progress_done}/{obj.progress_total}" if obj.progress_total else str(obj.progress_done or "")

    @admin.display(description="")
    def watch(self, obj: InvoiceUpload) -> str:
        url = reverse("admin:exchanges_invoiceupload_progress", args=[obj.pk])
        return format_html('<a href="{}">progress</a>', url)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="exchanges_invoiceupload_progress"),
            path("<int:pk>/progress.json", view(self.progress_json), name="exchanges_invoiceupload_progress_json"),
            *super().get_urls(),
        ]

    def _billers(self, request: HttpRequest) -> QuerySet[Biller]:
        ids = scoped_biller_ids(request.user)
        billers = Biller.objects.select_related("partner").order_by("bid")
        return billers if ids is None else billers.filter(pk__in=ids)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """The "Upload invoice file" form: store the file, queue its import, go to the progress page."""
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        billers = self._billers(request)
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES, billers=billers)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                spooled = getattr(upload, "temporary_file_path", None)  # a big upload is on disk already
                exchange = intake.stage_file(
                    biller=form.cleaned_data["biller"], stream_or_path=spooled() if spooled else upload,
                    file_name=upload.name, kind=form.cleaned_data["kind"], source=ExchangeSource.UPLOAD,
                    actor=request.user.get_username(), link=spooled is not None)
                enqueue_import(exchange)
                self.message_user(request, f"{upload.name} stored as exchange #{exchange.pk}; its import is queued.")
                return HttpResponseRedirect(reverse("admin:exchanges_invoiceupload_progress", args=[exchange.pk]))
        else:
            form = UploadForm(initial={"biller": request.GET.get("biller")}, billers=billers)
        context = {**self.admin_site.each_context(request), "title": "Upload invoice file", "form": form,
                   "opts": self.model._meta, "has_view_permission": True}
        return TemplateResponse(request, "admin/exchanges/upload.html", context)

    def _exchange(self, request: HttpRequest, pk: int) -> InvoiceUpload:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        exchange = self._exchange(request, pk)
        context = {**self.admin_site.each_context(request), "title": f"Import #{exchange.pk}: {exchange.file_name}",
                   "exchange": exchange, "opts": self.model._meta, "initial": progress_payload(exchange),
                   "json_url": reverse("admin:exchanges_invoiceupload_progress_json", args=[exchange.pk]),
                   "exchange_url": reverse("admin:exchanges_exchange_change", args=[exchange.pk])}
        return TemplateResponse(request, "admin/exchanges/progress.html", context)

    def progress_json(self, request: HttpRequest, pk: int) -> JsonResponse:
        return JsonResponse(progress_payload(self._exchange(request, pk)))

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(BillerScopedAdmin):
    biller_path = "exchange__biller"
    list_display = ["id", "exchange_link", "biller", "line", "invoice_number", "account_number", "status",
                    "first_error", "created_at"]
    list_filter = ["status", "exchange__kind", "exchange__partner"]
    search_fields = ["=id", "=exchange__id", "=exchange__biller__bid", "invoice_number", "account_number", "raw",
                     "exchange__file_name"]
    list_select_related = ["exchange__biller"]
    readonly_fields = ["exchange", "line", "invoice_number", "account_number", "errors", "status",
                       "reimport_exchange", "resolved_by", "resolved_at", "created_at"]
    fields = ["exchange", "line", "invoice_number", "account_number", "errors", "raw", "status",
              "reimport_exchange", "resolved_by", "resolved_at", "created_at"]
    actions = ["reimport", "discard"]
    change_form_template = "admin/exchanges/quarantinedrecord_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="biller")
    def biller(self, obj: QuarantinedRecord) -> Biller:
        return obj.exchange.biller

    @admin.display(description="exchange")
    def exchange_link(self, obj: QuarantinedRecord) -> str:
        url = reverse("admin:exchanges_exchange_change", args=[obj.exchange_id])
        return format_html('<a href="{}">#{}</a>', url, obj.exchange_id)

    @admin.display(description="first error")
    def first_error(self, obj: QuarantinedRecord) -> str:
        if not obj.errors:
            return ""
        e = obj.errors[0]
        return f"line {e.get('line')}: {e.get('field')} {e.get('message')}"

    def response_change(self, request: HttpRequest, obj: QuarantinedRecord) -> HttpResponse:
        if "_reimport" in request.POST:
            self._reimport_one(request, obj)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def _reimport_one(self, request: HttpRequest, record: QuarantinedRecord) -> bool:
        try:
            exchange = intake.reimport_quarantined(record, actor=request.user.get_username())
        except (ValueError, LookupError) as exc:
            self.message_user(request, f"Record #{record.pk}: {exc}", messages.WARNING)
            return False
        if record.status == QuarantineStatus.REIMPORTED:
            self.message_user(request, f"Record #{record.pk} re-imported (exchange #{exchange.pk}, {exchange.status}).")
            return True
        first = (exchange.errors or [{}])[0]
        self.message_user(request, f"Record #{record.pk} still rejected (exchange #{exchange.pk}): "
                          f"{first.get('field', '')} {first.get('message', exchange.message)}", messages.ERROR)
        return False

    @admin.action(description="Re-import the selected (corrected) records", permissions=["change"])
    def reimport(self, request: HttpRequest, queryset: QuerySet) -> None:
        for record in queryset.filter(status=QuarantineStatus.OPEN).select_related("exchange__biller__partner"):
            self._reimport_one(request, record)

    @admin.action(description="Discard the selected records (they will not be loaded)", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.filter(status=QuarantineStatus.OPEN).update(
            status=QuarantineStatus.DISCARDED, resolved_by=request.user.get_username(), resolved_at=timezone.now())
        self.message_user(request, f"{count} record(s) discarded.")


@admin.register(InvoiceColumnMapping)
class InvoiceColumnMappingAdmin(BillerScopedAdmin):
    """A biller's own column table (AUS TXT files); billers without rows use the shipped default."""

    list_display = ["biller", "column", "row_type", "bif_field"]
    list_editable = ["row_type", "bif_field"]
    list_filter = ["row_type", "biller__partner"]
    search_fields = ["=biller__bid", "biller__name", "bif_field"]
    list_select_related = ["biller"]
    ordering = ["biller__bid", "column"]
    actions = ["reset_to_default"]

    @admin.action(description="Replace the selected billers' tables with the shipped AUS default",
                  permissions=["change"])
    def reset_to_default(self, request: HttpRequest, queryset: QuerySet) -> None:
        from exchanges.intake_mapping import mapping_reset

        billers = Biller.objects.filter(pk__in=queryset.values("biller_id"))
        for biller in billers:
            mapping_reset(biller=biller)
        self.message_user(request, f"{len(billers)} biller table(s) reset to the default.")


def _link_upload_from_biller_page() -> None:
    """Show "Upload invoice file" on the biller's change page (its admin has no template of its own)."""
    biller_admin = admin.site._registry.get(Biller)
    if biller_admin is not None and biller_admin.change_form_template in (None, BILLER_CHANGE_FORM):
        biller_admin.change_form_template = BILLER_CHANGE_FORM


_link_upload_from_biller_page()
