"""Admin of operations alerts (read-only: ``exchanges.alerts`` writes them) and arrival windows."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from billers.scoping import BillerScopedAdmin
from exchanges.dashboard_models import WEEKDAYS, Alert, ArrivalWindow, parse_weekdays


class AlertStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("resolved", "Resolved"), ("unmailed", "Open, not mailed yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "open":
            return queryset.filter(resolved_at__isnull=True)
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        if value == "unmailed":
            return queryset.filter(resolved_at__isnull=True, emailed_at__isnull=True)
        return queryset


@admin.register(Alert)
class AlertAdmin(BillerScopedAdmin):
    list_display = ["id", "kind", "biller", "message", "first_seen", "last_seen", "count", "resolved_at",
                    "emailed_at", "behind"]
    list_filter = [AlertStateFilter, "kind", "biller__partner", ("biller", admin.RelatedOnlyFieldListFilter),
                   "first_seen"]
    search_fields = ["=id", "key", "message", "=biller__bid", "biller__name"]
    list_select_related = ["biller"]
    date_hierarchy = "first_seen"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Alert._meta.fields] + ["behind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # raised by exchanges.alerts only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="details")
    def behind(self, obj: Alert) -> str:
        return format_html('<a href="{}">open</a>', obj.link) if obj.link else ""


class ArrivalWindowForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple,
        help_text="Days the file is due (in the biller's time zone).")

    class Meta:
        model = ArrivalWindow
        fields = ["connection", "weekdays", "expected_by", "grace_minutes", "enabled", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.initial["weekdays"] = sorted(parse_weekdays(self.instance.weekdays or ""))
        except ValueError:
            self.initial["weekdays"] = []

    def clean_weekdays(self) -> str:
        return ",".join(str(d) for d in sorted(set(self.cleaned_data["weekdays"])))


@admin.register(ArrivalWindow)
class ArrivalWindowAdmin(BillerScopedAdmin):
    biller_path = "connection__biller"
    form = ArrivalWindowForm
    list_display = ["__str__", "connection", "expected_by", "grace_minutes", "enabled"]
    list_filter = ["enabled", "connection__biller__partner", "connection__file_kind"]
    search_fields = ["=connection__biller__bid", "connection__biller__name", "connection__name", "note"]
    list_select_related = ["connection__biller"]
    raw_id_fields = ["connection"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        from billers.scoping import scoped_biller_ids
        from exchanges.transport_models import Connection

        ids = scoped_biller_ids(request.user)
        if ids is not None and db_field.name == "connection":
            kwargs["queryset"] = Connection.objects.filter(biller_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ArrivalWindow, form: Any, change: bool) -> None:
        from exchanges.alerts import ensure_schedules

        super().save_model(request, obj, form, change)
        ensure_schedules()  # a window is only checked by the alert schedule: make sure it exists
