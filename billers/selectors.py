"""Reads shared by admin, commands, the API and tasks."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from billers.fields import mask
from billers.models import Biller, BillerSetting, PartnerSupport
from partners import base as pb
from partners import registry


def setting_values(biller: Biller) -> dict[int, str]:
    """Return {number: plain value} of the biller's settings, secrets decrypted (for adapters only)."""
    rows = BillerSetting.objects.filter(biller=biller).select_related("definition")
    return {s.definition.number: s.plain_value for s in rows}


_recent_values: dict[int, tuple[float, dict[int, str]]] = {}  # biller id -> (read at, values)
_recent_lock = threading.Lock()


def setting_values_recent(biller: Biller, max_age: float) -> dict[int, str]:
    """Return ``setting_values(biller)`` as this process read it less than ``max_age`` seconds ago.

    For hot paths (an RTDR lookup per IVR call): a change saved in this process clears the biller's
    entry at once (``settings_forget``, connected to BillerSetting saves and deletes); one saved in
    another process applies here within ``max_age``. The returned dict is shared: do not modify it.
    """
    now = time.monotonic()
    with _recent_lock:
        seen = _recent_values.get(biller.pk)
    if seen is not None and now - seen[0] < max_age:
        return seen[1]
    values = setting_values(biller)
    with _recent_lock:
        _recent_values[biller.pk] = (now, values)
    return values


def settings_forget(biller_id: int | None = None) -> None:
    """Drop what ``setting_values_recent`` keeps for one biller, or for all."""
    with _recent_lock:
        if biller_id is None:
            _recent_values.clear()
        else:
            _recent_values.pop(biller_id, None)


def settings_listing(biller: Biller) -> list[dict[str, object]]:
    """Return the biller's settings for display: secrets masked."""
    rows = BillerSetting.objects.filter(biller=biller).select_related("definition")
    return [
        {
            "number": s.definition.number,
            "name": s.definition.name,
            "kind": s.definition.kind,
            "value": mask(s.secret_value) if s.definition.is_secret else s.value,
        }
        for s in rows
    ]


@dataclass
class Checklist:
    """What a biller still needs before going live with its partner."""

    missing_settings: list[tuple[int, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing_settings and not self.conflicts


def onboarding_checklist(biller: Biller) -> Checklist:
    """Missing required settings for the biller's partner, and choices its partner does not support."""
    from billers.models import SettingDefinition

    checklist = Checklist()
    caps = registry.CAPABILITIES.get(biller.partner.code)
    have = set(BillerSetting.objects.filter(biller=biller).values_list("definition__number", flat=True))
    required = caps.required_settings if caps else ()
    names = dict(SettingDefinition.objects.filter(number__in=required).values_list("number", "name"))
    checklist.missing_settings = [(n, names.get(n, "")) for n in required if n not in have]

    supports = {
        (s.category, s.name): s for s in PartnerSupport.objects.filter(partner=biller.partner)
    }
    for category, chosen in ((pb.PRODUCT, biller.products), (pb.FEATURE, biller.features)):
        for name in chosen or []:
            support = supports.get((category, name))
            if support is None:
                checklist.conflicts.append(f"{name}: not documented for {biller.partner.name}.")
            elif not support.usable:
                note = f" ({support.note})" if support.note else ""
                checklist.conflicts.append(
                    f"{name}: {support.get_level_display()} by {biller.partner.name}{note}."
                )
    foreign = (
        BillerSetting.objects.filter(biller=biller)
        .exclude(definition__partners=biller.partner)
        .filter(definition__partners__isnull=False)
        .select_related("definition")
        .distinct()
    )
    for s in foreign:
        checklist.conflicts.append(
            f"Setting {s.definition.number} ({s.definition.name}) does not apply to {biller.partner.name}."
        )
    return checklist
