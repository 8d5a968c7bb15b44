"""The intake commands' outputs: import_file, bif_layout, layout, show_invoice."""
from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from partners.bif_fields import layout
from tests.exchanges.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_import_file_prints_one_json_object_last(intake_biller, capsys):
    intake_biller("daffron")
    call_command("import_file", "--biller", "2778", str(SAMPLES / "daffron_2778_11202026.BIF"))
    out = last_json(capsys.readouterr().out)
    assert {k: out[k] for k in ("status", "invoices", "accounts_created", "accounts_updated", "errors")} == {
        "status": "succeeded", "invoices": 4, "accounts_created": 4, "accounts_updated": 0, "errors": []}
    assert isinstance(out["exchange"], int)
    call_command("import_file", "--biller", "2778", str(SAMPLES / "daffron_2778_11202026.BIF"))
    assert last_json(capsys.readouterr().out)["status"] == "duplicate"  # exit 0: nothing rejected


def test_import_file_exits_non_zero_only_when_rejected(intake_biller, capsys, tmp_path):
    intake_biller("flexibill")
    call_command("import_file", "--biller", "4411", str(SAMPLES / "flexibill_4411.BIF"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_file", "--biller", "4411", "--kind", "balances", str(SAMPLES / "flexibill_4411.BAF"))
    assert exit_info.value.code == 1
    out = last_json(capsys.readouterr().out)
    assert out["status"] == "failed"
    assert out["errors"] == [{"line": 4, "field": "InvoiceNumber", "value": "0004411007MCS0000091240",
                              "message": "no stored invoice with this number"}]


def test_bif_layout_json_is_the_catalogue_layout(capsys):
    call_command("bif_layout", "--json")
    columns = json.loads(capsys.readouterr().out)
    assert columns == layout()
    assert list(columns) == ["FH", "IH", "CR", "ID"] and columns["CR"][1] == "AccountNumber"
    call_command("bif_layout")
    assert "FileSpecID 356" in capsys.readouterr().out


def test_layout_json_gives_positions_and_bif_fields(capsys):
    call_command("layout", "flexibill", "--json")
    tables = json.loads(capsys.readouterr().out)
    assert set(tables) >= {"HDR", "D", "BAF", "SPF"}
    account = next(f for f in tables["HDR"] if f["name"] == "Account")
    assert (account["start"], account["end"], account["width"]) == (4, 20, 17)
    assert account["bif_field"] == "Custom2, DisplayAccountNumber"
    call_command("layout", "aus", "--json")
    aus = json.loads(capsys.readouterr().out)["TXT"]
    assert {"name": "column 18", "column": 18, "row_type": "CR", "bif_field": "BlockPaymentsCC"} in aus
    call_command("layout", "cayenta", "--json")
    assert json.loads(capsys.readouterr().out)["bill"][1]["bif_field"] == "InvoiceNumber"
    call_command("layout", "daffron")
    assert "InvoiceNumber" in capsys.readouterr().out


def test_show_invoice_prints_bif_keyed_json(load_sample, capsys):
    load_sample("daffron", "daffron_2778_11202026.BIF")
    call_command("show_invoice", "--biller", "2778", "1234501458213")
    shown = json.loads(capsys.readouterr().out)
    assert list(shown)[:4] == ["RecordType", "InvoiceFormatGuid", "InvoiceNumber", "InvoiceDate"]
    assert shown["TotalAmountDue"] == "156.25" and shown["Custom10"] == "12345-458213"
    assert shown["customer"]["AccountNumber"] == "12345-01" and shown["customer"]["BlockPaymentsCC"] == "N"
    assert [d["CustomField3"] for d in shown["details"]] == ["ELECTRIC", "WATER", "REFUSE"]
    assert list(shown["details"][0])[:2] == ["CustomField1", "CustomField2"]
