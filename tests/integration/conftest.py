"""Fixtures for the tests that need a database of their own (a migration run from an older revision)."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import make_url, text

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
