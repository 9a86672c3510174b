"""Shared fixtures: a migrated real database (SQLite file, or PostgreSQL from PORTAL_TEST_DB),
one transaction per test rolled back at the end, and clients that behave like browsers."""
from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import make_url, text

from portal import create_app, migrate
from portal.db import make_engine, normalise_url
from portal.extensions import db
from tests import factories
from tests.browser import FormClient


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A SQLite file, or on PostgreSQL a schema of this run's own, so that runs never meet."""
    choice = os.environ.get("PORTAL_TEST_DB", "sqlite")
    if choice == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    schema = f"test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(choice)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_url(choice)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SERVER_NAME": "localhost",
    })
    migrate.upgrade(db.engine)
    # No app context stays pushed: each test-client request gets its own, with a fresh `g`, as in production.
    yield app
    db.engine.dispose()


@pytest.fixture
def db_session(app):
    """A session inside one outer transaction, rolled back after the test; commits become savepoints."""
    connection = db.engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    # Requests end with session.remove(); here the test shares the session, so end them with a rollback
    # of whatever the request left uncommitted, and keep the test's objects attached.
    real_remove = db.session.remove
    db.session.remove = db.session.rollback
    try:
        yield db.session
    finally:
        db.session.remove = real_remove
        db.session.remove()
        outer.rollback()
        connection.close()
        db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def client(app, db_session) -> FormClient:
    return FormClient(app.test_client())


@pytest.fixture
def district(db_session) -> factories.District:
    return factories.make_district(db_session)


@pytest.fixture
def landlord(db_session):
    return factories.make_user(db_session, role="landlord")


@pytest.fixture
def landlord_client(app, db_session, landlord) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(landlord.phone, factories.PASSWORD)
    return c


@pytest.fixture
def officer(db_session, district):
    return factories.make_user(db_session, role="officer", station=district.stations[0])


@pytest.fixture
def officer_client(app, db_session, officer) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret)
    return c
