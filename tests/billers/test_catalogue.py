"""The catalogue in the database holds everything the seeds name."""
from __future__ import annotations

import re

import pytest

from billers.catalogue import load_catalogue
from billers.models import BifField, Partner, PartnerFlow, PartnerSupport, SettingDefinition
from partners import base as pb
from partners.bif_fields import layout
from tests.conftest import SEED_FILES, seed_text

pytestmark = pytest.mark.django_db

SETTING_PATTERNS = [
    re.compile(r"[Aa]dvanced [Ss]ettings? #?(\d+)(?:\s*(?:and|,|&)\s*(\d+))?"),
    re.compile(r"setting #(\d+)"),
    re.compile(r"[Ss]etting (\d+) \("),
]


def seed_setting_numbers(text: str) -> set[int]:
    numbers: set[int] = set()
    for pattern in SETTING_PATTERNS:
        for match in pattern.finditer(text):
            numbers.update(int(n) for n in match.groups() if n)
    # The Daffron "Advanced Settings" table: a number alone on a line, followed by its description.
    if "Setting ID" in text:
        table = text.split("Setting ID", 1)[1].split("BIF Customization", 1)[0]
        # a row starts after the previous row's Y/N column (or the header) with the number
        numbers.update(int(n) for n in re.findall(r"(?:^[YN]|Is Value Unique Per Biller\? \(Y/N\))\n(\d{1,3})\n", table, flags=re.M))
    return numbers


def test_every_setting_number_in_the_seeds_is_catalogued(catalogue):
    in_seeds: set[int] = set()
    for partner in SEED_FILES:
        in_seeds |= seed_setting_numbers(seed_text(partner))
    catalogued = set(SettingDefinition.objects.values_list("number", flat=True))
    assert in_seeds, "no setting numbers found: the seed scan is broken"
    assert in_seeds - catalogued == set()
    # and the numbers SPEC.md lists
    spec = {3, 6, *range(8, 21), 28, 32, 35, 64, 65, 75, 76, 107, 114, 119, 131}
    assert spec <= catalogued


def test_every_partner_has_every_flow_and_the_seed_says_which_are_unsupported(catalogue):
    for partner in Partner.objects.all():
        flows = {f.flow: f for f in PartnerFlow.objects.filter(partner=partner)}
        assert set(flows) == {key for key, _ in pb.FLOWS}
        text = seed_text(partner.code)
        if "Data Structure" not in text:
            continue
        table = text.split("Data Structure", 1)[1].split("Supported Products", 1)[0]
        lines = [line.strip() for line in table.splitlines()]
        for key, label in pb.FLOWS:
            assert label in lines, f"{label} missing from the {partner.code} seed table"
            following = lines[lines.index(label) + 1]
            if following == "Not Supported":
                assert not flows[key].supported, f"{partner.code} {key} should be unsupported"
            else:
                assert flows[key].supported, f"{partner.code} {key} should be supported"


def test_products_features_devices_match_the_seed_tables(catalogue):
    for partner in Partner.objects.filter(code__in=["aus", "cayenta", "inhance"]):
        text = seed_text(partner.code)
        lines = [line.strip() for line in text.splitlines()]
        supports = PartnerSupport.objects.filter(partner=partner)
        assert supports.filter(category=pb.PRODUCT).count() >= 12
        assert supports.filter(category=pb.DEVICE).count() >= 4
        for support in supports.filter(category=pb.PRODUCT):
            assert support.name.split(" - ")[0] in text, f"{support.name} not in the {partner.code} seed"
        assert "IVR" in lines and supports.filter(name="IVR", level=pb.SUPPORTED).exists()


def test_which_partners_support_void_is_answered_by_the_catalogue(catalogue):
    supported = set(PartnerFlow.objects.filter(flow="void", supported=True).values_list("partner__code", flat=True))
    assert supported == {"cayenta"}
    ach = PartnerFlow.objects.get(partner__code="cayenta", flow="ach_rejects")
    assert "AddReturnedCheck" in ach.method and "C-Code" in ach.notes


def test_bif_field_catalogue_matches_the_layout(catalogue):
    for row_type, names in layout().items():
        assert set(BifField.objects.filter(row_type=row_type).values_list("name", flat=True)) == set(names)
    assert BifField.objects.get(name="BlockPaymentsCC").file_spec_id == 356
    assert BifField.objects.filter(file_spec_id=208, row_type="ID").count() == 2  # the seed's double numbering


def test_loading_twice_changes_nothing(catalogue):
    before = (PartnerFlow.objects.count(), PartnerSupport.objects.count(), SettingDefinition.objects.count())
    load_catalogue()
    assert (PartnerFlow.objects.count(), PartnerSupport.objects.count(), SettingDefinition.objects.count()) == before
