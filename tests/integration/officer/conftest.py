"""Shared by the register, search and export tests: an officer of the other station, signed-in clients."""
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
