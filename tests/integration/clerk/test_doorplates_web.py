"""The clerk's "Print door plates (PDF)" button: the building's plates, read back from the page images; the
clerk's bureau only; audited; a clear message over the limit or without the CJK font."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEvent
from tests.browser import parse
from tests.factories import make_address
from tests.integration.test_doorplates import assert_plates


def _building(db_session, district):
    beat = district.beats[1]
    rooms = [make_address(db_session, beat, community="翠竹苑", building="3栋", unit=f"{u}单元", room=room)
             for u in (1, 2) for room in ("101", "102", "201", "202", "1001", "1002")]
    retired_source = make_address(db_session, beat, community="翠竹苑", building="9栋", room="101")
    db_session.commit()
    return rooms, retired_source


def _print(clerk_client, anchor_id):
    """Press the button on the building page, as a browser would (its form and CSRF token)."""
    form = parse(clerk_client.get(f"/clerk/buildings/{anchor_id}")).find("form", id="print-plates")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return clerk_client.post(form["action"], data=fields)


def test_the_button_prints_every_room_of_the_building(app, clerk_client, db_session, district, tmp_path):
    rooms, _ = _building(db_session, district)
    page = clerk_client.get(f"/clerk/buildings/{rooms[3].id}")
    assert "Print door plates (PDF)" in page.get_data(as_text=True)
    response = _print(clerk_client, rooms[3].id)
    assert response.status_code == 200, clerk_client.get(f"/clerk/buildings/{rooms[3].id}").get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    out = tmp_path / "plates.pdf"
    out.write_bytes(response.data)
    expected = sorted(rooms, key=lambda a: (a.unit_key, len(a.room_key), a.room_key))
    assert_plates(out, expected, app.config["PORTAL_BASE_URL"].rstrip("/"))
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).one()
    assert event.object_id == str(rooms[3].id) and "plates=12" in event.detail


def test_a_get_only_leads_back_to_the_building(clerk_client, db_session, district):
    rooms, _ = _building(db_session, district)
    response = clerk_client.get(f"/clerk/buildings/{rooms[0].id}/doorplates.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/clerk/buildings/{rooms[0].id}")


def test_a_building_of_another_bureau_is_not_there(clerk_client, db_session, elsewhere):
    assert clerk_client.get(f"/clerk/buildings/{elsewhere.address.id}").status_code == 404
    token = parse(clerk_client.get("/clerk/duplicates")).find("input", {"name": "csrf_token"})
    data = {"csrf_token": token["value"]} if token else {}  # a valid token of the clerk's session
    response = clerk_client.post(f"/clerk/buildings/{elsewhere.address.id}/doorplates.pdf", data=data)
    assert response.status_code == 404
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).first() is None


def test_over_the_limit_is_refused_with_a_message(app, clerk_client, db_session, district):
    rooms, _ = _building(db_session, district)
    app.config["MAX_DOOR_PLATES"] = 11
    try:
        response = _print(clerk_client, rooms[0].id)
    finally:
        app.config["MAX_DOOR_PLATES"] = 5000
    assert response.status_code == 302
    page = clerk_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "more rooms in use than one print run may hold (11 plates)" in page
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).first() is None


def test_a_missing_font_is_refused_with_a_message(app, clerk_client, db_session, district, tmp_path):
    rooms, _ = _building(db_session, district)
    font = app.config["DOORPLATE_FONT"]
    app.config["DOORPLATE_FONT"] = str(tmp_path / "no-such-font.ttc")
    try:
        response = _print(clerk_client, rooms[0].id)
    finally:
        app.config["DOORPLATE_FONT"] = font
    assert response.status_code == 302
    page = clerk_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "door-plate font" in page and "no-such-font.ttc" in page
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).first() is None


def test_the_route_is_in_the_access_matrix_as_a_clerk_page(app):
    from tests.integration.test_access import _get_routes
    assert app.view_functions["clerk.building_plates"].access == "role:clerk"
    assert "clerk.building_plates" in {endpoint for endpoint, _url, _args in _get_routes(app)}


def _print_beat(clerk_client, beat_code):
    page = parse(clerk_client.get("/clerk/doorplates"))
    token = page.find("form", id="beat-plates-form").find("input", {"name": "csrf_token"})["value"]
    return clerk_client.post("/clerk/doorplates", data={"csrf_token": token, "beat": beat_code})


def test_a_beat_of_the_bureau_prints_every_room_of_it(app, clerk_client, db_session, district, elsewhere, tmp_path):
    rooms, retired_source = _building(db_session, district)
    home = parse(clerk_client.get("/clerk/"))
    assert home.select_one("#beat-plates-link")["href"] == "/clerk/doorplates"
    offered = [o["value"] for o in parse(clerk_client.get("/clerk/doorplates")).select("#beat option")]
    assert offered == sorted(b.code for b in district.beats)  # the bureau's beats, none of another bureau
    response = _print_beat(clerk_client, district.beats[1].code)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    out = tmp_path / "beat.pdf"
    out.write_bytes(response.data)
    expected = sorted([*rooms, retired_source], key=lambda a: (a.building_key, a.unit_key, len(a.room_key),
                                                               a.room_key))
    assert_plates(out, expected, app.config["PORTAL_BASE_URL"].rstrip("/"))
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).one()
    assert (event.object_type, event.object_id) == ("beat", district.beats[1].code) and "plates=13" in event.detail


def test_a_beat_of_another_bureau_or_none_is_refused_at_the_field(clerk_client, db_session, district, elsewhere):
    for code in (elsewhere.beat.code, "", "NO-SUCH"):
        response = _print_beat(clerk_client, code)
        assert response.status_code == 400, code
        assert parse(response).select_one(".error-summary") is not None
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).first() is None


def test_a_beat_over_the_limit_is_refused_with_a_message(app, clerk_client, db_session, district):
    _building(db_session, district)
    app.config["MAX_DOOR_PLATES"] = 5
    try:
        response = _print_beat(clerk_client, district.beats[1].code)
    finally:
        app.config["MAX_DOOR_PLATES"] = 5000
    assert response.status_code == 302
    page = clerk_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This beat has more rooms in use than one print run may hold (5 plates)" in page


def test_a_room_of_another_bureau_in_a_building_written_alike_is_not_printed(app, clerk_client, db_session, district,
                                                                             elsewhere):
    """Rooms belong to a building by their components; the other bureau's room 远方路 1号 1栋 101 shares them with
    a room a clerk adds in their own bureau, but it does not exist for the clerk, on paper as on the pages: neither
    its plate nor its code in the audit row."""
    from tests.factories import make_address

    mine = make_address(db_session, district.beats[0], road="远方路", door_no="1号", community="", building="1栋",
                        room="999")
    db_session.commit()
    response = _print(clerk_client, mine.id)
    assert response.status_code == 200
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).one()
    assert event.detail == f"plates=1 first={mine.code} last={mine.code}"
    assert elsewhere.address.code not in event.detail
