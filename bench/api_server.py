"""The WSGI application ``bench/api.py`` runs under gunicorn: the project's URLs plus one bare Django view.

``/bare/billers/<bid>/accounts/<account_number>`` answers the same JSON as the API's account lookup with
plain Django (no key, no throttle, no call log, no DRF), to measure what the API's machinery costs.

    gunicorn bench.api_server:application -w 2

``BENCH_CONN_MAX_AGE=0`` opens a database connection per request (a what-if: the configuration keeps
them 60 s).
"""

from __future__ import annotations

import os

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
settings.ROOT_URLCONF = __name__
if os.environ.get("BENCH_CONN_MAX_AGE"):  # what-if: other connection lifetimes than the configured 60 s
    settings.DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from billers.api.accounts import account_lookup
from billers.models import Account


def bare_lookup(request: HttpRequest, bid: int, account_number: str) -> JsonResponse:
    try:
        account = Account.objects.select_related("biller__partner").get(
            biller__bid=bid, account_number=account_number
        )
    except Account.DoesNotExist:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(account_lookup(account.biller, account))


urlpatterns = [
    path("bare/billers/<int:bid>/accounts/<str:account_number>", bare_lookup),
    path("", include("config.urls")),
]

application = get_wsgi_application()
