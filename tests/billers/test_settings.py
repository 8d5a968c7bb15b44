"""Advanced settings: validation by kind, secrets encrypted and never shown, the command line."""
from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from billers.models import BillerSetting
from billers.selectors import setting_values
from billers.services import biller_setting_set

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "value", "fragment"),
    [
        (131, "{not json", "must be valid JSON"),
        (131, "[1, 2]", "must be a JSON object"),
        (64, "WEB|POS", "sourceId(code)|sourceId(code)"),
        (65, "0(WEB)|", "sourceId(code)|sourceId(code)"),
        (8, "not a url", "http(s) URL"),
        (20, "ftp://host/x", "http(s) URL"),
        (6, "2", "must be 0 or 1"),
        (32, "yes", "must be 0 or 1"),
        (35, "3", "must be one of 1, 2"),
        (119, "5", "must be one of 1, 2, 3, 4"),
        (119, "v2", "whole number"),
        (28, '{"block_ach": "N"}', "list of code strings"),
        (10, "", "a value is required"),
        (999, "1", "not a known advanced setting"),
    ],
)
def test_invalid_values_are_refused_with_a_message_naming_the_setting(daffron_biller, number, value, fragment):
    with pytest.raises(ValidationError) as info:
        biller_setting_set(biller=daffron_biller, number=number, value=value)
    message = " ".join(info.value.messages)
    assert fragment in message
    assert str(number) in message
    assert not BillerSetting.objects.filter(biller=daffron_biller, definition__number=number).exists()


@pytest.mark.parametrize(
    ("number", "value"),
    [
        (131, '{"PdfConfig":{"BCTRModifier":"ValueAfterDash"}}'),
        (64, "0(WEB)|2(CSRWEB)|8(POS)"),
        (8, "https://cis.partner.example:8083/tbx-daily/services/CB"),
        (6, "0"),
        (35, "2"),
        (119, "4"),
        (9, "InvoiceCloud"),
        (28, '{"block_ach": ["N"], "block_cc": ["C"], "cash_only": ["X"]}'),
    ],
)
def test_valid_values_are_stored(daffron_biller, number, value):
    biller_setting_set(biller=daffron_biller, number=number, value=value)
    assert setting_values(daffron_biller)[number] == value


def test_secret_is_encrypted_in_the_raw_row_and_readable_by_adapters(daffron_biller):
    setting = biller_setting_set(biller=daffron_biller, number=10, value="s3cret-Pwd!")
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, secret_value FROM billers_billersetting WHERE id = %s", [setting.pk])
        value, stored = cursor.fetchone()
    assert value == ""
    assert "s3cret" not in stored and stored
    assert setting_values(daffron_biller)[10] == "s3cret-Pwd!"


def test_secret_never_appears_in_admin_html(admin_client, daffron_biller):
    biller_setting_set(biller=daffron_biller, number=10, value="s3cret-Pwd!")
    setting = BillerSetting.objects.get(biller=daffron_biller, definition__number=10)
    for url in (f"/admin/billers/biller/{daffron_biller.pk}/change/", "/admin/billers/billersetting/",
                f"/admin/billers/billersetting/{setting.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert b"s3cret" not in response.content
    assert b"********" in admin_client.get("/admin/billers/billersetting/").content


def test_command_sets_and_prints_masked_json(daffron_biller, capsys):
    call_command("biller_settings", "2778", "--set", "10=pa55word", "--set", "9=InvoiceCloud", "--json")
    out = json.loads(capsys.readouterr().out)
    by_number = {row["number"]: row["value"] for row in out["settings"]}
    assert by_number == {9: "InvoiceCloud", 10: "********"}


def test_command_refuses_an_invalid_value_and_changes_nothing(daffron_biller):
    with pytest.raises(CommandError, match="Setting 64"):
        call_command("biller_settings", "2778", "--set", "9=InvoiceCloud", "--set", "64=garbage")
    assert not BillerSetting.objects.filter(biller=daffron_biller).exists()


def test_command_errors_exit_1_with_a_clear_message(daffron_biller):
    with pytest.raises(CommandError, match="No biller with BID 424242") as info:
        call_command("biller_settings", "424242")
    assert info.value.returncode == 1
    with pytest.raises(CommandError, match=r"Setting 35 .*must be one of 1, 2") as info:
        call_command("biller_settings", "2778", "--set", "35=7")
    assert info.value.returncode == 1


def test_admin_inline_rejects_a_bad_value_and_keeps_a_blank_secret(admin_client, daffron_biller):
    from billers.models import SettingDefinition

    biller_setting_set(biller=daffron_biller, number=10, value="keep-me")
    secret = BillerSetting.objects.get(biller=daffron_biller, definition__number=10)
    url = f"/admin/billers/biller/{daffron_biller.pk}/change/"
    form = {
        "bid": "2778", "name": "Manassas", "guid": str(daffron_biller.guid), "partner": daffron_biller.partner_id,
        "status": "onboarding", "time_zone": "America/New_York", "batch_close_time": "23:59:00",
        "record_error_policy": "reject_file",
        "settings-TOTAL_FORMS": "2", "settings-INITIAL_FORMS": "1", "settings-MIN_NUM_FORMS": "0",
        "settings-MAX_NUM_FORMS": "1000",
        "settings-0-id": secret.pk, "settings-0-biller": daffron_biller.pk,
        "settings-0-definition": secret.definition_id, "settings-0-entered": "",
        "settings-1-biller": daffron_biller.pk,
        "settings-1-definition": SettingDefinition.objects.get(number=131).pk, "settings-1-entered": "{broken",
        "customizations-TOTAL_FORMS": "0", "customizations-INITIAL_FORMS": "0", "customizations-MIN_NUM_FORMS": "0",
        "customizations-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200  # redisplayed with the error
    assert b"must be valid JSON" in response.content
    form["settings-1-entered"] = '{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}}'
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert setting_values(daffron_biller) == {10: "keep-me", 131: '{"PdfConfig": {"BCTRModifier": "ValueAfterDash"}}'}
