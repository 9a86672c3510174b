"""One rule of who lives in a house now (services/residence.py), wherever occupants are shown or counted.

An integrator found GET /api/v1/houses still listing a person after their move-out was reported. Now a
person whose move-out waits for the police is no occupant for the API, the landlord's pages, a house's
capacity and the other_tenancy flag; a rejected move-out puts them back.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Tenancy
from portal.services import receipts, reporting
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.api.conftest import ApiClient, new_token


@pytest.fixture
def moved_out(db_session, landlord, district):
    """A house of two with one tenant whose move-out is reported and waiting, and one who stays."""
    house = factories.make_house(db_session, landlord, district.addresses[0], max_occupants=2).house
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="走了"),
                                                                  factories.occupant(name="还在")])
    leaving, staying = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id)
                                          .order_by(Tenancy.id)).all()
    move_out = factories.make_move_out(db_session, landlord, leaving.id)
    return house, leaving, staying, move_out


def names_in_api(app, db_session, landlord) -> list[str]:
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    return [t["name"] for h in api.get("/api/v1/houses").get_json() for t in h["tenancies"]]


def test_a_reported_move_out_leaves_the_api_and_the_occupants(app, db_session, landlord, moved_out):
    house, _, _, _ = moved_out
    assert names_in_api(app, db_session, landlord) == ["还在"]
    assert [t.declared_name for t in reporting.occupants_of(db_session, house)] == ["还在"]


def test_the_landlords_house_page_shows_who_is_moving_out_apart(landlord_client, moved_out):
    house, _, _, move_out = moved_out
    page = parse(landlord_client.get(f"/landlord/houses/{house.id}"))
    lists = page.select("ul.card-list")
    assert "还在" in text_of(lists[0]) and "走了" not in text_of(lists[0])
    # The receipt number as every page shows it (in groups, kept on one line).
    assert "走了" in text_of(lists[1]) and receipts.display(move_out.receipt) in text_of(lists[1])


def test_a_rejected_move_out_puts_the_person_back(app, db_session, landlord, officer, moved_out):
    _, _, _, move_out = moved_out
    factories.decide(db_session, move_out, officer, "rejected", reason_code="not_living_here")
    assert sorted(names_in_api(app, db_session, landlord)) == ["走了", "还在"]


def test_capacity_and_flags_do_not_count_someone_moving_out(db_session, landlord, district, moved_out):
    house, leaving, _, _ = moved_out
    replacement = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="新来")])
    assert replacement.flags == []  # two living there of two allowed, not three
    # The one who left moves into another landlord's house: not "living elsewhere" any more.
    other = factories.make_user(db_session, role="landlord")
    other_house = factories.make_house(db_session, other, district.addresses[1]).house
    again = factories.occupant(name="走了", id_number=leaving.person.id_number)
    assert factories.make_move_in(db_session, other, other_house.id, [again]).flags == []


def test_someone_still_standing_cannot_be_reported_moving_in_twice(db_session, landlord, moved_out):
    """Until the police confirm the move-out, the tenancy stands: the same person in the same house again is
    a conflict (the database allows one standing tenancy per person and house)."""
    house, leaving, _, _ = moved_out
    again = factories.occupant(name="走了", id_number=leaving.person.id_number)
    with pytest.raises(reporting.StateConflict):
        factories.make_move_in(db_session, landlord, house.id, [again])
