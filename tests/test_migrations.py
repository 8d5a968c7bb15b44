"""The suite builds tables straight from the models (--no-migrations); these check the migrations.

They run manage.py in a subprocess against a scratch database of the same engine as the suite.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def scratch_env(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield env
        return
    import psycopg

    name = f"bb_migrations_{uuid.uuid4().hex[:8]}"
    admin_db = settings.DATABASES["default"]
    conninfo = dict(host=admin_db["HOST"] or "127.0.0.1", port=admin_db["PORT"] or 5432,
                    user=admin_db["USER"], dbname="postgres")
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    yield env
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_no_model_change_lacks_a_migration(scratch_env):
    result = manage("makemigrations", "--check", "--dry-run", env=scratch_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_apply_from_zero_and_back(scratch_env):
    for args in (["migrate", "-v", "0"], ["migrate", "billers", "zero", "-v", "0"], ["migrate", "-v", "0"]):
        result = manage(*args, env=scratch_env)
        assert result.returncode == 0, result.stderr
    if "DATABASE_URL" not in scratch_env:  # the embedded default: a file made by these commands
        import sqlite3

        db = sqlite3.connect(Path(scratch_env["DATA_DIR"]) / "billbridge.sqlite3")
        try:
            assert db.execute("PRAGMA page_size").fetchone()[0] == 16384
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            db.close()


@pytest.mark.django_db
def test_stored_records_are_rewritten_in_column_order_and_back(make_biller, make_invoice):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from billers.models import Invoice

    step = import_module("billers.migrations.0004_invoice_records_in_column_order")
    biller = make_biller("daffron", 2778)
    invoice = make_invoice(biller)
    named = {"customer": {"AccountNumber": "1001", "City": "MANASSAS"},
             "details": [{"CustomField1": "1", "CustomField3": "WATER"}, {}]}
    Invoice.objects.filter(pk=invoice.pk).update(**named)  # as stored before the migration
    editor = SimpleNamespace(connection=connection)  # what the steps use of a schema editor
    step.to_column_order(apps, editor)
    invoice.refresh_from_db()
    assert (invoice.customer, invoice.details) == (["1001", "", "", "", "MANASSAS"], [["1", "", "WATER"], []])
    step.to_column_order(apps, editor)  # twice: nothing more changes
    invoice.refresh_from_db()
    assert invoice.customer == ["1001", "", "", "", "MANASSAS"]
    step.to_field_names(apps, editor)
    invoice.refresh_from_db()
    assert {"customer": invoice.customer, "details": invoice.details} == named
