"""Administrators create and rename bureaus, stations and beats, and move communities and buildings between
beats: bad input gets a message at its field and changes nothing; another bureau's objects are 404s."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import Address, AuditEvent, Beat, Bureau, House, Station, Submission, Unit
from portal.services import audit, jurisdiction
from portal.services.errors import NotFound, ValidationFailed
from tests import factories
from tests.browser import FormClient, parse


def _audit(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_create_a_bureau_a_station_and_a_beat_through_the_pages(admin_client, db_session, admin):
    r = admin_client.submit("/admin/bureaus/new", {"code": "B-NEW", "name": " 新 分局 "})
    assert r.status_code == 302
    bureau = db_session.scalar(select(Bureau).where(Bureau.code == "B-NEW"))
    assert bureau.name == "新 分局" and r.headers["Location"].endswith(f"/admin/bureaus/{bureau.id}")
    r = admin_client.submit(f"/admin/bureaus/{bureau.id}/stations/new", {"code": "S-NEW", "name": "新派出所"})
    station = db_session.scalar(select(Station).where(Station.code == "S-NEW"))
    assert r.status_code == 302 and station.bureau_id == bureau.id
    r = admin_client.submit(f"/admin/stations/{station.id}/beats/new", {"code": "T-NEW", "name": "新警务区"})
    beat = db_session.scalar(select(Beat).where(Beat.code == "T-NEW"))
    assert r.status_code == 302 and beat.station_id == station.id
    created = _audit(db_session, "jurisdiction.create")
    assert [(e.object_type, e.actor_id) for e in created] == [("bureau", admin.id), ("station", admin.id),
                                                               ("beat", admin.id)]
    assert json.loads(created[2].detail) == {"before": None, "after": {"code": "T-NEW", "name": "新警务区",
                                                                       "station": "S-NEW"}}
    page = parse(admin_client.get("/admin/jurisdictions"))
    assert "新 分局" in page.find(id="bureaus").get_text()


@pytest.mark.parametrize(("code", "name", "field", "message"), [
    ("T-B1", "重复", "code", "A bureau with this code exists already."),
    ("", "无码", "code", "Enter a code."),
    ("has space", "名", "code", "A code has 1 to 32 letters"),
    ("OK-1", "   ", "name", "Enter a name."),
    ("OK-2", "名\u202e字", "name", "cannot be shown"),
    ("OK-3", "长" * 101, "name", "at most 100 characters"),
])
def test_bad_codes_and_names_are_told_at_the_field(admin_client, db_session, district, code, name, field,
                                                   message):
    before = db_session.scalar(select(func.count()).select_from(Bureau))
    r = admin_client.submit("/admin/bureaus/new", {"code": code, "name": name})
    assert r.status_code == 400
    assert message in factories.field_error(parse(r), field)
    assert db_session.scalar(select(func.count()).select_from(Bureau)) == before
    assert _audit(db_session, "jurisdiction.create") == []


def test_a_duplicate_beat_code_is_refused_whatever_its_station(admin_client, db_session, district):
    r = admin_client.submit(f"/admin/stations/{district.stations[1].id}/beats/new",
                            {"code": district.beats[0].code, "name": "同码"})
    assert r.status_code == 400
    assert "A beat with this code exists already." in factories.field_error(parse(r), "code")


def test_rename_keeps_the_code_and_audits_before_and_after(admin_client, db_session, district):
    beat = district.beats[0]
    r = admin_client.submit(f"/admin/beats/{beat.id}", {"name": "改名警务区"}, form_index=0)
    assert r.status_code == 302
    db_session.refresh(beat)
    assert (beat.code, beat.name) == ("T-S1-1", "改名警务区")
    [row] = _audit(db_session, "jurisdiction.rename")
    assert json.loads(row.detail)["before"]["name"] == "测试警务区1-1"
    assert json.loads(row.detail)["after"]["name"] == "改名警务区"
    r = admin_client.submit(f"/admin/beats/{beat.id}", {"name": ""}, form_index=0)
    assert r.status_code == 400
    assert "Enter a name." in factories.field_error(parse(r), "name")


def test_every_admin_form_with_an_error_answers_400_and_without_one_200(admin_client, district):
    """As the landlord's, officer's and clerk's forms do: an error is not a 200."""
    for url in (f"/admin/bureaus/{district.bureau.id}", f"/admin/stations/{district.stations[0].id}",
                f"/admin/beats/{district.beats[0].id}", "/admin/bureaus/new", "/admin/accounts/new"):
        assert admin_client.get(url).status_code == 200, url
    for url, data in ((f"/admin/bureaus/{district.bureau.id}", {"name": ""}),
                      (f"/admin/stations/{district.stations[0].id}", {"name": ""}),
                      (f"/admin/bureaus/{district.bureau.id}/stations/new", {"code": "", "name": "站"})):
        r = admin_client.submit(url, data, form_index=0)
        assert r.status_code == 400, url
        assert factories.field_error(parse(r), "name" if "name" in data and not data["name"] else "code"), url


def test_pages_of_a_missing_object_are_404(admin_client):
    for url in ("/admin/bureaus/999999", "/admin/stations/999999", "/admin/beats/999999",
                "/admin/beats/99999999999", "/admin/bureaus/999999/stations/new", "/admin/beats/1/move"):
        assert admin_client.get(url).status_code == 404, url


# --- a bureau's administrator ---------------------------------------------------------------------------

@pytest.fixture
def bureau_admin_client(app, db_session, district):
    user = factories.make_user(db_session, role="admin", station=district.stations[0])
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return factories.english(c)


def test_a_bureau_administrator_sees_only_their_bureau(bureau_admin_client, db_session, district, other_bureau):
    bureau, station, beat, address = other_bureau
    for url in (f"/admin/bureaus/{bureau.id}", f"/admin/stations/{station.id}", f"/admin/beats/{beat.id}",
                f"/admin/bureaus/{bureau.id}/stations/new", f"/admin/stations/{station.id}/beats/new",
                f"/admin/beats/{beat.id}/move?community=远方小区", "/admin/bureaus/new"):
        assert bureau_admin_client.get(url).status_code == 404, url
    token = parse(bureau_admin_client.get("/admin/jurisdictions")).find("input", attrs={"name": "csrf_token"})
    r = bureau_admin_client.post(f"/admin/beats/{beat.id}", data={"name": "x", "csrf_token": token["value"]})
    assert r.status_code == 404
    page = parse(bureau_admin_client.get("/admin/jurisdictions"))
    assert "另一分局" not in page.get_text() and district.bureau.name in page.get_text()
    assert page.find(id="new-bureau") is None


# --- moving a community or a building ---------------------------------------------------------------------

@pytest.fixture
def settled(db_session, district):
    """Beat 1's building 13栋 with a room house (a move-in waiting), a unit at its door plate, and a
    confirmed report that stays where it was decided."""
    landlord = factories.make_user(db_session, role="landlord")
    employer = factories.make_user(db_session, role="employer")
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    room = district.addresses[0]
    beat = district.beats[0]
    building = factories.make_address(db_session, beat, building="13栋")
    other_room = factories.make_address(db_session, beat, building="13栋", unit="4单元", room="401")
    elsewhere = factories.make_address(db_session, beat, building="14栋", unit="1单元", room="101")
    db_session.commit()
    registration = factories.make_house(db_session, landlord, room)
    factories.decide(db_session, registration, officer, "confirmed")
    move_in = factories.make_move_in(db_session, landlord, registration.house_id, [factories.occupant()])
    other = factories.make_house(db_session, landlord, elsewhere)
    from portal.services import units

    unit_sub = units.register_unit(db_session, employer, uscc="91430302MA4L0XYK19", name="测试公司",
                                   unit_type="enterprise", industry="餐饮", special_trade=None,
                                   address_code=other_room.code, legal_rep_name="王经理",
                                   legal_rep_id_number=employer.id_number, contact_name="王经理",
                                   contact_phone=employer.phone, actor=factories.as_actor(employer)).submission
    db_session.commit()
    return {"building": building, "room": room, "other_room": other_room, "elsewhere": elsewhere,
            "registration": registration, "move_in": move_in, "other": other, "unit_sub": unit_sub}


def test_a_building_moves_with_its_houses_units_and_open_items(admin_client, db_session, district, settled,
                                                               admin):
    source, target = district.beats[0], district.beats[1]
    url = f"/admin/beats/{source.id}/move?building={settled['building'].id}"
    page = parse(admin_client.get(url))
    assert settled["building"].text in page.find(id="moving").get_text()
    r = admin_client.submit(url, {"to_beat": str(target.id)})
    assert r.status_code == 302, parse(r).get_text()[:500]
    db_session.expire_all()
    assert {a.beat_id for a in (settled["building"], settled["room"], settled["other_room"])} == {target.id}
    assert db_session.get(Address, settled["elsewhere"].id).beat_id == source.id  # 14栋 stays
    house = db_session.get(House, settled["registration"].house_id)
    assert house.beat_id == target.id
    unit = db_session.scalar(select(Unit).where(Unit.address_id == settled["other_room"].id))
    assert unit.beat_id == target.id
    move_in, unit_sub = (db_session.get(Submission, settled[k].id) for k in ("move_in", "unit_sub"))
    assert (move_in.beat_id, move_in.station_id) == (target.id, target.station_id)
    assert unit_sub.beat_id == target.id
    assert db_session.get(Submission, settled["registration"].id).beat_id == source.id  # decided: stays
    assert db_session.get(Submission, settled["other"].id).beat_id == source.id  # another building's
    [row] = _audit(db_session, "jurisdiction.move")
    detail = json.loads(row.detail)
    assert row.actor_id == admin.id
    assert (detail["before"], detail["after"]) == ({"beat": source.code}, {"beat": target.code})
    assert detail["moved"] == {"addresses": 3, "houses": 1, "units": 1, "open_items": 2}


def test_a_community_moves_as_a_whole(db_session, district, settled, admin):
    source, target = district.beats[0], district.beats[1]
    what = jurisdiction.place(db_session, admin, source.id, community="银海花园")
    moved = jurisdiction.move(db_session, admin, what, target.id, audit.Actor(user=admin))
    assert (moved.addresses, moved.houses, moved.units, moved.items) == (4, 2, 1, 3)
    assert db_session.scalar(select(func.count()).select_from(Address).where(Address.beat_id == source.id)) == 0


def test_a_move_into_another_bureau_is_refused_and_changes_nothing(admin_client, db_session, district, settled,
                                                                  other_bureau):
    source, foreign = district.beats[0], other_bureau[2]
    url = f"/admin/beats/{source.id}/move?community=银海花园"
    r = admin_client.submit(url, {"to_beat": str(foreign.id)})
    assert r.status_code == 400
    assert "belongs to another bureau" in factories.field_error(parse(r), "to_beat")
    db_session.expire_all()
    assert db_session.get(Address, settled["room"].id).beat_id == source.id
    assert db_session.get(Submission, settled["move_in"].id).beat_id == source.id
    assert _audit(db_session, "jurisdiction.move") == []
    for bad, message in (("", "Choose the beat"), (str(source.id), "in this beat already"),
                         ("999999", "Choose the beat"), ("99999999999999", "Choose the beat")):
        r = admin_client.submit(url, {"to_beat": bad})
        assert r.status_code == 400
        assert message in factories.field_error(parse(r), "to_beat"), bad


def test_places_of_another_beat_or_bureau_are_404(admin_client, db_session, district, settled, other_bureau):
    source = district.beats[0]
    assert admin_client.get(f"/admin/beats/{source.id}/move?building={other_bureau[3].id}").status_code == 404
    assert admin_client.get(f"/admin/beats/{source.id}/move?building={settled['room'].id}").status_code == 404
    assert admin_client.get(f"/admin/beats/{source.id}/move?community=远方小区").status_code == 404
    assert admin_client.get(f"/admin/beats/{source.id}/move?building=99999999999").status_code == 404


def test_a_bureau_administrator_cannot_move_into_another_bureau(db_session, district, settled, other_bureau):
    boss = factories.make_user(db_session, role="admin", station=district.stations[0])
    what = jurisdiction.place(db_session, boss, district.beats[0].id, community="银海花园")
    with pytest.raises(ValidationFailed) as failure:
        jurisdiction.move(db_session, boss, what, other_bureau[2].id, audit.Actor(user=boss))
    assert failure.value.errors[0].code == "required"  # another bureau's beat does not exist for them
    with pytest.raises(NotFound):
        jurisdiction.beat(db_session, boss, other_bureau[2].id)


def test_the_beat_page_lists_its_communities_and_buildings(admin_client, db_session, district, settled):
    page = parse(admin_client.get(f"/admin/beats/{district.beats[0].id}"))
    assert "银海花园" in page.find(id="communities").get_text()
    assert len(page.find(id="buildings").find_all("li")) == 1  # 13栋 (14栋 has no building-level address)


# --- a beat put under another station ---------------------------------------------------------------------

def test_a_beat_moves_to_another_station_with_its_officers_and_open_items(admin_client, db_session, district,
                                                                          settled):
    beat, to = district.beats[0], district.stations[1]
    beat_officer = factories.make_user(db_session, role="officer", beat=beat)
    r = admin_client.submit(f"/admin/beats/{beat.id}", {"to_station": str(to.id)}, form_index=-1)
    assert r.status_code == 302, parse(r).get_text()[:300]
    db_session.expire_all()
    assert db_session.get(Beat, beat.id).station_id == to.id
    assert db_session.get(type(beat_officer), beat_officer.id).station_id == to.id
    assert db_session.get(Submission, settled["move_in"].id).station_id == to.id
    assert db_session.get(Submission, settled["registration"].id).station_id == district.stations[0].id
    [row] = _audit(db_session, "jurisdiction.move")
    assert json.loads(row.detail)["before"]["station"] == district.stations[0].code
    assert json.loads(row.detail)["after"]["station"] == to.code


def test_a_beat_moved_into_another_bureau_is_refused(admin_client, db_session, district, settled, other_bureau):
    beat = district.beats[0]
    url = f"/admin/beats/{beat.id}"
    for bad, message in ((str(other_bureau[1].id), "belongs to another bureau"),
                         (str(district.stations[0].id), "in this police station already"),
                         ("", "Choose the police station"), ("99999999999", "Choose the police station")):
        r = admin_client.submit(url, {"to_station": bad}, form_index=-1)
        assert r.status_code == 400
        assert message in factories.field_error(parse(r), "to_station"), bad
    db_session.expire_all()
    assert db_session.get(Beat, beat.id).station_id == district.stations[0].id
    assert db_session.get(Submission, settled["move_in"].id).station_id == district.stations[0].id
    assert _audit(db_session, "jurisdiction.move") == []


def test_a_crash_in_the_middle_of_a_move_leaves_everything_where_it_was(admin_client, db_session, district,
                                                                        settled, monkeypatch):
    def crash(*_args, **_kwargs):
        raise RuntimeError("the database went away after the updates")

    source, target = district.beats[0], district.beats[1]
    url = f"/admin/beats/{source.id}/move?community=银海花园"
    page = parse(admin_client.get(url))
    token = page.find("main").find("input", attrs={"name": "csrf_token"})["value"]
    monkeypatch.setattr(jurisdiction.audit, "record", crash)  # after every UPDATE of the move
    r = admin_client.post(url, data={"csrf_token": token, "to_beat": str(target.id)})
    assert r.status_code == 500
    monkeypatch.undo()
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Address).where(Address.beat_id == target.id)) == 0
    assert db_session.get(House, settled["registration"].house_id).beat_id == source.id
    assert db_session.get(Submission, settled["move_in"].id).beat_id == source.id
