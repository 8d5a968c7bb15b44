"""Prepared queries answer what their querysets answer, with the SQL compiled once per database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from billers.api.accounts import ACCOUNT_BY_NUMBER, OPEN_INVOICES, account_by_number, open_invoices
from billers.api.prepared import PreparedQuery
from billers.models import Account, Invoice

pytestmark = pytest.mark.django_db


def test_account_and_open_invoices_match_the_orm(biller, other_biller):
    account = account_by_number(biller, "70010001")
    expected = Account.objects.get(biller=biller, account_number="70010001")
    assert [(f.attname, getattr(account, f.attname)) for f in Account._meta.concrete_fields] == [
        (f.attname, getattr(expected, f.attname)) for f in Account._meta.concrete_fields
    ]
    assert account_by_number(biller, "70020001") is None  # another biller's
    assert account_by_number(other_biller, "70020001").name == "Other Person"
    unpaid = Q(balance_due__gt=0) | Q(balance_due__isnull=True, total_amount_due__gt=0)
    orm = Invoice.objects.filter(account=account, active=True).filter(unpaid).order_by("due_date")
    assert [(i.pk, i.balance_due, i.due_date) for i in open_invoices(account)] == [
        (i.pk, i.balance_due, i.due_date) for i in orm
    ]


def test_values_that_look_like_sql_are_only_values(biller):
    assert account_by_number(biller, "70010001' OR '1'='1") is None
    assert account_by_number(biller, "%s") is None


def test_the_sql_is_compiled_once_per_database(biller):
    assert ACCOUNT_BY_NUMBER.compiled() is ACCOUNT_BY_NUMBER.compiled()
    assert OPEN_INVOICES.compiled().positions == {"account_id": 0}


def test_a_value_the_sql_does_not_carry_exactly_once_is_refused():
    twice = PreparedQuery(
        lambda number: Account.objects.filter(Q(account_number=number) | Q(customer_number=number)),
        number=str,
    )
    with pytest.raises(ImproperlyConfigured, match="number appears 2 times"):
        twice.run(number="1")
    with pytest.raises(ImproperlyConfigured, match="no marker"):
        PreparedQuery(lambda when: Account.objects.filter(balance_updated_at=when), when=object)
