"""Shared by the clerk's tests: a clerk of the test district's bureau, signed in, and another bureau."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.models import Address, Beat, Bureau, Station
from tests import factories
from tests.browser import FormClient
from tests.factories import english


@pytest.fixture
def clerk(db_session, district):
    return factories.make_user(db_session, role="clerk", name="地址员", bureau_id=district.bureau.id)


@pytest.fixture
def clerk_client(app, clerk) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(clerk.phone, factories.PASSWORD, totp_secret=clerk.totp_secret)
    return english(c)


@dataclass
class Elsewhere:
    bureau: Bureau
    beat: Beat
    address: Address


@pytest.fixture
def elsewhere(db_session) -> Elsewhere:
    """Another bureau, with one address of its own."""
    bureau = Bureau(code="T-B2", name="另一分局")
    station = Station(code="T-B2-S1", name="另一派出所", bureau=bureau)
    beat = Beat(code="T-B2-S1-1", name="另一警务区", station=station)
    db_session.add_all([bureau, station, beat])
    db_session.flush()
    a = factories.make_address(db_session, beat, road="远方路", door_no="1号", community="", building="1栋", room="101")
    db_session.commit()
    return Elsewhere(bureau, beat, a)


def duplicate_of(session, original: Address, **changes) -> Address:
    """The same place written another way, in the same beat (as the demo's seeded duplicates are)."""
    values = {c: getattr(original, c) for c in ("road", "door_no", "community", "building", "unit", "room")}
    values.update(changes)
    beat = session.get(Beat, original.beat_id)
    a = factories.make_address(session, beat, **values)
    session.commit()
    return a
