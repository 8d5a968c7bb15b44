"""Admin for exchange records."""
from __future__ import annotations

import json

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billers.scoping import BillerScopedAdmin
from exchanges import models as m
from exchanges import storage
from exchanges.intake_admin import rerun_failed_imports

#: How much of a raw payload the exchange page shows (the whole file is a download away).
PREVIEW_BYTES = 64 * 1024
#: Parts of a SOAP exchange's payload (RTDR envelopes, ``billers/rtdr_envelopes.py``) shown one by one.
ENVELOPE_PARTS = ("request", "response")


@admin.register(m.Exchange)
class ExchangeAdmin(BillerScopedAdmin):
    list_display = ["id", "biller", "kind", "source", "file_name", "status", "progress", "created_at",
                    "finished_at"]
    list_filter = ["status", "kind", "source", "partner"]
    search_fields = ["=id", "file_name", "checksum", "=biller__bid", "biller__name", "message"]
    list_select_related = ["biller"]
    date_hierarchy = "created_at"
    raw_id_fields = ["biller"]
    actions = [rerun_failed_imports]
    readonly_fields = ["checksum", "raw_path", "raw_size", "raw_payload", "counts", "errors", "progress_done",
                       "progress_total", "started_at", "finished_at", "created_at", "raw_pruned_at"]

    def get_urls(self) -> list:
        raw = path("<int:pk>/raw/", self.admin_site.admin_view(self.raw_download), name="exchanges_exchange_raw")
        return [raw, *super().get_urls()]

    def raw_download(self, request: HttpRequest, pk: int) -> FileResponse:
        """The exchange's raw file as it arrived (or as the envelopes were kept), for staff who may see it."""
        exchange = self.get_queryset(request).filter(pk=pk).first()
        if exchange is None or not self.has_view_permission(request, exchange) or not exchange.raw_path:
            raise Http404("No raw file for this exchange.")
        try:
            stream = storage.open_raw(exchange.raw_path)
        except (OSError, ValueError):
            raise Http404("The raw file is no longer kept (retention) or cannot be read.") from None
        return FileResponse(stream, as_attachment=True, filename=exchange.raw_path.rsplit("/", 1)[-1])

    @admin.display(description="raw payload")
    def raw_payload(self, obj: m.Exchange) -> str:
        """The start of the raw file; a SOAP exchange's request and response envelopes one after the other."""
        if not obj.pk or not obj.raw_path:
            return "-"
        if obj.raw_pruned_at:
            return f"removed on {obj.raw_pruned_at:%Y-%m-%d} (retention); the exchange row is kept"
        try:
            with storage.open_raw(obj.raw_path) as stream:
                head = stream.read(PREVIEW_BYTES + 1)
        except (OSError, ValueError) as exc:
            return f"cannot be read: {exc.__class__.__name__}"
        download = format_html('<p><a href="{}">Download the raw file</a> ({} bytes)</p>',
                               reverse("admin:exchanges_exchange_raw", args=[obj.pk]), obj.raw_size or len(head))
        text = head[:PREVIEW_BYTES].decode("utf-8", errors="replace")
        parts = _envelopes(text) if obj.source == m.ExchangeSource.SOAP else None
        if parts:
            blocks = format_html_join("", "<h4>{}</h4><pre style=\"white-space: pre-wrap\">{}</pre>", parts)
            return format_html("{}{}", download, blocks)
        more = " (first 64 KiB)" if len(head) > PREVIEW_BYTES else ""
        return format_html('{}<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>{}',
                           download, text, more)

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exchanges.change_exchange")

    @admin.display(description="progress")
    def progress(self, obj: m.Exchange) -> str:
        if obj.progress_total:
            return f"{obj.progress_done}/{obj.progress_total}"
        return str(obj.progress_done or "")


def _envelopes(text: str) -> list[tuple[str, str]] | None:
    """Return [(title, envelope)] from a kept SOAP exchange (JSON with request and response), else None."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or not any(record.get(part) for part in ENVELOPE_PARTS):
        return None
    details = {k: v for k, v in record.items() if k not in ENVELOPE_PARTS}
    return [("call", json.dumps(details, indent=1, default=str)),
            *((f"{part} envelope (passwords masked)", record.get(part) or "(none)") for part in ENVELOPE_PARTS)]


from exchanges import intake_admin, transport_admin  # noqa: E402,F401  (each area registers its own admin)
from exchanges import alert_admin  # noqa: E402,F401  (operations alerts and arrival windows)
