"""Admin: upload an invoice file from the biller's page, watch progress, re-run, quarantine, mapping."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billers.models import BillerStaffScope, Invoice
from exchanges.intake_models import InvoiceColumnMapping, QuarantinedRecord
from exchanges.models import Exchange
from tests.exchanges.conftest import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def q_sync(settings, monkeypatch):
    """Tasks run inline (django-q2 sync), as in the cluster."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)  # Conf reads the setting once, at import


def upload(admin_client, biller, name: str, kind: str = "invoices"):
    data = (SAMPLES / name).read_bytes()
    return admin_client.post(reverse("admin:exchanges_invoiceupload_add"),
                             {"biller": biller.pk, "kind": kind, "file": SimpleUploadedFile(name, data)})


def test_biller_change_page_links_to_the_upload(admin_client, intake_biller):
    biller = intake_biller("daffron")
    page = admin_client.get(reverse("admin:billers_biller_change", args=[biller.pk]))
    assert page.status_code == 200
    assert f'{reverse("admin:exchanges_invoiceupload_add")}?biller={biller.pk}' in page.content.decode()
    form = admin_client.get(reverse("admin:exchanges_invoiceupload_add") + f"?biller={biller.pk}")
    assert form.status_code == 200 and "Upload invoice file" in form.content.decode()


def test_admin_upload_runs_in_the_cluster_and_reaches_succeeded(admin_client, intake_biller, q_sync,
                                                                 django_capture_on_commit_callbacks):
    biller = intake_biller("daffron")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(admin_client, biller, "daffron_2778_11202026.BIF")
    assert len(callbacks) == 1
    exchange = Exchange.objects.get(biller=biller)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exchanges_invoiceupload_progress", args=[exchange.pk])
    assert (exchange.status, exchange.source, exchange.counts["invoices"]) == ("succeeded", "upload", 4)
    assert "Submitted by root" in exchange.message
    page = admin_client.get(response["Location"])
    assert page.status_code == 200 and "progress.json" in page.content.decode()
    progress = admin_client.get(reverse("admin:exchanges_invoiceupload_progress_json", args=[exchange.pk])).json()
    assert progress["status"] == "succeeded" and progress["done"] is True
    assert (progress["progress_done"], progress["progress_total"]) == (4, 4)
    assert progress["counts"]["accounts_created"] == 4 and progress["errors"] == []
    listing = admin_client.get(reverse("admin:exchanges_invoiceupload_changelist"))
    assert listing.status_code == 200 and "daffron_2778_11202026.BIF" in listing.content.decode()


def test_a_big_upload_is_linked_into_the_store_from_its_temporary_file(admin_client, intake_biller, settings,
                                                                      data_dir, monkeypatch):
    from exchanges import storage

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # the sample is bigger: Django spools it to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(data_dir / "uploads")
    (data_dir / "uploads").mkdir()
    seen = []
    real_store = storage.store

    def spy(source, **kwargs):
        seen.append((Path(source).parent if kwargs["link"] else None, Path(source).stat().st_ino))
        return real_store(source, **kwargs)

    monkeypatch.setattr(storage, "store", spy)
    response = upload(admin_client, intake_biller("daffron"), "daffron_2778_11202026.BIF")
    assert response.status_code == 302
    exchange = Exchange.objects.get()
    kept = storage.absolute(exchange.raw_path)
    assert seen == [(data_dir / "uploads", kept.stat().st_ino)]  # the same file, not a copy
    assert kept.read_bytes() == (SAMPLES / "daffron_2778_11202026.BIF").read_bytes()
    assert list((data_dir / "uploads").iterdir()) == []  # Django dropped its temporary name; the store's stays


def test_upload_is_queued_only_after_commit(admin_client, intake_biller, django_capture_on_commit_callbacks):
    biller = intake_biller("daffron")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(admin_client, biller, "daffron_2778_11202026.BIF")
    exchange = Exchange.objects.get(biller=biller)
    assert len(callbacks) == 1 and exchange.status == "pending" and exchange.raw_path
    progress = admin_client.get(reverse("admin:exchanges_invoiceupload_progress_json", args=[exchange.pk])).json()
    assert progress["done"] is False


def test_rerun_action_queues_failed_exchanges_again(admin_client, intake_biller, load_sample, q_sync,
                                                    django_capture_on_commit_callbacks):
    from billers.models import BifCustomizationDefinition, BillerCustomization

    biller = intake_biller("daffron")
    custom = BillerCustomization.objects.create(
        biller=biller, value="x", definition=BifCustomizationDefinition.objects.get(name="MinimumAmountDue"))
    failed = load_sample("daffron", "daffron_2778_11202026.BIF")
    assert failed.status == "failed"
    custom.delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:exchanges_invoiceupload_changelist"),
                                     {"action": "rerun_failed_imports", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "succeeded" and Invoice.objects.count() == 4


def test_exchange_list_reruns_failed_imports_and_skips_other_exchanges(
        admin_client, intake_biller, load_sample, q_sync, django_capture_on_commit_callbacks):
    from billers.models import BifCustomizationDefinition, BillerCustomization

    biller = intake_biller("daffron")
    custom = BillerCustomization.objects.create(
        biller=biller, value="x", definition=BifCustomizationDefinition.objects.get(name="MinimumAmountDue"))
    failed = load_sample("daffron", "daffron_2778_11202026.BIF")
    custom.delete()
    rtdr = Exchange.objects.create(biller=biller, partner_id=biller.partner_id, kind="rtdr", source="soap",
                                   status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:exchanges_exchange_changelist"),
                                     {"action": "rerun_failed_imports", "_selected_action": [failed.pk, rtdr.pk]},
                                     follow=True)
    assert "1 import(s) queued again; 1 skipped" in response.content.decode()
    failed.refresh_from_db()
    rtdr.refresh_from_db()
    assert failed.status == "succeeded" and rtdr.status == "failed"


def test_quarantine_admin_lists_searches_and_reimports(admin_client, load_sample, tmp_path):
    text = (SAMPLES / "daffron_2778_11202026.BIF").read_text().replace("|2210402458214|11/01/2026|",
                                                                        "|2210402458214|13/45/2026|")
    path = tmp_path / "2778_11202026.BIF"
    path.write_text(text)
    exchange = load_sample("daffron", path, policy="quarantine")
    record = QuarantinedRecord.objects.get(exchange=exchange)
    listing = admin_client.get(reverse("admin:exchanges_quarantinedrecord_changelist") + "?q=2210402458214")
    assert listing.status_code == 200 and "InvoiceDate" in listing.content.decode()
    url = reverse("admin:exchanges_quarantinedrecord_change", args=[record.pk])
    assert "Save and re-import" in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"raw": record.raw.replace("13/45/2026", "11/01/2026"), "_reimport": "1"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "reimported" and record.resolved_by == "root"
    assert Invoice.objects.filter(invoice_number="2210402458214").exists()


def test_quarantine_admin_is_scoped_to_the_staff_biller(client, django_user_model, load_sample, make_biller,
                                                        tmp_path):
    text = (SAMPLES / "daffron_2778_11202026.BIF").read_text().replace("|11/21/2026|156.25|", "|11/21/2026|x|")
    path = tmp_path / "2778_11202026.BIF"
    path.write_text(text.replace("|4|473.60", "|4|317.35"))
    load_sample("daffron", path, policy="quarantine")
    assert QuarantinedRecord.objects.count() == 1
    other = make_biller("daffron", 9999)
    group = Group.objects.create(name="other staff")
    group.permissions.set(Permission.objects.filter(codename="view_quarantinedrecord"))
    BillerStaffScope.objects.create(group=group, biller=other)
    user = django_user_model.objects.create_user("staff", password="pw-for-tests-only", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    listing = client.get(reverse("admin:exchanges_quarantinedrecord_changelist"))
    assert listing.status_code == 200 and "0 quarantined records" in listing.content.decode()


def test_column_mapping_reset_to_default_and_used_by_the_parser(admin_client, intake_biller, load_sample):
    biller = intake_biller("aus")
    InvoiceColumnMapping.objects.create(biller=biller, column=1, bif_field="AccountNumber", row_type="CR")
    response = admin_client.post(reverse("admin:exchanges_invoicecolumnmapping_changelist"),
                                 {"action": "reset_to_default",
                                  "_selected_action": list(InvoiceColumnMapping.objects.values_list("pk", flat=True))})
    assert response.status_code == 302
    assert InvoiceColumnMapping.objects.filter(biller=biller).count() == 27
    InvoiceColumnMapping.objects.filter(biller=biller, column=4).update(bif_field="CustomerName2")
    InvoiceColumnMapping.objects.filter(biller=biller, column=5).update(bif_field="CustomerName")
    exchange = load_sample("aus", "123_20261120_UB.TXT")
    assert exchange.status == "succeeded"
    assert Invoice.objects.get(invoice_number="UB-2026-1120-0001").account.name == "1400 HARBOR VIEW DR"
