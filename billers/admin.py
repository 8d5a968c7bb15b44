"""Admin for the catalogue, billers and their settings, payer accounts and invoices."""
from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin

from billers import models as m
from billers.fields import mask
from billers.forms import BillerForm, BillerSettingForm
from billers.resources import BillerResource, BillerSettingResource
from billers.scoping import BillerScopedAdmin
from billers.selectors import onboarding_checklist
from partners import base as pb

# ---- Catalogue -------------------------------------------------------------------------------


class PartnerFlowInline(admin.TabularInline):
    model = m.PartnerFlow
    extra = 0
    fields = ["flow", "supported", "method", "transmission", "notes"]


class PartnerSupportInline(admin.TabularInline):
    model = m.PartnerSupport
    extra = 0
    fields = ["category", "name", "level", "note"]


def comparison_rows() -> tuple[list[m.Partner], list[dict[str, Any]]]:
    """Rows = flows, products, features, devices; columns = partners (the comparison page)."""
    partners = list(m.Partner.objects.order_by("name"))
    flows = {(f.partner_id, f.flow): f for f in m.PartnerFlow.objects.all()}
    supports = {(s.partner_id, s.category, s.name): s for s in m.PartnerSupport.objects.all()}
    rows: list[dict[str, Any]] = []
    for key, label in pb.FLOWS:
        cells = []
        for p in partners:
            f = flows.get((p.pk, key))
            cells.append(
                {"level": "supported" if f and f.supported else "not_supported",
                 "text": f.method if f else "—", "note": f"{f.transmission}. {f.notes}".strip(". ") if f else ""}
            )
        rows.append({"section": "Data flows", "name": label, "cells": cells})
    for category, section in pb.CATEGORIES:
        names: list[str] = []
        for s in m.PartnerSupport.objects.filter(category=category).order_by("position"):
            if s.name not in names:
                names.append(s.name)
        for name in names:
            cells = []
            for p in partners:
                s = supports.get((p.pk, category, name))
                cells.append(
                    {"level": s.level if s else "unknown", "text": s.get_level_display() if s else "—",
                     "note": s.note if s else "Not documented"}
                )
            rows.append({"section": f"{section}s", "name": name, "cells": cells})
    return partners, rows


@admin.register(m.Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "billers_count"]
    search_fields = ["name", "code", "summary"]
    inlines = [PartnerFlowInline, PartnerSupportInline]
    change_list_template = "admin/billers/partner/change_list.html"

    @admin.display(description="billers")
    def billers_count(self, obj: m.Partner) -> int:
        return obj.billers.count()

    def get_urls(self) -> list:
        compare = path("compare/", self.admin_site.admin_view(self.compare_view), name="billers_partner_compare")
        return [compare, *super().get_urls()]

    def compare_view(self, request: HttpRequest) -> HttpResponse:
        partners, rows = comparison_rows()
        context = {**self.admin_site.each_context(request), "title": "Compare partners",
                   "partners": partners, "rows": rows, "opts": self.model._meta}
        return TemplateResponse(request, "admin/billers/partner/compare.html", context)


@admin.register(m.PartnerFlow)
class PartnerFlowAdmin(admin.ModelAdmin):
    list_display = ["partner", "flow", "supported", "method", "transmission"]
    list_filter = ["partner", "flow", "supported"]
    search_fields = ["method", "transmission", "notes", "partner__name"]


@admin.register(m.PartnerSupport)
class PartnerSupportAdmin(admin.ModelAdmin):
    list_display = ["partner", "category", "name", "level", "note"]
    list_filter = ["partner", "category", "level"]
    search_fields = ["name", "note", "partner__name"]


@admin.register(m.SettingDefinition)
class SettingDefinitionAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "kind", "unique_per_biller", "partner_list"]
    list_filter = ["kind", "unique_per_biller", "partners"]
    search_fields = ["=number", "name", "help_text"]

    @admin.display(description="partners")
    def partner_list(self, obj: m.SettingDefinition) -> str:
        return ", ".join(p.name for p in obj.partners.all())

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("partners")


class BifCustomizationNoteInline(admin.TabularInline):
    model = m.BifCustomizationNote
    extra = 0


@admin.register(m.BifCustomizationDefinition)
class BifCustomizationDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description", "notes__note"]
    inlines = [BifCustomizationNoteInline]


@admin.register(m.BifCustomizationNote)
class BifCustomizationNoteAdmin(admin.ModelAdmin):
    list_display = ["definition", "partner", "note"]
    list_filter = ["partner"]
    search_fields = ["definition__name", "note"]


@admin.register(m.BifField)
class BifFieldAdmin(admin.ModelAdmin):
    list_display = ["file_spec_id", "name", "row_type", "note"]
    list_filter = ["row_type"]
    search_fields = ["=file_spec_id", "name"]


# ---- Billers ---------------------------------------------------------------------------------


class BillerSettingInline(admin.TabularInline):
    model = m.BillerSetting
    form = BillerSettingForm
    extra = 1
    fields = ["definition", "entered"]
    autocomplete_fields = ["definition"]


class BillerCustomizationInline(admin.TabularInline):
    model = m.BillerCustomization
    extra = 0
    fields = ["definition", "value", "enabled"]


@admin.register(m.Biller)
class BillerAdmin(BillerScopedAdmin, ImportExportModelAdmin):
    biller_path = ""
    form = BillerForm
    resource_classes = [BillerResource]
    list_display = ["bid", "name", "partner", "status", "time_zone", "batch_close_time", "ready"]
    list_filter = ["status", "partner", "record_error_policy"]
    search_fields = ["=bid", "name", "guid"]
    readonly_fields = ["checklist", "created_at", "updated_at"]
    inlines = [BillerSettingInline, BillerCustomizationInline]
    fieldsets = [
        (None, {"fields": ["bid", "name", "guid", "partner", "status", "checklist"]}),
        ("Schedule", {"fields": ["time_zone", "batch_close_time"]}),
        ("Products and features", {"fields": ["products", "features"]}),
        ("Integration options", {"fields": ["record_error_policy", "post_scheduled_payments",
                                            "group_autopay_by_custom10", "pump_ach_rejects"]}),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="ready")
    def ready(self, obj: m.Biller) -> bool:
        return onboarding_checklist(obj).ready

    @admin.display(description="Onboarding checklist")
    def checklist(self, obj: m.Biller) -> str:
        if not obj.pk:
            return "Save the biller to see what it still needs."
        result = onboarding_checklist(obj)
        if result.ready:
            return format_html('<span class="checklist-ready">Ready: nothing missing for {}.</span>', obj.partner)
        missing = format_html_join(
            "", '<li class="checklist-missing">Missing setting {} {}</li>', result.missing_settings
        )
        conflicts = format_html_join("", '<li class="checklist-conflict">{}</li>', ((c,) for c in result.conflicts))
        return format_html('<ul class="onboarding-checklist">{}{}</ul>', missing, conflicts)


@admin.register(m.BillerSetting)
class BillerSettingAdmin(BillerScopedAdmin, ImportExportModelAdmin):
    form = BillerSettingForm
    resource_classes = [BillerSettingResource]
    list_display = ["biller", "number", "setting_name", "shown_value", "updated_at"]
    list_filter = ["definition__kind", "biller__partner"]
    search_fields = ["=biller__bid", "biller__name", "=definition__number", "definition__name", "value"]
    list_select_related = ["biller", "definition"]

    @admin.display(description="number", ordering="definition__number")
    def number(self, obj: m.BillerSetting) -> int:
        return obj.definition.number

    @admin.display(description="setting")
    def setting_name(self, obj: m.BillerSetting) -> str:
        return obj.definition.name

    @admin.display(description="value")
    def shown_value(self, obj: m.BillerSetting) -> str:
        return mask(obj.secret_value) if obj.definition.is_secret else obj.value


@admin.register(m.BillerCustomization)
class BillerCustomizationAdmin(BillerScopedAdmin):
    list_display = ["biller", "definition", "value", "enabled"]
    list_filter = ["enabled", "definition"]
    search_fields = ["=biller__bid", "biller__name", "definition__name", "value"]


@admin.register(m.BillerStaffScope)
class BillerStaffScopeAdmin(admin.ModelAdmin):
    list_display = ["group", "biller"]
    search_fields = ["group__name", "=biller__bid", "biller__name"]


# ---- Accounts and invoices -------------------------------------------------------------------


class InvoiceInline(admin.TabularInline):
    model = m.Invoice
    extra = 0
    fields = ["invoice_number", "invoice_date", "due_date", "total_amount_due", "record_type"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    max_num = 0


@admin.register(m.Account)
class AccountAdmin(BillerScopedAdmin):
    list_display = ["account_number", "name", "biller", "balance_due", "past_due", "block_cc", "block_ach",
                    "balance_updated_at"]
    list_filter = ["biller__partner", "block_cc", "block_ach", "balance_source"]
    search_fields = ["account_number", "display_account_number", "customer_number", "name", "email", "phone",
                     "=biller__bid"]
    list_select_related = ["biller"]
    inlines = [InvoiceInline]
    raw_id_fields = ["biller"]
    readonly_fields = ["balance_refresh"]

    @admin.display(description="Balance from the partner")
    def balance_refresh(self, obj: m.Account) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a class="button" href="{}">Refresh balance</a> (RTDR where the partner offers it, '
                           'with the recent calls)', reverse("billers_account_refresh_balance", args=[obj.pk]))


@admin.register(m.Invoice)
class InvoiceAdmin(BillerScopedAdmin):
    list_display = ["invoice_number", "account", "biller", "invoice_date", "due_date", "total_amount_due",
                    "record_type", "active"]
    list_filter = ["biller__partner", "record_type", "active", "invoice_date"]
    search_fields = ["invoice_number", "account__account_number", "account__name", "=biller__bid"]
    list_select_related = ["biller", "account"]
    date_hierarchy = "invoice_date"
    raw_id_fields = ["biller", "account"]
    readonly_fields = ["bill", "custom_values", "customer_record", "detail_rows"]

    @admin.display(description="Bill")
    def bill(self, obj: m.Invoice) -> str:
        from billers.bill_admin import view_bill_link

        return view_bill_link(obj.pk)

    @admin.display(description="Custom values")
    def custom_values(self, obj: m.Invoice) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.header, indent=1))

    @admin.display(description="Customer record")
    def customer_record(self, obj: m.Invoice) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.customer_fields, indent=1))

    @admin.display(description="Detail rows")
    def detail_rows(self, obj: m.Invoice) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.detail_fields, indent=1))


from billers import api_admin, bill_admin, rtdr_admin  # noqa: E402,F401  (each area registers its own admin)
