"""Shared by the register, search, export and claims tests: an officer of the other station, signed-in clients,
two landlords."""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser import FormClient
from tests.factories import english


def signed_in(app, user) -> FormClient:
    """A browser signed in as this staff member (with their second factor), reading English pages."""
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return english(c)


@pytest.fixture
def officer2(db_session, district):
    return factories.make_user(db_session, role="officer", station=district.stations[1])


@pytest.fixture
def officer_en(app, officer) -> FormClient:
    return signed_in(app, officer)


@pytest.fixture
def owner_a(db_session):
    return factories.make_user(db_session, role="landlord", name="甲房东")


@pytest.fixture
def owner_b(db_session):
    return factories.make_user(db_session, role="landlord", name="乙房东")
