"""Operations alerts: raised by condition, one open alert and one mail per outage, resolved when clear."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from exchanges.alerts import ensure_schedules, raise_alerts
from exchanges.dashboard_models import Alert, ArrivalWindow
from tests.exchanges.dashboard_helpers import connection, event, exchange, health

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def alert_mail(settings):
    from django.core.cache import cache

    cache.clear()  # the dashboard's plots cache closed days
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ADMINS = []


def open_alerts() -> list[Alert]:
    return list(Alert.objects.filter(resolved_at__isnull=True).order_by("id"))


def test_dead_events_raise_one_alert_and_one_mail_however_long_the_outage(make_biller, mailoutbox):
    biller = make_biller("daffron", 2778, status="live")
    event(biller, status="dead", last_error="Fault: account closed\n<soap:Envelope>")
    now = timezone.now()
    for minutes in range(0, 60, 5):  # an hour of the 5-minute schedule
        event(biller, status="dead")
        raise_alerts(now=now + timedelta(minutes=minutes))
    [alert] = open_alerts()
    assert alert.kind == "dead_event" and alert.key == f"dead_event:biller:{biller.pk}" and alert.count == 12
    assert alert.message.startswith("13 dead pump events for biller 2778") and alert.biller == biller
    assert alert.link.endswith(f"?status__exact=dead&biller__id__exact={biller.pk}")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ops@example.com"] and "1 new operations alert: dead pump events" in mail.subject
    assert "dead pump event" in mail.body and alert.emailed_at is not None


def test_condition_cleared_resolves_and_its_return_opens_a_new_alert_with_a_new_mail(make_biller, mailoutbox):
    biller = make_biller("daffron", 2778, status="live")
    dead = event(biller, status="dead")
    now = timezone.now()
    raise_alerts(now=now)
    dead.status = "pending"
    dead.save()  # an IM resent it
    assert raise_alerts(now=now + timedelta(minutes=5)) == "opened 0, refreshed 0, resolved 1, mailed 0"
    assert open_alerts() == []
    first = Alert.objects.get()
    assert first.resolved_at == now + timedelta(minutes=5)

    event(biller, status="dead")
    raise_alerts(now=now + timedelta(minutes=10))
    [second] = open_alerts()
    assert second.pk != first.pk and second.first_seen == now + timedelta(minutes=10) and second.count == 1
    assert len(mailoutbox) == 2


def test_an_outage_across_many_billers_sends_one_mail(make_biller, mailoutbox):
    for bid in range(3000, 3040):
        event(make_biller("daffron", bid, status="live"), status="dead")
    raise_alerts()
    raise_alerts()
    assert len(open_alerts()) == 40
    assert len(mailoutbox) == 1 and "40 new operations alerts" in mailoutbox[0].subject
    assert mailoutbox[0].body.count("- Dead pump events:") == 40


def test_a_flapping_breaker_is_one_outage_until_closed_for_a_quarter_hour(make_biller, mailoutbox):
    biller = make_biller("aus", 123, status="live")
    row = health(biller, recent=[[0, 5000.0]], breaker="open", last_error="timed out after 5 s")
    now = timezone.now()
    states = ["open", "closed", "half_open", "closed", "open", "closed"]
    for i, state in enumerate(states):  # every 5 minutes: open, closed, half-open trial, ...
        row.breaker_state = state
        row.save()
        raise_alerts(now=now + timedelta(minutes=5 * i))
    [alert] = open_alerts()
    assert alert.kind == "breaker_open" and "timed out after 5 s" in alert.message and alert.count == 3
    assert len(mailoutbox) == 1
    raise_alerts(now=now + timedelta(minutes=5 * 4 + 15))  # closed since the last open sighting + 15 min
    assert open_alerts() == []
    assert len(mailoutbox) == 1


def test_failed_import_raises_until_a_later_import_of_that_kind_succeeds(make_biller, mailoutbox):
    biller = make_biller("flexibill", 4411, status="live")
    now = timezone.now()
    exchange(biller, at=now - timedelta(hours=3))
    failed = exchange(biller, status="failed", at=now - timedelta(hours=1), file_name="flexibill_4411.BIF",
                      errors=[{"line": 7, "field": "Amount", "value": "12,5", "message": "not a decimal"}])
    exchange(biller, kind="balances", at=now)  # another kind does not clear it
    raise_alerts(now=now)
    [alert] = open_alerts()
    assert alert.key == f"import_failed:{biller.pk}:invoices"
    assert alert.message == (f"Invoices import #{failed.pk} flexibill_4411.BIF failed for biller 4411 Biller 4411: "
                             "line 7: Amount: not a decimal")
    assert alert.link == f"/admin/exchanges/exchange/{failed.pk}/change/"
    exchange(biller, at=now + timedelta(minutes=1))
    raise_alerts(now=now + timedelta(minutes=5))
    assert open_alerts() == [] and len(mailoutbox) == 1


def test_a_missing_file_is_alerted_after_its_window_and_grace_and_cleared_by_its_arrival(make_biller, mailoutbox):
    biller = make_biller("daffron", 2778, status="live", time_zone="America/Chicago")
    conn = connection(biller)
    window = ArrivalWindow.objects.create(connection=conn, weekdays="1,2,3,4,5", expected_by=time(6, 0),
                                          grace_minutes=30)
    monday = datetime(2026, 11, 16, tzinfo=CHICAGO)
    exchange(biller, at=monday - timedelta(days=3, hours=1))  # Thursday night's file covered Friday

    raise_alerts(now=monday.replace(hour=6, minute=29))
    assert open_alerts() == [], "still within the grace period"
    raise_alerts(now=monday.replace(hour=6, minute=31))
    [alert] = open_alerts()
    assert alert.key == f"missing_file:window:{window.pk}" and alert.kind == "missing_file"
    assert "No invoices file for biller 2778" in alert.message and "06:00 America/Chicago on Mon 2026-11-16" in alert.message
    assert len(mailoutbox) == 1

    exchange(biller, at=monday.replace(hour=7))  # the file arrives late
    raise_alerts(now=monday.replace(hour=7, minute=5))
    assert open_alerts() == []


def test_no_file_is_expected_on_days_outside_the_window(make_biller):
    biller = make_biller("daffron", 2778, status="live", time_zone="America/Chicago")
    ArrivalWindow.objects.create(connection=connection(biller), weekdays="1,2,3,4,5", expected_by=time(6, 0))
    friday = datetime(2026, 11, 20, 5, 0, tzinfo=CHICAGO)
    exchange(biller, at=friday)
    raise_alerts(now=friday + timedelta(days=2))  # Sunday 05:00: Friday's file counts, nothing due since
    assert open_alerts() == []
    raise_alerts(now=friday + timedelta(days=3, hours=1, minutes=31))  # Monday 06:31: Monday's file is missing
    assert [a.kind for a in open_alerts()] == ["missing_file"]


def test_disabled_windows_and_connections_raise_nothing(make_biller):
    biller = make_biller("daffron", 2778, status="live")
    ArrivalWindow.objects.create(connection=connection(biller), weekdays="1,2,3,4,5,6,7", expected_by=time(0, 0),
                                 enabled=False)
    ArrivalWindow.objects.create(connection=connection(biller, enabled=False), weekdays="1,2,3,4,5,6,7",
                                 expected_by=time(0, 0))
    raise_alerts()
    assert open_alerts() == []


def test_a_failed_mail_is_sent_by_the_next_run(make_biller, mailoutbox):
    event(make_biller("daffron", 2778, status="live"), status="dead")
    with mock.patch("exchanges.alerts.send_mail", side_effect=OSError("SMTP down")):
        assert raise_alerts().endswith("mailed 0")
    assert open_alerts()[0].emailed_at is None and mailoutbox == []
    assert raise_alerts().endswith("mailed 1")
    assert len(mailoutbox) == 1
    raise_alerts()
    assert len(mailoutbox) == 1


def test_admins_are_mailed_without_alert_emails_and_nobody_when_neither_is_set(settings, make_biller, mailoutbox):
    event(make_biller("daffron", 2778, status="live"), status="dead")
    settings.ALERT_EMAILS = None
    raise_alerts()
    assert mailoutbox == [] and open_alerts()[0].emailed_at is None, "kept until someone can be mailed"
    settings.ADMINS = [("Ops", "admins@example.com")]
    raise_alerts()
    assert [m.to for m in mailoutbox] == [["admins@example.com"]]


def test_ensure_schedules_is_idempotent(db):
    from django_q.models import Schedule

    assert ensure_schedules() == "created"
    assert ensure_schedules() == "unchanged"
    schedule = Schedule.objects.get(name="operations alerts")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == ("exchanges.alerts.raise_alerts", "I", 5)
    Schedule.objects.filter(pk=schedule.pk).update(minutes=60)
    assert ensure_schedules() == "updated" and Schedule.objects.count() == 1


def test_open_alerts_show_on_the_dashboard_and_in_admin(admin_client, make_biller):
    biller = make_biller("daffron", 2778, status="live")
    event(biller, status="dead")
    raise_alerts()
    page = admin_client.get("/admin/").content.decode()
    assert 'id="ops-alerts"' in page and "1 dead pump event for biller 2778" in page
    listing = admin_client.get("/admin/exchanges/alert/", {"state": "open", "biller__id__exact": biller.pk})
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1


def test_arrival_window_admin_saves_weekdays_and_installs_the_schedule(admin_client, make_biller):
    from django_q.models import Schedule

    conn = connection(make_biller("daffron", 2778))
    response = admin_client.post("/admin/exchanges/arrivalwindow/add/", {
        "connection": conn.pk, "weekdays": ["1", "3", "5"], "expected_by": "06:00", "grace_minutes": "20",
        "enabled": "on", "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    window = ArrivalWindow.objects.get()
    assert window.weekdays == "1,3,5" and str(window).endswith("by 06:00 on Mon, Wed, Fri")
    assert Schedule.objects.filter(name="operations alerts").exists()


def test_raise_alerts_command_dry_run_lists_and_the_real_run_mails(make_biller, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    event(make_biller("daffron", 2778, status="live"), status="dead")
    out = StringIO()
    call_command("raise_alerts", "--dry-run", stdout=out)
    assert out.getvalue().startswith("dead_event\tdead_event:biller:") and not Alert.objects.exists()
    out = StringIO()
    call_command("raise_alerts", stdout=out)
    assert out.getvalue().strip() == "opened 1, refreshed 0, resolved 0, mailed 1" and len(mailoutbox) == 1
    out = StringIO()
    call_command("raise_alerts", "--schedule", stdout=out)
    assert out.getvalue().strip() == "schedule created"
