"""Daffron PDF link: the four versions (setting 119), Custom9 forcing v2, the setting 131 BCTR modifier."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest

from partners.base import PartnerError
from partners.daffron.bill_link import VERSIONS, LinkInvoice, build_link

BASE = "https://cis.partner.example:8086/eprint/"
INVOICE = LinkInvoice(
    invoice_number="3590900111",
    custom2="035909",
    custom3="001",
    custom9="9000",
    custom10="035909-12355",
    invoice_date=date(2026, 3, 7),
)


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def link(invoice: LinkInvoice = INVOICE, **settings: str) -> str:
    numbers = {"base": 20, "version": 119, "json": 131}
    values = {20: BASE, **{numbers[k]: v for k, v in settings.items()}}
    return build_link(values, invoice)


V1 = [("PROCESSING_TYPE", "HISTORY"), ("ACCT", "035909"), ("SUB", "001")]
V2 = V1 + [("BCTR", "035909-12355")]
V3 = V2 + [("LDMO", "202603")]
V4 = V3 + [("PRINT_FORM", "TRUE")]


def test_version_1_is_the_default_when_setting_119_is_unset() -> None:
    assert link() == BASE + "?PROCESSING_TYPE=HISTORY&ACCT=035909&SUB=001"


@pytest.mark.parametrize(("version", "expected"), [("1", V1), ("2", V2), ("3", V3), ("4", V4)])
def test_each_version_sends_its_parameters_in_order(version: str, expected: list[tuple[str, str]]) -> None:
    url = link(version=version)
    assert url.startswith(BASE + "?")
    assert query(url) == expected


def test_ldmo_is_year_and_zero_padded_month_of_the_invoice_date() -> None:
    december = LinkInvoice(**{**INVOICE.__dict__, "invoice_date": date(2025, 12, 31)})
    assert dict(query(link(december, version="3")))["LDMO"] == "202512"


def test_versions_table_adds_one_parameter_per_version() -> None:
    assert VERSIONS == {
        1: ("PROCESSING_TYPE", "ACCT", "SUB"),
        2: ("PROCESSING_TYPE", "ACCT", "SUB", "BCTR"),
        3: ("PROCESSING_TYPE", "ACCT", "SUB", "BCTR", "LDMO"),
        4: ("PROCESSING_TYPE", "ACCT", "SUB", "BCTR", "LDMO", "PRINT_FORM"),
    }


@pytest.mark.parametrize("custom9", ["INV123", "X-EBIL-7", "inv 42", "ebill"])
@pytest.mark.parametrize("configured", ["1", "3", "4"])
def test_custom9_with_inv_or_ebil_forces_version_2(custom9: str, configured: str) -> None:
    invoice = LinkInvoice(**{**INVOICE.__dict__, "custom9": custom9})
    assert query(link(invoice, version=configured)) == V2


def test_custom9_without_inv_or_ebil_keeps_the_configured_version() -> None:
    assert query(link(version="4")) == V4  # Custom9 = 9000


def test_bctr_modifier_sends_only_the_value_after_the_first_dash() -> None:
    config = '{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}}'
    assert dict(query(link(version="2", json=config)))["BCTR"] == "12355"
    two_dashes = LinkInvoice(**{**INVOICE.__dict__, "custom10": "1234-567-89"})
    assert dict(query(link(two_dashes, version="3", json=config)))["BCTR"] == "567-89"
    no_dash = LinkInvoice(**{**INVOICE.__dict__, "custom10": "12345"})
    assert dict(query(link(no_dash, version="2", json=config)))["BCTR"] == "12345"


def test_bctr_modifier_also_applies_when_custom9_forces_version_2() -> None:
    forced = LinkInvoice(**{**INVOICE.__dict__, "custom9": "EBIL"})
    config = '{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}, "Daffron": {"DataPumpConfigs": {}}}'
    assert query(link(forced, version="1", json=config)) == V1 + [("BCTR", "12355")]


def test_setting_131_without_pdf_config_sends_custom10_whole() -> None:
    config = '{"Daffron": {"DataPumpConfigs": {"SkipDonationTypes": true}}}'
    assert dict(query(link(version="2", json=config)))["BCTR"] == "035909-12355"


def test_values_are_url_encoded_and_an_existing_query_is_kept() -> None:
    odd = LinkInvoice(**{**INVOICE.__dict__, "custom2": "A&B 1"})
    url = build_link({20: "https://cis.example/eprint?site=7"}, odd)
    assert url == "https://cis.example/eprint?site=7&PROCESSING_TYPE=HISTORY&ACCT=A%26B+1&SUB=001"


@pytest.mark.parametrize(
    ("values", "invoice", "message"),
    [
        ({}, INVOICE, "setting 20"),
        ({20: "ftp://cis.example/eprint/"}, INVOICE, "setting 20"),
        ({20: BASE, 119: "5"}, INVOICE, "setting 119"),
        ({20: BASE, 119: "two"}, INVOICE, "setting 119"),
        ({20: BASE, 131: '{"PdfConfig": '}, INVOICE, "not valid JSON"),
        ({20: BASE, 131: '{"PdfConfig": {"BCTRModifier": "ValueBeforeDash"}}'}, INVOICE, "ValueBeforeDash"),
        ({20: BASE}, LinkInvoice(**{**INVOICE.__dict__, "custom2": " "}), "Custom2"),
    ],
)
def test_misconfiguration_is_a_permanent_error_naming_the_setting(values, invoice, message) -> None:
    with pytest.raises(PartnerError, match=message) as caught:
        build_link(values, invoice)
    assert caught.value.permanent
