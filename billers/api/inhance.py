"""Harris inHance web services: invoice file upload, balance updates, downloads and acknowledgements."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api import downloads
from billers.api.auth import BillerAccess, HasApiKey, InhanceScope, actor_name
from billers.api.base import BID, ApiView, django_errors_as_400, operation
from billers.api.serializers import (
    AckInSerializer,
    AckSerializer,
    BalancesInSerializer,
    BalancesSerializer,
    ChangePageSerializer,
    InvoiceFileInSerializer,
    InvoiceFileSerializer,
    PageQuerySerializer,
    PaymentPageSerializer,
)

TAGS = ["Harris inHance web services"]
INTAKE_MODULE = "exchanges.intake"
MAX_ERRORS = 200
PAGE_PARAMETERS = [
    BID,
    OpenApiParameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": 1000}, description="Page size (100)."
    ),
    OpenApiParameter(
        "after",
        {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        description="Continue after this id (the `next` link carries it).",
    ),
]


class InhanceView(ApiView):
    """Base of the inHance endpoints (scope inhance)."""

    permission_classes = [HasApiKey, BillerAccess, InhanceScope]


class IntakeUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Invoice file intake is not available on this server yet."


def intake_import_file() -> Any:
    """``exchanges.intake.import_file`` (imported when first needed); 503 while it is not installed."""
    try:
        return importlib.import_module(INTAKE_MODULE).import_file
    except (ImportError, AttributeError):
        raise IntakeUnavailable() from None


class InvoiceFileView(InhanceView):
    """Invoice file upload, imported by the intake."""

    parser_classes = [MultiPartParser, FormParser]

    @operation(
        "invoice_file_upload",
        "Upload an invoice file (BIF): imported like any other intake, answered with the run.",
        {
            201: InvoiceFileSerializer,
            200: OpenApiResponse(InvoiceFileSerializer, description="Duplicate of a file already imported."),
            422: OpenApiResponse(InvoiceFileSerializer, description="The file was rejected."),
        },
        tags=TAGS,
        request={"multipart/form-data": InvoiceFileInSerializer},
        errors=(503,),
    )
    def post(self, request: Request, bid: int) -> Response:
        data = self.data_or_400(InvoiceFileInSerializer, request.data)
        import_file = intake_import_file()
        upload = data["file"]
        stream_or_path = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload
        try:
            exchange = import_file(
                biller=self.biller,
                stream_or_path=stream_or_path,
                file_name=upload.name,
                kind=data["kind"],
                source="api",
                actor=actor_name(self.key),
            )
        except DjangoValidationError as exc:
            raise django_errors_as_400(exc) from None
        status = str(exchange.status)
        body = {
            "exchange": exchange.pk,
            "status": status,
            "counts": exchange.counts or {},
            "errors": list(exchange.errors or [])[:MAX_ERRORS],
        }
        return Response(body, status={"failed": 422, "duplicate": 200}.get(status, 201))


class BalancesView(InhanceView):
    """Balance updates from the billing system."""

    @operation(
        "balances_update",
        "Post balance updates (balance due, optional past due and block flags).",
        {200: BalancesSerializer},
        tags=TAGS,
        request=BalancesInSerializer,
    )
    def post(self, request: Request, bid: int) -> Response:
        data = self.data_or_400(BalancesInSerializer, request.data)
        updated, missing = downloads.balances_apply(biller=self.biller, rows=data["balances"])
        return Response({"updated": updated, "not_found": missing})


def next_link(request: Request, items: list[Any], limit: int) -> str | None:
    if len(items) < limit:
        return None
    return request.build_absolute_uri(f"{request.path}?{urlencode({'limit': limit, 'after': items[-1].pk})}")


class DownloadPageView(InhanceView):
    """A page of items not yet acknowledged, oldest first, with the link to the next page.

    Subclasses name the selector (``pending(biller, after=, limit=)``) and the item's JSON (``item``).
    """

    pending: Callable[..., list[Any]]
    item: Callable[[Any], dict[str, Any]]

    def get(self, request: Request, bid: int) -> Response:
        page = self.data_or_400(PageQuerySerializer, request.query_params)
        items = self.pending(self.biller, after=page["after"], limit=page["limit"])
        return Response(
            {
                "results": [self.item(i) for i in items],
                "next": next_link(request, items, page["limit"]),
            }
        )


@extend_schema_view(
    get=operation(
        "payments_download",
        "Payments not yet acknowledged, oldest first.",
        {200: PaymentPageSerializer},
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
    )
)
class PaymentDownloadView(DownloadPageView):
    """Payments to post in the billing system."""

    pending = staticmethod(downloads.payments_pending)
    item = staticmethod(downloads.payment_item)


@extend_schema_view(
    get=operation(
        "changes_download",
        "Autopay, paperless, e-mail and phone changes not yet acknowledged, oldest first.",
        {200: ChangePageSerializer},
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
    )
)
class ChangeDownloadView(DownloadPageView):
    """Enrollment and contact changes for the billing system."""

    pending = staticmethod(downloads.changes_pending)
    item = staticmethod(downloads.change_item)


class AcknowledgementView(InhanceView):
    """Acknowledgement of downloaded items."""

    @operation(
        "downloads_acknowledge",
        "Acknowledge downloaded payments and changes by id: they are not handed out again.",
        {200: AckSerializer},
        tags=TAGS,
        request=AckInSerializer,
    )
    def post(self, request: Request, bid: int) -> Response:
        data = self.data_or_400(AckInSerializer, request.data)
        result = downloads.downloads_acknowledge(
            biller=self.biller, key=self.key, payments=data["payments"], changes=data["changes"]
        )
        return Response(
            {
                "acknowledged": result.acknowledged,
                "already_acknowledged": result.already_acknowledged,
                "unknown": result.unknown,
            }
        )
