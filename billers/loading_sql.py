"""Staging tables and set-based merges for the loader, on SQLite and PostgreSQL.

A file's rows go to a TEMP staging table batch by batch (PostgreSQL: ``COPY ... FROM STDIN``;
SQLite: ``executemany``), each batch committed on its own: staging touches no real table, so the
previous state stays untouched and the exchange's progress can be written between batches. Once
the whole file is read and accepted, ``merge_*`` apply it to the real tables with a few
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` / ``UPDATE ... FROM`` statements, inside the
caller's single transaction. Within a file the last row for an account or invoice wins.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection

from billers.loading_rows import INVOICE_COLUMNS

_PG_TYPES = {
    "seq": "bigint", "line": "bigint", "block_cc": "boolean", "block_ach": "boolean", "acct_balance": "numeric",
    "acct_past_due": "numeric", "invoice_date": "date", "due_date": "date", "total_amount_due": "numeric",
    "balance_due": "numeric", "past_due": "numeric", "minimum_amount_due": "numeric", "invoice_type_id": "integer",
    "payment_expiration_date": "date", "active": "boolean", "amount": "numeric", "expires_on": "date",
}
BALANCE_COLUMNS = ("seq", "line", "account_number", "invoice_number", "amount")
EXPIRATION_COLUMNS = ("seq", "line", "account_number", "invoice_number", "expires_on", "message")
_names = itertools.count(1)
SQLITE_CACHE_KB = 16_384  # per database (main, temp) while a file loads


def _latest(stage: str, key: str) -> str:
    """SQL: the staged row ``s`` is the last of its ``key`` in the file (an index probe per row)."""
    return f"NOT EXISTS (SELECT 1 FROM {stage} later WHERE later.{key} = s.{key} AND later.seq > s.seq)"


class Stage:
    """One TEMP staging table on the default connection; use as a context manager (dropped on exit)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.name = f"bb_stage_{next(_names)}"
        self.vendor = connection.vendor
        self.rows = 0

    def __enter__(self) -> Stage:
        if self.vendor == "postgresql":
            cols = ", ".join(f"{c} {_PG_TYPES.get(c, 'text')}" for c in self.columns)
        else:
            cols = ", ".join(self.columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(f"CREATE TEMP TABLE {self.name} ({cols})")
            if self.vendor == "sqlite":
                # The default 2 MB page caches thrash on a big file's indexes; memory stays bounded.
                self._caches = [cursor.execute(f"PRAGMA {db}.cache_size").fetchone()[0] for db in ("main", "temp")]
                cursor.execute(f"PRAGMA main.cache_size = -{SQLITE_CACHE_KB}")
                cursor.execute(f"PRAGMA temp.cache_size = -{SQLITE_CACHE_KB}")
        return self

    def __exit__(self, *exc: object) -> None:
        if connection.connection is None:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
                if self.vendor == "sqlite":
                    for db, size in zip(("main", "temp"), self._caches):
                        cursor.execute(f"PRAGMA {db}.cache_size = {int(size)}")
        except Exception:
            if not exc[0]:
                raise

    def write(self, rows: Sequence[tuple]) -> None:
        """Append ``rows`` (tuples in column order) to the staging table."""
        if not rows:
            return
        connection.ensure_connection()
        raw = connection.connection
        cols = ", ".join(self.columns)
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.name} ({cols}) FROM STDIN") as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns))
            raw.executemany(f"INSERT INTO {self.name} ({cols}) VALUES ({marks})", rows)
        self.rows += len(rows)

    def index(self, *keys: str) -> None:
        """Index the staging table on each of ``keys`` (the merges group and join on them)."""
        with connection.cursor() as cursor:
            for key in keys:
                cursor.execute(f"CREATE INDEX {self.name}_{key} ON {self.name} ({key}, seq)")
            if self.vendor == "postgresql":
                cursor.execute(f"ANALYZE {self.name}")

    def _json(self, column: str) -> str:
        return f"s.{column}::jsonb" if self.vendor == "postgresql" else f"s.{column}"


def _one(sql: str, params: Sequence[object]) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _run(sql: str, params: Sequence[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _now(now: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(now)


_ACCOUNT_TEXT = ("display_account_number", "name", "name2", "address1", "address2", "city", "state", "zip", "phone",
                 "email")


def _count(table: str, biller_id: int) -> int:
    return _one(f"SELECT count(*) FROM {table} WHERE biller_id = %s", [biller_id])[0]


def merge_invoices(stage: Stage, *, biller_id: int, now: datetime, balance_forward: bool) -> dict[str, int]:
    """Upsert the staged accounts, then the staged invoices; return the counts.

    Counts: accounts_created/updated/conveyed (an existing account whose name changed), and
    invoices_created/updated, replaced (RecordType R rows that replaced a stored invoice),
    deactivated (BalanceForward). Block flags and customer/location numbers a file does not give
    keep their stored values; so do an invoice's payment expiration date and message.
    Created = rows after - rows before; updated = rows the upsert touched - created.
    """
    t, b, at = stage.name, biller_id, _now(now)
    stage.index("account_number", "invoice_number")
    latest_account, latest_invoice = _latest(t, "account_number"), _latest(t, "invoice_number")
    join_account = "billers_account e ON e.biller_id = %s AND e.account_number = s.account_number"
    before = _count("billers_account", b)
    conveyed = _one(f"SELECT count(*) FROM {t} s JOIN {join_account} WHERE {latest_account} AND e.name <> s.name",
                    [b])[0] if before else 0
    text = ", ".join(f"s.{c}" for c in _ACCOUNT_TEXT)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_ACCOUNT_TEXT, "customer_number", "location_number",
                        "balance_due", "past_due", "block_cc", "block_ach", "balance_source", "balance_updated_at",
                        "updated_at"))
    touched = _run(
        f"INSERT INTO billers_account (biller_id, account_number, {', '.join(_ACCOUNT_TEXT)}, customer_number, "
        "location_number, balance_due, past_due, block_cc, block_ach, balance_source, balance_updated_at, "
        f"created_at, updated_at) SELECT %s, s.account_number, {text}, "
        "coalesce(s.customer_number, e.customer_number, ''), coalesce(s.location_number, e.location_number, ''), "
        "s.acct_balance, s.acct_past_due, coalesce(s.block_cc, e.block_cc, false), "
        "coalesce(s.block_ach, e.block_ach, false), 'invoice file', %s, %s, %s "
        f"FROM {t} s LEFT JOIN {join_account} WHERE {latest_account} "
        f"ON CONFLICT (biller_id, account_number) DO UPDATE SET {updates}",
        [b, at, at, at, b])
    created = _count("billers_account", b) - before
    counts = {"accounts_created": created, "accounts_updated": touched - created, "accounts_conveyed": conveyed}
    replaced = 0
    if _one(f"SELECT count(*) FROM (SELECT 1 FROM {t} WHERE record_type = 'R' LIMIT 1) r", [])[0]:
        replaced = _one(
            f"SELECT count(*) FROM {t} s JOIN billers_invoice e ON e.biller_id = %s "
            f"AND e.invoice_number = s.invoice_number WHERE s.record_type = 'R' AND {latest_invoice}", [b])[0]
    before = _count("billers_invoice", b)
    columns = ("account_id", "record_type", "invoice_format_guid", "invoice_date", "due_date", "total_amount_due",
               "balance_due", "past_due", "minimum_amount_due", "invoice_type_id", "payment_expiration_date",
               "payment_expiration_message", "active", "header", "customer", "details", "updated_at")
    kept = {"payment_expiration_date": "coalesce(excluded.payment_expiration_date, "
                                       "billers_invoice.payment_expiration_date)",
            "payment_expiration_message": "CASE WHEN excluded.payment_expiration_message = '' "
                                          "THEN billers_invoice.payment_expiration_message "
                                          "ELSE excluded.payment_expiration_message END"}
    touched = _run(
        f"INSERT INTO billers_invoice (biller_id, invoice_number, {', '.join(columns)}, created_at) "
        "SELECT %s, s.invoice_number, a.id, s.record_type, s.invoice_format_guid, s.invoice_date, s.due_date, "
        "s.total_amount_due, s.balance_due, s.past_due, s.minimum_amount_due, s.invoice_type_id, "
        "s.payment_expiration_date, s.payment_expiration_message, s.active, "
        f"{stage._json('header')}, {stage._json('customer')}, {stage._json('details')}, %s, %s "
        # CROSS JOIN keeps the staging table the outer loop on SQLite (no statistics on a TEMP table).
        f"FROM {t} s CROSS JOIN billers_account a "
        f"WHERE a.biller_id = %s AND a.account_number = s.account_number AND {latest_invoice} "
        "ON CONFLICT (biller_id, invoice_number) DO UPDATE SET "
        + ", ".join(f"{c} = {kept.get(c, 'excluded.' + c)}" for c in columns),
        [b, at, at, b])
    created = _count("billers_invoice", b) - before
    counts.update(invoices_created=created, invoices_updated=touched - created, replaced=replaced)
    counts["deactivated"] = 0
    if balance_forward:
        counts["deactivated"] = _run(
            "UPDATE billers_invoice SET active = false, updated_at = %s WHERE biller_id = %s AND active "
            f"AND account_id IN (SELECT a.id FROM billers_account a JOIN {t} s ON a.biller_id = %s "
            "AND a.account_number = s.account_number) "
            f"AND NOT EXISTS (SELECT 1 FROM {t} s WHERE s.invoice_number = billers_invoice.invoice_number)",
            [at, b, b])
    return counts


def merge_balances(stage: Stage, *, biller_id: int, now: datetime) -> dict[str, int]:
    """Set each staged invoice's balance_due, and its account's balance (source "balance file")."""
    t, b, at = stage.name, biller_id, _now(now)
    stage.index("account_number", "invoice_number")
    invoices = _run(
        f"UPDATE billers_invoice SET balance_due = s.amount, updated_at = %s FROM {t} s "
        "WHERE billers_invoice.biller_id = %s AND billers_invoice.invoice_number = s.invoice_number "
        f"AND {_latest(t, 'invoice_number')}", [at, b])
    accounts = _run(
        "UPDATE billers_account SET balance_due = s.amount, balance_source = 'balance file', "
        f"balance_updated_at = %s, updated_at = %s FROM {t} s WHERE billers_account.biller_id = %s "
        f"AND billers_account.account_number = s.account_number AND {_latest(t, 'account_number')}", [at, at, b])
    return {"balances": stage.rows, "invoices_updated": invoices, "accounts_updated": accounts}


def merge_expirations(stage: Stage, *, biller_id: int, now: datetime) -> dict[str, int]:
    """Set each staged invoice's payment_expiration_date and message."""
    t, b, at = stage.name, biller_id, _now(now)
    stage.index("invoice_number")
    invoices = _run(
        f"UPDATE billers_invoice SET payment_expiration_date = s.expires_on, payment_expiration_message = s.message, "
        f"updated_at = %s FROM {t} s WHERE billers_invoice.biller_id = %s "
        f"AND billers_invoice.invoice_number = s.invoice_number AND {_latest(t, 'invoice_number')}", [at, b])
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
    "Stage",
    "merge_balances",
    "merge_expirations",
    "merge_invoices",
    "stored_invoices",
]
