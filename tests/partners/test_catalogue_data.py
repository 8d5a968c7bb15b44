"""The partner catalogue data is complete, consistent across partners and free of credentials."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from partners import base as pb
from partners import registry
from partners.bif_customizations import BIF_CUSTOMIZATIONS
from partners.setting_definitions import DEFINITIONS, KINDS

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
FLOW_KEYS = [key for key, _ in pb.FLOWS]
LEVELS = {key for key, _ in pb.SUPPORT_LEVELS}
SETTINGS = {d.number: d for d in DEFINITIONS}
ALL_CAPS = list(registry.CAPABILITIES.values())

#: The one spelling of every product, feature and device name, shared by all partners.
CANONICAL: dict[str, set[str]] = {
    pb.PRODUCT: {
        "AgentConnect", "Check Free - FISERV - Cash", "CloudPay", "CloudPay Web Services", "CloudStore",
        "CSRConnect", "EMV", "POSPay", "IVR", "Kiosk", "Online Bank Direct - OBD", "Outbound IVR",
        "POSConnect",
    },
    pb.FEATURE: {
        "Account Registration", "Account Linking", "Multi-User Log In", "Co-Owner Registration", "SSO",
        "AutoPay Collection Date", "Batch Closure", "Bill Processor", "Balance Forward", "Open Item Billing",
        "Block Payment", "Conveyance", "Data Conversions", "Email Notification Schedule",
        "Expire Bill for Payment", "Flex Pay", "Minimum Payment", "Paperless", "Partial Payments",
        "Past Due Payments", "Scheduled Payments",
    },
    pb.DEVICE: {
        "Magtek REV Devices", "IDTech SRED Key", "Bluefin/PAX EMV Devices", "Ingenico EMV",
        "Other EMV Devices",
    },
}
#: Partners whose seed has a full "Supported Products and Features" table.
TABLE_PARTNERS = ("aus", "cayenta", "inhance")

CREDENTIAL = re.compile(r"\b(?:password|passwd|pwd|pass)\b\s*[:=]\s*[\"']?(?!\[redacted\])[^\s\"']{3,}", re.I)


def _seed_texts() -> dict[str, str]:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS}")
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def _numbers_in_text(text: str) -> set[int]:
    """Numbers after 'advanced setting(s)', as in 'Advanced Settings 75 and 76' or 'setting #114'."""
    found: set[int] = set()
    pattern = r"advanced\s+settings?\s*[#(]?\s*(\d+(?:\s*(?:,|and|&|or)\s*#?\d+)*)"
    for match in re.finditer(pattern, text, re.I):
        found.update(int(n) for n in re.findall(r"\d+", match.group(1)))
    return found


def _numbers_in_settings_table(text: str) -> set[int]:
    """Setting IDs of an 'Advanced Settings' table: a number line right after the header or a Y/N line."""
    lines = [line.strip() for line in text.splitlines()]
    found: set[int] = set()
    inside = False
    for previous, line in zip(lines, lines[1:]):
        if line.startswith("Advanced Settings"):
            inside = True
        elif line.startswith("BIF Customization"):
            inside = False
        elif inside and line.isdigit() and (previous in {"Y", "N"} or previous.startswith("Is Value Unique")):
            found.add(int(line))
    return found


def test_registry_lists_the_five_partners_in_order() -> None:
    assert registry.PARTNER_CODES == ("aus", "cayenta", "inhance", "daffron", "flexibill")
    for code, caps in registry.CAPABILITIES.items():
        assert caps.code == code
        assert registry.capabilities(code) is caps
    names = {c.code: c.name for c in ALL_CAPS}
    assert names == {
        "aus": "Harris Advanced AUS",
        "cayenta": "Cayenta",
        "inhance": "Harris inHance",
        "daffron": "Daffron/Milsoft",
        "flexibill": "Harris FlexiBill",
    }


def test_unknown_partner_code_raises_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match="Unknown partner code 'nope'"):
        registry.capabilities("nope")


@pytest.mark.parametrize("caps", ALL_CAPS, ids=lambda c: c.code)
def test_every_partner_has_all_ten_flows_in_order(caps: pb.Capabilities) -> None:
    assert [f.key for f in caps.flows] == FLOW_KEYS
    for flow in caps.flows:
        assert flow.method and flow.transmission, flow.key
        assert len(flow.method) <= 200 and len(flow.transmission) <= 200, flow.key
        if not flow.supported:
            assert flow.method == "Not Supported" and flow.transmission == "N/A", flow.key
        else:
            assert flow.method != "Not Supported", flow.key
    assert caps.summary


@pytest.mark.parametrize("caps", ALL_CAPS, ids=lambda c: c.code)
def test_support_rows_use_valid_levels_categories_and_canonical_names(caps: pb.Capabilities) -> None:
    keys = [(s.category, s.name) for s in caps.supports]
    assert len(keys) == len(set(keys)), "a name is listed twice"
    for s in caps.supports:
        assert s.level in LEVELS, s
        assert s.category in CANONICAL, s
        assert s.name in CANONICAL[s.category], f"{caps.code}: {s.name!r} is not canonical"


def test_names_line_up_across_partners() -> None:
    used = {(s.category, s.name) for caps in ALL_CAPS for s in caps.supports}
    canonical = {(category, name) for category, names in CANONICAL.items() for name in names}
    assert used == canonical, "every canonical name is used and nothing else"
    assert len(used) <= 40, "the shared vocabulary stays small"
    squashed = [re.sub(r"[^a-z0-9]", "", name.lower()) for _, name in used]
    assert len(squashed) == len(set(squashed)), "two spellings of one name"
    # Partners with a full product table list the same core rows, so a comparison lines up.
    tables = {c: {(s.category, s.name) for s in registry.capabilities(c).supports} for c in TABLE_PARTNERS}
    core = set.intersection(*tables.values())
    assert len(core) >= 35
    for code, rows in tables.items():
        assert len(rows - core) <= 3, f"{code} has too many names of its own: {sorted(rows - core)}"


def test_flows_answer_the_implementation_questions() -> None:
    cayenta = registry.capabilities("cayenta")
    rejects = cayenta.flow("ach_rejects")
    assert rejects and rejects.supported and "AddReturnedCheck" in rejects.method
    assert "permission" in rejects.notes and "C-Code" in rejects.notes
    autopay, paperless = cayenta.flow("autopay_changes"), cayenta.flow("paperless_changes")
    assert autopay and "_PostAutopayChangeXML" in autopay.method and "AUTOP" in autopay.notes
    assert paperless and "_PostPaperLessChangeXML" in paperless.method and "EBILL" in paperless.notes
    daffron = registry.capabilities("daffron")
    for key in ("ach_rejects", "void", "phone_changes", "email_changes"):
        flow = daffron.flow(key)
        assert flow and not flow.supported
        assert flow.notes.startswith("Not described in the Daffron technical design")
    assert "BID_MMDDYYYY" in (daffron.flow("invoice") or pb.Flow("", "", "")).notes
    flexibill = registry.capabilities("flexibill")
    assert not (flexibill.flow("void") or pb.Flow("", "", "")).supported
    assert not (flexibill.flow("ach_rejects") or pb.Flow("", "", "")).supported
    aus_payments = registry.capabilities("aus").flow("payments")
    assert aus_payments and "AddPendingPayment" in aus_payments.method


def test_bif_customizations_are_defined_and_notes_fit() -> None:
    names = [name for name, _ in BIF_CUSTOMIZATIONS]
    assert len(names) == len(set(names))
    assert all(description for _, description in BIF_CUSTOMIZATIONS)
    for caps in ALL_CAPS:
        assert caps.bif_customizations, caps.code
        for name, note in caps.bif_customizations.items():
            assert name in names, f"{caps.code}: {name} is not a defined BIF customization"
            assert note and len(note) <= 300, f"{caps.code}: {name}"
    assert len(registry.capabilities("daffron").bif_customizations) == 19


def test_setting_definitions_are_well_formed() -> None:
    numbers = [d.number for d in DEFINITIONS]
    assert numbers == sorted(set(numbers))
    for d in DEFINITIONS:
        assert d.kind in KINDS, d.number
        assert d.name and d.help_text, d.number
        assert d.partners and set(d.partners) <= set(registry.PARTNER_CODES), d.number
    assert {n for n, d in SETTINGS.items() if d.kind == "secret"} == {10, 13, 16, 19}
    assert {n for n, d in SETTINGS.items() if d.kind == "url"} == {3, 8, 11, 14, 17, 20}


@pytest.mark.parametrize("caps", ALL_CAPS, ids=lambda c: c.code)
def test_required_settings_are_defined_for_that_partner(caps: pb.Capabilities) -> None:
    for number in caps.required_settings:
        assert number in SETTINGS, number
        assert caps.code in SETTINGS[number].partners, number


def test_every_setting_number_in_the_seeds_is_defined() -> None:
    texts = _seed_texts()
    mentioned: set[int] = set()
    for text in texts.values():
        mentioned |= _numbers_in_text(text) | _numbers_in_settings_table(text)
    # The scan itself must find what the seeds are known to name, else it proves nothing.
    assert {3, 6, 8, 20, 28, 32, 35, 64, 65, 75, 76, 107, 114, 119, 131} <= mentioned
    missing = sorted(mentioned - set(SETTINGS))
    assert not missing, f"settings named in the seeds but not defined: {missing}"


def test_no_credentials_in_catalogue_text() -> None:
    texts = [d.help_text for d in DEFINITIONS] + [description for _, description in BIF_CUSTOMIZATIONS]
    for caps in ALL_CAPS:
        texts += [caps.summary] + [f.notes for f in caps.flows] + [s.note for s in caps.supports]
        texts += list(caps.bif_customizations.values())
    for text in texts:
        assert not CREDENTIAL.search(text), text
    for number in (10, 13, 16, 19):
        assert "redacted" not in SETTINGS[number].help_text.lower()
        assert "ex." not in SETTINGS[number].help_text.lower()


def test_credential_pattern_catches_what_it_should() -> None:
    assert CREDENTIAL.search("Password: hunter22")
    assert CREDENTIAL.search('Pwd="s3cret!"')
    assert not CREDENTIAL.search("Password: [redacted]")
    assert not CREDENTIAL.search("same e-mail address and password and customer number")
