"""A morning at the back office: the demo billers with two weeks of history and a few things wrong.

``morning()`` seeds the demo, then adds invoice imports, RTDR calls, pump events and export files
over the last days, and the problems an implementation manager should see first: dead pump events
(2778), a failed invoice import (1368), an open RTDR breaker (123), a missing file (1966), a
running import, and a biller still onboarding. Returns the billers by BID.
"""
from __future__ import annotations

import random
from datetime import time, timedelta
from typing import Any

from django.utils import timezone

from tests.exchanges.dashboard_helpers import connection, download, event, exchange, export_file, health


def morning() -> dict[int, Any]:
    from billers.demo import seed_demo
    from billers.models import Biller, Partner
    from exchanges.alerts import raise_alerts
    from exchanges.dashboard_models import ArrivalWindow

    rng = random.Random(4)
    billers = {b.bid: b for b in seed_demo()}
    billers[5120] = Biller.objects.create(bid=5120, name="Lakeside Water District", partner=Partner.objects.get(
        code="aus"), time_zone="America/Chicago")  # onboarding
    now = timezone.now()
    for day in range(14, 0, -1):
        at = now - timedelta(days=day, hours=-1)
        for bid in (123, 1368, 2778, 4411):
            exchange(billers[bid], at=at + timedelta(minutes=bid % 50), file_name=f"{bid}_{at:%Y%m%d}.BIF",
                     counts={"invoices": rng.randint(1800, 4200)})
        for bid in (123, 1368, 2778):
            for _ in range(rng.randint(20, 60)):
                event(billers[bid], status="delivered", at=at + timedelta(minutes=rng.randint(0, 600)))
        event(billers[2778], status="retrying" if day == 2 else "delivered", at=at)
    exchange(billers[1368], status="failed", at=now - timedelta(hours=2), file_name="billheader_20261122.xml",
             errors=[{"line": 412, "field": "TotalAmountDue", "value": "12,50", "message": "not a decimal amount"}])
    for minutes in range(0, 24 * 60, 20):
        at = now - timedelta(minutes=minutes)
        slow = 1.0 + (1.5 if 6 * 60 < minutes < 9 * 60 else 0.0)
        for bid in (123, 2778):
            ms = rng.lognormvariate(5.0, 0.35) * slow
            exchange(billers[bid], kind="rtdr", source="soap", at=at, counts={"duration_ms": round(ms, 1)},
                     status="succeeded" if ms < 900 else "failed")
    health(billers[123], recent=[[0, 5000.0]] * 8 + [[1, 180.0]] * 12, breaker="open", opened_at=now,
           last_error="read timed out after 5 s (https://aus.example/rtdr)")
    health(billers[2778], recent=[[1, float(rng.randint(90, 260))] for _ in range(50)])
    for _ in range(3):
        event(billers[2778], status="dead", last_error="Fault: 'Account 1000-01 is closed' (permanent)")
    event(billers[1368], status="unknown", last_error="read timed out after the request was sent")
    for day in range(7):
        f = export_file(billers[4411], at=now - timedelta(days=day, hours=3))
        if day:
            download(f, at=f.generated_at + timedelta(hours=1))
    late = connection(billers[1966], name="inHance invoices")
    ArrivalWindow.objects.create(connection=late, weekdays="1,2,3,4,5,6,7", expected_by=time(6, 0), grace_minutes=30)
    connection(billers[2778], name="Daffron invoices")
    exchange(billers[4411], status="running", file_name="flexibill_4411_big.BIF", progress_done=41_250,
             progress_total=92_000, started_at=now - timedelta(seconds=55))
    raise_alerts()  # the inHance biller has never sent a file: overdue whatever the hour
    return billers
