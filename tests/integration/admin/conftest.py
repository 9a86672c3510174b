"""An administrator of every bureau, signed in, for the admin pages' tests."""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser import FormClient


@pytest.fixture
def admin(db_session):
    return factories.make_user(db_session, role="admin", name="管理员")


@pytest.fixture
def admin_client(app, db_session, admin) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(admin.phone, factories.PASSWORD, totp_secret=admin.totp_secret)
    return factories.english(c)


@pytest.fixture
def other_bureau(db_session):
    """A second bureau with one station and one beat, and an address in it."""
    from portal.models import Beat, Bureau, Station

    bureau = Bureau(code="T-B2", name="另一分局")
    station = Station(code="T-B2-S1", name="另一派出所", bureau=bureau)
    beat = Beat(code="T-B2-S1-1", name="另一警务区", station=station)
    db_session.add_all([bureau, station, beat])
    db_session.flush()
    address = factories.make_address(db_session, beat, road="建设路", door_no="9号", community="远方小区",
                                      building="1栋", unit="1单元", room="101")
    db_session.commit()
    return bureau, station, beat, address
