"""SSO and partner portals: remote registration, links, e-mail, password, customer record, SSO launch.

The launch URL carries a token signed with ``django.core.signing.TimestampSigner`` that expires after
``settings.SSO_LAUNCH_MAX_AGE`` seconds (default 300); ``SsoSessionView`` validates it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api import payers
from billers.api.auth import BillerAccess, HasApiKey, SsoScope, actor_name
from billers.api.base import BID, ERROR_RESPONSES, ApiView, django_errors_as_400, operation, text_param
from billers.api.serializers import (
    CustomerInSerializer,
    CustomerSerializer,
    EmailInSerializer,
    EmailResultSerializer,
    ErrorSerializer,
    LaunchInSerializer,
    LaunchSerializer,
    LinkInSerializer,
    LinkResultSerializer,
    PasswordInSerializer,
    PayerUserSerializer,
    RegistrationInSerializer,
    SessionSerializer,
)
from billers.api_models import AccountLink, PayerUser
from billers.models import Account

SIGNER_SALT = "billbridge.api.sso-launch"
DEFAULT_MAX_AGE = 300
TAGS = ["SSO and partner portals"]
USERNAME = OpenApiParameter("username", str, OpenApiParameter.PATH, description="The payer user's username.")
ACCOUNT = OpenApiParameter("account_number", str, OpenApiParameter.PATH)


def launch_max_age() -> int:
    return int(getattr(settings, "SSO_LAUNCH_MAX_AGE", DEFAULT_MAX_AGE))


class SsoView(ApiView):
    """Base of the SSO endpoints (scope sso)."""

    permission_classes = [HasApiKey, BillerAccess, SsoScope]

    def payer(self, username: str) -> PayerUser:
        name = text_param(username, "user", max_length=150)
        user = PayerUser.objects.filter(biller=self.biller, username=name).first()
        if user is None:
            raise exceptions.NotFound(f"No payer user {name} for biller {self.biller.bid}.")
        return user

    @property
    def actor(self) -> str:
        return actor_name(self.key)


class RegistrationView(SsoView):
    """Remote registration of a payer user."""

    @operation(
        "registration_create",
        "Register a payer user (remote registration) and link its accounts.",
        {201: PayerUserSerializer},
        tags=TAGS,
        request=RegistrationInSerializer,
    )
    def post(self, request: Request, bid: int) -> Response:
        data = self.data_or_400(RegistrationInSerializer, request.data)
        try:
            user, _ = payers.payer_user_register(
                biller=self.biller,
                username=data["username"],
                email=data["email"],
                password=data.get("password"),
                account_numbers=data["account_numbers"],
                role=data["role"],
            )
        except DjangoValidationError as exc:
            raise django_errors_as_400(exc) from None
        return Response(payers.user_json(user), status=201)


class UserDetailView(SsoView):
    """A payer user with its links."""

    @operation(
        "user_detail",
        "A payer user and its linked accounts.",
        {200: PayerUserSerializer},
        tags=TAGS,
        parameters=[BID, USERNAME],
    )
    def get(self, request: Request, bid: int, username: str) -> Response:
        return Response(payers.user_json(self.payer(username)))


class UserLinksView(SsoView):
    """Account linking (settings 75 and 76)."""

    @operation(
        "user_link_create",
        "Link an account (and, per settings 75/76, the accounts that share its customer "
        "number and/or e-mail).",
        {
            201: LinkResultSerializer,
            200: OpenApiResponse(LinkResultSerializer, description="Already linked."),
        },
        tags=TAGS,
        request=LinkInSerializer,
        parameters=[BID, USERNAME],
    )
    def post(self, request: Request, bid: int, username: str) -> Response:
        user = self.payer(username)
        data = self.data_or_400(LinkInSerializer, request.data)
        account = Account.objects.filter(biller=self.biller, account_number=data["account_number"]).first()
        if account is None:
            raise exceptions.ValidationError(
                {"account_number": [f"Account {data['account_number']} not found for biller {bid}."]}
            )
        account.biller = self.biller
        created = payers.payer_link_add(user=user, account=account, role=data["role"])
        body = {"linked": [payers.link_json(k) for k in created], "links": payers.user_links(user)}
        return Response(body, status=201 if created else 200)


class UserEmailView(SsoView):
    """E-mail change, applied to the accounts the user owns."""

    @operation(
        "user_email_update",
        "Change the user's e-mail and that of the accounts it owns (change logs, outbox).",
        {200: EmailResultSerializer},
        tags=TAGS,
        request=EmailInSerializer,
        parameters=[BID, USERNAME],
    )
    def post(self, request: Request, bid: int, username: str) -> Response:
        user = self.payer(username)
        data = self.data_or_400(EmailInSerializer, request.data)
        logs = payers.payer_email_change(user=user, email=data["email"], actor=self.actor)
        return Response(
            {
                "username": user.username,
                "email": user.email,
                "changes": [payers.change_json(log) for log in logs],
            }
        )


class UserPasswordView(SsoView):
    """Password change."""

    @operation(
        "user_password_update",
        "Set the user's password (stored hashed).",
        {204: OpenApiResponse(description="Password changed.")},
        tags=TAGS,
        request=PasswordInSerializer,
        parameters=[BID, USERNAME],
    )
    def post(self, request: Request, bid: int, username: str) -> Response:
        user = self.payer(username)
        data = self.data_or_400(PasswordInSerializer, request.data)
        try:
            payers.payer_password_set(
                user=user, password=data["password"], current_password=data.get("current_password")
            )
        except DjangoValidationError as exc:
            raise django_errors_as_400(exc) from None
        return Response(status=204)


class CustomerView(SsoView):
    """Customer record changes: e-mail, phone, paperless, autopay."""

    @operation(
        "customer_update",
        "Update the customer record: e-mail, phone, paperless, autopay (change logs, outbox).",
        {200: CustomerSerializer},
        tags=TAGS,
        request=CustomerInSerializer,
        parameters=[BID, ACCOUNT],
    )
    def post(self, request: Request, bid: int, account_number: str) -> Response:
        number = text_param(account_number, "account_number")
        account = Account.objects.filter(biller=self.biller, account_number=number).first()
        if account is None:
            raise exceptions.NotFound(f"Account {number} not found for biller {bid}.")
        account.biller = self.biller
        data = self.data_or_400(CustomerInSerializer, request.data)
        try:
            logs = payers.customer_record_update(account=account, actor=self.actor, **data)
        except DjangoValidationError as exc:
            raise django_errors_as_400(exc) from None
        return Response(payers.customer_json(account, logs))


def launch_token(
    *, bid: int, username: str, account_number: str | None, mode: str, return_url: str | None
) -> tuple[str, datetime]:
    """A signed token for the launch URL, and when it expires."""
    expires = int(time.time()) + launch_max_age()
    payload = {"b": bid, "u": username, "a": account_number, "m": mode, "r": return_url, "x": expires}
    token = signing.TimestampSigner(salt=SIGNER_SALT).sign_object(payload, compress=True)
    return token, datetime.fromtimestamp(expires, tz=UTC)


def launch_url(request: Request, token: str) -> str:
    """``settings.SSO_PORTAL_URL`` (the payer portal) or this API's session view, with the token."""
    base = getattr(settings, "SSO_PORTAL_URL", "") or request.build_absolute_uri(reverse("api-sso-session"))
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'token': token})}"


class SsoLaunchView(SsoView):
    """A signed, expiring launch URL for the payer portal."""

    @operation(
        "sso_launch",
        "A signed, expiring URL that opens the payer portal for a user (iFrame or redirect).",
        {200: LaunchSerializer},
        tags=TAGS,
        request=LaunchInSerializer,
    )
    def post(self, request: Request, bid: int) -> Response:
        data = self.data_or_400(LaunchInSerializer, request.data)
        user = PayerUser.objects.filter(biller=self.biller, username=data["username"]).first()
        if user is None:
            raise exceptions.ValidationError(
                {"username": [f"No payer user {data['username']} for biller {bid}."]}
            )
        number = data.get("account_number")
        if number and not AccountLink.objects.filter(user=user, account__account_number=number).exists():
            raise exceptions.ValidationError(
                {"account_number": [f"Account {number} is not linked to {user}."]}
            )
        token, expires_at = launch_token(
            bid=self.biller.bid,
            username=user.username,
            account_number=number,
            mode=data["mode"],
            return_url=data.get("return_url"),
        )
        return Response(
            {
                "url": launch_url(request, token),
                "token": token,
                "mode": data["mode"],
                "expires_at": expires_at.isoformat(),
            }
        )


class SsoSessionView(ApiView):
    """Opened by the payer's browser (no API key): validates a launch token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        operation_id="sso_session",
        tags=TAGS,
        auth=[],
        summary="Validate an SSO launch token (the launch URL's target).",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={
            200: SessionSerializer,
            400: ERROR_RESPONSES[400],
            403: OpenApiResponse(ErrorSerializer, description="Invalid or expired link."),
        },
    )
    def get(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token:
            raise exceptions.ValidationError({"token": ["Required."]})
        try:
            payload = signing.TimestampSigner(salt=SIGNER_SALT).unsign_object(token, max_age=launch_max_age())
        except signing.SignatureExpired:
            raise exceptions.PermissionDenied(
                "This SSO link has expired; ask the portal for a new one."
            ) from None
        except (signing.BadSignature, ValueError, TypeError):
            raise exceptions.PermissionDenied("This SSO link is not valid.") from None
        user = PayerUser.objects.filter(biller__bid=payload["b"], username=payload["u"]).first()
        if user is None:
            raise exceptions.PermissionDenied("This SSO link's user no longer exists.")
        response = Response(
            {
                "bid": payload["b"],
                "username": user.username,
                "email": user.email,
                "account_number": payload["a"],
                "mode": payload["m"],
                "return_url": payload["r"],
                "expires_at": datetime.fromtimestamp(payload["x"], tz=UTC).isoformat(),
            }
        )
        if payload["m"] == "iframe":
            response.xframe_options_exempt = True  # the portal embeds this page
        return response
