"""A double click, a retried POST or the back button never creates a second submission."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import House, Submission, SubmissionKind, Tenancy
from portal.services import reporting
from portal.services.errors import ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import post_form


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count(session, kind=None) -> int:
    query = select(func.count()).select_from(Submission)
    if kind is not None:
        query = query.where(Submission.kind == kind)
    return session.scalar(query)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0]).house


def move_in_check_page(client, house) -> str:
    person0 = location(client.get(f"/landlord/houses/{house.id}/move-in"))
    p = factories.occupant(name="李四")
    another = location(client.submit(person0, {"id_type": "resident_id", "id_number": p["id_number"],
                                                "name": "李四", "relation": "main_tenant"}))
    dates = location(client.submit(another, {"another": "no"}))
    return location(client.submit(dates, {"move_in_date": reporting.local_today().isoformat()}))


def test_the_move_in_check_form_posted_twice_gives_one_submission(landlord_client, db_session, house):
    check = move_in_check_page(landlord_client, house)
    page = parse(landlord_client.get(check))  # the same page, sent twice (a double click, a retry)
    first = location(post_form(landlord_client, page, check))
    second = location(post_form(landlord_client, page, check))
    assert first == second
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.move_in)).one()
    assert first == f"/landlord/submissions/{sub.id}/receipt"
    assert db_session.scalar(select(func.count()).select_from(Tenancy)) == 1
    assert landlord_client.get(second).status_code == 200


def test_back_to_the_check_page_after_sending_shows_the_receipt(landlord_client, db_session, house):
    check = move_in_check_page(landlord_client, house)
    receipt = location(landlord_client.submit(check, {}))
    assert location(landlord_client.get(check)) == receipt
    # Every page of the finished journey leads to the receipt, none starts it again.
    key_root = check.rsplit("/", 1)[0]
    for step in ("/person/0", "/another", "/dates"):
        assert location(landlord_client.get(key_root + step)) == receipt
    assert count(db_session, SubmissionKind.move_in) == 1


def test_the_house_check_form_posted_twice_gives_one_submission(landlord_client, db_session, district):
    use = location(landlord_client.get(f"/landlord/houses/new?address={district.addresses[1].code}"))
    capacity = location(landlord_client.submit(use, {"use": "whole_rental"}))
    check = location(landlord_client.submit(capacity, {"max_occupants": "2"}))
    page = parse(landlord_client.get(check))
    first = location(post_form(landlord_client, page, check))
    second = location(post_form(landlord_client, page, check))
    assert first == second and first.endswith("/receipt")
    assert count(db_session, SubmissionKind.house_registration) == 1
    assert db_session.scalar(select(func.count()).select_from(House)) == 1
    # The back button, then "send" again from the page the browser kept.
    assert location(landlord_client.get(check)) == first
    assert location(post_form(landlord_client, page, check)) == first
    assert count(db_session, SubmissionKind.house_registration) == 1


def test_the_move_out_form_posted_twice_gives_one_submission(landlord_client, db_session, house, landlord):
    day = reporting.local_today() - timedelta(days=1)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date=day.isoformat())
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id)).one()
    url = f"/landlord/tenancies/{tenancy.id}/move-out"
    page = parse(landlord_client.get(url))
    first = location(post_form(landlord_client, page, url, data={"move_out_date": day.isoformat()}))
    second = location(post_form(landlord_client, page, url, data={"move_out_date": day.isoformat()}))
    assert first == second and first.endswith("/receipt")
    assert count(db_session, SubmissionKind.move_out) == 1


def test_two_move_out_pages_each_get_their_own_key(landlord_client, db_session, house, landlord):
    """The key is issued with the page: two separate loads are two forms, and the second is refused
    because the move-out is already reported, not silently merged."""
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id)).one()
    url = f"/landlord/tenancies/{tenancy.id}/move-out"
    pages = [parse(landlord_client.get(url)) for _ in range(2)]
    keys = [p.find("input", attrs={"name": "form_key"})["value"] for p in pages]
    assert keys[0] and keys[0] != keys[1]
    day = {"move_out_date": reporting.local_today().isoformat()}
    assert location(post_form(landlord_client, pages[0], url, data=day)).endswith("/receipt")
    refused = post_form(landlord_client, pages[1], url, data=day)
    assert refused.status_code == 200
    assert factories.field_error(parse(refused), "move_out_date")
    assert count(db_session, SubmissionKind.move_out) == 1


# --- the same at the service level -----------------------------------------------------------------

def test_register_house_twice_with_one_form_key(db_session, district, landlord):
    args = {"address_code": district.addresses[0].code, "use": "vacant", "max_occupants": 0,
            "certificate_no": None, "actor": factories.as_actor(landlord), "form_key": "k" * 43}
    first = reporting.register_house(db_session, landlord, **args)
    second = reporting.register_house(db_session, landlord, **args)
    assert (first.created, second.created) == (True, False)
    assert second.submission.id == first.submission.id
    assert second.submission.receipt == first.submission.receipt
    assert count(db_session) == 1
    # Without the key the second is a new attempt, refused because the house exists.
    with pytest.raises(ValidationFailed) as failure:
        reporting.register_house(db_session, landlord, **{**args, "form_key": None})
    assert [e.code for e in failure.value.errors] == ["house_exists"]
    assert count(db_session) == 1


def test_report_move_in_twice_with_one_form_key(db_session, house, landlord):
    args = {"occupants": [factories.occupant(), factories.occupant()],
            "move_in_date": reporting.local_today().isoformat(), "actor": factories.as_actor(landlord),
            "deadline_days": 3, "form_key": "m" * 43}
    first = reporting.report_move_in(db_session, landlord, house.id, **args)
    second = reporting.report_move_in(db_session, landlord, house.id, **args)
    assert (first.created, second.created) == (True, False)
    assert second.submission.id == first.submission.id
    assert count(db_session, SubmissionKind.move_in) == 1
    assert db_session.scalar(select(func.count()).select_from(Tenancy)) == 2


def test_report_move_out_twice_with_one_form_key(db_session, house, landlord):
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id)).one()
    first = factories.make_move_out(db_session, landlord, tenancy.id, form_key="o" * 43)
    second = factories.make_move_out(db_session, landlord, tenancy.id, form_key="o" * 43)
    assert first.id == second.id
    assert count(db_session, SubmissionKind.move_out) == 1


def test_a_form_key_of_another_landlord_is_not_their_receipt(db_session, district, house, landlord):
    """The key finds only the same reporter's submission: another landlord's key gives them nothing."""
    factories.make_house(db_session, landlord, district.addresses[1], form_key="s" * 43)
    other = factories.make_user(db_session, role="landlord")
    assert reporting.filed_with_key(db_session, other, "s" * 43) is None
    assert reporting.filed_with_key(db_session, landlord, "s" * 43) is not None
