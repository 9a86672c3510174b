"""An item's "Other tenancies of these people" and "Other current employments of this person" name a house or a
unit of another jurisdiction only as such, as the register's person page and the anomaly lists do: a report
naming anyone (a landlord may type any ID number) must not show an officer where that person lives or works in
another station or bureau."""
from __future__ import annotations

from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.officer.conftest import signed_in


def test_a_house_of_another_station_is_named_only_as_outside_the_jurisdiction(app, db_session, district, landlord,
                                                                               officer):
    other_owner = factories.make_user(db_session, role="landlord")
    far = factories.make_house(db_session, other_owner, district.addresses[1]).house_id  # station 2
    near = factories.make_house(db_session, landlord, district.addresses[0]).house_id  # station 1
    mine = factories.make_house(db_session, landlord, factories.make_address(
        db_session, district.beats[0], building="13栋", unit="4单元", room="403")).house_id
    person = factories.occupant(name="李远")
    factories.make_move_in(db_session, other_owner, far, [person])
    factories.make_move_in(db_session, landlord, mine, [person])
    sub = factories.make_move_in(db_session, landlord, near, [person])
    page = text_of(parse(signed_in(app, officer).get(f"/officer/items/{sub.id}")).select_one("main"))
    assert district.addresses[1].text not in page and "人民路" not in page
    assert "A house outside your jurisdiction" in page
    assert "13栋 4单元 403" in page  # a house of the officer's own station is named


def test_a_unit_of_another_station_is_named_only_as_outside_the_jurisdiction(app, db_session, district, officer):
    employer = factories.make_user(db_session, role="employer")
    far = factories.make_unit(db_session, employer, district.addresses[1], name="远方测试有限公司").unit_id
    near = factories.make_unit(db_session, employer, district.addresses[0], name="近处测试有限公司").unit_id
    number = factories.resident_id("19950505")
    factories.make_hire(db_session, employer, far, id_number=number)
    sub = factories.make_hire(db_session, employer, near, id_number=number)
    page = text_of(parse(signed_in(app, officer).get(f"/officer/items/{sub.id}")).select_one("main"))
    assert "远方测试有限公司" not in page and "人民路" not in page
    assert "A unit outside your jurisdiction" in page
