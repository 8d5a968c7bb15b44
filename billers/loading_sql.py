"""Staging tables and set-based merges for the loader, on SQLite and PostgreSQL.

A file's rows go to a staging table batch by batch, each batch committed on its own: staging
touches no real table, so the previous state stays untouched and the exchange's progress can be
written between batches. Once the whole file is read and accepted, ``merge_*`` apply it to the
real tables with a few set-based ``UPDATE ... FROM`` / ``INSERT ... SELECT`` statements, inside the
caller's single transaction. Within a file the last row for an account or invoice wins.

PostgreSQL: a TEMP table (UNLOGGED when slice readers write to it too: ``part_writer``) filled
with ``COPY ... FROM STDIN``; its JSON columns are ``jsonb``, so
the server parses the JSON while it takes the COPY. A batch's COPY is left running while the
caller reads the next batch (``pump`` keeps the data flowing, ``settle`` ends it): the server's
work overlaps the parsing, on the other core.

SQLite: ``executemany`` into a table of a scratch database file of its own (ATTACHed: no journal,
64 KB pages), deleted afterwards: dropping a big TEMP table costs about as much as writing it.
Inside a transaction, where ATTACH is refused, a TEMP table is used instead.
"""
from __future__ import annotations

import itertools
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from billers.loading_rows import INVOICE_COLUMNS
from billers.loading_writers import (
    SCRATCH_PRAGMAS,
    SQLITE_CACHE_KB,
    PartWriter,
    PostgresPartWriter,
    SqlitePartWriter,
    StageWriter,
)

_PG_TYPES = {
    "seq": "bigint", "line": "bigint", "block_cc": "boolean", "block_ach": "boolean", "acct_balance": "numeric",
    "acct_past_due": "numeric", "invoice_date": "date", "due_date": "date", "total_amount_due": "numeric",
    "balance_due": "numeric", "past_due": "numeric", "minimum_amount_due": "numeric", "invoice_type_id": "integer",
    "payment_expiration_date": "date", "active": "boolean", "amount": "numeric", "expires_on": "date",
    "header": "jsonb", "customer": "jsonb", "details": "jsonb",
}
BALANCE_COLUMNS = ("seq", "line", "account_number", "invoice_number", "amount")
EXPIRATION_COLUMNS = ("seq", "line", "account_number", "invoice_number", "expires_on", "message")
_names = itertools.count(1)
log = logging.getLogger(__name__)
#: Bytes libpq may hold for a running COPY before psycopg waits for them to reach the server: above a
#: batch's worth, so that handing a batch over never waits (``pump`` and ``settle`` move it on).
COPY_BUFFER = 1 << 30


def _latest(stage: str, key: str) -> str:
    """SQL: the staged row ``s`` is the last of its ``key`` in the file."""
    return f"NOT EXISTS (SELECT 1 FROM {stage} later WHERE later.{key} = s.{key} AND later.seq > s.seq)"


SCRATCH_STALE_AFTER = 24 * 3600  # seconds: a scratch file untouched this long outlived its load (a crash)


def _remove_stale_scratch(folder: str | None) -> None:
    """Delete scratch files a killed process left behind (a live load writes to its file all along)."""
    for path in Path(folder or tempfile.gettempdir()).glob("bb_stage_*.sqlite3*"):  # with its .lock
        try:
            if time.time() - path.stat().st_mtime > SCRATCH_STALE_AFTER:
                path.unlink()
        except OSError:
            pass  # gone meanwhile, or not ours to delete


def _drop_stale_tables(cursor: Any) -> None:
    """PostgreSQL: drop shared staging tables a killed process left behind (made over a day ago)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                   "AND tablename ~ '^bb_stage_[0-9]+_[0-9]+_[0-9]+$'")
    for (table,) in cursor.fetchall():
        if time.time() - int(table.split("_")[2]) > SCRATCH_STALE_AFTER:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _scratch_dir() -> str | None:
    """The SQLite database's folder (room for a file as big as the data), None for an in-memory one."""
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    return os.path.dirname(os.path.abspath(name))


class Stage:
    """One staging table on the default connection; use as a context manager (removed on exit).

    ``name`` is the table to read in SQL. On PostgreSQL a ``write`` returns while its COPY still
    runs: nothing else may use the connection until ``settle`` (the loader settles before each
    progress write, lookup and merge; ``index`` and exit settle too).
    """

    def __init__(self, columns: Sequence[str], *, shared: bool = False) -> None:
        self.columns = tuple(columns)
        self.shared = shared  # other processes write to it too (``part_writer``): PostgreSQL, not a TEMP table
        # A shared table outlives a killed process: its name says when it was made (see _drop_stale_tables).
        self.name = (f"bb_stage_{int(time.time())}_{os.getpid()}_{next(_names)}" if shared
                     else f"bb_stage_{next(_names)}")
        self.vendor = connection.vendor
        self.rows = 0
        self._schema = "temp"  # SQLite: the database holding the table (an attached scratch file or temp)
        self._file: str | None = None
        self._copy: tuple[Any, Any] | None = None  # PostgreSQL: (cursor, context manager) of the running COPY
        self._caches: list[int] = []

    def __enter__(self) -> Stage:
        if self.vendor == "postgresql":
            cols = ", ".join(f"{c} {_PG_TYPES.get(c, 'text')}" for c in self.columns)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
                if self.shared:
                    _drop_stale_tables(cursor)
                kind = "UNLOGGED" if self.shared else "TEMP"
                cursor.execute(f"CREATE {kind} TABLE {self.name} ({cols})")
            return self
        cols = ", ".join(self.columns)
        with connection.cursor() as cursor:
            # The default 2 MB page caches thrash on a big file's indexes; memory stays bounded.
            self._caches = [cursor.execute(f"PRAGMA {db}.cache_size").fetchone()[0] for db in ("main", "temp")]
            cursor.execute(f"PRAGMA main.cache_size = -{SQLITE_CACHE_KB}")
            cursor.execute(f"PRAGMA temp.cache_size = -{SQLITE_CACHE_KB}")
            if connection.in_atomic_block:
                if self.shared:
                    raise ValueError("a shared staging table cannot be made inside a transaction")
                cursor.execute(f"DROP TABLE IF EXISTS temp.{self.name}")
                cursor.execute(f"CREATE TEMP TABLE {self.name} ({cols})")
                return self
            folder = _scratch_dir()
            _remove_stale_scratch(folder)
            handle, self._file = tempfile.mkstemp(prefix=f"{self.name}_", suffix=".sqlite3", dir=folder)
            os.close(handle)
            self._schema = schema = self.name
            cursor.execute(f"ATTACH DATABASE %s AS {schema}", [self._file])
            for pragma in SCRATCH_PRAGMAS:
                cursor.execute(f"PRAGMA {schema}.{pragma}")
            cursor.execute(f"CREATE TABLE {schema}.staged ({cols})")
        self.name = f"{schema}.staged"
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if connection.connection is None:
                return
            self._end_copy(exc[1] if isinstance(exc[1], BaseException) else None)
            with connection.cursor() as cursor:
                if self.vendor == "postgresql":
                    cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
                    return
                if self._file:
                    cursor.execute(f"DETACH DATABASE {self._schema}")
                else:
                    cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
                for db, size in zip(("main", "temp"), self._caches):
                    cursor.execute(f"PRAGMA {db}.cache_size = {int(size)}")
        except Exception:
            if not exc[0]:
                raise
        finally:
            for path in (self._file, f"{self._file}.lock") if self._file else ():
                if os.path.exists(path):
                    os.unlink(path)

    def write(self, rows: Sequence[tuple]) -> None:
        """Append ``rows`` (tuples in column order) to the staging table, in a transaction of their own.

        PostgreSQL: the COPY is started and the rows handed to libpq; it returns without waiting for
        the server (see ``settle``).
        """
        if not rows:
            return
        self.settle()
        connection.ensure_connection()
        raw = connection.connection
        cols = ", ".join(self.columns)
        if self.vendor == "postgresql":
            from psycopg.copy import LibpqWriter

            cursor = raw.cursor()
            manager = cursor.copy(f"COPY {self.name} ({cols}) FROM STDIN",
                                  writer=LibpqWriter(cursor, flush_threshold=COPY_BUFFER))
            copy = manager.__enter__()
            self._copy = (cursor, manager)
            try:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
            except BaseException as exc:
                self._end_copy(exc)
                raise
        else:
            marks = ", ".join("?" * len(self.columns))
            with transaction.atomic():
                raw.executemany(f"INSERT INTO {self.name} ({cols}) VALUES ({marks})", rows)
        self.rows += len(rows)

    def part_writer(self) -> PartWriter:
        """Return a writer to this (shared) staging table for another process (picklable; that process
        calls ``open``, writes, then ``close``)."""
        if not self.shared:
            raise ValueError("only a shared staging table takes rows from other processes")
        if self.vendor == "postgresql":
            return PostgresPartWriter(_own_connection_params(), self.name, self.columns)
        assert self._file is not None
        return SqlitePartWriter(self._file, self.columns)

    def pump(self) -> None:
        """Send what the socket takes of a running COPY's data, without waiting (a no-op otherwise)."""
        if self._copy is not None:
            connection.connection.pgconn.flush()

    def settle(self) -> None:
        """Wait for a running COPY to end (its errors raise here); then the connection is free."""
        self._end_copy(None)

    def _end_copy(self, error: BaseException | None) -> None:
        running, self._copy = self._copy, None
        if running is None:
            return
        cursor, manager = running
        try:
            if error is None:
                manager.__exit__(None, None, None)
            else:
                manager.__exit__(type(error), error, error.__traceback__)
        finally:
            cursor.close()

    def index(self, *keys: str) -> None:
        """Index the staging table on each of ``keys`` (SQLite: the merges probe them). PostgreSQL joins by
        hashing and needs none: its table is analyzed instead."""
        self.settle()
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(f"ANALYZE {self.name} ({', '.join(keys)})")  # not the JSON: costly, never joined
                return
            table = self.name.rsplit(".", 1)[-1]
            for key in keys:
                cursor.execute(f"CREATE INDEX {self._schema}.{table}_{key} ON {table} ({key}, seq)")

    def repeated(self, *keys: str, cursor: Any = None) -> frozenset[str]:
        """Those of ``keys`` that occur on more than one staged row (there the last row wins).

        PostgreSQL hashes every key in one scan (grouping sets), on ``cursor`` when given (another
        connection: see ``latest_aside``); SQLite walks the key indexes.
        """
        if self.vendor == "postgresql":
            if cursor is None:
                with connection.cursor() as own:
                    return self.repeated(*keys, cursor=own)
            # grouping() sets a bit per key left out of the row's grouping set, the first key highest.
            everything = (1 << len(keys)) - 1
            set_of = {everything ^ (1 << (len(keys) - 1 - i)): key for i, key in enumerate(keys)}
            sets = ", ".join(f"({key})" for key in keys)
            cursor.execute(f"SELECT DISTINCT grouping({', '.join(keys)}) FROM {self.name} "
                           f"GROUP BY GROUPING SETS ({sets}) HAVING count(*) > 1")
            return frozenset(set_of[row[0]] for row in cursor.fetchall())
        return frozenset(key for key in keys if _one(
            f"SELECT count(*) FROM (SELECT 1 FROM {self.name} GROUP BY {key} HAVING count(*) > 1 LIMIT 1) d", [])[0])

    def latest(self, *keys: str) -> list[str]:
        """Per key, SQL saying the staged row ``s`` is the last of its key ("true" when no key repeats)."""
        return self._latest_of(keys, self.repeated(*keys))

    def _latest_of(self, keys: Sequence[str], repeated: frozenset[str]) -> list[str]:
        return [_latest(self.name, key) if key in repeated else "true" for key in keys]

    def latest_aside(self, *keys: str) -> Future[list[str]] | None:
        """``latest(*keys)`` worked out on a connection of its own while this one goes on; None where
        that cannot be: a staging table only this connection sees (TEMP), or SQLite.

        The check is a scan of the whole staging table (two seconds at a million rows) that would
        otherwise hold up the merge; see ``merge_invoices``.
        """
        if self.vendor != "postgresql" or not self.shared:
            return None
        self.settle()
        params = _own_connection_params()

        def check() -> list[str]:
            import psycopg

            with psycopg.connect(**params) as db, db.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, false)", [MERGE_WORK_MEM])
                return self._latest_of(keys, self.repeated(*keys, cursor=cursor))

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bb-repeats")
        try:
            return pool.submit(check)
        finally:
            pool.shutdown(wait=False)  # the thread ends with the check


def _own_connection_params() -> dict[str, Any]:
    """PostgreSQL: what ``psycopg.connect`` needs to open another connection to this database."""
    return {k: v for k, v in connection.get_connection_params().items()
            if k not in ("cursor_factory", "context", "prepare_threshold")}


def _one(sql: str, params: Sequence[object] | dict[str, object]) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _run(sql: str, params: Sequence[object] | dict[str, object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _now(now: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(now)


_ACCOUNT_TEXT = ("display_account_number", "name", "name2", "address1", "address2", "city", "state", "zip", "phone",
                 "email")


_INVOICE_COLUMNS = ("account_id", "record_type", "invoice_format_guid", "invoice_date", "due_date", "total_amount_due",
                   "balance_due", "past_due", "minimum_amount_due", "invoice_type_id", "payment_expiration_date",
                   "payment_expiration_message", "active", "header", "customer", "details")
#: What an update of a stored invoice sets, per column (``e`` the stored row); default: the staged value.
_INVOICE_KEPT = {
    "payment_expiration_date": "coalesce(s.payment_expiration_date, e.payment_expiration_date)",
    "payment_expiration_message": "CASE WHEN s.payment_expiration_message = '' THEN e.payment_expiration_message "
                                  "ELSE s.payment_expiration_message END",
}
#: What an account row gets, per column: ``e`` is the stored account (NULL for a new one).
_ACCOUNT_VALUES = {
    **{c: f"s.{c}" for c in _ACCOUNT_TEXT},
    "customer_number": "coalesce(s.customer_number, e.customer_number, '')",
    "location_number": "coalesce(s.location_number, e.location_number, '')",
    "balance_due": "s.acct_balance", "past_due": "s.acct_past_due",
    "block_cc": "coalesce(s.block_cc, e.block_cc, false)", "block_ach": "coalesce(s.block_ach, e.block_ach, false)",
    "balance_source": "'invoice file'", "balance_updated_at": "%(at)s", "updated_at": "%(at)s",
}
_MERGE_LOCK = 7_301  # PostgreSQL advisory lock class: one merge per biller at a time


def _stores_any(table: str, biller_id: int) -> bool:
    """Whether the biller has any row in ``table`` (a fresh biller skips the joins with stored rows)."""
    return bool(_one(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE biller_id = %s LIMIT 1) r", [biller_id])[0])


MERGE_WORK_MEM = "128MB"  # PostgreSQL: per hash (join, grouping) of a merge; 4 MB makes them spill to disk


@contextmanager
def checks_skipped() -> Iterator[None]:
    """SQLite: the merge's rows skip the tables' CHECK constraints (``JSON_VALID`` of each JSON column,
    ``invoice_type_id >= 0``), which cost a tenth of the merge: the rows were checked when they were
    made, their JSON written by our encoder. PostgreSQL checks as usual (a no-op there)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")


def _prepare_merge(biller_id: int) -> None:
    """PostgreSQL (SQLite has one writer anyway): serialize merges into one biller, since each first
    updates what is stored, then inserts what is not, which two at once could both try; and give this
    transaction's hashes room for a big file's keys."""
    if connection.vendor == "postgresql":
        _one("SELECT pg_advisory_xact_lock(%s, %s)", [_MERGE_LOCK, biller_id])
        _one("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])


def may_skip_triggers() -> bool:
    """PostgreSQL: whether this connection's role may set ``session_replication_role`` (a superuser,
    or on PostgreSQL 15+ a role granted ``SET ON PARAMETER session_replication_role``)."""
    if connection.pg_version >= 150000:
        return bool(_one("SELECT has_parameter_privilege('session_replication_role', 'SET')", [])[0])
    return bool(_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", [])[0])


@contextmanager
def reference_checks_skipped(biller_id: int) -> Iterator[bool]:
    """PostgreSQL, inside the merge transaction: the statements run in this block fire no triggers
    (``session_replication_role = replica``) when the role may; yields whether they do.

    The only triggers on the merged tables are foreign-key checks: one query per row and key, three
    per new invoice, a third of a big merge's time. A merge cannot break a reference: every
    invoice's account is one this transaction inserts or updates (and so holds), and the biller's
    row is locked here against deletion, as the checks would have done. On SQLite a no-op.
    """
    skip = connection.vendor == "postgresql" and may_skip_triggers()
    if skip:
        _one("SELECT 1 FROM billers_biller WHERE id = %s FOR KEY SHARE", [biller_id])
        _one("SELECT set_config('session_replication_role', 'replica', true)", [])
    yield skip  # on an error the transaction is rolled back, the setting with it
    if skip:
        _one("SELECT set_config('session_replication_role', 'origin', true)", [])


def merge_invoices(stage: Stage, *, biller_id: int, now: datetime, balance_forward: bool) -> dict[str, int]:
    """Merge the staged accounts, then the staged invoices; return the counts.

    Counts: accounts_created/updated/conveyed (an existing account whose name changed), and
    invoices_created/updated, replaced (RecordType R rows that replaced a stored invoice),
    deactivated (BalanceForward). Block flags and customer/location numbers a file does not give
    keep their stored values; so do an invoice's payment expiration date and message.
    Stored rows are updated first, then the others inserted (plain INSERTs: an upsert's conflict
    check costs more than the join); created and updated are those two statements' row counts.
    """
    _prepare_merge(biller_id)
    stage.index(*_KEYS)
    with reference_checks_skipped(biller_id):
        aside = stage.latest_aside(*_KEYS)
        if aside is None:
            return _merge_invoices(stage, biller_id, _now(now), balance_forward, stage.latest(*_KEYS))
        # Merged as if no key repeated while the check runs on the other core, in a savepoint: kept when
        # the check finds no repeat (files seldom repeat an account or an invoice), else undone and merged
        # again with the check's filters.
        unfiltered = ["true"] * len(_KEYS)
        try:
            with transaction.atomic():
                counts = _merge_invoices(stage, biller_id, _now(now), balance_forward, unfiltered)
                latest = _checked(aside, stage)
                if latest != unfiltered:
                    raise _Repeats
            return counts
        except _Repeats:
            pass
        except DatabaseError:  # a repeated new key breaks a unique index, say; raised again if none repeats
            latest = _checked(aside, stage)
            if latest == unfiltered:
                raise
        return _merge_invoices(stage, biller_id, _now(now), balance_forward, latest)


_KEYS = ("account_number", "invoice_number")


def _checked(aside: Future[list[str]], stage: Stage) -> list[str]:
    """The outcome of ``Stage.latest_aside``; the check made on this connection if the other one failed."""
    try:
        return aside.result()
    except Exception:
        log.warning("checking %s for repeated keys on a connection of its own failed; checking here", stage.name,
                    exc_info=True)
        return stage.latest(*_KEYS)


class _Repeats(Exception):
    """A key repeats in the staged rows: the merge that assumed none is undone."""


def _merge_invoices(stage: Stage, b: int, at: object, balance_forward: bool, latest: list[str]) -> dict[str, int]:
    """The merge's statements; ``latest`` says, per key of ``_KEYS``, which staged rows count (``Stage.latest``)."""
    t, params = stage.name, {"b": b, "at": at}
    latest_account, latest_invoice = latest
    stored_account = "e.biller_id = %(b)s AND e.account_number = s.account_number"
    conveyed = updated = 0
    new_only = "true"  # a fresh biller's accounts are all new
    if _stores_any("billers_account", b):
        new_only = f"NOT EXISTS (SELECT 1 FROM billers_account e WHERE {stored_account})"
        conveyed = _one(f"SELECT count(*) FROM {t} s JOIN billers_account e ON {stored_account} "
                        f"WHERE {latest_account} AND e.name <> s.name", params)[0]
        updated = _run(
            "UPDATE billers_account AS e SET " + ", ".join(f"{c} = {v}" for c, v in _ACCOUNT_VALUES.items())
            + f" FROM {t} s WHERE {stored_account} AND {latest_account}", params)
    fresh = {**_ACCOUNT_VALUES, "customer_number": "coalesce(s.customer_number, '')",
             "location_number": "coalesce(s.location_number, '')", "block_cc": "coalesce(s.block_cc, false)",
             "block_ach": "coalesce(s.block_ach, false)", "created_at": "%(at)s"}
    created = _run(
        f"INSERT INTO billers_account (biller_id, account_number, {', '.join(fresh)}) "
        f"SELECT %(b)s, s.account_number, {', '.join(fresh.values())} FROM {t} s "
        f"WHERE {latest_account} AND {new_only}", params)
    counts = {"accounts_created": created, "accounts_updated": updated, "accounts_conveyed": conveyed}
    stored_invoice = "e.biller_id = %(b)s AND e.invoice_number = s.invoice_number"
    values = {"account_id": "a.id", **{c: f"s.{c}" for c in _INVOICE_COLUMNS[1:]}}
    # The account join puts the staging table first (SQLite plans a CROSS JOIN in the written order).
    account = "CROSS JOIN billers_account a WHERE a.biller_id = %(b)s AND a.account_number = s.account_number"
    replaced = updated = 0
    new_only = "true"
    if _stores_any("billers_invoice", b):
        new_only = f"NOT EXISTS (SELECT 1 FROM billers_invoice e WHERE {stored_invoice})"
        if _one(f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE record_type = 'R' LIMIT 1) r", [])[0]:
            replaced = _one(f"SELECT count(*) FROM {t} s JOIN billers_invoice e ON {stored_invoice} "
                            f"WHERE s.record_type = 'R' AND {latest_invoice}", params)[0]
        updated = _run(
            "UPDATE billers_invoice AS e SET "
            + ", ".join(f"{c} = {_INVOICE_KEPT.get(c, values[c])}" for c in _INVOICE_COLUMNS)
            + f", updated_at = %(at)s FROM {t} s {account} AND {stored_invoice} AND {latest_invoice}", params)
    created = _run(
        f"INSERT INTO billers_invoice (biller_id, invoice_number, {', '.join(_INVOICE_COLUMNS)}, created_at, "
        f"updated_at) SELECT %(b)s, s.invoice_number, {', '.join(values.values())}, %(at)s, %(at)s "
        f"FROM {t} s {account} AND {latest_invoice} AND {new_only}", params)
    counts.update(invoices_created=created, invoices_updated=updated, replaced=replaced)
    counts["deactivated"] = 0
    if balance_forward:
        counts["deactivated"] = _run(
            "UPDATE billers_invoice SET active = false, updated_at = %(at)s WHERE biller_id = %(b)s AND active "
            f"AND account_id IN (SELECT a.id FROM billers_account a JOIN {t} s ON a.biller_id = %(b)s "
            "AND a.account_number = s.account_number) "
            f"AND NOT EXISTS (SELECT 1 FROM {t} s WHERE s.invoice_number = billers_invoice.invoice_number)",
            params)
    return counts


def merge_balances(stage: Stage, *, biller_id: int, now: datetime) -> dict[str, int]:
    """Set each staged invoice's balance_due, and its account's balance (source "balance file")."""
    t, b, at = stage.name, biller_id, _now(now)
    stage.index("account_number", "invoice_number")
    latest_account, latest_invoice = stage.latest("account_number", "invoice_number")
    invoices = _run(
        f"UPDATE billers_invoice SET balance_due = s.amount, updated_at = %s FROM {t} s "
        "WHERE billers_invoice.biller_id = %s AND billers_invoice.invoice_number = s.invoice_number "
        f"AND {latest_invoice}", [at, b])
    accounts = _run(
        "UPDATE billers_account SET balance_due = s.amount, balance_source = 'balance file', "
        f"balance_updated_at = %s, updated_at = %s FROM {t} s WHERE billers_account.biller_id = %s "
        f"AND billers_account.account_number = s.account_number AND {latest_account}", [at, at, b])
    return {"balances": stage.rows, "invoices_updated": invoices, "accounts_updated": accounts}


def merge_expirations(stage: Stage, *, biller_id: int, now: datetime) -> dict[str, int]:
    """Set each staged invoice's payment_expiration_date and message."""
    t, b, at = stage.name, biller_id, _now(now)
    stage.index("invoice_number")
    invoices = _run(
        f"UPDATE billers_invoice SET payment_expiration_date = s.expires_on, payment_expiration_message = s.message, "
        f"updated_at = %s FROM {t} s WHERE billers_invoice.biller_id = %s "
        f"AND billers_invoice.invoice_number = s.invoice_number AND {stage.latest('invoice_number')[0]}", [at, b])
    return {"expirations": stage.rows, "invoices_updated": invoices}


def stored_invoices(biller_id: int, numbers: Iterable[str]) -> dict[str, str]:
    """Return {invoice number: its account number} for those of ``numbers`` the biller has stored."""
    numbers = list(set(numbers))
    if not numbers:
        return {}
    sql = ("SELECT i.invoice_number, a.account_number FROM billers_invoice i JOIN billers_account a "
           "ON a.id = i.account_id WHERE i.biller_id = %s AND i.invoice_number ")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql + "= ANY(%s)", [biller_id, numbers])
        else:
            cursor.execute(sql + f"IN ({', '.join(['%s'] * len(numbers))})", [biller_id, *numbers])
        return dict(cursor.fetchall())


__all__ = [
    "BALANCE_COLUMNS",
    "EXPIRATION_COLUMNS",
    "INVOICE_COLUMNS",
    "PartWriter",
    "Stage",
    "StageWriter",
    "checks_skipped",
    "merge_balances",
    "merge_expirations",
    "merge_invoices",
    "may_skip_triggers",
    "reference_checks_skipped",
    "stored_invoices",
]
