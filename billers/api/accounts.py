"""IVR and kiosk account lookups: by account number, and (Harris Advanced AUS) by customer + location."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from billers.api.auth import BillerAccess, HasApiKey, IvrOrKioskScope
from billers.api.base import BID, ApiView, money, operation, text_param
from billers.api.prepared import PreparedQuery
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


#: What ``account_json`` reads of an invoice (the JSON columns are left unread).
INVOICE_FIELDS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "total_amount_due",
    "balance_due",
    "past_due",
    "minimum_amount_due",
)


def _open_invoices_query(account_id: int) -> QuerySet[Invoice]:
    unpaid = Q(balance_due__gt=0) | Q(balance_due__isnull=True, total_amount_due__gt=0)
    return (
        Invoice.objects.filter(account_id=account_id, active=True)
        .filter(unpaid)
        .only(*INVOICE_FIELDS)
        .order_by("due_date", "invoice_number")[:MAX_OPEN_INVOICES]
    )


OPEN_INVOICES = PreparedQuery(_open_invoices_query, account_id=int)
ACCOUNT_BY_NUMBER = PreparedQuery(
    lambda biller_id, account_number: Account.objects.filter(
        biller_id=biller_id, account_number=account_number
    ),
    biller_id=int,
    account_number=str,
)


def open_invoices(account: Account) -> list[Invoice]:
    """The account's active invoices with something left to pay, earliest due first."""
    return OPEN_INVOICES.run(account_id=account.pk)


def account_by_number(biller: Biller, number: str) -> Account | None:
    """The biller's account ``number`` (unique per biller), or None."""
    found = ACCOUNT_BY_NUMBER.run(biller_id=biller.pk, account_number=number)
    return found[0] if found else None


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

    @operation(
        "account_lookup",
        "Look up an account: balance due, past due, due date, minimum, open invoices.",
        {200: AccountSerializer},
        tags=["IVR and kiosk"],
    )
    def get(self, request: Request, bid: int, account_number: str) -> Response:
        number = text_param(account_number, "account_number")
        account = account_by_number(self.biller, number)
        if account is None:
            raise exceptions.NotFound(f"Account {number} not found for biller {bid}.")
        return Response(account_lookup(self.biller, account))


class AccountSearchView(ApiView):
    """Harris Advanced AUS: accounts by customer number and location number (at most 20)."""

    permission_classes = [HasApiKey, BillerAccess, IvrOrKioskScope]

    @operation(
        "account_search",
        "Harris Advanced AUS billers: find accounts by customer number and location number "
        "(SearchByAdvancedUtilityCustomerAndLocationNumber).",
        {200: AccountListSerializer},
        tags=["IVR and kiosk"],
        parameters=[
            BID,
            OpenApiParameter("customer_number", str, required=True),
            OpenApiParameter("location_number", str, required=True),
        ],
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
