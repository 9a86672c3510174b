"""Claims on overlapping places (issue 15, conflicts): a whole building registered by one landlord and a room of
it (a unit, a room of that unit) by another claim the same place, as two claims on one room do; two rooms of
one building, or two buildings, do not (flags.overlapping holds the rule)."""
from __future__ import annotations

import pytest

from portal.models import House, RecordStatus
from portal.services import flags, reporting, review
from portal.services.errors import ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.api.conftest import ApiClient, new_token
from tests.integration.officer.test_claims import decide_on_page


@pytest.fixture
def building(db_session, district):
    """13栋 of district.addresses[0] (room 13栋 4单元 402): the building, its unit 4单元, the room, another
    room of the unit, a room of the building without a unit, and the next building 14栋 with a room."""
    beat = district.beats[0]
    found = {"room": district.addresses[0],
             "building": factories.make_address(db_session, beat, building="13栋"),
             "unit": factories.make_address(db_session, beat, building="13栋", unit="4单元"),
             "next_room": factories.make_address(db_session, beat, building="13栋", unit="4单元", room="403"),
             "bare_room": factories.make_address(db_session, beat, building="13栋", room="101"),
             "other_building": factories.make_address(db_session, beat, building="14栋"),
             "other_room": factories.make_address(db_session, beat, building="14栋", unit="4单元", room="402")}
    db_session.commit()
    return found


def register(db_session, owner, address):
    sub = factories.make_house(db_session, owner, address)
    db_session.expire_all()
    return sub


def claim_pair(db_session, owner_a, owner_b, first, second):
    a = register(db_session, owner_a, first)
    b = register(db_session, owner_b, second)
    db_session.expire_all()
    return a, b


@pytest.mark.parametrize(("wide", "narrow"), [("building", "room"), ("unit", "room"), ("building", "unit"),
                                              ("building", "bare_room")])
def test_a_wider_and_a_narrower_claim_are_both_flagged_each_naming_the_other(db_session, building, owner_a,
                                                                              owner_b, wide, narrow):
    for first, second in ((wide, narrow), (narrow, wide)):  # whichever comes first
        a, b = claim_pair(db_session, owner_a, owner_b, building[first], building[second])
        assert b.flags == [{"code": "claimed_by_another", "house_id": a.house_id}] and b.flagged
        assert a.flags == [{"code": "claimed_by_another", "house_id": b.house_id}] and a.flagged
        for sub, owner in ((a, owner_a), (b, owner_b)):  # withdrawn: the place is free for the other order
            review.transition(db_session, sub, "withdrawn", owner, factories.as_actor(owner))
        db_session.commit()


@pytest.mark.parametrize(("first", "second"), [("room", "next_room"), ("room", "bare_room"), ("unit", "bare_room"),
                                               ("building", "other_building"), ("building", "other_room"),
                                               ("room", "other_room")])
def test_places_apart_are_no_claim(db_session, building, owner_a, owner_b, first, second):
    a, b = claim_pair(db_session, owner_a, owner_b, building[first], building[second])
    assert a.flags == [] and b.flags == [] and not a.flagged and not b.flagged


def test_the_same_reporters_building_and_room_are_no_claim(db_session, building, owner_a):
    a, b = claim_pair(db_session, owner_a, owner_a, building["building"], building["room"])
    assert a.flags == [] and b.flags == []


def test_the_overlap_rule_itself(db_session, building):
    """covering_addresses: the address, the wider ones holding it, the narrower ones inside it."""
    def covering(name):
        ids = set(db_session.scalars(flags.covering_addresses(building[name])))
        return {n for n, a in building.items() if a.id in ids}

    assert covering("room") == {"room", "unit", "building"}
    assert covering("unit") == {"unit", "room", "next_room", "building"}
    assert covering("building") == {"building", "unit", "room", "next_room", "bare_room"}
    assert covering("bare_room") == {"bare_room", "building"}
    assert covering("other_room") == {"other_room", "other_building"}
    # A building and every room in it take one lock: two registrations in one building wait for each other.
    assert len({flags.claim_key(a) for n, a in building.items() if not n.startswith("other")}) == 1
    assert flags.claim_key(building["building"]) != flags.claim_key(building["other_building"])


def test_both_items_show_the_other_claim_linked(officer_en, db_session, building, owner_a, owner_b):
    a, b = claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    for mine, other in ((a, b), (b, a)):
        page = parse(officer_en.get(f"/officer/items/{mine.id}"))
        rows = page.select("#claims li.claim")
        assert len(rows) == 1 and rows[0]["data-standing"] == "yes"
        assert rows[0].select_one("a.claim-item")["href"].endswith(f"/officer/items/{other.id}")
        assert rows[0].select_one("a.claim-record")["href"].endswith(f"/officer/register/houses/{other.house_id}")
        assert page.select_one("li.flag-claimed_by_another") is not None


def test_confirming_the_room_while_the_building_is_confirmed_is_refused(officer_en, db_session, officer,
                                                                       building, owner_a, owner_b):
    a, b = claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    assert decide_on_page(officer_en, a, action="confirmed").status_code == 302  # the room only waits
    response = decide_on_page(officer_en, b, action="confirmed")
    assert response.status_code == 400
    assert "Another reporter's house at this address is confirmed already" in text_of(
        parse(response).select_one(".error-summary"))
    db_session.expire_all()
    assert b.status == "pending" and db_session.get(House, b.house_id).status == RecordStatus.pending
    # The other way round too: a unit of the building, confirmed first, refuses the building.
    owner_c = factories.make_user(db_session, role="landlord")
    c = register(db_session, owner_c, building["next_room"])
    assert [f["house_id"] for f in c.flags] == [a.house_id]  # the rooms are apart: only the building's claim
    with pytest.raises(ValidationFailed):
        review.transition(db_session, c, "confirmed", officer, factories.as_actor(officer))
    db_session.rollback()


def test_rejecting_one_claim_settles_the_other(officer_en, db_session, building, owner_a, owner_b):
    a, b = claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    response = decide_on_page(officer_en, a, action="rejected", reason_code="not_the_owner")
    assert response.status_code == 302, text_of(parse(response).select_one(".error-summary"))
    db_session.expire_all()
    assert b.flags == [{"code": "claimed_by_another", "house_id": a.house_id, "resolved": True}]
    assert not b.flagged
    assert decide_on_page(officer_en, b, action="confirmed").status_code == 302
    db_session.expire_all()
    assert db_session.get(House, b.house_id).status == RecordStatus.verified


def test_rejecting_the_building_settles_every_room_claim(db_session, officer, building, owner_a, owner_b):
    a, b = claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    owner_c = factories.make_user(db_session, role="landlord")
    c = register(db_session, owner_c, building["next_room"])
    db_session.expire_all()
    assert [f["house_id"] for f in a.flags] == [b.house_id, c.house_id]
    factories.decide(db_session, a, officer, "rejected", reason_code="not_the_owner")
    db_session.expire_all()
    assert b.flags[0]["resolved"] is True and c.flags[0]["resolved"] is True
    assert not b.flagged and not c.flagged


def test_the_building_page_marks_both_claims(officer_en, db_session, building, owner_a, owner_b):
    claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    register(db_session, owner_a, building["next_room"])  # A's own room in A's building: no claim of its own
    page = parse(officer_en.get(f"/officer/register/buildings/{building['room'].id}"))

    def marked(name):
        row = page.select_one(f"li.room[data-address='{building[name].code}']")
        assert row is not None, name
        return row.select_one(".claimed-by-another") is not None

    assert marked("building") and marked("room")
    assert not marked("next_room") and not marked("unit") and not marked("bare_room")


def test_the_second_landlord_is_told_at_the_room_and_by_the_api(app, db_session, building, owner_a,
                                                               owner_b):
    register(db_session, owner_a, building["building"])
    assert reporting.claimed_by_another(db_session, owner_b, building["room"].code)
    assert reporting.claimed_by_another(db_session, owner_b, building["unit"].code)
    assert not reporting.claimed_by_another(db_session, owner_b, building["other_room"].code)
    assert not reporting.claimed_by_another(db_session, owner_a, building["room"].code)  # A's own building
    api = ApiClient(app.test_client(), new_token(db_session, owner_b))
    answer = api.post("/api/v1/houses", json={"address_code": building["room"].code, "use": "whole_rental",
                                              "max_occupants": 2})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert [f["code"] for f in answer.get_json()["flags"]] == ["claimed_by_another"]
    assert owner_a.name not in answer.get_data(as_text=True)


def test_the_anomaly_list_holds_both_addresses_of_a_building_and_room_claim(db_session, officer, building, owner_a,
                                                                           owner_b):
    from portal.services import anomalies

    claim_pair(db_session, owner_a, owner_b, building["building"], building["room"])
    register(db_session, owner_a, building["next_room"])  # A's own room in A's building: no claim of its own
    found = [row.key for row in anomalies.page(db_session, officer, "conflicting-claims").rows]
    assert found == sorted([(building["building"].id,), (building["room"].id,)])


def test_a_building_claimed_in_another_station_over_a_room_here_is_in_both_stations_lists(db_session, district,
                                                                                          officer, owner_a,
                                                                                          owner_b):
    """The building's own address written in station 2's beat, one of its rooms in station 1's: each station's
    list holds its own address of the pair (the list starts from the wide houses that concern it)."""
    from portal.services import anomalies

    room = district.addresses[0]  # 13栋 4单元 402, station 1
    wide = factories.make_address(db_session, district.beats[2], building="13栋")  # station 2
    db_session.commit()
    claim_pair(db_session, owner_a, owner_b, wide, room)
    other = factories.make_user(db_session, role="officer", station=district.stations[1])
    assert [row.key for row in anomalies.page(db_session, officer, "conflicting-claims").rows] == [(room.id,)]
    assert [row.key for row in anomalies.page(db_session, other, "conflicting-claims").rows] == [(wide.id,)]
    assert anomalies.counts(db_session, officer, cap=None)["conflicting-claims"] == 1
