"""Load the partner catalogue (partners' declared data) into the database, idempotently."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from billers.models import (
    BifCustomizationDefinition,
    BifCustomizationNote,
    BifField,
    Partner,
    PartnerFlow,
    PartnerSupport,
    SettingDefinition,
)
from partners import base as pb
from partners import bif_fields, registry
from partners.bif_customizations import BIF_CUSTOMIZATIONS
from partners.setting_definitions import DEFINITIONS

FLOW_POSITION = {key: i for i, (key, _) in enumerate(pb.FLOWS)}


@dataclass
class CatalogueSummary:
    partners: int = 0
    flows: int = 0
    supports: int = 0
    settings: int = 0
    bif_customizations: int = 0
    bif_fields: int = 0


def _load_partner(caps: pb.Capabilities, summary: CatalogueSummary) -> Partner:
    partner, _ = Partner.objects.update_or_create(
        code=caps.code, defaults={"name": caps.name, "summary": caps.summary}
    )
    for flow in caps.flows:
        PartnerFlow.objects.update_or_create(
            partner=partner,
            flow=flow.key,
            defaults={
                "position": FLOW_POSITION[flow.key],
                "method": flow.method,
                "transmission": flow.transmission,
                "supported": flow.supported,
                "notes": flow.notes,
            },
        )
        summary.flows += 1
    for position, support in enumerate(caps.supports):
        PartnerSupport.objects.update_or_create(
            partner=partner,
            category=support.category,
            name=support.name,
            defaults={"position": position, "level": support.level, "note": support.note},
        )
        summary.supports += 1
    summary.partners += 1
    return partner


@transaction.atomic
def load_catalogue() -> CatalogueSummary:
    """Create or update partners, flows, supports, setting and BIF definitions; return counts."""
    summary = CatalogueSummary()
    partners = {code: _load_partner(caps, summary) for code, caps in registry.CAPABILITIES.items()}
    for d in DEFINITIONS:
        definition, _ = SettingDefinition.objects.update_or_create(
            number=d.number,
            defaults={
                "name": d.name,
                "kind": d.kind,
                "unique_per_biller": d.unique_per_biller,
                "help_text": d.help_text,
            },
        )
        definition.partners.set([partners[code] for code in d.partners])
        summary.settings += 1
    for name, description in BIF_CUSTOMIZATIONS:
        BifCustomizationDefinition.objects.update_or_create(name=name, defaults={"description": description})
        summary.bif_customizations += 1
    definitions = {d.name: d for d in BifCustomizationDefinition.objects.all()}
    for code, caps in registry.CAPABILITIES.items():
        for name, note in caps.bif_customizations.items():
            definition = definitions.get(name) or BifCustomizationDefinition.objects.create(name=name)
            BifCustomizationNote.objects.update_or_create(
                definition=definition, partner=partners[code], defaults={"note": note}
            )
    for position, f in enumerate(bif_fields.FIELDS):
        BifField.objects.update_or_create(
            row_type=f.row_type,
            name=f.name,
            defaults={"file_spec_id": f.file_spec_id, "position": position, "note": f.note},
        )
        summary.bif_fields += 1
    return summary
