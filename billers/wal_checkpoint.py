"""SQLite: copy a big merge's write-ahead log into the database file in a background thread.

A merge of a big file writes its rows to the WAL. At the commit SQLite's automatic checkpoint would
then copy them all into the database file before returning, about a third of the merge's time.
``deferred_checkpoint()`` wraps the merge transaction: automatic checkpoints are off on this
connection, and once the transaction has committed a thread with a connection of its own runs a
PASSIVE checkpoint, which never blocks readers or writers (PostgreSQL's checkpointer works the same
way). The connection keeps automatic checkpoints off until it is closed (``CONN_MAX_AGE``): every
merge it runs starts a checkpoint, and the other connections checkpoint as usual. A checkpoint cut
short (the process ends) is finished by the next one; the database is consistent either way.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

__all__ = ["checkpoint_in_background", "deferred_checkpoint"]

log = logging.getLogger(__name__)


def _wal_file() -> str | None:
    """The database file of the default connection, if it is an SQLite file in WAL mode."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        return name if cursor.fetchone()[0].lower() == "wal" else None


@contextmanager
def deferred_checkpoint() -> Iterator[None]:
    """Around a big write transaction: no checkpoint at its commit; one in a background thread after."""
    path = _wal_file()
    if path is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    yield
    checkpoint_in_background(path)


def checkpoint_in_background(path: str) -> threading.Thread:
    """Start (and return) a daemon thread running a PASSIVE checkpoint of the SQLite file ``path``."""
    thread = threading.Thread(target=_checkpoint, args=(path,), name="sqlite-checkpoint", daemon=True)
    thread.start()
    return thread


def _checkpoint(path: str) -> None:
    try:
        db = sqlite3.connect(path, timeout=60)
        try:
            busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            log.debug("checkpoint of %s: %s of %s frames copied (busy: %s)", path, copied, frames, busy)
        finally:
            db.close()
    except sqlite3.Error:
        log.exception("the background checkpoint of %s failed (the next one will copy the log)", path)
