"""``Authorization: Api-Key <key>`` authentication, biller access and scope permissions.

Keys are remembered per worker for a few seconds (``billers.api.key_cache``): expiry is checked on
every call, a revocation made elsewhere applies within ``API_KEY_CACHE_SECONDS``.

Order of checks: no or bad key -> 401; a biller the key may not use (or that does not exist) -> 404, so
a key for biller A learns nothing about biller B; a scope the key lacks -> 403.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from billers.api.key_cache import api_key_lookup_cached
from billers.api_models import ApiKey, ApiScope

KEYWORD = "Api-Key"


class ApiClient:
    """``request.user`` for a call made with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key

    def __str__(self) -> str:
        return f"API {self.key.vendor} ({self.key.prefix})"


def actor_name(key: ApiKey) -> str:
    """How change logs and intake runs name a change made through the API."""
    return f"API {key.vendor} ({key.prefix})"[:150]


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate ``Authorization: Api-Key <key>``; 401 for unknown, revoked or expired keys."""

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(f"Authorization header: expected '{KEYWORD} <key>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        bid = (request.parser_context or {}).get("kwargs", {}).get("bid")
        key, biller = api_key_lookup_cached(raw, bid=bid)
        request.api_biller = biller  # read by BillerAccess: found with the key (one query, or memory)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        state = key.state
        if state != "active":
            raise exceptions.AuthenticationFailed(f"This API key is {state}.")
        return ApiClient(key), key

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class HasApiKey(BasePermission):
    """The call carries a valid key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated(f"Send the header 'Authorization: {KEYWORD} <key>'.")
        return True


class BillerAccess(BasePermission):
    """The biller in the path (``bid``) is one of the key's billers; 404 otherwise. Sets ``view.biller``.

    ``ApiKeyAuthentication`` loads that biller with the key (``request.api_biller``).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        bid = view.kwargs.get("bid")
        if bid is None:
            return True
        biller = getattr(request, "api_biller", None)
        if biller is None or biller.bid != bid:
            raise exceptions.NotFound(f"Biller {bid} not found.")
        view.biller = biller
        return True


class ScopePermission(BasePermission):
    """The key holds at least one of ``scopes``; 403 naming them otherwise."""

    scopes: frozenset[str] = frozenset()

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if isinstance(key, ApiKey) and key.scope_set & self.scopes:
            return True
        self.message = (
            f"This API key lacks the scope this endpoint needs: {' or '.join(sorted(self.scopes))}."
        )
        return False


class IvrOrKioskScope(ScopePermission):
    scopes = frozenset({ApiScope.IVR, ApiScope.KIOSK})


class SsoScope(ScopePermission):
    scopes = frozenset({ApiScope.SSO})


class InhanceScope(ScopePermission):
    scopes = frozenset({ApiScope.INHANCE})


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the key header in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"'{KEYWORD} <key>' (keys come from `manage.py api_key create`).",
        }
