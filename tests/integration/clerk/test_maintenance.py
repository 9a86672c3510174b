"""Adding, correcting and retiring addresses: the import's rules at each field, the code that never changes,
no two addresses alike, a retired address refused for new reports, every change in the address's history."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import Address, AuditEvent, House
from portal.services import addresses, reporting, units
from portal.services.errors import ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import field_error, text_of

ROOM = {"kind": "room", "division_code": "430302", "division_name": "湖南省湘潭市雨湖区", "township": "云塘街道",
        "road": "韶山中路", "door_no": "88号", "community": "银海花园", "building": "13栋", "unit": "4单元",
        "room": "403"}


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Address))


def _add(client, district, **changes):
    data = {**ROOM, "beat_id": str(district.beats[0].id), **changes}
    return client.submit(f"/clerk/addresses/new?kind=room&from={district.addresses[0].id}", data)


def test_the_add_form_is_filled_from_its_place_in_the_tree(clerk_client, district):
    page = parse(clerk_client.get(f"/clerk/addresses/new?kind=room&from={district.addresses[0].id}"))
    assert factories.field_value(page, "building") == "13栋"
    assert factories.field_value(page, "unit") == "4单元"
    assert factories.field_value(page, "room") == ""
    assert factories.field_value(page, "beat_id") == str(district.beats[0].id)


def test_add_a_room(clerk_client, db_session, district, clerk):
    response = _add(clerk_client, district)
    assert response.status_code == 302
    a = db_session.scalar(select(Address).where(Address.room == "403"))
    assert a.code == addresses.make_code("430302", "云塘街道", "韶山中路", "88号", "银海花园", "13栋", "4单元", "403")
    assert a.level.value == "room" and a.room_key == "403" and a.beat_id == district.beats[0].id
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "address.create"))
    assert event.actor_id == clerk.id and event.object_id == str(a.id)
    assert json.loads(event.detail)["after"]["room"] == "403"
    assert addresses.search(db_session, "银海花园 13栋 4单元 403")[0].id == a.id


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"division_code": "999999"}, "division_code", "999999 is not a division code of GB/T 2260."),
    ({"division_code": "4303"}, "division_code", "A division code is exactly 6 digits."),
    ({"road": ""}, "road", "Required."),
    ({"room": ""}, "room", "Required."),
    ({"building": ""}, "room", "A unit or room needs a building."),
    ({"room": "4\u200b03"}, "room", "Contains a control or invisible character."),
    ({"door_no": "8" * 21}, "door_no", "Longer than 20 characters."),
    ({"room": "402"}, "road", "This is the address"),
    ({"community": "银海花园", "building": "十三幢", "unit": "4门", "room": "402室"}, "road", "This is the address"),
    ({"beat_id": "999999"}, "beat_id", "Not a valid choice."),
])
def test_bad_components_are_refused_at_their_field(clerk_client, db_session, district, changes, field, message):
    before = _count(db_session)
    response = _add(clerk_client, district, **changes)
    assert response.status_code == 400
    page = parse(response)
    assert message in field_error(page, field)
    assert text_of(page.select_one(".error-summary"))
    assert factories.field_value(page, "township") == "云塘街道"  # what was typed is kept
    assert _count(db_session) == before


def test_an_address_of_another_bureau_refuses_without_being_named(clerk_client, db_session, district, elsewhere):
    """The register is one, so the same place in another bureau refuses the new address; but a clerk sees only
    their own bureau's addresses: the refusal names neither its code nor its text."""
    theirs = elsewhere.address
    before = _count(db_session)
    for changes in ({"community": "", "building": "1栋", "unit": "", "room": "101"},
                    {"community": "", "building": "一幢", "unit": "", "room": "101室"}):
        response = _add(clerk_client, district, road="远方路", door_no="1号", **changes)
        assert response.status_code == 400
        page = parse(response)
        message = field_error(page, "road")
        assert "kept by another bureau" in message
        for secret in (theirs.code, "远方路", "1栋"):
            assert secret not in text_of(page.select_one(".error-summary")) and secret not in message
    assert _count(db_session) == before
    # An edit that would make one of the clerk's addresses that place is refused the same way.
    mine = district.addresses[0]
    response = clerk_client.submit(f"/clerk/addresses/{mine.id}/edit", {
        **ROOM, "road": "远方路", "door_no": "1号", "community": "", "building": "1栋", "unit": "", "room": "101"})
    assert response.status_code == 400
    message = field_error(parse(response), "road")
    assert "kept by another bureau" in message and theirs.code not in message
    db_session.refresh(mine)
    assert mine.road == "韶山中路"


def test_a_door_plate_has_no_building(clerk_client, db_session, district):
    response = clerk_client.submit("/clerk/addresses/new?kind=door_plate", {
        **ROOM, "kind": "door_plate", "beat_id": str(district.beats[0].id), "door_no": "90号", "unit": "",
        "room": ""})
    assert response.status_code == 400
    assert "Leave this empty" in field_error(parse(response), "building")


def test_add_a_unit_of_a_building(clerk_client, db_session, district):
    response = _add(clerk_client, district, kind="unit", unit="5单元", room="")
    assert response.status_code == 302
    a = db_session.scalar(select(Address).where(Address.unit == "5单元"))
    assert a.level.value == "building" and a.room == ""
    page = parse(clerk_client.get(f"/clerk/buildings/{a.id}"))
    assert [text_of(x) for x in page.select("#units a.card-title")] == ["4单元", "5单元"]


def test_correct_the_components_keeps_the_code(clerk_client, db_session, district, clerk):
    a = district.addresses[0]
    code = a.code
    response = clerk_client.submit(f"/clerk/addresses/{a.id}/edit", {**ROOM, "room": "402A"})
    assert response.status_code == 302
    db_session.refresh(a)
    assert a.code == code and a.room == "402A" and a.room_key == "402A"
    assert addresses.by_code(db_session, code).id == a.id
    history = parse(clerk_client.get(f"/clerk/addresses/{a.id}/history"))
    row = history.select_one("#history li[data-action='address.edit']")
    assert "Room: 402 → 402A" in text_of(row)
    assert "地址员" in text_of(row)


def test_an_edit_that_makes_two_addresses_one_is_refused(clerk_client, db_session, district):
    a = district.addresses[0]
    other = factories.make_address(db_session, district.beats[0], building="13栋", unit="4单元", room="401")
    db_session.commit()
    for changes in ({"room": "402"}, {"room": "402室", "building": "十三栋"}):
        response = clerk_client.submit(f"/clerk/addresses/{other.id}/edit", {**ROOM, **changes})
        assert response.status_code == 400
        assert f"code {a.code}" in field_error(parse(response), "road")
    db_session.refresh(other)
    assert other.room == "401"


def test_an_edit_keeps_the_kind_of_address(clerk_client, db_session, district):
    a = district.addresses[0]
    response = clerk_client.submit(f"/clerk/addresses/{a.id}/edit", {**ROOM, "room": ""})
    assert response.status_code == 400
    assert "Required." in field_error(parse(response), "room")


def test_retire_with_a_replacement(clerk_client, db_session, district, clerk, landlord):
    old, new = district.addresses[0], district.addresses[1]
    response = clerk_client.submit(f"/clerk/addresses/{old.id}/retire", {"replacement": new.code})
    assert response.status_code == 302
    db_session.refresh(old)
    assert old.status.value == "retired" and old.replaced_by_id == new.id and old.retired_at is not None
    # New reports on it are refused, naming the address that replaced it; search no longer offers it.
    with pytest.raises(ValidationFailed) as refused:
        reporting.register_house(db_session, landlord, address_code=old.code, use="whole_rental", max_occupants=2,
                                 certificate_no=None, actor=factories.as_actor(landlord))
    error = refused.value.errors[0]
    assert error.code == "address_retired" and error.field == "address_code"
    assert new.code in str(error.message) and new.text in str(error.message)
    assert old.id not in [x.id for x in addresses.search(db_session, "银海花园 13栋 4单元 402")]
    page = parse(clerk_client.get(f"/clerk/addresses/{old.id}"))
    assert text_of(page.select_one("#address-status")).startswith("Retired")
    assert page.select_one("#edit-link") is None
    assert "Retired" in text_of(parse(clerk_client.get(f"/clerk/addresses/{old.id}/history")).select_one("#history"))


def test_a_landlord_is_told_on_the_page(db_session, district, landlord_client, clerk):
    from portal.services import address_upkeep

    old = district.addresses[0]
    address_upkeep.retire(db_session, clerk, old.id, None, factories.as_actor(clerk))
    db_session.commit()
    response = factories.english(landlord_client).get(f"/landlord/houses/new?address={old.code}",
                                                      follow_redirects=True)
    notice = text_of(parse(response).select_one(".notice-error"))
    assert "is no longer a standard address (it was retired): new reports on it are not accepted." in notice


def test_reports_on_houses_and_units_at_a_retired_address_are_refused(db_session, district, landlord, clerk):
    from portal.services import address_upkeep

    room, building = district.addresses[0], district.addresses[1]
    house = factories.make_house(db_session, landlord, room).house
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, building).unit_id
    for a in (room, building):
        address_upkeep.retire(db_session, clerk, a.id, None, factories.as_actor(clerk))
    db_session.commit()
    with pytest.raises(ValidationFailed) as refused:
        factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    assert refused.value.errors[0].code == "address_retired"
    with pytest.raises(ValidationFailed) as refused:
        factories.make_hire(db_session, employer, unit_id)
    assert refused.value.errors[0].code == "address_retired"
    with pytest.raises(ValidationFailed) as refused:
        units.register_unit(db_session, employer, actor=factories.as_actor(employer),
                            **factories.unit_fields(building, uscc="91430302MA4L0XYK19"))
    assert any(e.code == "address_retired" for e in refused.value.errors)
    assert db_session.scalar(select(func.count()).select_from(House)) == 1


def test_retire_refuses_a_bad_replacement(clerk_client, db_session, district, elsewhere):
    a = district.addresses[0]
    for code, message in ((a.code, "cannot replace itself"), (elsewhere.address.code, "no address of your bureau"),
                          ("ZZZZZZZZZZ", "no address of your bureau")):
        response = clerk_client.submit(f"/clerk/addresses/{a.id}/retire", {"replacement": code})
        assert response.status_code == 400
        assert message in field_error(parse(response), "replacement")
    db_session.refresh(a)
    assert a.status.value == "active"


def test_the_door_plate_of_a_retired_address_says_so(client, db_session, district, clerk):
    from portal.services import address_upkeep

    old, new = district.addresses
    address_upkeep.retire(db_session, clerk, old.id, new.code, factories.as_actor(clerk))
    db_session.commit()
    page = parse(factories.english(client).get(f"/a/{old.code}"))
    assert "is no longer a standard address" in text_of(page.select_one("#retired"))
    assert page.select_one("#replacement")["href"] == f"/a/{new.code}"
