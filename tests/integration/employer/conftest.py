"""Employers and their clients; staff-list uploads kept in a temporary folder."""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser import FormClient


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path, monkeypatch):
    """Kept uploads go to this test's own folder, which must be empty again when a journey ends."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


@pytest.fixture
def employer(db_session):
    return factories.make_user(db_session, role="employer", name="雇主甲")


@pytest.fixture
def employer_client(app, db_session, employer) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(employer.phone, factories.PASSWORD)
    return factories.english(c)


@pytest.fixture
def other_employer(db_session):
    return factories.make_user(db_session, role="employer", name="雇主乙")


@pytest.fixture
def other_employer_client(app, db_session, other_employer) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(other_employer.phone, factories.PASSWORD)
    return factories.english(c)
