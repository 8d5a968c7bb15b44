"""File imports and transport polls go to the imports cluster's queue, never the default one."""
from __future__ import annotations

import pytest
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.signing import SignedPackage

from exchanges.models import Exchange, ExchangeStatus
from exchanges.polling import SCHEDULE_PREFIX, ensure_schedules
from exchanges.tasks import RUN_IMPORT, enqueue_import
from exchanges.transport_models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings, monkeypatch):
    """Tasks are queued in the ORM broker (not run inline); returns the tasks waiting in a queue."""
    monkeypatch.setattr(Conf, "SYNC", False)

    def waiting(queue: str) -> list[dict]:
        broker = get_broker(queue)
        return [SignedPackage.loads(task[1]) for task in broker.dequeue() or []]

    return waiting


def test_an_import_is_queued_for_the_imports_cluster(queued, daffron_biller, settings,
                                                     django_capture_on_commit_callbacks):
    exchange = Exchange.objects.create(biller=daffron_biller, partner_id=daffron_biller.partner_id,
                                       kind="invoices", source="upload", status=ExchangeStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_import(exchange)

    assert queued(Conf.CLUSTER_NAME) == []  # the default cluster (pump, RTDR, alerts) never sees it
    (task,) = queued(settings.IMPORT_CLUSTER)
    assert task["func"] == RUN_IMPORT and task["args"] == (exchange.pk,) and task["cluster"] == "imports"


def test_poll_schedules_run_on_the_imports_cluster(daffron_biller, settings):
    Connection.objects.create(biller=daffron_biller, name="drop", kind="folder", inbox_folder="/srv/in",
                              archive_folder="/srv/archive", error_folder="/srv/error")
    ensure_schedules()
    assert Schedule.objects.get(name__startswith=SCHEDULE_PREFIX).cluster == settings.IMPORT_CLUSTER
    assert settings.Q_CLUSTER["ALT_CLUSTERS"][settings.IMPORT_CLUSTER]["timeout"] >= 3600
