"""The base view of every API endpoint: key authentication, biller access, throttle, JSON only, and one
``ApiCallLog`` row per call (route pattern, never the concrete path, body or key; ``billers.api.call_log``
writes it a moment after the answer)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.http import HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.fields import empty
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from billers.api.auth import ApiKeyAuthentication, BillerAccess, HasApiKey
from billers.api.call_log import call_log_write
from billers.api.serializers import ErrorSerializer
from billers.api.throttling import ApiKeyRateThrottle
from billers.api_models import ApiKey
from billers.models import Biller

ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
T = TypeVar("T")

ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: {field: [messages]}."),
    401: OpenApiResponse(ErrorSerializer, description="No key, or an unknown, revoked or expired key."),
    403: OpenApiResponse(ErrorSerializer, description="The key lacks the scope this endpoint needs."),
    404: OpenApiResponse(ErrorSerializer, description="Biller (for this key) or resource not found."),
    409: OpenApiResponse(ErrorSerializer, description="Conflict."),
    422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused with a different request."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests for this key; see Retry-After."),
    503: OpenApiResponse(ErrorSerializer, description="The service behind this endpoint is not available."),
}
STANDARD_ERRORS = (400, 401, 403, 404, 429)
BID = OpenApiParameter(
    "bid",
    {"type": "integer", "minimum": 1, "maximum": 2147483647},
    OpenApiParameter.PATH,
    description="The biller id (BID).",
)


def responses(ok: dict[int, Any], *extra: int) -> dict[int, Any]:
    """The schema's responses: ``ok`` plus the standard errors and ``extra`` ones."""
    return {**ok, **{code: ERROR_RESPONSES[code] for code in (*STANDARD_ERRORS, *extra)}}


def operation(
    operation_id: str,
    summary: str,
    ok: dict[int, Any],
    *,
    tags: list[str],
    request: Any = empty,
    parameters: list[Any] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[T], T]:
    """An endpoint's schema (``extend_schema``): the ``ok`` responses plus the standard errors and
    ``errors``; the BID path parameter unless ``parameters`` lists the endpoint's own."""
    return extend_schema(
        operation_id=operation_id,
        tags=tags,
        summary=summary,
        parameters=[BID] if parameters is None else parameters,
        request=request,
        responses=responses(ok, *errors),
    )


def text_param(value: str, name: str, *, max_length: int = 60) -> str:
    """A path or query text that can match a stored value; NotFound otherwise (no control characters)."""
    if not value or len(value) > max_length or any(ord(c) < 32 or c == "\x7f" for c in value):
        raise exceptions.NotFound(f"No {name.replace('_', ' ')} {value[:max_length]!r} here.")
    return value


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def route_pattern(request: HttpRequest) -> str:
    """``/api/v1/billers/{bid}/accounts/{account_number}`` for the matched route."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", "") or ""
    return "/" + ROUTE_PARAM.sub(r"{\1}", route)


class ApiView(APIView):
    """Base of every keyed endpoint; subclasses add a scope permission and their handlers."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey, BillerAccess]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    biller: Biller
    api_key: ApiKey | None = None

    @property
    def key(self) -> ApiKey:
        """The call's key (every keyed endpoint checks ``HasApiKey`` before its handler runs)."""
        if self.api_key is None:
            raise exceptions.NotAuthenticated()
        return self.api_key

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if isinstance(request.auth, ApiKey):
            self.api_key = request.auth

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        status = 500
        try:
            response = super().dispatch(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            call_log_write(
                key=self.api_key,
                biller=getattr(self, "biller", None),
                bid=kwargs.get("bid"),
                method=request.method or "",
                path=route_pattern(request),
                status=status,
                latency_ms=(time.perf_counter() - started) * 1000,
            )

    def data_or_400(self, serializer_class: type, data: Any, **kwargs: Any) -> dict[str, Any]:
        """Validate ``data``; a 400 naming the fields otherwise."""
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """JSON 404 for any path under /api/ that names no endpoint."""
    return JsonResponse({"detail": "Not found."}, status=404)


def django_errors_as_400(exc: Any) -> exceptions.ValidationError:
    """A Django ValidationError as DRF's 400, keeping the field names."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})
