"""Admin of the API area: keys (hash never shown; a new key is shown once), call log, idempotency records,
payer users and their links, download acknowledgements. Biller staff see only their biller's rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billers import api_models as am
from billers.api.keys import api_key_fill_new, api_key_revoke
from billers.scoping import BillerScopedAdmin, scoped_biller_ids


class ReadOnlyAdmin(BillerScopedAdmin):
    """Records written by the API only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ApiKeyForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label="Scopes", choices=am.ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = am.ApiKey
        fields = ["vendor", "billers", "scope_choices", "throttle_rate", "expires_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scope_choices"] = sorted(self.instance.scope_set)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = data.get("scope_choices") or []
        self.instance.scopes = ",".join(s for s in am.ApiScope.values if s in chosen)
        return data


@admin.register(am.ApiKey)
class ApiKeyAdmin(BillerScopedAdmin):
    form = ApiKeyForm
    biller_path = "billers"
    list_display = [
        "vendor",
        "prefix",
        "scopes",
        "biller_list",
        "state",
        "expires_at",
        "last_used_at",
        "created_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["vendor", "prefix", "scopes", "billers__bid", "billers__name"]
    readonly_fields = ["prefix", "revoked_at", "created_at", "last_used_at"]
    filter_horizontal = ["billers"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("billers").distinct()

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = scoped_biller_ids(request.user)
        if ids is not None and db_field.name == "billers":
            from billers.models import Biller

            kwargs["queryset"] = Biller.objects.filter(pk__in=ids)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="billers")
    def biller_list(self, obj: am.ApiKey) -> str:
        return ", ".join(str(b.bid) for b in obj.billers.all())

    @admin.display(description="state")
    def state(self, obj: am.ApiKey) -> str:
        return obj.state

    def save_model(self, request: HttpRequest, obj: am.ApiKey, form: Any, change: bool) -> None:
        raw = None if change else api_key_fill_new(obj)
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(request, f"The new key for {obj.vendor}, shown only now: {raw}")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = sum(api_key_revoke(key=key) for key in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.")


@admin.register(am.ApiCallLog)
class ApiCallLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "method", "path", "status", "latency_ms", "key", "bid"]
    list_filter = ["status", "method", "path"]
    search_fields = ["path", "key__vendor", "key__prefix", "biller__name", "=bid"]
    date_hierarchy = "at"
    list_select_related = ["key"]


@admin.register(am.IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["idempotency_key", "key", "biller", "response_status", "created_at"]
    list_filter = ["response_status"]
    search_fields = ["idempotency_key", "key__vendor", "biller__name", "biller__bid"]
    list_select_related = ["key", "biller"]


class AccountLinkInline(admin.TabularInline):
    model = am.AccountLink
    extra = 0
    raw_id_fields = ["account"]
    fields = ["account", "role", "rule", "created_at"]
    readonly_fields = ["rule", "created_at"]


@admin.register(am.PayerUser)
class PayerUserAdmin(BillerScopedAdmin):
    list_display = ["username", "email", "biller", "has_password", "created_at"]
    search_fields = ["username", "email", "biller__name", "biller__bid"]
    list_select_related = ["biller"]
    fields = ["biller", "username", "email", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AccountLinkInline]

    @admin.display(boolean=True, description="password")
    def has_password(self, obj: am.PayerUser) -> bool:
        from django.contrib.auth.hashers import is_password_usable

        return is_password_usable(obj.password)

    def save_model(self, request: HttpRequest, obj: am.PayerUser, form: Any, change: bool) -> None:
        if not change:
            from django.contrib.auth.hashers import make_password

            obj.password = make_password(None)  # the portal sets a password through the API
        super().save_model(request, obj, form, change)


@admin.register(am.AccountLink)
class AccountLinkAdmin(BillerScopedAdmin):
    biller_path = "user__biller"
    list_display = ["user", "account", "role", "rule", "created_at"]
    list_filter = ["role", "rule"]
    search_fields = ["user__username", "user__email", "account__account_number", "account__name"]
    raw_id_fields = ["user", "account"]
    list_select_related = ["user", "account"]


@admin.register(am.DownloadAck)
class DownloadAckAdmin(ReadOnlyAdmin):
    list_display = ["kind", "object_id", "biller", "acked_at", "key"]
    list_filter = ["kind"]
    search_fields = ["=object_id", "biller__name", "biller__bid", "key__vendor"]
    list_select_related = ["biller", "key"]
