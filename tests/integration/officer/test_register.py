"""The officers' register (services/register.py): places > buildings > rooms, houses, people and units,
scoped to the officer's station or beat as the queue is, keyset-paged with cursors that cannot be tampered
into a 500, occupants by the one rule of services/residence.py."""
from __future__ import annotations

import pytest

from portal.services import register
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.officer.conftest import signed_in


def room(session, beat, n: int, *, building="1栋", unit="1单元", road="建设路", door="8号"):
    a = factories.make_address(session, beat, road=road, door_no=door, community="", building=building,
                               unit=unit, room=f"{n}")
    session.commit()
    return a


@pytest.fixture
def scene(db_session, district, landlord, officer):
    """A house of station 1 with two people living there, one moving out, one of them also in station 2."""
    other = factories.make_user(db_session, role="landlord", name="钱房东")
    a402 = room(db_session, district.beats[0], 402)
    a1001 = room(db_session, district.beats[0], 1001)
    reg = factories.make_house(db_session, landlord, a402, max_occupants=3)
    house_id = reg.house_id
    factories.decide(db_session, reg, officer, "confirmed")
    far = factories.make_house(db_session, other, room(db_session, district.beats[2], 5, road="人民路")).house_id
    wang = factories.occupant(name="王小明", phone="13812340001")
    li = factories.occupant(name="李四")
    move_in = factories.make_move_in(db_session, landlord, house_id, [wang, li])
    factories.decide(db_session, move_in, officer, "confirmed")
    db_session.expire_all()
    tenancies = {t.person.name: t for t in move_in_tenancies(db_session, move_in)}
    leaving = factories.make_move_out(db_session, landlord, tenancies["李四"].id)
    far_in = factories.make_move_in(db_session, other, far, [dict(wang)])
    return {"house_id": house_id, "a402": a402, "a1001": a1001, "far": far, "wang": tenancies["王小明"].person_id,
            "li": tenancies["李四"].person_id, "move_in": move_in, "leaving": leaving, "far_in": far_in,
            "reg": reg}


def move_in_tenancies(session, sub):
    from portal.models import Tenancy

    return list(session.query(Tenancy).filter(Tenancy.submission_id == sub.id).order_by(Tenancy.id))


def test_browse_place_building_room(app, db_session, district, officer, scene):
    c = signed_in(app, officer)
    page = parse(c.get("/officer/register"))
    places = [text_of(li.find("a")) for li in page.select("#places li.card")]
    assert any("建设路8号" in p for p in places)
    assert not any("人民路" in p for p in places)  # station 2's road
    link = next(li.find("a")["href"] for li in page.select("#places li.card") if "建设路8号" in text_of(li))
    page = parse(c.get(link))
    assert [text_of(li.find("a")) for li in page.select("#buildings li")] == ["1栋"]
    assert "2 addresses · 1 houses" in text_of(page.select_one("#buildings li"))
    page = parse(c.get(page.select_one("#buildings li a")["href"]))
    rooms = page.select("#rooms li.room")
    # Rooms in number order, not text order: 402 before 1001.
    assert [r["data-address"] for r in rooms] == [scene["a402"].code, scene["a1001"].code]
    cell = text_of(rooms[0].select_one(".house-cell"))
    assert "1 of 3 living there" in cell  # the one moving out is not counted (residence.living)
    assert "测试用户" not in cell and "测*" in cell  # the owner masked
    assert text_of(rooms[1]).endswith("No house registered.")


def test_house_page(app, db_session, district, officer, scene):
    c = signed_in(app, officer)
    page = parse(c.get(f"/officer/register/houses/{scene['house_id']}"))
    assert "155" in text_of(page.select_one("#house-owner")) and "****" in text_of(page.select_one("#house-owner"))
    occupants = page.select("#occupants li.occupant")
    assert [text_of(o.find("a")) for o in occupants] == ["王小明"]
    assert "********" in text_of(occupants[0]) and "confirmed" in text_of(occupants[0])
    assert [text_of(li.find("a")) for li in page.select("#moving-out li")] == ["李四"]
    history = page.select("#history li.history-row")
    # Newest first: the move-out, the move-in (with its decision), the registration (with its decision).
    assert [h.find("a")["href"] for h in history] == [f"/officer/items/{s.id}" for s in
                                                      (scene["leaving"], scene["move_in"], scene["reg"])]
    assert "Confirmed" in text_of(history[1].select_one(".decisions"))
    assert "王*" in text_of(history[1]) and "王小明" not in text_of(history[1])


def test_person_page_where_they_live_and_reports(app, db_session, district, officer, scene):
    c = signed_in(app, officer)
    page = parse(c.get(f"/officer/register/people/{scene['wang']}"))
    assert text_of(page.find("h1")) == "王小明"
    assert "********" in text_of(page.select_one("#person-id"))
    assert text_of(page.select_one("#person-phone")) == "138****0001"
    lives = page.select("#lives-now li")
    assert len(lives) == 2
    assert [a["href"] for li in lives for a in li.find_all("a")] == [f"/officer/register/houses/{scene['house_id']}"]
    outside = [li for li in lives if "outside your jurisdiction" in text_of(li)]
    assert len(outside) == 1 and "人民路" not in text_of(page)
    # Reports naming them in this jurisdiction: the move-in only (the far move-in is station 2's).
    assert [a["href"] for a in page.select("#history li.history-row > a")] == [f"/officer/items/{scene['move_in'].id}"]


def test_scoping_is_the_queues(app, db_session, district, officer, officer2, scene):
    c = signed_in(app, officer2)
    for url in (f"/officer/register/houses/{scene['house_id']}", f"/officer/register/buildings/{scene['a402'].id}",
                f"/officer/register/places/{scene['a402'].id}"):
        assert c.get(url).status_code == 404
    # Station 2 sees the person (they live there too), with station 1's house hidden.
    page = parse(c.get(f"/officer/register/people/{scene['wang']}"))
    assert "建设路" not in text_of(page)
    assert [a["href"] for a in page.select("#history li.history-row > a")] == [f"/officer/items/{scene['far_in'].id}"]
    # 李四 lives only in station 1: nobody there for station 2.
    assert c.get(f"/officer/register/people/{scene['li']}").status_code == 404
    beat_officer = factories.make_user(db_session, role="officer", beat=district.beats[1])
    assert signed_in(app, beat_officer).get(f"/officer/register/houses/{scene['house_id']}").status_code == 404
    assert register.places(db_session, beat_officer).rows == []


def test_unit_page(app, db_session, district, officer, officer2):
    employer = factories.make_user(db_session, role="employer")
    sub = factories.make_unit(db_session, employer, district.addresses[0], verified_by=officer)
    hire = factories.make_hire(db_session, employer, sub.unit_id, name="赵六")
    factories.make_hire(db_session, employer, sub.unit_id, name="孙七")
    factories.decide(db_session, hire, officer, "confirmed")
    factories.make_staff_import(db_session, employer, sub.unit_id, [factories.staff_row("周八")], full_list=False)
    c = signed_in(app, officer)
    page = parse(c.get(f"/officer/register/units/{sub.unit_id}"))
    staff = page.select("#staff li.staff-row")
    assert [text_of(s.find("a")) for s in staff] == ["赵六", "孙七", "周八"]
    assert "confirmed" in text_of(staff[0]) and "not confirmed yet" in text_of(staff[1])
    assert text_of(page.select_one("#staff-total")) == "3"
    assert page.select_one("#uploads li a")["href"].startswith("/officer/uploads/")
    assert signed_in(app, officer2).get(f"/officer/register/units/{sub.unit_id}").status_code == 404


def test_keyset_pages_and_tampered_cursors(app, db_session, district, landlord, officer):
    for n in range(1, 8):
        room(db_session, district.beats[0], 100 + n, building="9栋")
    anchor = room(db_session, district.beats[0], 100, building="9栋")
    seen, cursor = [], None
    while True:
        page = register.rooms(db_session, officer, anchor, cursor, size=3)
        seen += [r.address.room for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [str(100 + n) for n in range(8)]
    c = signed_in(app, officer)
    for bad in ("x", "WzFd", register.encode_cursor(("a", 2**40, "b", 1)), register.encode_cursor((1,)),
                register.encode_cursor(("", True, "", 1))):
        with pytest.raises(register.BadCursor):
            register.rooms(db_session, officer, anchor, bad)
        response = c.get(f"/officer/register/buildings/{anchor.id}?after={bad}")
        assert response.status_code == 200
        page = parse(response)
        assert "not valid any more" in text_of(page.select_one(".notice-error"))
        assert len(page.select("#rooms li.room")) == 8
    assert c.get("/officer/register?after=%FF%FE").status_code == 200


def test_item_page_links_to_the_register(app, db_session, district, officer, scene):
    c = signed_in(app, officer)
    page = parse(c.get(f"/officer/items/{scene['leaving'].id}"))
    assert page.select_one("#register-house")["href"] == f"/officer/register/houses/{scene['house_id']}"
    page = parse(c.get(f"/officer/items/{scene['move_in'].id}"))
    assert [a["href"] for a in page.select("#register-people a")] == [
        f"/officer/register/people/{scene['wang']}", f"/officer/register/people/{scene['li']}"]


def test_anomaly_lists_link_to_the_register(app, db_session, district, landlord, officer, scene):
    c = signed_in(app, officer)
    page = parse(c.get("/officer/anomalies/two-houses"))
    row = page.select_one("#anomaly-rows tbody tr")
    assert row.select_one(".anomaly-name a")["href"] == f"/officer/register/people/{scene['wang']}"
    assert [a["href"] for a in row.select("a.register-link")] == [f"/officer/register/houses/{scene['house_id']}"]


def test_person_moving_out_is_listed_apart(app, db_session, district, officer, scene):
    page = parse(signed_in(app, officer).get(f"/officer/register/people/{scene['li']}"))
    assert text_of(page.select_one("#lives-now")) == "Nowhere in the register."
    lived = page.select("#lived li")
    assert len(lived) == 1 and "move-out waiting for the police" in text_of(lived[0])
    assert lived[0].find("a")["href"] == f"/officer/register/houses/{scene['house_id']}"
