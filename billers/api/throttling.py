"""Per-key throttle: a DRF SimpleRateThrottle keyed by the key's id.

The rate is the key's own ``throttle_rate`` when set, else ``settings.API_KEY_THROTTLE_RATE``, else
``DEFAULT_RATE``. Counts live in Django's default cache: per process with the local-memory cache, shared
across workers with Redis or Memcached.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from billers.api_models import ApiKey

DEFAULT_RATE = "6000/min"


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return getattr(settings, "API_KEY_THROTTLE_RATE", None) or DEFAULT_RATE

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if isinstance(key, ApiKey) and key.throttle_rate:
            self.rate = key.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None  # unauthenticated calls never reach a view that does work
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
