"""Admin for transport connections: secrets write-only, status columns, poll now, test connection."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from billers.fields import MASK
from billers.scoping import BillerScopedAdmin
from exchanges import polling
from exchanges.transport_models import Connection
from exchanges.transports.base import TransportError


class SecretTextarea(forms.Textarea):
    """Never renders a value back, not even the one just typed into a form with errors."""

    def format_value(self, value: Any) -> None:
        return None


class ConnectionForm(forms.ModelForm):
    """Password and private key are write-only: blank keeps the stored value."""

    new_password = forms.CharField(label="Password", required=False, strip=False,
                                   widget=forms.PasswordInput(render_value=False, attrs={"size": 40}))
    new_private_key = forms.CharField(label="Private key", required=False, widget=SecretTextarea(attrs={"rows": 4}))
    clear_private_key = forms.BooleanField(label="Remove the stored private key", required=False)

    class Meta:
        model = Connection
        exclude = ["password", "private_key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored_password = bool(self.instance.pk and self.instance.password)
        stored_key = bool(self.instance.pk and self.instance.private_key)
        self.fields["new_password"].widget.attrs["placeholder"] = MASK if stored_password else ""
        self.fields["new_password"].help_text = (
            "Stored encrypted. Leave blank to keep it." if stored_password else "Stored encrypted; never shown.")
        self.fields["new_private_key"].widget.attrs["placeholder"] = MASK if stored_key else "-----BEGIN OPENSSH PRIVATE KEY-----"
        self.fields["new_private_key"].help_text = (
            "SFTP: an unencrypted OpenSSH or PEM key, used instead of the password. Stored encrypted; "
            + ("leave blank to keep it." if stored_key else "never shown."))

    def _post_clean(self) -> None:
        """Put entered secrets on the instance before the model's validation checks them."""
        password = self.cleaned_data.get("new_password")
        key = (self.cleaned_data.get("new_private_key") or "").strip()
        if password:
            self.instance.password = password
        if self.cleaned_data.get("clear_private_key"):
            self.instance.private_key = ""
        if key:
            self.instance.private_key = key
        super()._post_clean()

    def _update_errors(self, errors: ValidationError) -> None:
        """Show the model's password and private key errors on the write-only inputs."""
        if hasattr(errors, "error_dict"):
            for model_field, form_field in (("password", "new_password"), ("private_key", "new_private_key")):
                if model_field in errors.error_dict:
                    errors.error_dict.setdefault(form_field, []).extend(errors.error_dict.pop(model_field))
        super()._update_errors(errors)


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("failing", "Failing"), ("ok", "OK"), ("never", "Never polled"), ("running", "Polling now")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "failing":
            return queryset.exclude(last_error="")
        if value == "ok":
            return queryset.filter(last_error="", last_polled_at__isnull=False)
        if value == "never":
            return queryset.filter(last_polled_at__isnull=True)
        if value == "running":
            return queryset.filter(poll_started_at__isnull=False)
        return queryset


@admin.register(Connection)
class ConnectionAdmin(BillerScopedAdmin):
    form = ConnectionForm
    list_display = ["__str__", "biller", "kind", "host", "file_kind", "pattern", "enabled", "status",
                    "last_polled_at", "last_success_at", "error_summary", "exchanges_link"]
    list_filter = [StatusFilter, "kind", "file_kind", "enabled", "biller__partner"]
    search_fields = ["=biller__bid", "biller__name", "name", "host", "username", "inbox_folder", "last_error"]
    list_select_related = ["biller__partner"]
    raw_id_fields = ["biller"]
    actions = ["poll_now", "test_connection"]
    readonly_fields = ["last_polled_at", "last_success_at", "last_result", "last_error", "poll_started_at",
                       "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["biller", "name", "kind", "file_kind", "enabled"]}),
        ("Server", {"fields": ["host", "port", "username", "new_password", "new_private_key", "clear_private_key",
                               "host_key_fingerprint", "certificate_fingerprint"]}),
        ("Files", {"fields": ["inbox_folder", "filename_pattern", "archive_folder", "error_folder"]}),
        ("Schedule", {"fields": ["poll_interval_minutes", "settle_seconds"]}),
        ("Status", {"fields": readonly_fields}),
    ]

    @admin.display(description="pattern")
    def pattern(self, obj: Connection) -> str:
        return obj.effective_pattern

    @admin.display(description="status")
    def status(self, obj: Connection) -> str:
        if obj.poll_started_at:
            return "polling"
        if obj.last_polled_at is None:
            return "never polled"
        return "failing" if obj.last_error else "ok"

    @admin.display(description="last error")
    def error_summary(self, obj: Connection) -> str:
        first = obj.last_error.splitlines()[0] if obj.last_error else ""
        return first if len(first) <= 120 else first[:117] + "..."

    @admin.display(description="exchanges")
    def exchanges_link(self, obj: Connection) -> str:
        url = reverse("admin:exchanges_exchange_changelist")
        return format_html('<a href="{}?biller__id__exact={}&amp;source__exact={}">exchanges</a>', url,
                           obj.biller_id, obj.kind)

    def save_model(self, request: HttpRequest, obj: Connection, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(polling.ensure_schedules)

    def delete_model(self, request: HttpRequest, obj: Connection) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(polling.ensure_schedules)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(polling.ensure_schedules)

    @admin.action(description="Poll now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        disabled = queryset.filter(enabled=False).count()
        queued = 0
        for pk in queryset.filter(enabled=True).values_list("pk", flat=True):
            polling.enqueue_poll(pk, actor=request.user.get_username())
            queued += 1
        if queued:
            self.message_user(request, f"Poll queued for {queued} connection(s); the Status and Last error "
                                       f"columns and the exchanges list show the outcome.", messages.SUCCESS)
        if disabled:
            self.message_user(request, f"{disabled} disabled connection(s) skipped.", messages.WARNING)

    @admin.action(description="Test connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet) -> None:
        for connection in queryset.select_related("biller__partner"):
            try:
                report = polling.check_connection(connection)
            except TransportError as exc:
                self.message_user(request, f"{connection}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{connection}: {report}", messages.SUCCESS)

