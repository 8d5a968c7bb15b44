"""The operations dashboard on the admin index: figures, links, order, progress, plots, query count."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exchanges.dashboard import biller_table
from exchanges.dashboard_series import (
    invoices_per_day,
    pump_per_day,
    recent_failures,
    rtdr_latency,
    running_exchanges,
)
from tests.exchanges.dashboard_helpers import connection, download, event, exchange, export_file, health

INDEX = "/admin/"


@pytest.fixture(autouse=True)
def fresh_cache():
    """The plots cache closed days: each test starts without another test's figures."""
    from django.core.cache import cache

    cache.clear()


def busy_biller(make_biller, bid: int, *, partner: str = "daffron"):
    """A biller with some of everything the dashboard counts."""
    biller = make_biller(partner, bid, status="live")
    exchange(biller, counts={"invoices": 10})
    exchange(biller, kind="rtdr", counts={"duration_ms": 120.0})
    event(biller, status="delivered")
    event(biller, status="pending")
    health(biller, recent=[[1, 100.0], [1, 200.0]])
    download(export_file(biller))
    connection(biller)
    return biller


def index_queries(client) -> tuple[int, str]:
    from django.core.cache import cache

    cache.clear()  # compare cold renders: the plots' closed days are counted both times
    with CaptureQueriesContext(db) as queries:
        response = client.get(INDEX)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_query_count_does_not_grow_with_the_number_of_billers(admin_client, make_biller):
    for bid in (101, 102):
        busy_biller(make_biller, bid)
    make_biller("aus", 103)  # onboarding, no import yet: the history of billers not seen lately is queried too
    few, page = index_queries(admin_client)
    assert 'id="ops-dashboard"' in page and "102 Biller 102" in page
    for bid in range(200, 230):
        busy_biller(make_biller, bid, partner="aus" if bid % 2 else "cayenta")
    many, page = index_queries(admin_client)
    assert "229 Biller 229" in page
    assert many == few, f"{few} queries for 2 billers, {many} for 32"

    with CaptureQueriesContext(db) as queries:
        biller_table()
    assert len(queries) == 9


def test_problem_rows_come_first_urgent_before_watch(make_biller):
    healthy = busy_biller(make_biller, 301)
    unknown = make_biller("daffron", 302, status="live")
    event(unknown, status="unknown")
    event(unknown, status="retrying")  # retrying alone is no problem: the pump is doing its job
    dead = make_biller("daffron", 303, status="live")
    event(dead, status="dead")
    open_breaker = make_biller("aus", 304, status="live")
    health(open_breaker, recent=[[0, 5000.0]], breaker="open")

    table = biller_table()
    order = [row.bid for row in table.billers]
    # urgent rows first (more problems before fewer), then rows to watch, then the healthy ones
    assert order == [304, 303, 302, healthy.bid]
    assert table.problem_billers == 3
    assert table.billers[0].problems == ["RTDR breaker open", "RTDR success low"]
    assert table.billers[1].problems == ["dead pump events"] and table.billers[1].severity == 2
    assert table.billers[2].problems == ["unknown outcomes"] and table.billers[2].severity == 1
    daffron = next(p for p in table.partners if p.label.startswith("Daffron"))
    assert daffron.severity == 2 and daffron.dead.value == 1 and daffron.retrying.value == 1
    assert daffron.problems == ["2 of 3 with problems"]


def test_rows_beyond_the_limit_are_hidden_the_most_urgent_kept(make_biller):
    for bid in range(400, 406):
        make_biller("daffron", bid, status="live")
    event(make_biller("daffron", 499, status="live"), status="dead")
    event(make_biller("daffron", 498, status="live"), status="unknown")
    table = biller_table(limit=3)
    assert [r.bid for r in table.billers] == [499, 498, 400]
    assert table.hidden == 5 and table.total_billers == 8 and table.problem_billers == 2
    table = biller_table(limit=1)
    assert [r.bid for r in table.billers] == [499] and table.hidden == 7
    assert len(biller_table(limit=None).billers) == 8


def test_every_number_links_to_a_changelist_that_accepts_the_filter_and_counts_the_same(admin_client, make_biller):
    biller = busy_biller(make_biller, 501)
    other = busy_biller(make_biller, 502)
    for status in ("dead", "dead", "retrying", "unknown"):
        event(biller, status=status)
    event(other, status="dead")
    exchange(biller, status="failed", errors=[{"line": 3, "field": "Amount", "message": "not a number"}])
    connection(biller, last_error="host key mismatch")
    table = biller_table()
    row = next(r for r in table.billers if r.bid == 501)
    partner = next(p for p in table.partners if p.partner_id == biller.partner_id)

    expected = {"depth": 3, "retrying": 1, "unknown": 1, "dead": 2, "exports": 1, "downloads": 1,
                "failing_connections": 1}
    for name, value in expected.items():
        figure = getattr(row, name)
        assert figure.value == value, name
        response = admin_client.get(figure.url)
        assert response.status_code == 200, (name, figure.url)
        assert response.context["cl"].result_count == value, (name, figure.url)
    assert row.rtdr_rate.value == 1.0
    assert admin_client.get(row.rtdr_rate.url).context["cl"].result_count == 1
    invoices = admin_client.get(row.last_import.url)
    assert invoices.context["cl"].result_count == 2  # the successful import and the failed one
    for name in ("depth", "dead", "exports", "failing_connections"):  # partner rows filter by partner
        figure = getattr(partner, name)
        response = admin_client.get(figure.url)
        assert response.status_code == 200 and "?e=1" not in response.get("Location", ""), figure.url
        assert response.context["cl"].result_count == figure.value, (name, figure.url)
    assert partner.dead.value == 3


def test_last_successful_import_and_a_failed_latest_attempt(make_biller):
    biller = make_biller("daffron", 601, status="live")
    now = timezone.now()
    exchange(biller, at=now - timedelta(days=2))
    good = exchange(biller, at=now - timedelta(days=1), status="partial")
    exchange(biller, at=now - timedelta(hours=1), status="failed")
    exchange(biller, kind="balances", at=now)  # not an invoice import
    row = biller_table().billers[0]
    assert row.last_import_at == good.created_at
    assert row.import_failed and "last import failed" in row.problems and row.severity == 2

    quiet = make_biller("daffron", 602, status="live")  # nothing in the last 3 days: found in the history
    old = exchange(quiet, at=now - timedelta(days=40))
    exchange(quiet, at=now - timedelta(days=2), status="failed")
    never = make_biller("daffron", 603, status="live")
    exchange(never, at=now - timedelta(days=20), status="failed")
    rows = {r.bid: r for r in biller_table().billers}
    assert (rows[602].last_import_at, rows[602].import_failed) == (old.created_at, True)
    assert (rows[603].last_import_at, rows[603].import_failed) == (None, True)
    assert rows[601].last_import_at == good.created_at


def test_rtdr_success_rate_p95_and_worst_breaker_across_endpoints(make_biller):
    biller = make_biller("aus", 701, status="live")
    health(biller, recent=[[1, float(ms)] for ms in range(10, 181, 10)] + [[0, 5000.0], [0, 4000.0]])
    from billers.rtdr_models import RtdrHealth

    RtdrHealth.objects.create(biller=biller, endpoint="https://backup.example/", breaker_state="half_open",
                              recent=[])
    row = biller_table().billers[0]
    assert row.rtdr_rate.value == pytest.approx(18 / 20)
    assert row.rtdr_p95 == 4000.0  # nearest rank: the 19th of 20 sorted durations
    assert row.breaker == "half_open" and "RTDR breaker open" in row.problems


def test_exports_and_downloads_count_the_last_seven_days_only(make_biller):
    biller = make_biller("flexibill", 801, status="live")
    now = timezone.now()
    old = export_file(biller, at=now - timedelta(days=9))
    new = export_file(biller, at=now - timedelta(days=1))
    download(old, at=now - timedelta(days=8))
    download(old, at=now - timedelta(hours=2))
    download(new)
    row = biller_table().billers[0]
    assert (row.exports.value, row.downloads.value) == (1, 2)


def test_billers_not_live_link_their_onboarding_checklist(admin_client, make_biller):
    onboarding = make_biller("daffron", 901)  # status defaults to onboarding
    make_biller("daffron", 902, status="live")
    page = admin_client.get(INDEX).content.decode()
    links = re.findall(r'<a class="ops-checklist" href="([^"]+)"', page)
    assert links == [reverse("admin:billers_biller_change", args=[onboarding.pk])]
    checklist = admin_client.get(links[0]).content.decode()
    assert 'class="onboarding-checklist"' in checklist and "Missing setting" in checklist


def test_biller_staff_see_only_their_billers(client, django_user_model, make_biller):
    from django.contrib.auth.models import Group

    from billers.models import BillerStaffScope

    mine, theirs = make_biller("daffron", 1001, status="live"), make_biller("daffron", 1002, status="live")
    event(theirs, status="dead")
    exchange(theirs, status="running", progress_done=5, progress_total=10, started_at=timezone.now())
    group = Group.objects.create(name="Biller 1001 staff")
    BillerStaffScope.objects.create(group=group, biller=mine)
    user = django_user_model.objects.create_user("staff1001", password="pw", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    page = client.get(INDEX).content.decode()
    assert "1001 Biller 1001" in page and "1002 Biller 1002" not in page
    data = client.get(reverse("ops_progress")).json()
    assert data["exchanges"] == []


def test_progress_json_is_staff_only_and_reports_rate_time_left_and_finish(admin_client, django_user_model,
                                                                          make_biller):
    from django.test import Client

    url = reverse("ops_progress")
    assert Client().get(url).status_code == 403
    not_staff = Client()
    not_staff.force_login(django_user_model.objects.create_user("payer", password="pw"))
    assert not_staff.get(url).status_code == 403

    biller = make_biller("daffron", 1101, status="live")
    now = timezone.now()
    running = exchange(biller, status="running", progress_done=500, progress_total=2000,
                       started_at=now - timedelta(seconds=10), file_name="daffron_1101.BIF")
    finished = exchange(biller, status="succeeded", progress_done=2000, progress_total=2000)
    stale = exchange(biller, status="running", at=now - timedelta(days=5))

    data = admin_client.get(url, {"ids": f"{finished.pk},x"}).json()
    by_id = {x["id"]: x for x in data["exchanges"]}
    assert set(by_id) == {running.pk, finished.pk}, "running ones of the last 3 days, plus the ids asked for"
    shown = by_id[running.pk]
    assert shown["percent"] == 25.0 and shown["rows_text"] == "500 / 2,000" and not shown["finished"]
    assert 45 <= shown["rate"] <= 50 and 28 <= shown["seconds_left"] <= 31
    assert by_id[finished.pk]["finished"] and by_id[finished.pk]["percent"] == 100.0
    assert by_id[finished.pk]["left_text"] == "done"
    assert stale.pk not in by_id
    assert shown["url"] == reverse("admin:exchanges_invoiceupload_progress", args=[running.pk])

    page = admin_client.get(INDEX).content.decode()
    assert f'data-id="{running.pk}"' in page and 'style="width: 25.0%"' in page
    assert f'data-url="{url}"' in page and "dashboard/dashboard.js" in page


def test_last_twenty_failures_newest_first_with_their_first_error_line(make_biller):
    biller = make_biller("daffron", 1201, status="live")
    now = timezone.now()
    for i in range(25):
        exchange(biller, status="failed", at=now - timedelta(minutes=i), file_name=f"f{i}.BIF",
                 errors=[{"line": i + 1, "field": "InvoiceNumber", "message": "missing"}] + [{"line": 0}] * 3)
    exchange(biller, status="failed", at=now - timedelta(days=40), file_name="ancient.BIF")
    exchange(biller, kind="pump", status="failed", at=now + timedelta(seconds=1), message="Connection refused\nmore")
    found = recent_failures()
    assert len(found) == 20
    assert found[0]["error"] == "Connection refused"
    assert found[1]["file_name"] == "f0.BIF" and found[1]["error"] == "line 1: InvoiceNumber: missing"
    assert "ancient.BIF" not in {f["file_name"] for f in found}


def test_series_invoices_pump_outcomes_and_rtdr_latency(make_biller):
    a, b = make_biller("daffron", 1301, status="live"), make_biller("daffron", 1302, status="live")
    now = timezone.now()
    exchange(a, counts={"invoices": 120}, at=now)
    exchange(b, counts={"invoices": 30}, at=now, kind="replacements")
    exchange(a, counts={"invoices": 7}, at=now - timedelta(days=1))
    exchange(a, counts={"invoices": 999}, status="failed", at=now)
    for status in ("delivered", "delivered", "retrying", "dead", "for_export"):
        event(a, status=status)
    event(a, status="delivered", event_type="autopay_change")
    for ms, status in ((80.0, "succeeded"), (90.0, "succeeded"), (150.0, "succeeded"), (4200.0, "failed")):
        exchange(a, kind="rtdr", status=status, counts={"duration_ms": ms}, at=now)

    days = invoices_per_day(now=now)
    assert len(days) == 14 and days[-1][1:] == (150, 2) and days[-2][1:] == (7, 1)
    assert invoices_per_day(biller_ids={b.pk}, now=now)[-1][1:] == (30, 1)
    _, pumped = pump_per_day(now=now)
    assert (pumped["delivered"][-1], pumped["waiting"][-1], pumped["dead"][-1]) == (2, 1, 1)
    hours = rtdr_latency(now=now)
    last = hours[-1]
    assert len(hours) == 24 and (last.calls, last.failed) == (4, 1)
    assert last.avg_ms == pytest.approx((80 + 90 + 150 + 4200) / 4, abs=0.1)
    assert last.p95_ms == 5000.0  # the bucket holding the 95th percentile call
    assert rtdr_latency(biller_ids={b.pk}, now=now)[-1].calls == 0


def test_dashboard_plots_render_as_inline_svg_for_all_billers_or_one(admin_client, make_biller):
    a = busy_biller(make_biller, 1401)
    busy_biller(make_biller, 1402)
    page = admin_client.get(INDEX).content.decode()
    assert page.count('<svg class="ops-plot"') == 3
    assert "20 in 2 files" in unescape(page)
    page = admin_client.get(INDEX, {"ops_biller": a.pk}).content.decode()
    assert "10 in 1 file," in unescape(page) and f'<option value="{a.pk}" selected>' in page
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", page.split('id="ops-dashboard"')[1]
                                   .split("</section>")[0]), "no remote assets"


def test_running_exchanges_include_pending_ones_oldest_first(make_biller):
    biller = make_biller("daffron", 1501)
    now = timezone.now()
    second = exchange(biller, status="pending", at=now)
    first = exchange(biller, status="running", at=now - timedelta(minutes=5), progress_done=1,
                     started_at=now - timedelta(minutes=5))
    assert [x["id"] for x in running_exchanges(now=now)] == [first.pk, second.pk]
    assert running_exchanges(now=now)[1]["rate_text"] == "—"


def test_closed_days_of_the_plots_are_cached_and_today_counted_live(make_biller):
    from django.core.cache import cache

    biller = make_biller("daffron", 1601, status="live")
    now = timezone.now()
    assert invoices_per_day(now=now)[-2][1] == 0
    exchange(biller, counts={"invoices": 5}, at=now - timedelta(days=1))
    exchange(biller, counts={"invoices": 7}, at=now)
    days = invoices_per_day(now=now)
    assert days[-1][1] == 7, "today is live"
    assert days[-2][1] == 0, "yesterday comes from the cache for a while"
    cache.clear()
    assert invoices_per_day(now=now)[-2][1] == 5
