"""The delivery engine: order per endpoint, retries and backoff, dead, unknown outcomes, lost workers, claims."""
from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from payments import delivery, services
from payments.outbox_models import AttemptOutcome, OutboxEvent, OutboxStatus

S = OutboxStatus


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-home"


def _pump(biller: Any) -> dict[str, int]:
    return delivery.pump_biller_run(biller.pk).as_dict()


def _due_now(*events: OutboxEvent) -> None:
    """Let retries fall due without waiting for the backoff."""
    ids = [e.pk for e in events] or list(OutboxEvent.objects.values_list("pk", flat=True))
    OutboxEvent.objects.filter(pk__in=ids).exclude(next_attempt_at=None).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def _keys(sim: Any) -> list[str]:
    """transactionId of every CommitPaymentTransaction the Daffron simulator received, in order."""
    import re

    return [re.search(r"<extValue>([^<]+)</extValue>", xml).group(1) for op, xml in sim.calls
            if op == "CommitPaymentTransaction"]


@pytest.fixture
def daffron(pump_biller: Callable[..., Any]) -> Any:
    return pump_biller("daffron", 2778, settings={131: "{}"})


def test_backoff_is_exponential_capped_and_jittered() -> None:
    cfg = delivery.PumpConfig(backoff_seconds=30, backoff_max_seconds=3600)
    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(3600, 30 * 2 ** (attempts - 1))
        waits = {delivery.backoff(attempts, cfg, rng).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jitter: retries of many events spread out


def test_events_of_an_endpoint_go_out_in_creation_order(daffron: Any, account_for: Callable[..., Any],
                                                        pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    account = account_for(daffron, "1001")
    payments = [pay(account, approval_code=f"A{i}") for i in range(7)]
    assert _pump(daffron)["delivered"] == 7
    assert _keys(sims["daffron"]) == [str(p.payment_guid) for p in payments]


def test_a_retrying_head_blocks_its_endpoint_only(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                                  pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    biller = pump_biller("daffron", 2782, settings={11: _closed_port_url(), 131: "{}"})
    account = account_for(biller, "1001")
    first, second = pay(account, approval_code="1"), pay(account, approval_code="2")
    services.autopay_set(account=account, active=True, actor="payer")
    summary = _pump(biller)
    assert summary == {"delivered": 1, "retrying": 1, "dead": 0, "unknown": 0, "skipped": 2}
    head, behind = (OutboxEvent.objects.get(idempotency_key=str(p.payment_guid)) for p in (first, second))
    assert head.status == S.RETRYING and "cannot connect" in head.last_error
    assert head.next_attempt_at > timezone.now()
    assert behind.status == S.PENDING and behind.attempts == 0  # waits behind its head
    assert sims["daffron"].operations() == ["WriteAccountHistoryComments"]  # the autopay queue went on
    assert _pump(biller)["retrying"] == 0  # not due yet: nothing is tried
    # The partner is back: once the head is due, both go, head first.
    from billers.services import biller_setting_set

    biller_setting_set(biller=biller, number=11, value=sims["daffron"].url)
    _due_now(head)
    assert _pump(biller)["delivered"] == 2
    assert _keys(sims["daffron"]) == [str(first.payment_guid), str(second.payment_guid)]


def test_a_dead_event_does_not_block_the_ones_behind(daffron: Any, account_for: Callable[..., Any],
                                                     pay: Callable[..., Any]) -> None:
    pay(account_for(daffron, "4242"), approval_code="unknown account")
    pay(account_for(daffron, "1001"), approval_code="fine")
    assert _pump(daffron) == {"delivered": 1, "retrying": 0, "dead": 1, "unknown": 0, "skipped": 0}


@pytest.mark.parametrize(("mode", "error"), [("http500", "HTTP 500"), ("malformed", "malformed response"),
                                             ("fault", "Simulated server error")])
def test_temporary_failures_retry(daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                                  sims: dict[str, Any], mode: str, error: str) -> None:
    sims["daffron"].mode = mode
    pay(account_for(daffron, "1001"))
    assert _pump(daffron)["retrying"] == 1
    event = OutboxEvent.objects.get()
    assert event.status == S.RETRYING and error in event.last_error
    attempt = event.delivery_attempts.get()
    assert attempt.outcome == AttemptOutcome.RETRYING and attempt.request_xml and attempt.error == event.last_error


def test_temporary_failures_end_dead_after_max_attempts(pump_biller: Callable[..., Any],
                                                        account_for: Callable[..., Any], pay: Callable[..., Any],
                                                        settings: Any) -> None:
    settings.PUMP_MAX_ATTEMPTS = 3
    biller = pump_biller("aus", 125, settings={11: _closed_port_url()})
    pay(account_for(biller, "1001"))
    event = OutboxEvent.objects.get()
    for expected in (S.RETRYING, S.RETRYING, S.DEAD):
        before = timezone.now()
        _pump(biller)
        event.refresh_from_db()
        assert event.status == expected
        if expected == S.RETRYING:  # 30 s base: attempt 1 waits 15-30 s, attempt 2 waits 30-60 s
            wait = (event.next_attempt_at - before).total_seconds()
            assert 15 * event.attempts - 1 <= wait <= 30 * event.attempts + 1
        _due_now(event)
    assert event.attempts == 3 and event.next_attempt_at is None
    assert event.last_error.startswith("gave up after 3 attempts: ")
    assert list(event.delivery_attempts.order_by("number").values_list("number", "outcome")) == [
        (1, AttemptOutcome.RETRYING), (2, AttemptOutcome.RETRYING), (3, AttemptOutcome.DEAD)]


def test_permanent_failure_is_dead_at_once(daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
                                           sims: dict[str, Any]) -> None:
    sims["daffron"].mode = "unknown_account"
    pay(account_for(daffron, "1001"))
    assert _pump(daffron)["dead"] == 1
    event = OutboxEvent.objects.get()
    assert event.attempts == 1 and "account not found" in event.last_error
    _due_now()
    assert _pump(daffron)["dead"] == 0 and len(sims["daffron"].calls) == 1


def _wait_for_slow_answers(sim: Any) -> None:
    time.sleep(sim.slow_seconds + 0.2)  # the simulator finishes the request we gave up on


def test_unknown_outcome_waits_for_an_im_where_the_partner_has_no_dedup_key(
    pump_biller: Callable[..., Any], account_for: Callable[..., Any], pay: Callable[..., Any], sims: dict[str, Any],
) -> None:
    biller = pump_biller("aus", 126)
    sims["aus"].mode, sims["aus"].slow_seconds = "slow", 0.6
    account = account_for(biller, "1001")
    pay(account, approval_code="first")
    pay(account, approval_code="second")
    assert _pump(biller) == {"delivered": 0, "retrying": 0, "dead": 0, "unknown": 1, "skipped": 2}
    event = OutboxEvent.objects.order_by("id").first()
    assert event.status == S.UNKNOWN and event.next_attempt_at is None and not event.auto_resend
    assert "no answer within" in event.last_error
    sims["aus"].mode = "ok"
    _wait_for_slow_answers(sims["aus"])
    _due_now()
    assert _pump(biller)["delivered"] == 0  # never resent blindly; the queue waits for the IM
    assert len(sims["aus"].calls) == 1


def test_unknown_outcome_is_resent_to_daffron_with_the_same_transaction_id(
    daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any], sims: dict[str, Any],
) -> None:
    guid = uuid.uuid4()
    sims["daffron"].mode, sims["daffron"].slow_seconds = "slow", 0.6
    pay(account_for(daffron, "1001"), payment_guid=guid)
    assert _pump(daffron)["unknown"] == 1
    event = OutboxEvent.objects.get()
    assert event.status == S.UNKNOWN and event.auto_resend and event.next_attempt_at is not None
    sims["daffron"].mode = "ok"
    _wait_for_slow_answers(sims["daffron"])
    _due_now(event)
    assert _pump(daffron)["delivered"] == 1
    assert _keys(sims["daffron"]) == [str(guid), str(guid)]
    assert sims["daffron"].duplicates == [str(guid)]  # Daffron recognised the resend: posted once
    assert list(event.delivery_attempts.order_by("number").values_list("outcome", flat=True)) == [
        AttemptOutcome.UNKNOWN, AttemptOutcome.DELIVERED]


def _strand(event: OutboxEvent, seconds_ago: int = 5) -> None:
    """Leave ``event`` as a worker killed mid-send leaves it: delivering, its lease run out."""
    past = timezone.now() - timedelta(seconds=seconds_ago)
    OutboxEvent.objects.filter(pk=event.pk).update(
        status=S.DELIVERING, claimed_by="host:4242:1:dead", claimed_at=past, sending_at=past,
        lease_expires_at=past, attempts=1)


def test_a_lost_daffron_send_is_resent_with_the_same_key(daffron: Any, account_for: Callable[..., Any],
                                                         pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    payment = pay(account_for(daffron, "1001"))
    event = OutboxEvent.objects.get()
    _strand(event)
    assert _pump(daffron)["delivered"] == 1
    event.refresh_from_db()
    assert event.status == S.DELIVERED and event.attempts == 2
    assert _keys(sims["daffron"]) == [str(payment.payment_guid)]
    lost = event.delivery_attempts.get(outcome=AttemptOutcome.LOST)
    assert lost.number == 1 and "lost during delivery" in lost.error and lost.worker == "host:4242:1:dead"


def test_a_lost_aus_send_becomes_unknown_for_an_im(pump_biller: Callable[..., Any], account_for: Callable[..., Any],
                                                   pay: Callable[..., Any], sims: dict[str, Any]) -> None:
    biller = pump_biller("aus", 127)
    pay(account_for(biller, "1001"))
    event = OutboxEvent.objects.get()
    _strand(event)
    assert delivery.recover_expired() == 1
    event.refresh_from_db()
    assert event.status == S.UNKNOWN and event.next_attempt_at is None
    assert _pump(biller)["delivered"] == 0 and sims["aus"].calls == []


def test_a_live_lease_is_left_alone(daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any]) -> None:
    pay(account_for(daffron, "1001"))
    event = OutboxEvent.objects.get()
    _strand(event, seconds_ago=-30)  # lease still running: the worker may be sending right now
    assert delivery.recover_expired() == 0
    assert _pump(daffron)["delivered"] == 0


def test_claimed_but_never_started_events_come_back_when_the_lease_ends(
    daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
) -> None:
    cfg = delivery.config()
    account = account_for(daffron, "1001")
    for i in range(3):
        pay(account, approval_code=str(i))
    assert delivery.claim(daffron.pk, "payments", "worker-a", cfg) == 3
    assert delivery.claim(daffron.pk, "payments", "worker-b", cfg) == 0  # nothing while A holds them
    later = timezone.now() + cfg.batch_lease + timedelta(seconds=1)
    assert delivery.claim(daffron.pk, "payments", "worker-b", cfg, now=later) == 3
    assert set(OutboxEvent.objects.values_list("claimed_by", flat=True)) == {"worker-b"}
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {S.PENDING}


def test_claim_takes_at_most_a_batch_in_order(daffron: Any, account_for: Callable[..., Any],
                                              pay: Callable[..., Any], settings: Any) -> None:
    settings.PUMP_BATCH_SIZE = 2
    account = account_for(daffron, "1001")
    for i in range(5):
        pay(account, approval_code=str(i))
    cfg = delivery.config()
    assert delivery.claim(daffron.pk, "payments", "a", cfg) == 2
    ids = list(OutboxEvent.objects.order_by("id").values_list("id", flat=True))
    assert list(OutboxEvent.objects.filter(claimed_by="a").order_by("id").values_list("id", flat=True)) == ids[:2]
    assert _pump(daffron)["delivered"] == 0  # the head is leased by "a": the queue waits


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_never_deliver_the_same_event(
    daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any], sims: dict[str, Any], settings: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("threads need PostgreSQL; on SQLite the IMMEDIATE transactions serialize the claims")
    settings.PUMP_BATCH_SIZE = 3
    accounts = [account_for(daffron, "1001")]
    services.autopay_set(account=accounts[0], active=True, actor="payer")
    for i in range(40):
        pay(accounts[0], approval_code=str(i))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(3):
                delivery.pump_biller_run(daffron.pk)
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    keys = _keys(sims["daffron"])
    assert len(keys) == 40 == len(set(keys)) and sims["daffron"].duplicates == []
    assert keys == list(OutboxEvent.objects.filter(event_type="payment").order_by("id")
                        .values_list("idempotency_key", flat=True))  # and in creation order
    assert set(OutboxEvent.objects.values_list("status", "attempts")) == {(S.DELIVERED, 1)}


def test_a_long_batch_renews_the_lease_of_the_events_it_still_holds(
    daffron: Any, account_for: Callable[..., Any], pay: Callable[..., Any],
) -> None:
    cfg = delivery.config()
    account = account_for(daffron, "1001")
    for i in range(3):
        pay(account, approval_code=str(i))
    assert delivery.claim(daffron.pk, "payments", "slow-worker", cfg) == 3
    first, *rest = OutboxEvent.objects.order_by("id")
    soon = timezone.now() + timedelta(seconds=0.5)  # the batch lease is about to run out
    OutboxEvent.objects.filter(pk__in=[e.pk for e in rest]).update(lease_expires_at=soon)
    ours, lease_until = delivery._mark_sending(first, "slow-worker", cfg, soon)
    assert ours and lease_until > soon + cfg.event_lease
    assert {e.lease_expires_at for e in OutboxEvent.objects.filter(pk__in=[e.pk for e in rest])} == {lease_until}
    first.refresh_from_db()
    assert (first.status, first.attempts) == (S.DELIVERING, 1)
    assert first.lease_expires_at <= timezone.now() + cfg.event_lease
