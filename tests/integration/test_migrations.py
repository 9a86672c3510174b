"""Migrations: one head, and upgrade -> downgrade -> upgrade works on an empty database; SQLite settings."""
import threading
import time
import warnings

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SAWarning

from portal import migrate
from portal.db import is_lock_wait, make_engine, writing
from portal.models import Base


def test_single_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


def test_upgrade_downgrade_upgrade_on_an_empty_database(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree(app):
    """Autogenerate against the migrated test database finds nothing to add: no model change lacks a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portal.extensions import db

    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection leaves out indexes of expressions, and Alembic skips them, saying so both; they are
        # migrate.UNCOMPARED_INDEXES.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index",
                                UserWarning)
        context = MigrationContext.configure(conn, opts={"include_object": migrate.for_dialect(conn.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sqlite_connections_are_safe(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}", busy_timeout_ms=1234)
    with engine.connect() as conn:
        pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 1234}
    engine.dispose()


def test_a_sqlite_writer_waits_for_the_lock_and_then_writes(tmp_path):
    """A writer that finds the write lock taken waits (polling, not SQLite's sleeping busy handler) and
    writes as soon as the holder commits; one that waits longer than the busy timeout fails as SQLite would,
    and its connection keeps its busy timeout afterwards."""
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    engine = make_engine(url, busy_timeout_ms=3000)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    holding, held_for = threading.Event(), 0.3

    def hold() -> None:
        with writing(), engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            holding.set()
            time.sleep(held_for)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    started = time.monotonic()
    with writing(), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    waited = time.monotonic() - started
    holder.join()
    assert 0.1 < waited < 3.0
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM t ORDER BY n").scalars().all() == [1, 2]

    impatient = make_engine(url, busy_timeout_ms=100)
    holding.clear()
    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    with pytest.raises(OperationalError) as refused, writing(), impatient.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (3)")
    holder.join()
    assert is_lock_wait(refused.value)
    with impatient.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 100
    engine.dispose()
    impatient.dispose()
