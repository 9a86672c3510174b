"""Fixtures for the tests that need a database of their own (a migration run from an older revision)."""
from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from portal import fieldcrypt
from portal.db import make_engine


@pytest.fixture
def empty_database(database_url, tmp_path):
    """An engine on a database of its own: a new SQLite file, or a new schema on the suite's PostgreSQL."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
        yield engine
        engine.dispose()
        return
    schema = f"own_{secrets.token_hex(4)}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def raw_bytes(engine) -> bytes:
    """What an attacker with a copy of the database reads: the SQLite file and its WAL, or pg_dump's output."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    schema = engine.url.query["options"].removeprefix("-csearch_path=")
    return subprocess.run(["pg_dump", "-n", schema, engine.url.database or "test"],
                          capture_output=True, check=True).stdout


@pytest.fixture
def fresh_keyring(app, monkeypatch):
    """A key ring of the app's key file that has read no data key yet: a process of a database of its own
    (the app's ring remembers the suite database's keys, which have the same ids)."""
    ring = fieldcrypt.KeyRing(app.extensions["keyring"].keys)
    monkeypatch.setitem(app.extensions, "keyring", ring)
    return ring
