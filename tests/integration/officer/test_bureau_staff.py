"""The bureau's own staff (issue 15: "staff of a bureau see all its stations"): an officer placed at a bureau works
the queue, register, search, anomaly lists and quality rates of every station of that bureau and of no other; an
administrator creates such an account (or `flask users create --bureau`), and an administrator placed at a bureau
manages that bureau only."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Beat, Bureau, Role, Station, User
from portal.services import accounts, jurisdiction, quality, queue, register_search, staff_accounts
from portal.services.errors import NotFound, ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.officer.conftest import signed_in


@pytest.fixture
def far(db_session):
    """Another bureau with a station, a beat and an address."""
    bureau = Bureau(code="T-FAR", name="远分局")
    station = Station(code="T-FAR-S", name="远派出所", bureau=bureau)
    beat = Beat(code="T-FAR-1", name="远警务区", station=station)
    db_session.add_all([bureau, station, beat])
    db_session.flush()
    address = factories.make_address(db_session, beat, road="远方路", door_no="1号", community="", building="1栋",
                                     unit="1单元", room="101")
    db_session.commit()
    return beat, address


@pytest.fixture
def bureau_officer(db_session, district):
    user, _initial = accounts.create_account(db_session, role=Role.officer, phone="13955551001", name="分局民警",
                                             bureau_code=district.bureau.code)
    user.totp_secret, user.totp_confirmed, user.must_change_password = factories.auth.new_totp_secret(), True, False
    user.password_hash = factories._HASH  # the factories' PASSWORD, as make_user gives
    db_session.commit()
    return user


def test_a_bureau_officer_sees_every_station_of_the_bureau_and_no_other(app, db_session, district, landlord, far,
                                                                       bureau_officer):
    assert sorted(jurisdiction.beat_ids_for(db_session, bureau_officer)) == sorted(b.id for b in district.beats)
    one = factories.make_house(db_session, landlord, district.addresses[0])  # station 1
    two = factories.make_house(db_session, landlord, district.addresses[1])  # station 2
    away = factories.make_house(db_session, landlord, far[1])  # another bureau
    listed = {s.id for s in queue.queue_page(db_session, bureau_officer, queue.Filters()).items}
    assert {one.id, two.id} <= listed and away.id not in listed
    scope = quality.scope_of_officer(db_session, bureau_officer)
    assert (scope.kind, scope.code) == ("bureau", district.bureau.code)
    assert set(scope.beat_ids) == {b.id for b in district.beats}
    tenant = factories.occupant(name="张分局")
    factories.make_move_in(db_session, landlord, two.house_id, [tenant])
    assert len(register_search.search(db_session, bureau_officer, tenant["id_number"]).people) == 1
    c = signed_in(app, bureau_officer)
    page = parse(c.get("/officer/queue"))
    hrefs = {a["href"] for a in page.select("table.queue a[href^='/officer/items/']")}
    assert f"/officer/items/{two.id}" in hrefs and f"/officer/items/{away.id}" not in hrefs
    assert c.get(f"/officer/items/{away.id}").status_code == 404
    rates = c.get("/officer/quality")
    assert rates.status_code == 200 and district.bureau.name in text_of(parse(rates).select_one("main"))


def test_an_administrator_creates_a_bureau_officer_and_the_cli_too(app, db_session, district):
    admin = factories.make_user(db_session, role="admin")
    choices = dict(staff_accounts.where_choices(db_session, admin))
    assert f"bureau:{district.bureau.code}" in choices
    user, _ = staff_accounts.create(db_session, admin, role="officer", phone="13955551002", name="分局民警乙",
                                    where=f"bureau:{district.bureau.code}", actor=factories.as_actor(admin))
    db_session.commit()
    assert (user.bureau_id, user.station_id, user.beat_id) == (district.bureau.id, None, None)
    assert staff_accounts.where_of(user) == f"bureau:{district.bureau.code}"
    row = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "account.create")).all()[-1]
    assert json.loads(row.detail)["after"]["bureau"] == district.bureau.code
    # Moved to a station: the bureau is no longer theirs.
    staff_accounts.change(db_session, admin, user.id, role="officer", where=f"station:{district.stations[0].code}",
                          actor=factories.as_actor(admin))
    assert (user.bureau_id, user.station_id) == (None, district.stations[0].id)
    result = app.test_cli_runner().invoke(args=["users", "create", "--role", "officer", "--phone", "13955551003",
                                                "--name", "命令行民警", "--bureau", district.bureau.code])
    assert result.exit_code == 0, result.output
    made = db_session.scalar(select(User).where(User.phone == "13955551003"))
    assert made.bureau_id == district.bureau.id
    with pytest.raises(ValidationFailed) as failure:
        accounts.create_account(db_session, role=Role.officer, phone="13955551004", name="无处民警",
                                bureau_code="NO-SUCH")
    assert failure.value.errors[0].code == "unknown_bureau"
    with pytest.raises(ValidationFailed) as failure:
        accounts.create_account(db_session, role=Role.officer, phone="13955551004", name="两处民警",
                                bureau_code=district.bureau.code, station_code=district.stations[0].code)
    assert failure.value.errors[0].code == "two_places"


def test_an_administrator_of_a_bureau_manages_that_bureau_only(db_session, district, far):
    admin_of_bureau, _ = accounts.create_account(db_session, role=Role.admin, phone="13955551005", name="分局管理员",
                                                 bureau_code=district.bureau.code)
    db_session.commit()
    assert jurisdiction.managed_bureau_id(db_session, admin_of_bureau) == district.bureau.id
    assert not jurisdiction.manages_everything(admin_of_bureau)
    stranger = factories.make_user(db_session, role="officer", station=far[0].station)
    with pytest.raises(NotFound):
        staff_accounts.account(db_session, admin_of_bureau, stranger.id)
    mine = factories.make_user(db_session, role="officer", station=district.stations[1])
    assert staff_accounts.account(db_session, admin_of_bureau, mine.id) is mine
    assert not any(v.endswith("T-FAR") or "T-FAR-" in v for v in dict(staff_accounts.where_choices(
        db_session, admin_of_bureau)))
    # An auditor reads every bureau's log: only an administrator of every bureau makes one.
    with pytest.raises(ValidationFailed) as failure:
        staff_accounts.create(db_session, admin_of_bureau, role="auditor", phone="13955551006", name="审计员",
                              where=f"bureau:{district.bureau.code}", actor=factories.as_actor(admin_of_bureau))
    assert [e.field for e in failure.value.errors] == ["role"]
    with pytest.raises(ValidationFailed):
        staff_accounts.change(db_session, admin_of_bureau, mine.id, role="auditor",
                              where=f"station:{district.stations[1].code}", actor=factories.as_actor(admin_of_bureau))
