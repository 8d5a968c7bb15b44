"""The circuit breaker per biller endpoint: opens after N failures, skips while open, half-open trial."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billers.balances import account_balance
from billers.rtdr import BREAKER_OPEN_REASON
from billers.rtdr_health import rtdr_breaker_reset
from billers.rtdr_models import BreakerState, RtdrHealth
from exchanges.models import Exchange

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(rtdr_biller, account_of, sims):
    """An AUS account whose partner answers every call with a SOAP fault (breaker: 3 failures)."""
    account = account_of(rtdr_biller("aus"), "1001")
    sims["aus"].mode = "fault"
    return account


def _health(account) -> RtdrHealth:
    return RtdrHealth.objects.get(biller=account.biller)


def test_breaker_opens_after_n_consecutive_failures(failing, sims):
    for expected in (1, 2):
        assert account_balance(failing).stale_reason.startswith("SOAP fault")
        assert (_health(failing).breaker_state, _health(failing).consecutive_failures) == ("closed", expected)
    account_balance(failing)
    health = _health(failing)
    assert health.breaker_state == BreakerState.OPEN and health.consecutive_failures == 3
    assert health.opened_until - health.opened_at == timedelta(seconds=60)
    assert len(sims["aus"].calls) == 3


def test_open_breaker_skips_the_call_and_answers_stale_at_once(failing, sims):
    for _ in range(3):
        account_balance(failing)
    sims["aus"].reset()  # the partner would answer now, but the breaker is open
    view = account_balance(failing)
    assert (view.stale, view.stale_reason) == (True, BREAKER_OPEN_REASON)
    assert sims["aus"].calls == []  # no call reached the partner
    assert Exchange.objects.count() == 3  # a skipped call is not an exchange
    assert _health(failing).skipped_count == 1


def test_half_open_trial_that_succeeds_closes_the_breaker(failing, sims):
    for _ in range(3):
        account_balance(failing)
    RtdrHealth.objects.update(opened_until=timezone.now() - timedelta(seconds=1))  # cool-down over
    sims["aus"].reset()
    view = account_balance(failing)
    assert not view.stale and view.source == "rtdr"
    health = _health(failing)
    assert (health.breaker_state, health.consecutive_failures, health.opened_until) == ("closed", 0, None)
    assert len(sims["aus"].calls) == 1


def test_half_open_trial_that_fails_opens_the_breaker_for_another_cool_down(failing, sims):
    for _ in range(3):
        account_balance(failing)
    RtdrHealth.objects.update(opened_until=timezone.now() - timedelta(seconds=1))
    before = timezone.now()
    assert account_balance(failing).stale_reason.startswith("SOAP fault")
    health = _health(failing)
    assert health.breaker_state == BreakerState.OPEN and health.opened_until > before + timedelta(seconds=59)
    assert len(sims["aus"].calls) == 4
    assert account_balance(failing).stale_reason == BREAKER_OPEN_REASON
    assert len(sims["aus"].calls) == 4


def test_only_one_caller_gets_the_half_open_trial(failing, sims):
    for _ in range(3):
        account_balance(failing)
    RtdrHealth.objects.update(breaker_state=BreakerState.HALF_OPEN, trial_started_at=timezone.now())
    sims["aus"].reset()
    assert account_balance(failing).stale_reason == BREAKER_OPEN_REASON  # another caller's trial runs
    assert sims["aus"].calls == []
    RtdrHealth.objects.update(trial_started_at=timezone.now() - timedelta(minutes=5))  # that trial was lost
    assert not account_balance(failing).stale


def test_failures_spread_beyond_the_window_do_not_open_the_breaker(failing, settings):
    account_balance(failing)
    account_balance(failing)
    RtdrHealth.objects.update(streak_started_at=timezone.now() - timedelta(seconds=61))
    account_balance(failing)
    health = _health(failing)
    assert (health.breaker_state, health.consecutive_failures) == ("closed", 1)


def test_a_success_resets_the_run_of_failures(failing, sims):
    account_balance(failing)
    account_balance(failing)
    sims["aus"].mode = "ok"
    assert not account_balance(failing).stale
    sims["aus"].mode = "fault"
    account_balance(failing)
    account_balance(failing)
    assert _health(failing).breaker_state == "closed"


def test_breaker_is_per_biller_endpoint(failing, rtdr_biller, account_of, sims):
    for _ in range(3):
        account_balance(failing)
    other = account_of(rtdr_biller("aus", bid=7124), "1002")
    sims["aus"].mode = "ok"
    assert not account_balance(other).stale


def test_reset_closes_the_breaker_by_hand(failing, sims):
    for _ in range(3):
        account_balance(failing)
    rtdr_breaker_reset(health=_health(failing))
    sims["aus"].mode = "ok"
    assert not account_balance(failing).stale


def test_health_figures_failure_rate_and_p95(failing, sims):
    account_balance(failing)
    sims["aus"].mode = "ok"
    for _ in range(3):
        account_balance(failing)
    health = _health(failing)
    assert health.failure_rate == 0.25 and len(health.recent) == 4
    assert health.p95_latency_ms == max(ms for _, ms in health.recent)
    assert (health.success_count, health.failure_count, health.last_success_at is not None) == (3, 1, True)


def test_open_breaker_is_remembered_in_process_and_skips_without_queries(
    failing, sims, settings, django_assert_num_queries
):
    import time

    settings.RTDR_BREAKER_RECHECK = 0.2
    for _ in range(3):
        account_balance(failing)
    assert account_balance(failing).stale_reason == BREAKER_OPEN_REASON  # read from the database, remembered
    with django_assert_num_queries(0):
        for _ in range(5):
            assert account_balance(failing).stale_reason == BREAKER_OPEN_REASON
    assert _health(failing).skipped_count == 1  # the remembered skips are not written yet
    time.sleep(0.25)  # past the recheck interval: the next lookup asks the database again
    # An admin in another process closed the breaker: this process notices at its next check.
    RtdrHealth.objects.update(breaker_state=BreakerState.CLOSED, opened_until=None, consecutive_failures=0)
    sims["aus"].mode = "ok"
    assert not account_balance(failing).stale
    assert _health(failing).skipped_count == 6
    assert len(sims["aus"].calls) == 4


def test_closed_breaker_is_remembered_and_a_stale_copy_never_moves_it_wrongly(rtdr_biller, account_of, sims, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.RTDR_BREAKER_RECHECK = 60
    account = account_of(rtdr_biller("aus"), "1001")
    assert not account_balance(account).stale  # reads the row and remembers it closed
    with CaptureQueriesContext(connection) as queries:
        assert not account_balance(account).stale
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SELECT") and "rtdrhealth" in q["sql"]]

    # Another process opens the breaker; this one still believes it closed and calls once more.
    RtdrHealth.objects.update(breaker_state=BreakerState.OPEN, opened_until=timezone.now() + timedelta(seconds=60))
    sims["aus"].mode = "fault"
    assert account_balance(account).stale_reason.startswith("SOAP fault")
    assert _health(account).breaker_state == BreakerState.OPEN  # the failure read the real state and kept it
    calls = len(sims["aus"].calls)
    assert account_balance(account).stale_reason == BREAKER_OPEN_REASON
    assert len(sims["aus"].calls) == calls  # now this process skips too
