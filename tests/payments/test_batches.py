"""Closing each biller's day into a batch in its own time zone, the scheduled task, and reconciliation."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from billers.models import BillerStaffScope, BillerStatus
from payments import reconciliation
from payments.batch_models import (
    Batch,
    BatchExportStatus,
    ExportDelivery,
    ExportDrop,
    ExportFile,
    ReconciliationStatus,
)
from payments.batches import (
    CLOSE_GRACE,
    batch_close,
    close_due_batches,
    close_instant,
    days_to_close,
    due_business_date,
    ensure_schedules,
)
from payments.exports import file_path
from tests.payments.batch_helpers import DAY, account, local, pay
from tests.exchanges.transport_servers import SftpServer

pytestmark = pytest.mark.django_db
NEXT = DAY + timedelta(days=1)



@pytest.fixture
def flexibill(make_biller):
    return make_biller("flexibill", 4411, time_zone="America/Chicago", status=BillerStatus.LIVE)


@pytest.fixture
def daffron(make_biller):
    return make_biller("daffron", 2778, time_zone="America/New_York", status=BillerStatus.LIVE)


def after_close(biller, day=DAY):
    return close_instant(biller, day) + CLOSE_GRACE


# ---- when a day ends ------------------------------------------------------------------------------


def test_a_day_ends_at_the_billers_close_time_in_its_own_zone(flexibill, daffron):
    assert close_instant(flexibill, DAY) == datetime(2026, 11, 21, 5, 59, tzinfo=UTC)  # 23:59 CST
    assert close_instant(daffron, DAY) == datetime(2026, 11, 21, 4, 59, tzinfo=UTC)  # 23:59 EST
    assert close_instant(daffron, date(2026, 7, 1)) == datetime(2026, 7, 2, 3, 59, tzinfo=UTC)  # 23:59 EDT
    flexibill.batch_close_time = time(18, 0)
    assert close_instant(flexibill, DAY) == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_the_due_day_is_the_latest_day_whose_end_and_grace_have_passed(daffron):
    end = close_instant(daffron, DAY)
    assert due_business_date(daffron, end + CLOSE_GRACE) == DAY
    assert due_business_date(daffron, end + CLOSE_GRACE - timedelta(seconds=1)) == DAY - timedelta(days=1)
    # 02:00 UTC on the 21st is still the 20th in New York, before its close
    assert due_business_date(daffron, datetime(2026, 11, 21, 2, 0, tzinfo=UTC)) == DAY - timedelta(days=1)


def test_a_day_cannot_be_closed_before_it_ends(daffron):
    with pytest.raises(ValueError, match="cannot be closed before"):
        batch_close(biller=daffron, business_date=DAY, now=close_instant(daffron, DAY) - timedelta(seconds=1))


# ---- closing ----------------------------------------------------------------------------------------


def test_a_batch_holds_the_payments_of_its_period_with_totals_by_tender_and_channel(daffron):
    a = account(daffron, "035909-001")
    pay(a, "10.00", local(daffron, DAY - timedelta(days=1), 23, 58, 59))  # previous day
    first = pay(a, "20.00", local(daffron, DAY - timedelta(days=1), 23, 59), fee="1.50")  # at the previous close
    pay(a, "30.00", local(daffron, DAY, 12), tender="ach", channel="ivr")
    last = pay(a, "40.00", local(daffron, DAY, 23, 58, 59, ), brand="amex", fee="2.00")
    pay(a, "50.00", local(daffron, DAY, 23, 59))  # next day
    pay(a, "60.00", local(daffron, DAY, 13), kind="credit")
    batch = batch_close(biller=daffron, business_date=DAY, now=after_close(daffron))
    assert (batch.period_start, batch.period_end) == (first.paid_at, close_instant(daffron, DAY))
    assert last.paid_at < batch.period_end
    assert (batch.payment_count, batch.payment_total, batch.fee_total) == (3, Decimal("90.00"), Decimal("3.50"))
    assert (batch.credit_count, batch.credit_total) == (1, Decimal("60.00"))
    assert batch.totals == {
        "tender": {"ach": {"count": 1, "amount": "30.00"}, "card": {"count": 2, "amount": "60.00"}},
        "channel": {"ivr": {"count": 1, "amount": "30.00"}, "web": {"count": 2, "amount": "60.00"}},
    }


def test_closing_twice_returns_the_same_batch(daffron):
    now = after_close(daffron)
    first = batch_close(biller=daffron, business_date=DAY, now=now)
    account_ = account(daffron, "035909-001")
    pay(account_, "20.00", local(daffron, DAY, 12))  # arrives late: the closed batch does not change
    again = batch_close(biller=daffron, business_date=DAY, now=now + timedelta(hours=1))
    assert again.pk == first.pk and again.payment_count == 0
    assert Batch.objects.count() == 1


def test_the_next_batch_starts_where_the_previous_one_ended_even_if_the_close_time_changed(daffron):
    first = batch_close(biller=daffron, business_date=DAY, now=after_close(daffron, NEXT))
    daffron.batch_close_time = time(18, 0)
    daffron.save()
    second = batch_close(biller=daffron, business_date=NEXT, now=after_close(daffron, NEXT))
    assert second.period_start == first.period_end
    assert second.period_end == datetime.combine(NEXT, time(18), first.period_end.tzinfo).astimezone(UTC)


def test_days_to_close_start_with_the_latest_day_and_catch_up_missed_ones(daffron):
    now = after_close(daffron)
    assert days_to_close(daffron, now) == [DAY]
    batch_close(biller=daffron, business_date=DAY - timedelta(days=3), now=now)
    assert days_to_close(daffron, now) == [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]


# ---- the scheduled task -------------------------------------------------------------------------------


def test_close_due_batches_closes_exports_reconciles_and_is_idempotent(flexibill, daffron, make_biller):
    retired = make_biller("daffron", 3337, status=BillerStatus.RETIRED)
    pay(account(flexibill, "0000001000MCS"), "25.00", local(flexibill, DAY, 10))
    pay(account(daffron, "035909-001"), "35.00", local(daffron, DAY, 10))
    now = after_close(flexibill)  # Chicago closes after New York
    summary = close_due_batches(now)
    assert summary["closed"] == 2 and summary["files"] == 1 and summary["errors"] == []
    assert not Batch.objects.filter(biller=retired).exists()
    flexi = Batch.objects.get(biller=flexibill)
    assert flexi.business_date == DAY and flexi.export_status == BatchExportStatus.DONE
    assert flexi.reconciliation_status == ReconciliationStatus.AGREES
    (f,) = ExportFile.objects.all()
    content = file_path(f).read_bytes()
    again = close_due_batches(now + timedelta(minutes=5))
    assert (again["closed"], again["files"], again["errors"]) == (0, 0, [])
    assert Batch.objects.count() == 2 and ExportFile.objects.count() == 1
    assert file_path(ExportFile.objects.get()).read_bytes() == content


def test_a_refused_export_is_recorded_and_the_other_billers_go_on(flexibill, daffron):
    pay(account(flexibill, "MC"), "25.00", local(flexibill, DAY, 10))  # account without a CoDiv
    pay(account(daffron, "035909-001"), "35.00", local(daffron, DAY, 10))
    summary = close_due_batches(after_close(flexibill))
    assert summary["closed"] == 2
    flexi = Batch.objects.get(biller=flexibill)
    assert flexi.export_status == BatchExportStatus.FAILED
    assert "account 'MC' has no CoDiv" in flexi.export_error
    assert flexi.reconciliation_status == ReconciliationStatus.DISAGREES
    assert Batch.objects.get(biller=daffron).reconciliation_status == ReconciliationStatus.PENDING


def test_an_export_left_running_by_a_dead_worker_is_taken_up_again(flexibill):
    pay(account(flexibill, "0000001000MCS"), "25.00", local(flexibill, DAY, 10))
    now = after_close(flexibill)
    batch = batch_close(biller=flexibill, business_date=DAY, now=now)
    Batch.objects.filter(pk=batch.pk).update(export_status=BatchExportStatus.RUNNING, export_started_at=now)
    assert close_due_batches(now + timedelta(minutes=10))["files"] == 0  # another worker may still be on it
    assert close_due_batches(now + timedelta(minutes=31))["files"] == 1


def test_the_task_uploads_each_new_file_to_the_drop_once(flexibill, tmp_path):
    pay(account(flexibill, "0000001000MCS"), "25.00", local(flexibill, DAY, 10))
    root = tmp_path / "sftp"
    root.mkdir()
    with SftpServer(root) as server:
        ExportDrop.objects.create(biller=flexibill, host="127.0.0.1", port=server.port, username=server.username,
                                  password=server.password, host_key_fingerprint=server.fingerprint, timeout=5)
        now = after_close(flexibill)
        assert close_due_batches(now)["delivered"] == 1
        assert close_due_batches(now + timedelta(minutes=5))["delivered"] == 0
    (f,) = ExportFile.objects.all()
    assert (root / f.file_name).read_bytes() == file_path(f).read_bytes()
    assert ExportDelivery.objects.count() == 1


def test_ensure_schedules_is_idempotent():
    from django_q.models import Schedule

    assert ensure_schedules() == ensure_schedules()
    (schedule,) = Schedule.objects.filter(func="payments.batches.close_due_batches")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 5, -1)
    Schedule.objects.create(func="payments.batches.close_due_batches", schedule_type=Schedule.DAILY)
    ensure_schedules()
    assert Schedule.objects.filter(func="payments.batches.close_due_batches").count() == 1


def test_the_scheduled_function_runs_as_a_task(settings, flexibill):
    from django_q.tasks import async_task, result

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    task_id = async_task("payments.batches.close_due_batches", sync=True)
    summary = result(task_id)
    assert summary["errors"] == [] and summary["closed"] >= 1


# ---- reconciliation ----------------------------------------------------------------------------------


def cell(batch, dimension, key, column):
    row = next(r for r in batch.reconciliation["rows"] if (r["dimension"], r["key"]) == (dimension, key))
    return row["cells"][column]


@pytest.fixture
def reconciled_flexibill(flexibill):
    a = account(flexibill, "0000001000MCS")
    pay(a, "25.00", local(flexibill, DAY, 10), fee="1.00")
    pay(a, "15.00", local(flexibill, DAY, 11), tender="ach", channel="ivr")
    voided = pay(a, "5.00", local(flexibill, DAY, 12))
    from payments import services
    services.payment_void(payment=voided, reason="duplicate")
    from payments.models import Void
    Void.objects.filter(payment=voided).update(voided_at=local(flexibill, DAY, 13))
    close_due_batches(after_close(flexibill))
    return Batch.objects.get(biller=flexibill)


def test_a_file_partner_batch_agrees_column_by_column(reconciled_flexibill):
    batch = reconciled_flexibill
    assert batch.reconciliation_status == ReconciliationStatus.AGREES, batch.reconciliation["issues"]
    assert cell(batch, "total", "total", "taken") == {"count": 3, "amount": "45.00"}
    assert cell(batch, "total", "total", "exported") == {"count": 2, "amount": "40.00"}
    assert cell(batch, "total", "total", "voided") == {"count": 1, "amount": "5.00"}
    assert cell(batch, "total", "total", "unaccounted") == {"count": 0, "amount": "0.00"}
    assert cell(batch, "tender", "ach", "exported") == {"count": 1, "amount": "15.00"}
    assert cell(batch, "channel", "web", "taken") == {"count": 2, "amount": "30.00"}


def test_a_payment_backdated_into_a_closed_batch_is_flagged(reconciled_flexibill):
    batch = reconciled_flexibill
    pay(account(batch.biller, "0000002000MCS"), "9.00", local(batch.biller, DAY, 14))
    reconciliation.batch_reconcile(batch=batch)
    assert batch.reconciliation_status == ReconciliationStatus.DISAGREES
    issues = " ".join(batch.reconciliation["issues"])
    assert "payment files hold 2 rows totalling 39.00" in issues
    assert "closed with 3 payments totalling 45.00; its period now holds 4" in issues


def test_an_altered_or_missing_file_is_flagged(reconciled_flexibill):
    batch = reconciled_flexibill
    path = file_path(batch.files.get())
    path.write_bytes(path.read_bytes().replace(b"00024.00", b"00025.00"))
    reconciliation.batch_reconcile(batch=batch)
    assert batch.reconciliation_status == ReconciliationStatus.DISAGREES
    assert "differs from the recorded SHA-256" in batch.reconciliation["issues"][0]
    path.unlink()
    reconciliation.batch_reconcile(batch=batch)
    assert "missing on disk" in batch.reconciliation["issues"][0]


def test_a_pump_partner_is_pending_until_the_outbox_says_more(daffron, monkeypatch):
    monkeypatch.setattr(reconciliation, "outbox_model", lambda: None)
    pay(account(daffron, "035909-001"), "35.00", local(daffron, DAY, 10))
    close_due_batches(after_close(daffron))
    batch = Batch.objects.get()
    assert batch.reconciliation_status == ReconciliationStatus.PENDING
    assert batch.reconciliation["outbox"] is False
    assert cell(batch, "total", "total", "not_tracked") == {"count": 1, "amount": "35.00"}
    assert reconciliation.pumped_counts(batch) == {s: reconciliation.empty_tally() for s in reconciliation.PUMP_STATES}


def test_aus_cloudpay_is_exported_and_the_rest_is_left_to_the_pump(make_biller, monkeypatch):
    monkeypatch.setattr(reconciliation, "outbox_model", lambda: None)
    aus = make_biller("aus", 123, time_zone="America/New_York")
    a = account(aus, "12300001")
    pay(a, "100.00", local(aus, DAY, 9), channel="cloudpay")
    pay(a, "60.00", local(aus, DAY, 10), channel="web")
    close_due_batches(after_close(aus))
    batch = Batch.objects.get()
    assert cell(batch, "channel", "cloudpay", "exported") == {"count": 1, "amount": "100.00"}
    assert cell(batch, "channel", "web", "not_tracked") == {"count": 1, "amount": "60.00"}
    assert batch.files.get().row_count == 1


# ---- admin --------------------------------------------------------------------------------------------


def test_batch_list_and_reconciliation_view(admin_client, reconciled_flexibill):
    batch = reconciled_flexibill
    listing = admin_client.get(reverse("admin:payments_batch_changelist")).content.decode()
    assert "card: 2 / 30.00" in listing and "Agrees" in listing
    url = reverse("admin:payments_batch_reconciliation", args=[batch.pk])
    page = admin_client.get(url).content.decode()
    assert 'id="reconciliation"' in page and "Agrees" in page and "unaccounted" in page
    assert admin_client.post(url).status_code == 302
    change = admin_client.get(reverse("admin:payments_batch_change", args=[batch.pk]))
    assert change.status_code == 200 and "ICPayments_20261120235900.mcs" in change.content.decode()


def test_staff_of_another_biller_cannot_see_a_batch(client, django_user_model, reconciled_flexibill, daffron):
    group = Group.objects.create(name="daffron staff")
    group.permissions.set(Permission.objects.filter(content_type__app_label="payments", codename__startswith="view_"))
    BillerStaffScope.objects.create(group=group, biller=daffron)
    user = django_user_model.objects.create_user("clerk", password="pw-for-tests-only", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    batch = reconciled_flexibill
    assert client.get(reverse("admin:payments_batch_reconciliation", args=[batch.pk])).status_code == 404
    assert "4411" not in client.get(reverse("admin:payments_batch_changelist")).content.decode()


def test_regenerate_action_reports_identical_content(admin_client, reconciled_flexibill):
    batch = reconciled_flexibill
    response = admin_client.post(reverse("admin:payments_batch_changelist"),
                                 {"action": "regenerate_exports", "_selected_action": [batch.pk]}, follow=True)
    assert "1 files; identical content" in response.content.decode()


# ---- with the data pump's outbox --------------------------------------------------------------------


def outbox_status(payment, status):
    from django.contrib.contenttypes.models import ContentType

    model = reconciliation.outbox_model()
    model.objects.filter(content_type=ContentType.objects.get_for_model(payment), object_id=payment.pk,
                         event_type="payment").update(status=status)


@pytest.fixture
def outbox():
    model = reconciliation.outbox_model()
    if model is None:
        pytest.skip("the data pump's OutboxEvent model is not in this tree")
    return model


def test_pumped_payments_are_counted_by_their_outbox_state(outbox, daffron):
    a = account(daffron, "035909-001")
    delivered = pay(a, "10.00", local(daffron, DAY, 9))
    in_flight = pay(a, "20.00", local(daffron, DAY, 10), tender="ach")
    not_sent = pay(a, "30.00", local(daffron, DAY, 11), channel="ivr")
    outbox_status(delivered, "delivered")
    outbox_status(not_sent, "not_applicable")
    close_due_batches(after_close(daffron))
    batch = Batch.objects.get()
    assert batch.reconciliation["outbox"] is True
    assert cell(batch, "total", "total", "delivered") == {"count": 1, "amount": "10.00"}
    assert cell(batch, "tender", "ach", "retrying") == {"count": 1, "amount": "20.00"}
    assert cell(batch, "channel", "ivr", "not_sent") == {"count": 1, "amount": "30.00"}
    assert batch.reconciliation_status == ReconciliationStatus.PENDING
    outbox_status(in_flight, "delivered")
    reconciliation.batch_reconcile(batch=batch)
    assert batch.reconciliation_status == ReconciliationStatus.AGREES, batch.reconciliation["issues"]
    outbox_status(in_flight, "dead")
    reconciliation.batch_reconcile(batch=batch)
    assert batch.reconciliation_status == ReconciliationStatus.DISAGREES
    assert "1 payments dead in the pump" in batch.reconciliation["issues"]


def test_a_payment_without_an_outbox_event_is_unaccounted(outbox, daffron):
    a = account(daffron, "035909-001")
    lost = pay(a, "10.00", local(daffron, DAY, 9))
    outbox.objects.filter(object_id=lost.pk, event_type="payment").delete()
    close_due_batches(after_close(daffron))
    batch = Batch.objects.get()
    assert cell(batch, "total", "total", "unaccounted") == {"count": 1, "amount": "10.00"}
    assert batch.reconciliation_status == ReconciliationStatus.DISAGREES


def test_exporting_settles_the_outbox_events_marked_for_export(outbox, flexibill):
    from django.contrib.contenttypes.models import ContentType

    from payments import services
    from payments.models import ChangeLog, Payment

    a = account(flexibill, "0000001000MCS")
    pay(a, "25.00", local(flexibill, DAY, 10))
    services.autopay_set(account=a, active=True, actor="payer")
    ChangeLog.objects.update(changed_at=local(flexibill, DAY, 11))
    payment_events = outbox.objects.filter(content_type=ContentType.objects.get_for_model(Payment))
    change_events = outbox.objects.filter(content_type=ContentType.objects.get_for_model(ChangeLog))
    assert set(payment_events.values_list("status", flat=True)) == {"for_export"}
    assert set(change_events.values_list("status", flat=True)) == {"for_export"}
    close_due_batches(after_close(flexibill))
    assert set(payment_events.values_list("status", flat=True)) == {"delivered"}
    assert set(change_events.values_list("status", flat=True)) == {"delivered"}
    assert "ICPayments_20261120235900.mcs" in payment_events.get().status_reason
    batch = Batch.objects.get()
    assert batch.reconciliation_status == ReconciliationStatus.AGREES, batch.reconciliation["issues"]


def test_a_batch_that_does_not_agree_yet_is_checked_again_every_half_hour(outbox, daffron):
    paid = pay(account(daffron, "035909-001"), "10.00", local(daffron, DAY, 9))
    now = after_close(daffron)
    close_due_batches(now)
    assert Batch.objects.get().reconciliation_status == ReconciliationStatus.PENDING
    outbox_status(paid, "delivered")
    close_due_batches(now + timedelta(minutes=5))
    assert Batch.objects.get().reconciliation_status == ReconciliationStatus.PENDING
    close_due_batches(now + timedelta(minutes=31))
    assert Batch.objects.get().reconciliation_status == ReconciliationStatus.AGREES
