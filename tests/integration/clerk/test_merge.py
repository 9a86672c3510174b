"""Merging duplicates: everything of the other address re-pointed in one transaction, its code an alias that
leads to the survivor, one owner's two houses made one; the refusals; and the duplicate finder's pages."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import Address, AddressPairDismissal, AuditEvent, House, Submission, Tenancy, Unit
from portal.services import address_merge, address_upkeep, addresses
from portal.services.errors import StateConflict, ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import field_error, text_of
from tests.integration.clerk.conftest import duplicate_of


@pytest.fixture
def pair(db_session, district):
    """The test room (survivor) and the same room written another way (in the same beat)."""
    original = district.addresses[0]
    return original, duplicate_of(db_session, original, community="银海花园小区", building="十三幢", unit="4门",
                                  room="402室")


def _merge(client, survivor, other):
    url = f"/clerk/merge?first={survivor.id}&second={other.id}"
    return client.submit(url, {"survivor": str(survivor.id)})


def test_merge_re_points_everything_and_keeps_the_code_as_an_alias(
        app, db_session, district, clerk_client, clerk, pair, landlord, client):
    survivor, other = pair
    # One owner with a house at each address (the survivor's with a tenant, the other's with two), another
    # owner with a house at the other only, and a unit at the other.
    kept = factories.make_house(db_session, landlord, survivor).house
    factories.make_move_in(db_session, landlord, kept.id, [factories.occupant(name="甲")])
    joined = factories.make_house(db_session, landlord, other).house
    factories.make_move_in(db_session, landlord, joined.id,
                           [factories.occupant(name="乙"), factories.occupant(name="丙")])
    someone = factories.make_user(db_session, role="landlord")
    theirs = factories.make_house(db_session, someone, other).house
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, other).unit_id
    joined_id, other_code = joined.id, other.code
    response = _merge(clerk_client, survivor, other)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()

    assert db_session.get(Address, other.id).status.value == "merged"
    assert db_session.get(Address, other.id).replaced_by_id == survivor.id
    assert db_session.get(House, joined_id) is None  # one owner, one house at the survivor
    houses = list(db_session.scalars(select(House).where(House.address_id == survivor.id).order_by(House.id)))
    assert [h.id for h in houses] == [kept.id, theirs.id]
    assert db_session.scalar(select(func.count()).select_from(House).where(House.address_id == other.id)) == 0
    assert db_session.scalar(select(func.count()).select_from(Tenancy).where(Tenancy.house_id == kept.id)) == 3
    assert db_session.scalar(select(func.count()).select_from(Submission)
                             .where(Submission.house_id == joined_id)) == 0
    # Two registrations and two move-ins.
    assert db_session.scalar(select(func.count()).select_from(Submission).where(Submission.house_id == kept.id)) == 4
    assert db_session.get(Unit, unit_id).address_id == survivor.id

    # The old code: the door-plate page redirects, a lookup finds the survivor, search offers only the survivor.
    door = client.get(f"/a/{other_code}")
    assert door.status_code == 301 and door.headers["Location"].endswith(f"/a/{survivor.code}")
    assert addresses.by_code(db_session, other_code).id == survivor.id
    assert other.id not in [a.id for a in addresses.search(db_session, "银海花园小区 十三幢 4门 402室")]
    # What the landlord sees: one house there.
    assert [h.id for h in factories_houses(db_session, landlord)] == [kept.id]

    # Audited on both, shown in both histories.
    events = {e.action: e for e in db_session.scalars(select(AuditEvent)
                                                      .where(AuditEvent.action.like("address.merge%")))}
    assert set(events) == {"address.merge", "address.merge_survivor"}
    note = json.loads(events["address.merge"].detail)
    assert note["survivor"] == survivor.code and note["houses_joined"][0]["removed"] == joined_id
    page = parse(clerk_client.get(f"/clerk/addresses/{survivor.id}"))
    assert other_code in text_of(page.select_one("#aliases"))
    history = parse(clerk_client.get(f"/clerk/addresses/{other.id}/history"))
    assert history.select_one("#history li[data-action='address.merge']") is not None


def factories_houses(session, owner):
    from portal.services import reporting

    return reporting.houses_of(session, owner)


def test_the_aliases_of_the_other_follow_the_survivor(db_session, district, clerk, pair):
    survivor, other = pair
    third = duplicate_of(db_session, survivor, building="13号楼")
    actor = factories.as_actor(clerk)
    address_merge.merge(db_session, clerk, other.id, third.id, actor)
    address_merge.merge(db_session, clerk, survivor.id, other.id, actor)
    db_session.commit()
    assert addresses.by_code(db_session, third.code).id == survivor.id
    assert db_session.get(Address, third.id).replaced_by_id == survivor.id


@pytest.mark.parametrize("case", ["itself", "into_retired", "retired_other", "kind"])
def test_refused_merges_change_nothing(db_session, district, clerk, pair, case):
    survivor, other = pair
    actor = factories.as_actor(clerk)
    if case == "itself":
        other = survivor
    elif case == "into_retired":
        address_upkeep.retire(db_session, clerk, survivor.id, None, actor)
    elif case == "retired_other":
        address_upkeep.retire(db_session, clerk, other.id, None, actor)
    else:
        other = factories.make_address(db_session, district.beats[0], building="13栋")  # a building, not a room
    db_session.commit()
    with pytest.raises(ValidationFailed) as refused:
        address_merge.merge(db_session, clerk, survivor.id, other.id, actor)
    assert refused.value.errors[0].code == {"itself": "merge_itself", "into_retired": "merge_into_retired",
                                            "retired_other": "merge_not_active", "kind": "merge_kind"}[case]


def test_merge_into_itself_or_a_retired_address_on_the_page(clerk_client, db_session, district, clerk, pair):
    survivor, other = pair
    response = clerk_client.submit(f"/clerk/merge?first={survivor.id}&second={survivor.id}",
                                   {"survivor": str(survivor.id)})
    assert response.status_code == 400
    assert "cannot be merged into itself" in text_of(parse(response).select_one(".error-summary"))
    address_upkeep.retire(db_session, clerk, survivor.id, None, factories.as_actor(clerk))
    db_session.commit()
    response = _merge(clerk_client, survivor, other)
    assert response.status_code == 400
    assert "nothing can be merged into it" in field_error(parse(response), "survivor")
    db_session.refresh(other)
    assert other.status.value == "active"


def test_one_person_in_both_houses_of_one_owner_waits_for_the_police(db_session, district, clerk, pair, landlord):
    survivor, other = pair
    person = factories.occupant(name="甲")
    a = factories.make_house(db_session, landlord, survivor).house
    b = factories.make_house(db_session, landlord, other).house
    factories.make_move_in(db_session, landlord, a.id, [person])
    factories.make_move_in(db_session, landlord, b.id, [person])
    with pytest.raises(StateConflict) as refused:
        address_merge.merge(db_session, clerk, survivor.id, other.id, factories.as_actor(clerk))
    assert refused.value.errors[0].code == "merge_same_person"
    db_session.rollback()
    assert db_session.get(Address, other.id).status.value == "active"
    assert db_session.get(House, b.id).address_id == other.id


def test_the_merge_form_from_an_address_page(clerk_client, pair, elsewhere):
    survivor, other = pair
    page = clerk_client.get(f"/clerk/merge?first={survivor.id}&code={other.code}")
    assert page.status_code == 200
    assert len(parse(page).select("#merge-pair li")) == 2
    assert clerk_client.get(f"/clerk/merge?first={survivor.id}&code={elsewhere.address.code}").status_code == 302
    assert clerk_client.get(f"/clerk/merge?first={survivor.id}&second={elsewhere.address.id}").status_code == 404
    assert clerk_client.get("/clerk/merge?first=x&second=1").status_code == 404


# --- the duplicate finder ---------------------------------------------------------------------------------

def test_the_finder_lists_the_pair_and_remembers_not_the_same(clerk_client, db_session, clerk, pair):
    survivor, other = pair
    page = parse(clerk_client.get("/clerk/duplicates"))
    cards = page.select("#pairs li.pair")
    assert [(c["data-first"], c["data-second"]) for c in cards] == [(survivor.code, other.code)]
    response = clerk_client.submit("/clerk/duplicates", {}, form_index=-1)
    assert response.status_code == 302
    page = parse(clerk_client.get("/clerk/duplicates"))
    assert page.select("#pairs li.pair") == [] and page.select_one("#pairs-empty") is not None
    assert db_session.scalar(select(func.count()).select_from(AddressPairDismissal)) == 1
    # Twice (a double click): remembered once.
    address_merge.dismiss(db_session, clerk, other.id, survivor.id, factories.as_actor(clerk))
    assert db_session.scalar(select(func.count()).select_from(AddressPairDismissal)) == 1
    history = parse(clerk_client.get(f"/clerk/addresses/{survivor.id}/history"))
    assert other.code in text_of(history.select_one("#history li[data-action='address.not_duplicate']"))


def test_a_merged_pair_leaves_the_finder(clerk_client, db_session, clerk, pair):
    survivor, other = pair
    page = parse(clerk_client.get("/clerk/duplicates"))
    merge_url = page.select_one("#pairs li.pair a.merge-link")["href"]
    response = clerk_client.submit(merge_url, {"survivor": str(survivor.id)})
    assert response.status_code == 302
    assert parse(clerk_client.get("/clerk/duplicates")).select("#pairs li.pair") == []


def test_the_finder_shows_only_the_clerks_bureau(app, db_session, pair, elsewhere):
    other_clerk = factories.make_user(db_session, role="clerk", bureau_id=elsewhere.bureau.id)
    assert address_merge.candidates(db_session, other_clerk) == []


def test_not_the_same_for_another_bureau_is_a_404(clerk_client, pair, elsewhere):
    survivor, _other = pair
    page = parse(clerk_client.get("/clerk/duplicates"))
    token = page.select_one("#pairs form input[name=csrf_token]")["value"]
    response = clerk_client.post("/clerk/duplicates/not-the-same",
                                 data={"csrf_token": token, "first": survivor.id, "second": elsewhere.address.id})
    assert response.status_code == 404


def test_an_address_merged_or_retired_meanwhile_is_not_merged_again(db_session, district, clerk, pair):
    """Another clerk's change lands between this clerk's reading and writing: the claim in SQL sees it."""
    from sqlalchemy import update

    survivor, other = pair
    address_upkeep.address(db_session, clerk, other.id)  # read as active
    db_session.execute(update(Address).where(Address.id == other.id).values(status="retired")
                       .execution_options(synchronize_session=False))
    with pytest.raises(StateConflict) as refused:
        address_merge.merge(db_session, clerk, survivor.id, other.id, factories.as_actor(clerk))
    assert refused.value.errors[0].code == "merge_not_active"
