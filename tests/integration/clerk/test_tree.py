"""The clerk's tree of the bureau's addresses: road > door plate > building > unit > room, keyset-paged, and
nothing of another bureau."""
from __future__ import annotations

from portal.services import address_upkeep
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import text_of


def _links(page, selector: str) -> list[str]:
    return [a["href"] for a in page.select(selector)]


def test_the_tree_from_road_to_room(clerk_client, district):
    room = district.addresses[0]  # 韶山中路 88号 银海花园 13栋 4单元 402
    home = parse(clerk_client.get("/clerk/"))
    roads = [text_of(a) for a in home.select("#roads a.card-title")]
    assert roads == ["云塘街道 人民路", "云塘街道 韶山中路"]
    road = parse(clerk_client.get(f"/clerk/roads/{room.id}"))
    assert [text_of(a) for a in road.select("#doors a.card-title")] == ["韶山中路88号"]
    door = parse(clerk_client.get(_links(road, "#doors a.card-title")[0]))
    assert [text_of(a) for a in door.select("#buildings a.card-title")] == ["银海花园 13栋"]
    building = parse(clerk_client.get(_links(door, "#buildings a.card-title")[0]))
    assert [text_of(a) for a in building.select("#units a.card-title")] == ["4单元"]
    unit = parse(clerk_client.get(_links(building, "#units a.card-title")[0]))
    assert [li["data-address"] for li in unit.select("#rooms li.room")] == [room.code]
    page = parse(clerk_client.get(f"/clerk/addresses/{room.id}"))
    assert text_of(page.select_one("#address-code")) == room.code
    assert text_of(page.select_one("#address-status")) == "In use"


def test_pages_are_keyset_paged(db_session, clerk, district):
    beat = district.beats[0]
    for n in range(1, 8):
        factories.make_address(db_session, beat, building="13栋", unit="4单元", room=f"{n}01")
    db_session.commit()
    anchor = district.addresses[0]
    first = address_upkeep.rooms(db_session, clerk, anchor, size=3)
    second = address_upkeep.rooms(db_session, clerk, anchor, first.next_cursor, size=3)
    third = address_upkeep.rooms(db_session, clerk, anchor, second.next_cursor, size=3)
    rooms = [a.room for a in first.rows + second.rows + third.rows]
    assert rooms == ["101", "201", "301", "401", "402", "501", "601", "701"]
    assert third.next_cursor is None


def test_a_tampered_page_link_gives_the_first_page(clerk_client):
    response = clerk_client.get("/clerk/?after=bm9wZQ")
    assert response.status_code == 200
    assert "not valid any more" in text_of(parse(response).select_one(".notice-error"))


def test_another_bureau_does_not_exist_for_the_clerk(clerk_client, elsewhere):
    a = elsewhere.address.id
    for url in (f"/clerk/roads/{a}", f"/clerk/doors/{a}", f"/clerk/buildings/{a}", f"/clerk/units/{a}",
                f"/clerk/addresses/{a}", f"/clerk/addresses/{a}/edit", f"/clerk/addresses/{a}/retire",
                f"/clerk/addresses/{a}/history"):
        assert clerk_client.get(url).status_code == 404, url
    home = parse(clerk_client.get("/clerk/"))
    assert "远方路" not in text_of(home.select_one("#roads"))
    assert clerk_client.get(f"/clerk/find?code={elsewhere.address.code}").status_code == 404


def test_find_an_address_by_its_code(clerk_client, district):
    a = district.addresses[1]
    response = clerk_client.get(f"/clerk/find?code={a.code.lower()}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/clerk/addresses/{a.id}")


def test_other_roles_and_other_clerks(app, db_session, district, elsewhere):
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    c = FormClient(app.test_client())
    c.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret)
    assert c.get("/clerk/").status_code == 404
    other = factories.make_user(db_session, role="clerk", bureau_id=elsewhere.bureau.id)
    c2 = FormClient(app.test_client())
    c2.sign_in(other.phone, factories.PASSWORD, totp_secret=other.totp_secret)
    assert c2.get(f"/clerk/addresses/{district.addresses[0].id}").status_code == 404
    assert c2.get(f"/clerk/addresses/{elsewhere.address.id}").status_code == 200


def test_a_clerk_signs_in_with_a_second_factor(app, db_session, district):
    clerk = factories.make_user(db_session, role="clerk", bureau_id=district.bureau.id)
    c = FormClient(app.test_client())
    response = c.submit("/auth/login", {"phone": clerk.phone, "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/auth/two-factor")
    c.sign_in(clerk.phone, factories.PASSWORD, totp_secret=clerk.totp_secret)
    assert c.get("/").headers["Location"].endswith("/clerk/")


def test_a_clerk_given_a_station_keeps_its_bureau(db_session, district):
    clerk = factories.make_user(db_session, role="clerk", station=district.stations[1])
    assert address_upkeep.clerk_bureau(db_session, clerk).id == district.bureau.id
