"""Querysets compiled to SQL once per database, then run with new values: the hot lookups' ORM savings.

Building and compiling a queryset costs the ORM about half a millisecond of CPU per query, more than
an indexed lookup itself takes. A :class:`PreparedQuery` compiles its queryset once per database alias,
with unmistakable marker values in place of the variable ones, remembers where each marker landed
among the SQL's parameters, and afterwards sends the same SQL with the real values through
``Manager.raw()`` (which still applies the backend's converters and builds model instances).

Variable values must be ones the database adapter takes as they are (ints, strings); anything the
field would prepare differently belongs in the queryset itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

#: Marker values by type: nothing a real filter would hold.
MARKERS: dict[type, Callable[[int], object]] = {
    int: lambda n: -987_654_300 - n,
    str: lambda n: f"\x00prepared-{n}\x00",
}


@dataclass(frozen=True)
class CompiledQuery(Generic[M]):
    """One database's SQL for a prepared query, with each variable value's position in ``params``."""

    model: type[M]
    sql: str
    params: tuple[object, ...]
    positions: dict[str, int]


class PreparedQuery(Generic[M]):
    """``build(**values)`` -> queryset, compiled once per alias; ``run(**values)`` -> instances.

    ``kinds`` names each variable value and its type (``int`` or ``str``).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **kinds: type) -> None:
        unknown = {name: kind for name, kind in kinds.items() if kind not in MARKERS}
        if unknown:
            raise ImproperlyConfigured(f"PreparedQuery: no marker for {unknown}")
        self.build = build
        self.kinds = kinds
        self._compiled: dict[tuple[str, str], CompiledQuery[M]] = {}

    def _compile(self, alias: str) -> CompiledQuery[M]:
        markers = {name: MARKERS[kind](n) for n, (name, kind) in enumerate(self.kinds.items())}
        queryset = self.build(**markers)
        sql, params = queryset.query.get_compiler(alias).as_sql()
        positions = {}
        for name, marker in markers.items():
            hits = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
            if len(hits) != 1:
                raise ImproperlyConfigured(
                    f"PreparedQuery: {name} appears {len(hits)} times among the SQL's parameters"
                )
            positions[name] = hits[0]
        return CompiledQuery(queryset.model, sql, tuple(params), positions)

    def compiled(self, using: str = DEFAULT_DB_ALIAS) -> CompiledQuery[M]:
        """The SQL for database ``using`` (compiled on first use; keyed by alias and vendor)."""
        slot = (using, connections[using].vendor)
        compiled = self._compiled.get(slot)
        if compiled is None:
            compiled = self._compiled[slot] = self._compile(using)
        return compiled

    def run(self, using: str = DEFAULT_DB_ALIAS, **values: object) -> list[M]:
        """The queryset's instances for ``values`` (every name given at construction)."""
        compiled = self.compiled(using)
        params = list(compiled.params)
        for name, position in compiled.positions.items():
            params[position] = values[name]
        return list(compiled.model._default_manager.db_manager(using).raw(compiled.sql, params))
