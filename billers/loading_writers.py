"""Writers to a shared staging table for the slice readers (``billers.loading_parts``), without Django.

``loading_sql.Stage.part_writer`` makes one (it is pickled to the reader process): the reader calls
``open``, ``write`` per batch, then ``close``. SQLite: each batch in a transaction of its own on the
scratch file; PostgreSQL: one COPY for the whole slice.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from billers.loading_run import CHUNK

if TYPE_CHECKING:
    from billers.loading_sql import Stage

__all__ = ["SCRATCH_PRAGMAS", "SQLITE_CACHE_KB", "PartWriter", "PostgresPartWriter", "SqlitePartWriter", "StageWriter"]

SQLITE_CACHE_KB = 16_384  # per database (main, temp, the scratch file) while a file loads
#: The scratch file is written once and read once, then deleted: no journal, no sync, big pages (rows of a
#: few KB: fewer pages to fill and walk, ~20% faster writes than 4 KB pages).
SCRATCH_PRAGMAS = ("page_size = 65536", "journal_mode = OFF", "synchronous = OFF", f"cache_size = -{SQLITE_CACHE_KB}")


class PartWriter:
    """Writes rows to a shared staging table from a reader process (see ``Stage.part_writer``): the
    ``write`` / ``pump`` / ``settle`` of a ``Stage`` on a connection of its own, between ``open``
    and ``close``."""

    rows = 0
    #: Records converted between two writes; None: the reader's batch (``loading_parts.READER_BATCH``).
    batch: int | None = None

    def pump(self) -> None:
        """Nothing to move on: each write ends before it returns."""

    def settle(self) -> None:
        """Nothing to wait for (see ``pump``)."""


class SqlitePartWriter(PartWriter):
    """Each batch in a transaction of its own; readers take turns (a lock file) rather than wait on
    SQLite's busy handler, which sleeps for milliseconds at a time."""

    def __init__(self, path: str, columns: Sequence[str]) -> None:
        self.path = path
        marks = ", ".join("?" * len(columns))
        self.sql = f"INSERT INTO staged ({', '.join(columns)}) VALUES ({marks})"

    def open(self) -> None:
        import sqlite3

        self.lock = open(f"{self.path}.lock", "a+b")  # noqa: SIM115 - closed by close()
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        for pragma in SCRATCH_PRAGMAS[1:]:  # the page size was set when the file was made
            self.db.execute(f"PRAGMA {pragma}")

    def write(self, rows: Sequence[tuple]) -> None:
        import fcntl

        if not rows:
            return
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(self.sql, rows)
            self.db.execute("COMMIT")
        finally:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.rows += len(rows)

    def close(self) -> None:
        self.db.close()
        self.lock.close()


class PostgresPartWriter(PartWriter):
    """One COPY for the whole slice, committed at ``close``; the server takes rows as they come.

    A write costs no round trip, so rows go over a chunk at a time (``loading_run.CHUNK``): records
    converted and handed over in small chunks stay in the CPU cache (a third less reader CPU than
    2,000-record batches).
    """

    batch = CHUNK

    def __init__(self, params: dict[str, Any], table: str, columns: Sequence[str]) -> None:
        self.params, self.sql = params, f"COPY {table} ({', '.join(columns)}) FROM STDIN"

    def open(self) -> None:
        import psycopg

        self.db = psycopg.connect(**self.params)
        self.cursor = self.db.cursor()
        self.manager = self.cursor.copy(self.sql)
        self.copy = self.manager.__enter__()

    def write(self, rows: Sequence[tuple]) -> None:
        write_row = self.copy.write_row
        for row in rows:
            write_row(row)
        self.rows += len(rows)

    def close(self) -> None:
        try:
            self.manager.__exit__(None, None, None)
            self.db.commit()
        finally:
            self.db.close()


StageWriter = Union["Stage", PartWriter]  # what the batch loop writes to
