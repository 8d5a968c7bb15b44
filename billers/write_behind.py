"""Write-behind: records handed over on a hot path, written in batches by one background thread.

A request that must answer in a millisecond or two (an IVR lookup) hands what it has to store to a
:class:`WriteBehind` and answers; the thread writes everything queued within ``delay`` seconds in one
call of ``write`` (one transaction, files, bulk inserts). ``flush()`` waits until everything handed
over so far is written; it runs at process exit too, so a clean stop loses nothing. A batch whose
``write`` raises is tried again once, then dropped and logged with its size (what is written this way
must be something the source can give again, like a partner's balance).

The thread starts with the first record, in the process that hands it over: a forked child (a
gunicorn or django-q worker) starts its own. It opens its own database connection.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connections

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Most records one ``write`` call gets.
MAX_BATCH = 500
#: Wait before the one retry of a failed batch.
RETRY_PAUSE = 0.5
#: The thread closes its database connection after this many seconds without records.
IDLE_CLOSE = 5.0
_STOP = object()


class WriteBehind(Generic[T]):
    """Queue records and write them in batches from a daemon thread (see the module docstring)."""

    def __init__(self, name: str, write: Callable[[list[T]], None], *, delay: Callable[[], float],
                 max_batch: int = MAX_BATCH) -> None:
        self.name = name
        self.write = write
        self.delay = delay  # read at each batch: settings may change (tests)
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        self.stop()  # writes what is queued now, without waiting out the batch delay
        self.flush()  # anything left (no thread running) is written here

    def _reset(self) -> None:
        self._queue: queue.Queue[T] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(self, record: T) -> None:
        """Hand ``record`` over; it is written within about ``delay`` seconds."""
        self._queue.put(record)
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()

    def pending(self) -> int:
        """Records handed over and not yet written (or dropped)."""
        return self._queue.unfinished_tasks

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every record handed over so far is written; return False on timeout."""
        if self._pid != os.getpid():
            return True  # a forked child's copy of its parent's queue: not ours to write
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if self._thread is None or not self._thread.is_alive():
                self._drain()  # no thread (interpreter shutting down): write here
                continue
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then end the thread and close its connection (a later record starts
        another). For tests and benches that drop their database next."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        self._queue.put(_STOP)  # type: ignore[arg-type]
        thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                try:
                    first = self._queue.get(timeout=IDLE_CLOSE)
                except queue.Empty:
                    connections.close_all()
                    continue
                if first is _STOP:
                    self._queue.task_done()
                    return
                batch = [first]
                deadline = time.monotonic() + self.delay()
                while len(batch) < self.max_batch:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        record = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                    if record is _STOP:
                        self._queue.put(record)  # after this batch
                        self._queue.task_done()
                        break
                    batch.append(record)
                self._write(batch)
        finally:
            connections.close_all()

    def _drain(self) -> None:
        batch: list[T] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._write(batch)

    def _write(self, batch: list[T]) -> None:
        try:
            for attempt in (1, 2):
                try:
                    self.write(batch)
                    return
                except Exception:  # noqa: BLE001  (the thread must survive a database outage)
                    connections.close_all()  # a broken connection is reopened on the next try
                    if attempt == 2:
                        logger.exception("%s: %d records could not be written and were dropped",
                                         self.name, len(batch))
                    else:
                        time.sleep(RETRY_PAUSE)
        finally:
            for _ in batch:
                self._queue.task_done()
