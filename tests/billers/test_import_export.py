"""CSV/XLSX export and import of billers and settings; a bad row saves nothing and names its row."""
from __future__ import annotations

import pytest
import tablib

from billers.models import Biller, BillerSetting
from billers.resources import BillerResource, BillerSettingResource
from billers.selectors import setting_values
from billers.services import biller_setting_set

pytestmark = pytest.mark.django_db


def test_billers_round_trip_through_csv_and_xlsx(make_biller):
    make_biller("daffron", 5001, products=["Kiosk", "IVR"])
    make_biller("cayenta", 5002)
    for fmt in ("csv", "xlsx"):
        exported = BillerResource().export()
        data = exported.export(fmt)
        Biller.objects.filter(bid__in=[5001, 5002]).update(name="changed")
        dataset = tablib.Dataset().load(data, format=fmt)
        result = BillerResource().import_data(dataset, dry_run=False)
        assert not result.has_errors() and not result.has_validation_errors()
        assert Biller.objects.get(bid=5001).name == "Biller 5001"
        assert Biller.objects.get(bid=5001).products == ["Kiosk", "IVR"]


def test_new_billers_import_from_csv(catalogue):
    csv = "bid,name,partner,time_zone,status,products\n7001,Town A,daffron,America/Chicago,onboarding,Kiosk; IVR\n"
    result = BillerResource().import_data(tablib.Dataset().load(csv, format="csv"), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Biller.objects.get(bid=7001).partner.code == "daffron"


def test_settings_round_trip_keeps_secrets_masked_and_intact(daffron_biller):
    biller_setting_set(biller=daffron_biller, number=10, value="pw-1")
    biller_setting_set(biller=daffron_biller, number=9, value="InvoiceCloud")
    data = BillerSettingResource().export().export("csv")
    assert "pw-1" not in data and "********" in data
    result = BillerSettingResource().import_data(tablib.Dataset().load(data, format="csv"), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert setting_values(daffron_biller) == {9: "InvoiceCloud", 10: "pw-1"}


def test_a_bad_setting_row_saves_nothing_and_is_reported_with_its_row_number(daffron_biller):
    csv = "bid,number,value\n2778,9,InvoiceCloud\n2778,64,not-a-code-list\n2778,35,2\n"
    result = BillerSettingResource().import_data(tablib.Dataset().load(csv, format="csv"), dry_run=False)
    assert result.has_validation_errors()
    bad = result.invalid_rows
    assert [r.number for r in bad] == [2]
    assert "sourceId(code)" in str(bad[0].error_dict)
    assert not BillerSetting.objects.filter(biller=daffron_biller).exists()


def test_a_bad_biller_row_saves_nothing(catalogue):
    csv = "bid,name,partner,status\n7101,Good,daffron,live\n7102,Bad,nosuchpartner,live\n"
    result = BillerResource().import_data(tablib.Dataset().load(csv, format="csv"), dry_run=False)
    assert result.has_errors() or result.has_validation_errors()
    assert not Biller.objects.filter(bid__in=[7101, 7102]).exists()


def test_admin_import_page_reports_the_bad_row(admin_client, daffron_biller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"bid,number,value\n2778,9,InvoiceCloud\n2778,131,{oops\n"
    response = admin_client.post(
        "/admin/billers/billersetting/import/",
        {"import_file": SimpleUploadedFile("s.csv", csv, content_type="text/csv"), "format": "0",
         "resource": "0", "format_select": "0"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "must be valid JSON" in html
    assert not BillerSetting.objects.filter(biller=daffron_biller).exists()
