"""The operations dashboard in Chromium: problem rows first, links to the lists behind the numbers,
live progress bars."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import ARTIFACTS
from tests.browser.dashboard_scenario import morning
from tests.exchanges.dashboard_helpers import exchange

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fresh_cache():
    """The dashboard's plots cache closed days: start without another test's figures."""
    from django.core.cache import cache

    cache.clear()


def test_dashboard_shows_problem_rows_first_and_each_number_opens_its_list(login, live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    morning()
    page = login()
    page.goto(f"{live_server.url}/admin/")
    rows = page.locator("#ops-biller-table tbody.ops-billers tr")
    bids = [rows.nth(i).get_attribute("data-biller") for i in range(rows.count())]
    assert set(bids[:4]) == {"123", "1368", "1966", "2778"}, "urgent rows first"
    assert bids[-2:] == ["4411", "5120"], "healthy and onboarding rows last"
    assert "severity-2" in rows.first.get_attribute("class")
    assert rows.locator("a.ops-checklist").count() == 1  # only 5120 is not live

    alerts = page.locator("#ops-alerts tbody tr")
    assert alerts.count() == 4
    assert {alerts.nth(i).get_attribute("class").split()[-1] for i in range(4)} == {
        "missing_file", "dead_event", "breaker_open", "import_failed"}
    assert page.locator("#ops-dashboard svg.ops-plot").count() == 3
    assert "Lakeside Water District" in page.inner_text("#ops-billers")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#ops-dashboard").screenshot(path=str(ARTIFACTS / "dashboard.png"))  # docs/dashboard.png

    # the dead count of 2778 opens the outbox list filtered to exactly those events
    dead = page.locator('#ops-biller-table tr[data-biller="2778"] td.bad a.fig').first
    assert dead.inner_text() == "3"
    dead.click()
    page.wait_for_selector("#result_list")
    assert "/admin/payments/outboxevent/" in page.url
    assert page.locator("#result_list tbody tr").count() == 3
    assert page.locator("#result_list tbody tr", has_text="Dead").count() == 3

    # the failed-import badge's row links to the biller's invoice imports; the alert opens the failed exchange
    page.goto(f"{live_server.url}/admin/")
    page.locator("#ops-alerts tr.import_failed a").click()
    page.wait_for_selector("#exchange_form")
    assert "not a decimal amount" in page.inner_text("#content")

    # the onboarding link opens the biller with its checklist
    page.goto(f"{live_server.url}/admin/")
    page.click("a.ops-checklist")
    page.wait_for_selector(".field-checklist")
    assert "Missing setting" in page.inner_text(".field-checklist")


def test_running_exchange_progress_bar_moves_without_a_reload_and_reaches_done(login, live_server, make_biller):
    from exchanges.models import Exchange

    biller = make_biller("flexibill", 4411, status="live")
    x = exchange(biller, status="running", file_name="flexibill_4411.BIF", progress_done=0, progress_total=1000,
                 started_at=timezone.now() - timedelta(seconds=4))
    page = login()
    page.goto(f"{live_server.url}/admin/")
    page.evaluate("window.__notReloaded = true")
    bar = f'#ops-running tr[data-id="{x.pk}"] .ops-bar > span'
    assert page.evaluate("s => parseFloat(document.querySelector(s).style.width)", bar) == 0

    Exchange.objects.filter(pk=x.pk).update(progress_done=600)
    page.wait_for_function("s => document.querySelector(s).style.width === '60%'", arg=bar, timeout=10000)
    row = page.locator(f'#ops-running tr[data-id="{x.pk}"]')
    assert row.locator(".x-rows").inner_text() == "600 / 1,000"
    assert "rows/s" in row.locator(".x-rate").inner_text() and " s" in row.locator(".x-left").inner_text()

    Exchange.objects.filter(pk=x.pk).update(progress_done=1000, status="succeeded", finished_at=timezone.now())
    page.wait_for_function("s => document.querySelector(s).style.width === '100%'", arg=bar, timeout=10000)
    page.wait_for_function(
        "id => document.querySelector(`#ops-running tr[data-id='${id}'] .x-status`).textContent === 'succeeded'",
        arg=str(x.pk), timeout=10000)
    assert row.locator(".x-left").inner_text() == "done"
    assert page.evaluate("window.__notReloaded") is True

    # an exchange started after the page loaded appears by itself
    later = exchange(biller, status="running", file_name="flexibill_4411.BRF", progress_done=10, progress_total=20,
                     started_at=timezone.now())
    page.wait_for_selector(f'#ops-running tr[data-id="{later.pk}"]', timeout=10000)
    assert page.locator(f'#ops-running tr[data-id="{later.pk}"] .x-rows').inner_text() == "10 / 20"
