"""Alembic environment: uses a connection handed over by portal.migrate, or DATABASE_URL."""
from alembic import context

from portal.migrate import for_dialect
from portal.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from pathlib import Path

        from portal.config import load_config
        from portal.db import make_engine

        url = load_config(Path(__file__).resolve().parent.parent / "instance")["DATABASE_URL"]
        with make_engine(url).connect() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=for_dialect(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
