"""Top-level URL routes. Each area adds its own include here."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/billers/", include("billers.rtdr_urls")),  # RTDR refresh-balance page; before the admin site
    path("ops/", include("exchanges.dashboard_urls")),  # dashboard progress JSON (exchanges/dashboard_views.py)
    path("admin/", admin.site.urls),
    path("api/", include("billers.api.urls")),
    path("bills/", include("billers.bill_urls")),  # view bill (billers/bill_views.py)
]
