"""Admin for batches (totals, reconciliation), export files (download, logged), downloads, SFTP drops.

Biller staff see only their biller's rows (BillerScopedAdmin); the download view checks the scope
again, so a guessed URL of another biller's file answers 404.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billers.fields import MASK
from billers.scoping import BillerScopedAdmin, scoped_biller_ids
from payments import batch_models as m
from payments.export_delivery import export_deliver
from payments.exports import batch_export, file_path
from payments.reconciliation import batch_reconcile


class ReadOnlyAdmin(BillerScopedAdmin):
    """Rows written by the system: viewable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


def _totals_html(totals: dict[str, Any], dimension: str) -> str:
    rows = (totals or {}).get(dimension, {})
    return format_html_join(", ", "{}: {} / {}", ((k, v["count"], v["amount"]) for k, v in sorted(rows.items())))


def download_link(obj: m.ExportFile) -> str:
    url = reverse("admin:payments_exportfile_download", args=[obj.pk])
    return format_html('<a href="{}">Download</a>', url)


class ExportFileInline(admin.TabularInline):
    model = m.ExportFile
    extra = 0
    can_delete = False
    fields = ["file_name", "kind", "row_count", "total", "sha256", "generated_at", "download"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="file")
    def download(self, obj: m.ExportFile) -> str:
        return download_link(obj) if obj.pk else ""


@admin.register(m.Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "biller", "business_date", "payment_count", "payment_total", "fee_total",
                    "by_tender", "by_channel", "export_status", "reconciliation_flag", "reconciliation_link"]
    list_filter = ["reconciliation_status", "export_status", "biller__partner", "business_date"]
    search_fields = ["=biller__bid", "biller__name"]
    list_select_related = ["biller"]
    date_hierarchy = "business_date"
    readonly_fields = ["biller", "business_date", "period_start", "period_end", "closed_at", "payment_count",
                       "payment_total", "fee_total", "credit_count", "credit_total", "by_tender", "by_channel",
                       "export_status", "export_error", "export_started_at", "reconciliation_status",
                       "reconciled_at", "reconciliation_link"]
    exclude = ["totals", "reconciliation"]
    inlines = [ExportFileInline]
    actions = ["reconcile_selected", "regenerate_exports"]

    @admin.display(description="by tender (count / amount)")
    def by_tender(self, obj: m.Batch) -> str:
        return _totals_html(obj.totals, "tender")

    @admin.display(description="by channel (count / amount)")
    def by_channel(self, obj: m.Batch) -> str:
        return _totals_html(obj.totals, "channel")

    @admin.display(description="reconciliation", ordering="reconciliation_status")
    def reconciliation_flag(self, obj: m.Batch) -> str:
        colour = {"agrees": "#1e7e34", "disagrees": "#c62828", "pending": "#a66f00"}.get(obj.reconciliation_status,
                                                                                          "#666")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_reconciliation_status_display())

    @admin.display(description="view")
    def reconciliation_link(self, obj: m.Batch) -> str:
        url = reverse("admin:payments_batch_reconciliation", args=[obj.pk])
        return format_html('<a href="{}">Reconciliation</a>', url)

    @admin.action(description="Reconcile the selected batches now", permissions=["view"])
    def reconcile_selected(self, request: HttpRequest, queryset: QuerySet[m.Batch]) -> None:
        for batch in queryset.select_related("biller"):
            batch_reconcile(batch=batch)
        self.message_user(request, f"Reconciled {queryset.count()} batches.")

    @admin.action(description="Regenerate the export files of the selected batches", permissions=["regenerate"])
    def regenerate_exports(self, request: HttpRequest, queryset: QuerySet[m.Batch]) -> None:
        for batch in queryset.select_related("biller__partner"):
            files = batch_export(batch=batch)
            batch_reconcile(batch=batch)
            if batch.export_status == m.BatchExportStatus.FAILED:
                self.message_user(request, f"{batch}: {batch.export_error}", messages.ERROR)
            else:
                changed = [f.file_name for f in files if f.note.startswith("Regenerated")]
                note = f"; content changed: {', '.join(changed)}" if changed else "; identical content"
                self.message_user(request, f"{batch}: {len(files)} files{note}.")

    def has_regenerate_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or scoped_biller_ids(request.user) is None)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.reconciliation_view)
        return [path("<int:pk>/reconciliation/", view, name="payments_batch_reconciliation"), *super().get_urls()]

    def reconciliation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(self.get_queryset(request).select_related("biller__partner"), pk=pk)
        if not self.has_view_permission(request, batch):
            raise Http404
        if request.method == "POST":
            batch_reconcile(batch=batch)
            self.message_user(request, f"{batch}: {batch.get_reconciliation_status_display()}.")
            return HttpResponseRedirect(request.path)
        report = batch.reconciliation or {}
        context = {**self.admin_site.each_context(request), "title": f"Reconciliation of batch {batch}",
                   "batch": batch, "report": report, "opts": self.model._meta,
                   "columns": [c.replace("_", " ") for c in report.get("columns", [])]}
        return TemplateResponse(request, "admin/payments/batch/reconciliation.html", context)


@admin.register(m.ExportFile)
class ExportFileAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "biller", "batch", "kind", "row_count", "total", "short_sha256", "generated_at",
                    "last_delivery", "download"]
    list_filter = ["kind", "biller__partner", "generated_at"]
    search_fields = ["file_name", "=biller__bid", "=sha256"]
    list_select_related = ["biller", "batch__biller"]
    date_hierarchy = "generated_at"
    readonly_fields = ["batch", "biller", "kind", "file_name", "path", "sha256", "size", "row_count", "total",
                       "generated_at", "note", "download"]
    actions = ["upload_again"]

    @admin.display(description="SHA-256")
    def short_sha256(self, obj: m.ExportFile) -> str:
        return obj.sha256[:12]

    @admin.display(description="SFTP drop")
    def last_delivery(self, obj: m.ExportFile) -> str:
        last = obj.deliveries.order_by("-attempted_at").first()
        return f"{last.get_status_display()} {last.attempted_at:%Y-%m-%d %H:%M}" if last else "—"

    @admin.display(description="file")
    def download(self, obj: m.ExportFile) -> str:
        return download_link(obj)

    @admin.action(description="Upload the selected files to the biller's SFTP drop again",
                  permissions=["upload"])
    def upload_again(self, request: HttpRequest, queryset: QuerySet[m.ExportFile]) -> None:
        for export_file in queryset:
            delivery = export_deliver(export_file=export_file)
            if delivery is None:
                self.message_user(request, f"{export_file}: the biller has no enabled SFTP drop.", messages.WARNING)
            elif delivery.status == m.DeliveryStatus.SUCCEEDED:
                self.message_user(request, f"{export_file}: uploaded to {delivery.remote_path}.")
            else:
                self.message_user(request, f"{export_file}: {delivery.error}", messages.ERROR)

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or scoped_biller_ids(request.user) is None)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.download_view)
        return [path("<int:pk>/download/", view, name="payments_exportfile_download"), *super().get_urls()]

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Send the file and log the download; 404 for a file outside the user's billers."""
        export_file = get_object_or_404(m.ExportFile.objects.select_related("biller"), pk=pk)
        scope = scoped_biller_ids(request.user)
        if scope is not None and export_file.biller_id not in scope:
            raise Http404("No such export file.")
        if not self.has_view_permission(request, export_file):
            raise Http404("No such export file.")
        try:
            handle = open(file_path(export_file), "rb")  # noqa: SIM115 (FileResponse closes it)
        except (OSError, ValueError) as exc:
            raise Http404(f"{export_file.file_name} is not on disk any more; regenerate its batch.") from exc
        m.ExportDownload.objects.create(file=export_file, user=request.user, username=request.user.get_username(),
                                        downloaded_at=timezone.now(), ip=request.META.get("REMOTE_ADDR") or None)
        return FileResponse(handle, as_attachment=True, filename=export_file.file_name,
                            content_type="application/octet-stream")


@admin.register(m.ExportDownload)
class ExportDownloadAdmin(ReadOnlyAdmin):
    biller_path = "file__biller"
    list_display = ["file", "username", "downloaded_at", "ip"]
    list_filter = ["downloaded_at", "file__kind"]
    search_fields = ["file__file_name", "username", "ip", "=file__biller__bid"]
    list_select_related = ["file"]
    date_hierarchy = "downloaded_at"


@admin.register(m.ExportDelivery)
class ExportDeliveryAdmin(ReadOnlyAdmin):
    biller_path = "file__biller"
    list_display = ["file", "status", "remote_path", "attempted_at", "duration_ms", "permanent", "error"]
    list_filter = ["status", "permanent", "attempted_at"]
    search_fields = ["file__file_name", "remote_path", "error", "=file__biller__bid"]
    list_select_related = ["file"]
    date_hierarchy = "attempted_at"


class ExportDropForm(forms.ModelForm):
    """Password and private key are write-only: never rendered back; blank keeps the stored one."""

    class Meta:
        model = m.ExportDrop
        fields = "__all__"
        widgets = {"password": forms.PasswordInput(render_value=False),
                   "private_key": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored = {n: getattr(self.instance, n) for n in ("password", "private_key")} if self.instance.pk else {}
        self.initial.pop("private_key", None)
        for name in ("password", "private_key"):
            if self.stored.get(name):
                self.fields[name].widget.attrs["placeholder"] = MASK
                self.fields[name].help_text = "Stored encrypted. Leave blank to keep it."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("password", "private_key"):
            if not data.get(name) and self.stored.get(name):
                data[name] = self.stored[name]
        return data


@admin.register(m.ExportDrop)
class ExportDropAdmin(BillerScopedAdmin):
    form = ExportDropForm
    list_display = ["biller", "enabled", "host", "port", "username", "remote_dir"]
    list_filter = ["enabled"]
    search_fields = ["=biller__bid", "biller__name", "host", "username"]
    raw_id_fields = ["biller"]
