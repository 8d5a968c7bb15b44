"""Admin pages of the RTDR area outside a ModelAdmin (included under ``admin/billers/`` before the admin)."""
from __future__ import annotations

from django.urls import path

from billers.rtdr_admin import refresh_balance_view

urlpatterns = [
    path("account/<int:pk>/refresh-balance/", refresh_balance_view, name="billers_account_refresh_balance"),
]
