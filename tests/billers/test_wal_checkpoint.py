"""The background checkpoint after a big merge on SQLite: the log reaches the database file."""
from __future__ import annotations

import sqlite3

from billers.wal_checkpoint import checkpoint_in_background


def test_a_background_checkpoint_copies_the_log_into_the_database_file(tmp_path):
    path = tmp_path / "db.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # as during a merge: the commit copies nothing
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?)", (("x" * 500,) for _ in range(4_000)))
    db.execute("COMMIT")
    before = path.stat().st_size
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 1_000_000 > before
    checkpoint_in_background(str(path)).join(timeout=30)
    assert path.stat().st_size > 1_000_000
    assert db.execute("SELECT count(*) FROM t").fetchone() == (4_000,)
    db.close()


def test_a_checkpoint_of_a_broken_file_is_logged_not_raised(tmp_path, caplog):
    path = tmp_path / "not-a-database.sqlite3"
    path.write_bytes(b"this is not an SQLite file" * 100)
    checkpoint_in_background(str(path)).join(timeout=30)
    assert "background checkpoint" in caplog.text
