"""URLs of bill images (included under /bills/ by config/urls.py)."""
from __future__ import annotations

from django.urls import path

from billers import bill_views

app_name = "bills"

urlpatterns = [
    path("invoice/<int:invoice_id>/", bill_views.invoice_bill, name="invoice"),
    path("<int:bid>/<str:invoice_number>/", bill_views.biller_invoice_bill, name="biller-invoice"),
]
