"""Nothing typed is lost (issue 18, item 2): a landlord's unfinished reports are listed on the home and house
pages, offered again when "report a move-in" is tapped again, resumed where they were left, discarded only
after a confirmation, and no longer listed once the purge may have removed them."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import Draft
from portal.models.base import utcnow
from portal.services import drafts, reporting
from tests import factories
from tests.browser import parse
from tests.factories import english, field_value, post_form, text_of

TENANT = "欧阳明月"


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


@pytest.fixture
def client(landlord_client):
    return english(landlord_client)


def drafts_of(session, user) -> list[Draft]:
    session.expire_all()
    return list(session.scalars(select(Draft).where(Draft.owner_id == user.id).order_by(Draft.updated_at)))


def begin_move_in(client, house) -> tuple[str, dict]:
    """Tap "report a move-in", type one person, stop at "anyone else?"."""
    person0 = location(client.get(f"/landlord/houses/{house.id}/move-in"))
    assert person0.endswith("/person/0")
    tenant = factories.occupant(name=TENANT)
    sent = client.submit(person0, {"id_type": "resident_id", "id_number": tenant["id_number"], "name": TENANT,
                                   "relation": "main_tenant"})
    assert location(sent).endswith("/another")
    return person0.rsplit("/person/", 1)[0], tenant


def cards(page) -> list:
    return page.select("#unfinished li.card-draft")


def test_an_unfinished_move_in_is_listed_at_home_and_on_the_house_page(client, db_session, house):
    root, tenant = begin_move_in(client, house)
    for url in ("/landlord/", f"/landlord/houses/{house.id}"):
        listed = cards(parse(client.get(url)))
        assert len(listed) == 1, url
        text = text_of(listed[0])
        assert "Move-in" in text and TENANT in text and house.address.text in text
        assert tenant["id_number"] not in text
        links = [a["href"] for a in listed[0].find_all("a")]
        assert links == [root, root + "/discard"]


def test_tapping_report_a_move_in_again_offers_the_draft_and_it_resumes_where_it_was(client, db_session,
                                                                                     house, landlord):
    root, tenant = begin_move_in(client, house)
    again = client.get(f"/landlord/houses/{house.id}/move-in")
    assert again.status_code == 200  # not a fresh, empty form
    page = parse(again)
    assert TENANT in text_of(page.select_one("#unfinished"))
    assert page.select_one("#start-new")["href"] == f"/landlord/houses/{house.id}/move-in?new=1"
    assert len(drafts_of(db_session, landlord)) == 1  # offering it started nothing
    # Continue: on at the first page not answered yet, with the person as typed.
    assert location(client.get(root)) == root + "/another"
    assert field_value(parse(client.get(root + "/person/0")), "name") == TENANT
    assert field_value(parse(client.get(root + "/person/0")), "id_number") == tenant["id_number"]


def test_resuming_a_move_in_with_dates_goes_to_the_check_page(client, db_session, house, landlord):
    root, _tenant = begin_move_in(client, house)
    assert location(client.submit(root + "/another", {"another": "no"})).endswith("/dates")
    today = reporting.local_today().isoformat()
    assert location(client.submit(root + "/dates", {"move_in_date": today})) == root + "/check"
    assert location(client.get(root)) == root + "/check"


def test_starting_a_new_one_keeps_the_old_draft(client, db_session, house, landlord):
    root, _tenant = begin_move_in(client, house)
    fresh = location(client.get(f"/landlord/houses/{house.id}/move-in?new=1"))
    assert fresh.endswith("/person/0") and not fresh.startswith(root)
    assert len(drafts_of(db_session, landlord)) == 2
    # The new, still empty one is not listed; tapping again uses it again rather than piling up empty drafts.
    assert len(cards(parse(client.get("/landlord/")))) == 1
    assert location(client.get(f"/landlord/houses/{house.id}/move-in?new=1")) == fresh
    assert len(drafts_of(db_session, landlord)) == 2


def test_a_move_in_tapped_with_nothing_typed_uses_the_same_draft(client, db_session, house, landlord):
    first = location(client.get(f"/landlord/houses/{house.id}/move-in"))
    assert location(client.get(f"/landlord/houses/{house.id}/move-in")) == first
    assert len(drafts_of(db_session, landlord)) == 1
    assert cards(parse(client.get("/landlord/"))) == []


def test_discarding_asks_first_then_deletes_only_that_draft(client, db_session, house, landlord):
    root, _tenant = begin_move_in(client, house)
    other = location(client.get(f"/landlord/houses/{house.id}/move-in?new=1"))
    other_root = other.rsplit("/person/", 1)[0]
    ask = client.get(root + "/discard")
    assert ask.status_code == 200
    page = parse(ask)
    assert text_of(page.find("h1")) == "Discard this unfinished report?"
    assert TENANT in text_of(page.find("main"))
    assert len(drafts_of(db_session, landlord)) == 2  # asking deleted nothing
    done = post_form(client, page, root + "/discard", action="/discard")
    assert location(done) == f"/landlord/houses/{house.id}"
    assert [d.key for d in drafts_of(db_session, landlord)] == [other_root.rsplit("/", 1)[1]]
    after = parse(client.get(f"/landlord/houses/{house.id}"))
    assert "discarded" in text_of(after.select_one(".notice"))
    assert cards(after) == []
    # The discarded draft is gone like any that does not exist, and a second click changes nothing.
    assert client.get(root + "/person/0").status_code == 404
    assert post_form(client, page, root + "/discard", action="/discard").status_code == 404


def test_a_discard_without_the_form_s_token_is_refused(client, db_session, house, landlord):
    root, _tenant = begin_move_in(client, house)
    assert client.post(root + "/discard", data={}).status_code == 400
    assert len(drafts_of(db_session, landlord)) == 1


def test_a_draft_older_than_a_week_is_not_listed_and_is_purged(client, db_session, house, landlord):
    root, _tenant = begin_move_in(client, house)
    key = drafts_of(db_session, landlord)[0].key
    db_session.execute(Draft.__table__.update().where(Draft.key == key)
                       .values(updated_at=utcnow() - timedelta(days=drafts.KEEP_DAYS, minutes=1)))
    db_session.commit()
    assert cards(parse(client.get("/landlord/"))) == []
    offered = client.get(f"/landlord/houses/{house.id}/move-in")
    assert offered.status_code == 302, text_of(parse(offered).find("main"))  # nothing to offer
    assert drafts.purge_old(db_session) >= 1
    assert db_session.scalar(select(func.count()).select_from(Draft).where(Draft.key == key)) == 0


def test_the_same_address_chosen_again_resumes_the_house_registration(client, db_session, district, landlord):
    code = district.addresses[1].code
    use = location(client.get(f"/landlord/houses/new?address={code}"))
    assert use.endswith("/use")
    root = use.rsplit("/", 1)[0]
    assert location(client.submit(use, {"use": "whole_rental"})) == root + "/capacity"
    assert location(client.get(f"/landlord/houses/new?address={code}")) == root + "/capacity"
    assert len(drafts_of(db_session, landlord)) == 1
    listed = cards(parse(client.get("/landlord/")))
    assert len(listed) == 1 and "House registration" in text_of(listed[0])


def test_a_correction_begun_earlier_is_resumed_not_started_again(client, db_session, house, landlord):
    move_in = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="张三")])
    page_url = f"/landlord/submissions/{move_in.id}"
    page = parse(client.get(page_url))
    first = location(post_form(client, page, page_url, action="/correct"))
    second = location(post_form(client, page, page_url, action="/correct"))  # tapped again, or from home
    assert first == second and first.endswith("/check")
    assert len(drafts_of(db_session, landlord)) == 1
    listed = cards(parse(client.get("/landlord/")))
    assert len(listed) == 1 and "Correction of a move-in" in text_of(listed[0])
