"""``manage.py pump``, the django-q2 tasks and the schedule."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from payments import tasks
from payments.outbox_models import OutboxEvent, OutboxStatus


def _run(*args: str) -> tuple[dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("pump", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


@pytest.fixture
def queued(pump_biller: Callable[..., Any], account_for: Callable[..., Any], pay: Callable[..., Any]) -> Any:
    from payments import services

    biller = pump_biller("daffron", 2778, settings={131: "{}"})
    account = account_for(biller, "1001")
    pay(account, approval_code="one")
    pay(account_for(biller, "4242"), approval_code="unknown account")
    services.autopay_set(account=account, active=True, actor="payer")
    return biller


def test_pump_delivers_and_prints_the_counts_last(queued: Any, sims: dict[str, Any]) -> None:
    counts, _ = _run("--biller", "2778")
    assert counts == {"delivered": 2, "retrying": 0, "dead": 1, "unknown": 0, "skipped": 0}
    assert sorted(sims["daffron"].operations()) == ["CommitPaymentTransaction", "CommitPaymentTransaction",
                                                    "WriteAccountHistoryComments"]
    from exchanges.models import Exchange

    run = Exchange.objects.get(kind="pump")
    assert run.source == "command" and run.status == "partial" and run.counts["delivered"] == 2


def test_dry_run_renders_one_file_per_event_and_changes_nothing(queued: Any, sims: dict[str, Any],
                                                                tmp_path: Path) -> None:
    out = tmp_path / "dry-run"
    counts, _ = _run("--biller", "2778", "--dry-run", "--out", str(out))
    assert counts == {"delivered": 0, "retrying": 0, "dead": 0, "skipped": 0, "rendered": 3}
    files = sorted(p.name for p in out.iterdir())
    events = list(OutboxEvent.objects.order_by("id"))
    assert files == sorted([f"{events[0].pk}_payment_CommitPaymentTransaction.xml",
                            f"{events[1].pk}_payment_CommitPaymentTransaction.xml",
                            f"{events[2].pk}_autopay_change_WriteAccountHistoryComments.xml"])
    text = (out / files[0]).read_text()
    assert "<transactionId>" not in text and ">transactionId<" in text and 'Pwd="********"' in text
    assert "pay-s3cret" not in "".join(p.read_text() for p in out.iterdir())
    assert sims["daffron"].calls == []
    assert set(OutboxEvent.objects.values_list("status", "attempts")) == {(OutboxStatus.PENDING, 0)}


def test_dry_run_aus_renders_through_the_wsdl(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                              pay: Callable[..., Any], tmp_path: Path) -> None:
    pump_biller("aus", 123)
    from billers.models import Biller

    pay(account_for(Biller.objects.get(bid=123), "1001"))
    counts, _ = _run("--biller", "123", "--dry-run", "--out", str(tmp_path))
    assert counts["rendered"] == 1
    text = next(tmp_path.iterdir()).read_text()
    assert "AddPendingPayment" in text and "<ns0:Password>********</ns0:Password>" in text


def test_pump_refuses_bad_arguments(queued: Any) -> None:
    with pytest.raises(CommandError, match="No biller with BID 1"):
        _run("--biller", "1")
    with pytest.raises(CommandError, match="--out"):
        _run("--biller", "2778", "--dry-run")
    with pytest.raises(CommandError, match="--biller"):
        _run()


def test_ensure_schedules_is_idempotent(db: Any) -> None:
    from django_q.models import Schedule

    first = tasks.ensure_schedules()
    second = tasks.ensure_schedules()
    assert first.pk == second.pk and Schedule.objects.filter(func=tasks.PUMP_DUE).count() == 1
    assert (second.schedule_type, second.minutes, second.repeats) == (Schedule.MINUTES, 1, -1)
    counts, _ = _run("--ensure-schedules")
    assert counts == {"schedule": tasks.SCHEDULE_NAME, "func": tasks.PUMP_DUE, "minutes": 1}


def test_pump_due_recovers_and_enqueues_billers_with_due_events(queued: Any, monkeypatch: pytest.MonkeyPatch,
                                                                pump_biller: Callable[..., Any]) -> None:
    enqueued: list[int] = []
    monkeypatch.setattr(tasks, "enqueue_pump", enqueued.append)
    idle = pump_biller("aus", 123)
    assert tasks.pump_due() == {"recovered": 0, "billers": 1}
    assert enqueued == [queued.pk] and idle.pk not in enqueued


def test_recorded_payment_is_delivered_by_the_task_on_commit(
    pump_biller: Callable[..., Any], account_for: Callable[..., Any], pay: Callable[..., Any], sims: dict[str, Any],
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the task inline, as in the cluster
    biller = pump_biller("daffron", 2778, settings={131: "{}"})
    account = account_for(biller, "1001")
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(account)
        assert sims["daffron"].calls == []  # nothing leaves before the commit
    assert OutboxEvent.objects.get().status == OutboxStatus.DELIVERED
    assert str(payment.payment_guid) in sims["daffron"].calls[0][1]
    assert tasks.pump_biller(biller.pk) == {"delivered": 0, "retrying": 0, "dead": 0, "unknown": 0, "skipped": 0,
                                            "recovered": 0}
