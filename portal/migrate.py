"""Running Alembic migrations from the app, the CLI and the tests."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(connection=None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# Tables that migrations alone make, which no model maps: SQLite's FTS5 index of the address text (0009) and
# the shadow tables FTS5 keeps it in.
UNMAPPED_TABLE_PREFIX = "address_text"
# Indexes of expressions, which autogenerate cannot compare (SQLite does not reflect them; PostgreSQL gives them back
# in its own words): migration 0025 writes them from the same text as the models (tests/unit/test_place_names.py).
UNCOMPARED_INDEXES = frozenset({"ix_address_township_order", "ix_address_road_order", "ix_address_community_order"})


def for_dialect(dialect_name: str):
    """Alembic's include_object: leaves out what the models create on other databases only
    (`.ddl_if(dialect=...)`), the unmapped tables and the uncompared indexes above, so that autogenerate
    compares like with like."""
    def include_object(obj, name, type_, reflected, _compare_to) -> bool:
        if type_ == "table" and reflected and name.startswith(UNMAPPED_TABLE_PREFIX):
            return False
        if type_ == "index" and name in UNCOMPARED_INDEXES:
            return False
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect is None or only.dialect == dialect_name
    return include_object


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    _truncate_wal(engine)


def _truncate_wal(engine: Engine) -> None:
    """On SQLite, copy the WAL into the database and empty it: the frames a migration replaced (plaintext
    that it sealed, say) would otherwise stay in the -wal file until overwritten."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
