"""Biller staff see only their own biller's records: the scope comes from their groups."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


def scoped_biller_ids(user: Any) -> set[int] | None:
    """Return the ids of the billers a user is confined to, or None for an unrestricted user."""
    if user.is_superuser:
        return None
    from billers.models import BillerStaffScope

    ids = set(BillerStaffScope.objects.filter(group__user=user).values_list("biller_id", flat=True))
    return ids or None


class BillerScopedAdmin(admin.ModelAdmin):
    """Filters every list, lookup and foreign-key choice to the user's billers, if they are staff."""

    #: Lookup path from the model to its Biller ("" for Biller itself).
    biller_path = "biller"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        ids = scoped_biller_ids(request.user)
        if ids is None:
            return qs
        key = f"{self.biller_path}__in" if self.biller_path else "pk__in"
        return qs.filter(**{key: ids})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = scoped_biller_ids(request.user)
        if ids is not None and db_field.name == "biller":
            from billers.models import Biller

            kwargs["queryset"] = Biller.objects.filter(pk__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
