"""Routes of the operations dashboard (included under ``ops/`` in ``config/urls.py``)."""
from __future__ import annotations

from django.urls import path

from exchanges.dashboard_views import progress_json

urlpatterns = [
    path("progress.json", progress_json, name="ops_progress"),
]
