"""Routes under ``/api/``: version 1, the OpenAPI schema, Swagger UI, and JSON 404s for the rest."""

from __future__ import annotations

from django.urls import include, path, re_path

from billers.api import accounts, inhance, payments, sso
from billers.api.base import api_not_found
from billers.api.docs import ApiDocsView, ApiSchemaView, swagger_asset

BILLER = "billers/<int:bid>/"
USER = BILLER + "users/<str:username>"

v1_patterns = [
    # IVR and kiosk
    path(BILLER + "accounts", accounts.AccountSearchView.as_view(), name="api-account-search"),
    path(BILLER + "accounts/<str:account_number>", accounts.AccountDetailView.as_view(), name="api-account"),
    path(BILLER + "payments", payments.PaymentCreateView.as_view(), name="api-payments"),
    # SSO and partner portals
    path(BILLER + "registrations", sso.RegistrationView.as_view(), name="api-registrations"),
    path(USER, sso.UserDetailView.as_view(), name="api-user"),
    path(USER + "/links", sso.UserLinksView.as_view(), name="api-user-links"),
    path(USER + "/email", sso.UserEmailView.as_view(), name="api-user-email"),
    path(USER + "/password", sso.UserPasswordView.as_view(), name="api-user-password"),
    path(BILLER + "accounts/<str:account_number>/customer", sso.CustomerView.as_view(), name="api-customer"),
    path(BILLER + "sso/launch", sso.SsoLaunchView.as_view(), name="api-sso-launch"),
    path("sso/session", sso.SsoSessionView.as_view(), name="api-sso-session"),
    # Harris inHance web services
    path(BILLER + "invoice-files", inhance.InvoiceFileView.as_view(), name="api-invoice-files"),
    path(BILLER + "balances", inhance.BalancesView.as_view(), name="api-balances"),
    path(BILLER + "downloads/payments", inhance.PaymentDownloadView.as_view(), name="api-download-payments"),
    path(BILLER + "downloads/changes", inhance.ChangeDownloadView.as_view(), name="api-download-changes"),
    path(
        BILLER + "downloads/acknowledgements", inhance.AcknowledgementView.as_view(), name="api-download-acks"
    ),
]

#: What the schema documents (the API's routes only, with their full paths).
schema_patterns = [path("api/v1/", include(v1_patterns))]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", ApiSchemaView.as_view(patterns=schema_patterns), name="api-schema"),
    path("docs/", ApiDocsView.as_view(), name="api-docs"),
    path("docs/assets/<str:name>", swagger_asset, name="api-docs-asset"),
    re_path(r"^", api_not_found),
]
