"""IVR and kiosk account lookups: by account number, and (Harris Advanced AUS) by customer + location."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api.auth import BillerAccess, HasApiKey, IvrOrKioskScope
from billers.api.base import BID, ApiView, money, responses, text_param
from billers.api.serializers import (
    ACH_TENDERS,
    CARD_TENDERS,
    AccountListSerializer,
    AccountSearchSerializer,
    AccountSerializer,
)
from billers.balances import BalanceView, account_balance
from billers.models import Account, Biller, Invoice

MAX_OPEN_INVOICES = 50
MAX_SEARCH_RESULTS = 20
AUS = "aus"


def open_invoices(account: Account) -> list[Invoice]:
    """The account's active invoices with something left to pay, earliest due first."""
    unpaid = Q(balance_due__gt=0) | Q(balance_due__isnull=True, total_amount_due__gt=0)
    return list(
        Invoice.objects.filter(account=account, active=True)
        .filter(unpaid)
        .order_by("due_date", "invoice_number")[:MAX_OPEN_INVOICES]
    )


def blocked_tenders(balance: BalanceView) -> list[str]:
    return [*(CARD_TENDERS if balance.block_cc else ()), *(ACH_TENDERS if balance.block_ach else ())]


def account_json(account: Account, balance: BalanceView, invoices: list[Invoice]) -> dict[str, Any]:
    """The lookup answer (``AccountSerializer``'s shape): balance, current invoice's due date and minimum."""
    current = max(invoices, key=lambda i: (i.invoice_date, i.pk), default=None)
    minimum = None
    if current is not None and current.minimum_amount_due is not None:
        minimum = min(current.minimum_amount_due, max(balance.balance_due, 0))
    return {
        "account_number": account.account_number,
        "display_account_number": account.display_account_number or account.account_number,
        "name": account.name,
        "customer_number": account.customer_number,
        "location_number": account.location_number,
        "balance_due": money(balance.balance_due),
        "past_due": money(balance.past_due),
        "due_date": current.due_date.isoformat() if current else None,
        "minimum_payment": money(minimum),
        "stale": balance.stale,
        "stale_reason": balance.stale_reason,
        "balance_source": balance.source,
        "balance_updated_at": balance.updated_at.isoformat() if balance.updated_at else None,
        "blocked_tenders": blocked_tenders(balance),
        "open_invoices": [
            {
                "invoice_number": i.invoice_number,
                "invoice_date": i.invoice_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "total_amount_due": money(i.total_amount_due),
                "balance_due": money(i.balance_due),
                "past_due": money(i.past_due),
                "minimum_amount_due": money(i.minimum_amount_due),
            }
            for i in invoices
        ],
    }


def account_lookup(biller: Biller, account: Account) -> dict[str, Any]:
    """Balance (RTDR-refreshed where the partner offers it, else stored and flagged) and open invoices."""
    account.biller = biller  # spare the adapter a query
    return account_json(account, account_balance(account, refresh=True), open_invoices(account))


class AccountDetailView(ApiView):
    """An account as an IVR or kiosk needs it to take a payment."""

    permission_classes = [HasApiKey, BillerAccess, IvrOrKioskScope]

    @extend_schema(
        operation_id="account_lookup",
        tags=["IVR and kiosk"],
        parameters=[BID],
        summary="Look up an account: balance due, past due, due date, minimum, open invoices.",
        responses=responses({200: AccountSerializer}),
    )
    def get(self, request: Request, bid: int, account_number: str) -> Response:
        number = text_param(account_number, "account_number")
        try:
            account = Account.objects.get(biller=self.biller, account_number=number)
        except Account.DoesNotExist:
            raise exceptions.NotFound(f"Account {number} not found for biller {bid}.") from None
        return Response(account_lookup(self.biller, account))


class AccountSearchView(ApiView):
    """Harris Advanced AUS: accounts by customer number and location number (at most 20)."""

    permission_classes = [HasApiKey, BillerAccess, IvrOrKioskScope]

    @extend_schema(
        operation_id="account_search",
        tags=["IVR and kiosk"],
        summary="Harris Advanced AUS billers: find accounts by customer number and location number "
        "(SearchByAdvancedUtilityCustomerAndLocationNumber).",
        parameters=[
            BID,
            OpenApiParameter("customer_number", str, required=True),
            OpenApiParameter("location_number", str, required=True),
        ],
        responses=responses({200: AccountListSerializer}),
    )
    def get(self, request: Request, bid: int) -> Response:
        if self.biller.partner.code != AUS:
            raise exceptions.NotFound(
                "Search by customer and location number is offered for Harris Advanced AUS billers only."
            )
        query = self.data_or_400(AccountSearchSerializer, request.query_params)
        accounts = Account.objects.filter(
            biller=self.biller,
            customer_number=query["customer_number"],
            location_number=query["location_number"],
        ).order_by("account_number")[:MAX_SEARCH_RESULTS]
        return Response({"results": [account_lookup(self.biller, a) for a in accounts]})
