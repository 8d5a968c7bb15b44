"""``Idempotency-Key`` handling: the same key and request replays the first answer; a different request with
the same key is refused (422).

Only successful answers are kept: a request that failed validation stored nothing, so the client may fix
it and retry with the same key. The record is written in the transaction that does the work, so a
concurrent twin waits on the unique index and then replays the committed answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api_models import ApiKey, IdempotencyRecord
from billers.models import Biller

HEADER = "Idempotency-Key"
MAX_LENGTH = 255
PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID is best). Resending the same request with the same key returns the first "
        "answer; a different request with the same key gets 422."
    ),
)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


def idempotency_key(request: Request) -> str | None:
    """The header's value, or None when absent; 400 naming the header when malformed."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not 0 < len(value) <= MAX_LENGTH or not all("!" <= c <= "~" for c in value):
        raise exceptions.ValidationError(
            {HEADER: [f"Expected 1 to {MAX_LENGTH} visible ASCII characters without spaces."]}
        )
    return value


def request_hash(request: Request) -> str:
    """SHA-256 of the method, the path and the body as canonical JSON (key order does not matter)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def idempotent_response(
    *, request: Request, key: ApiKey, biller: Biller, handler: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Run ``handler`` (returns status and body) once per idempotency key; replay or refuse repeats."""
    idem = idempotency_key(request)
    if idem is None:
        status, body = handler()
        return Response(body, status=status)
    fingerprint = request_hash(request)
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            key=key,
            idempotency_key=idem,
            defaults={
                "biller": biller,
                "request_hash": fingerprint,
                "response_status": 0,
                "response_body": {},
            },
        )
        if not created:
            if record.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    f"{HEADER} {idem!r} was already used for a different request; send a new key for a new "
                    "payment, or resend the original request unchanged."
                )
            return Response(
                record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
            )
        status, body = handler()
        record.response_status, record.response_body = status, body
        record.save(update_fields=["response_status", "response_body"])
    return Response(body, status=status)
