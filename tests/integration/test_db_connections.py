"""Pooled PostgreSQL connections: one the server dropped is replaced when it has been idle; one in steady use
is not tested before every request (that round trip was a tenth of an API write, bench/README.md)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from portal.db import make_engine


@pytest.fixture
def postgresql_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: these run in the PostgreSQL pass of make test")
    return database_url


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def drop_on_the_server(url: str, pid: int) -> None:
    admin = make_engine(url)
    try:
        with admin.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar() is True
    finally:
        admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(postgresql_url):
    engine = make_engine(postgresql_url, idle_ping_seconds=0, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        drop_on_the_server(postgresql_url, first)
        second = backend_pid(engine)  # the check-out's ping finds it gone and connects again
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_used_without_a_ping(postgresql_url):
    """Within the idle time nothing is tested: a server restart fails the requests on the connections it
    dropped once (with nothing written, so a retry is safe), and the pool then starts afresh."""
    engine = make_engine(postgresql_url, idle_ping_seconds=60, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        drop_on_the_server(postgresql_url, first)
        with pytest.raises(OperationalError):
            backend_pid(engine)
        assert backend_pid(engine) != first
    finally:
        engine.dispose()
