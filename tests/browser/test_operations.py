"""Daily operations in the real admin, in Chromium: upload an invoice file and watch it load, resend a
dead pump event with a reason, download an export as biller staff."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.exchanges.dashboard_helpers import event, export_file

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fresh_cache():
    """The dashboard's plots cache closed days: start without another test's figures."""
    from django.core.cache import cache

    cache.clear()
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture
def q_sync(settings, monkeypatch):
    """Queued tasks run inline in the server thread, as the cluster would run them."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)  # Conf reads the setting once, at import


def test_upload_an_invoice_file_and_watch_the_progress_bar_reach_done(login, live_server, make_biller, q_sync,
                                                                      settings, tmp_path):
    from exchanges.models import Exchange

    settings.DATA_DIR = tmp_path
    biller = make_biller("flexibill", 4411, status="live")
    page = login()
    page.goto(f"{live_server.url}/admin/")
    assert "none" in page.inner_text('#ops-biller-table tr[data-biller="4411"] td:nth-child(3)')

    page.goto(f"{live_server.url}/admin/exchanges/invoiceupload/add/")
    page.select_option("#id_biller", value=str(biller.pk))
    page.select_option("#id_kind", value="invoices")
    page.set_input_files("#id_file", str(SAMPLES / "flexibill_4411.BIF"))
    page.click("#upload-form input[type=submit]")
    page.wait_for_selector("#import-progress")
    page.wait_for_function("document.getElementById('status').textContent === 'succeeded'", timeout=15000)
    bar = page.evaluate("(() => { const b = document.getElementById('bar'); return [b.value, b.max]; })()")
    assert bar[0] == bar[1] > 0, "the bar is full"
    exchange = Exchange.objects.get(biller=biller, kind="invoices")
    assert exchange.status == "succeeded" and exchange.source == "upload" and exchange.counts["invoices"] > 0
    assert f"{exchange.progress_done} / {exchange.progress_total} records" in page.inner_text("#numbers")

    page.goto(f"{live_server.url}/admin/")
    cell = page.locator('#ops-biller-table tr[data-biller="4411"] td:nth-child(3)')
    assert "ago" in cell.inner_text() and "none" not in cell.inner_text()
    assert page.locator("#plot-invoices figcaption").inner_text().startswith("Invoices loaded per day")
    assert f"{exchange.counts['invoices']} in 1 file" in page.inner_text("#plot-invoices figcaption")


def test_open_a_dead_pump_event_and_resend_it_with_a_reason(login, live_server, make_biller):
    from payments.outbox_models import OutboxEvent

    biller = make_biller("daffron", 2778, status="live")
    dead = event(biller, status="dead", attempts=8, account_number="1000-01",
                 last_error="Fault: account 1000-01 is closed (permanent)")
    page = login()
    page.goto(f"{live_server.url}/admin/")
    page.locator('#ops-biller-table tr[data-biller="2778"] td.bad a.fig').first.click()
    page.wait_for_selector("#result_list")
    page.click(f'#result_list a[href*="/{dead.pk}/change/"]')
    page.wait_for_selector("#outboxevent_form")
    assert "account 1000-01 is closed" in page.inner_text("#content")

    page.go_back()
    page.wait_for_selector("#result_list")
    page.check(f'#result_list input[name=_selected_action][value="{dead.pk}"]')
    page.select_option("select[name=action]", value="resend_events")
    page.click("button[name=index]")
    page.wait_for_selector("#outbox-action-reason")
    page.click("#outbox-action-reason input[type=submit]")  # no reason: the form refuses to go
    assert page.evaluate("document.getElementById('id_reason').validity.valueMissing") is True
    assert page.locator("#outbox-action-reason").count() == 1
    dead.refresh_from_db()
    assert dead.status == "dead"
    page.fill("#id_reason", "Checked in Daffron: the account was reopened, payment not there.")
    page.click("#outbox-action-reason input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "1 event(s) queued for delivery again" in page.inner_text(".messagelist")
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.manual_action) == ("pending", 0, "resend")
    assert dead.manual_reason.startswith("Checked in Daffron") and dead.manual_by.username == "im"
    assert OutboxEvent.objects.filter(status="dead").count() == 0


def test_biller_staff_download_their_export_and_never_see_another_billers(login, live_server, settings, tmp_path,
                                                                          django_user_model):
    from django.contrib.auth.models import Group

    from billers.demo import DEMO_DAY, seed_demo
    from payments.batch_models import ExportDownload, ExportFile
    from payments.batches import batch_close
    from payments.exports import batch_export, file_path

    settings.DATA_DIR = tmp_path
    billers = {b.bid: b for b in seed_demo()}
    batch_export(batch=batch_close(biller=billers[4411], business_date=DEMO_DAY))  # the FlexiBill files
    theirs = [export_file(billers[123], name="CloudPay_123_20261120.csv", path="exports/123/CloudPay.csv")]
    (tmp_path / "exports" / "123").mkdir(parents=True)
    (tmp_path / "exports" / "123" / "CloudPay.csv").write_text("account,amount\n")
    mine = list(ExportFile.objects.filter(biller=billers[4411]))
    assert len(mine) == 4, "payments and three change-log files"
    staff = django_user_model.objects.create_user("coop-staff", "staff@coop.example", "staff-pw-123", is_staff=True)
    staff.groups.add(Group.objects.get(name="Biller 4411 staff"))

    page = login("coop-staff", "staff-pw-123", superuser=False)
    page.goto(f"{live_server.url}/admin/payments/exportfile/")
    listed = page.locator("#result_list tbody tr")
    names = {listed.nth(i).locator("th, td").first.inner_text() for i in range(listed.count())}
    assert names == {f.file_name for f in mine}
    assert not names & {f.file_name for f in theirs}

    payments = next(f for f in mine if f.kind == "payments")
    with page.expect_download() as info:
        page.locator("#result_list tr", has_text=payments.file_name).locator("a", has_text="Download").click()
    download = info.value
    assert download.suggested_filename == payments.file_name
    assert Path(download.path()).read_bytes() == file_path(payments).read_bytes()
    logged = ExportDownload.objects.get()
    assert (logged.file_id, logged.username) == (payments.pk, "coop-staff")

    response = page.request.get(f"{live_server.url}/admin/payments/exportfile/{theirs[0].pk}/download/")
    assert response.status == 404, "another biller's file, even by its URL"
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#ops-biller-table tbody.ops-billers tr").count() == 1, "the dashboard shows their biller only"
    assert page.locator('#ops-biller-table tr[data-biller="4411"]').count() == 1
