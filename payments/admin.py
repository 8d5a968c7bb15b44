"""Admin for payments, voids, rejects, scheduled payments, enrollments and change logs."""
from __future__ import annotations

from django.contrib import admin

from billers.scoping import BillerScopedAdmin
from payments import models as m


@admin.register(m.Payment)
class PaymentAdmin(BillerScopedAdmin):
    list_display = ["payment_guid", "biller", "account", "amount", "convenience_fee", "tender", "card_brand",
                    "channel", "status", "paid_at"]
    list_filter = ["biller__partner", "tender", "card_brand", "channel", "kind", "status", "paid_at"]
    search_fields = ["=payment_guid", "account__account_number", "account__name", "approval_code",
                     "invoice_number", "=biller__bid"]
    list_select_related = ["biller", "account"]
    date_hierarchy = "paid_at"
    raw_id_fields = ["biller", "account", "invoice"]


@admin.register(m.Void)
class VoidAdmin(BillerScopedAdmin):
    biller_path = "payment__biller"
    list_display = ["payment", "reason", "voided_at", "actor"]
    list_filter = ["voided_at"]
    search_fields = ["=payment__payment_guid", "payment__account__account_number", "reason"]
    raw_id_fields = ["payment"]


@admin.register(m.AchReject)
class AchRejectAdmin(BillerScopedAdmin):
    biller_path = "payment__biller"
    list_display = ["payment", "return_code", "reason", "rejected_at"]
    list_filter = ["return_code", "rejected_at"]
    search_fields = ["=payment__payment_guid", "payment__account__account_number", "return_code"]
    raw_id_fields = ["payment"]


@admin.register(m.ScheduledPayment)
class ScheduledPaymentAdmin(BillerScopedAdmin):
    list_display = ["account", "biller", "amount", "scheduled_for", "tender", "status"]
    list_filter = ["status", "tender", "scheduled_for", "biller__partner"]
    search_fields = ["account__account_number", "account__name", "invoice_number", "=biller__bid"]
    raw_id_fields = ["biller", "account"]


class EnrollmentAdmin(BillerScopedAdmin):
    list_display = ["account", "biller", "active", "enrolled_at", "ended_at"]
    list_filter = ["active", "biller__partner"]
    search_fields = ["account__account_number", "account__name", "=biller__bid"]
    raw_id_fields = ["biller", "account"]


admin.site.register(m.AutopayEnrollment, EnrollmentAdmin)
admin.site.register(m.PaperlessEnrollment, EnrollmentAdmin)


@admin.register(m.ChangeLog)
class ChangeLogAdmin(BillerScopedAdmin):
    list_display = ["kind", "account", "biller", "old_value", "new_value", "actor", "changed_at"]
    list_filter = ["kind", "biller__partner", "changed_at"]
    search_fields = ["account__account_number", "account__name", "old_value", "new_value", "actor",
                     "=biller__bid"]
    date_hierarchy = "changed_at"
    raw_id_fields = ["biller", "account"]


from payments import batch_admin, outbox_admin  # noqa: E402,F401  (each area registers its own admin)
