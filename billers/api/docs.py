"""The OpenAPI schema (``/api/schema/``) and Swagger UI (``/api/docs/``) with its assets served from the
drf-spectacular-sidecar package on this server, never from a CDN."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import drf_spectacular_sidecar
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.cache import cache_control
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

SWAGGER_DIST = (
    Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"
)
ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}
)


class ApiSchemaView(SpectacularAPIView):
    """The schema of the API's own routes (set ``patterns`` in the URLconf)."""

    @extend_schema(exclude=True)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI whose CSS, scripts and icon come from ``swagger_asset``."""

    url_name = "api-schema"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return reverse("api-docs-asset", args=[filename])

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return reverse("api-docs-asset", args=["favicon-32x32.png"])


@cache_control(public=True, max_age=86400)
def swagger_asset(request: HttpRequest, name: str) -> FileResponse:
    """One Swagger UI file from the sidecar package; 404 for anything else."""
    if name not in ASSETS:
        raise Http404(f"No Swagger UI asset {name!r}.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse((SWAGGER_DIST / name).open("rb"), content_type=content_type)
