"""Admin for exchange records."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from billers.scoping import BillerScopedAdmin
from exchanges import models as m
from exchanges.intake_admin import rerun_failed_imports


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
    readonly_fields = ["checksum", "raw_path", "raw_size", "counts", "errors", "progress_done", "progress_total",
                       "started_at", "finished_at", "created_at", "raw_pruned_at"]

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exchanges.change_exchange")

    @admin.display(description="progress")
    def progress(self, obj: m.Exchange) -> str:
        if obj.progress_total:
            return f"{obj.progress_done}/{obj.progress_total}"
        return str(obj.progress_done or "")


from exchanges import intake_admin, transport_admin  # noqa: E402,F401  (each area registers its own admin)
from exchanges import alert_admin  # noqa: E402,F401  (operations alerts and arrival windows)
