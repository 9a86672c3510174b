"""A landlord never reaches another landlord's houses, tenancies, submissions, receipts or drafts:
a 404 that does not tell them apart from nothing, and the database unchanged. The public receipt page
says only that a report exists."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Decision, Draft, Submission, Tenancy
from portal.services import identity, receipts
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, text_of


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


TENANT = "欧阳明月"


@pytest.fixture
def a_world(db_session, district, landlord, landlord_client):
    """Landlord A: a house, a pending move-in of TENANT, a rejected house registration, and a move-in
    draft half filled in on A's phone."""
    english(landlord_client)
    reg = factories.make_house(db_session, landlord, district.addresses[0])
    tenant = factories.occupant(name=TENANT, phone="13912345678")
    move_in = factories.make_move_in(db_session, landlord, reg.house_id, [tenant])
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == move_in.id)).one()
    person0 = location(landlord_client.get(f"/landlord/houses/{reg.house_id}/move-in"))
    other = factories.occupant(name="诸葛草庐")
    location(landlord_client.submit(person0, {"id_type": "resident_id", "id_number": other["id_number"],
                                              "name": "诸葛草庐", "relation": "main_tenant"}))
    house_draft = location(landlord_client.get(f"/landlord/houses/new?address={district.addresses[1].code}"))
    return {"house": reg.house, "registration": reg, "move_in": move_in, "tenancy": tenancy, "tenant": tenant,
            "draft_root": person0.rsplit("/person/", 1)[0], "house_draft_root": house_draft.rsplit("/", 1)[0],
            "draft_person": other}


@pytest.fixture
def landlord_b(app, db_session):
    b = factories.make_user(db_session, role="landlord", name="乙房东")
    c = FormClient(app.test_client())
    c.sign_in(b.phone, factories.PASSWORD)
    return english(c)


def _state(session) -> dict:
    session.expire_all()
    return {
        "submissions": sorted((s.id, s.status, s.version) for s in session.scalars(select(Submission))),
        "tenancies": sorted((t.id, t.status, t.move_out_date) for t in session.scalars(select(Tenancy))),
        "decisions": session.scalar(select(func.count()).select_from(Decision)),
        "drafts": sorted((d.key, d.owner_id, str(d.data)) for d in session.scalars(select(Draft))),
    }


def test_landlord_b_gets_404_for_each_of_a_s_pages(landlord_b, db_session, a_world):
    w = a_world
    urls = [
        f"/landlord/houses/{w['house'].id}",
        f"/landlord/houses/{w['house'].id}/move-in",
        f"/landlord/tenancies/{w['tenancy'].id}/move-out",
        f"/landlord/submissions/{w['move_in'].id}",
        f"/landlord/submissions/{w['move_in'].id}/receipt",
        f"/landlord/submissions/{w['registration'].id}",
        f"/landlord/submissions/{w['registration'].id}/receipt",
    ]
    before = _state(db_session)
    for url in urls:
        assert landlord_b.get(url).status_code == 404, url
    # Not one that exists, not one that does not: the same answer.
    assert landlord_b.get("/landlord/submissions/999999").status_code == 404
    assert _state(db_session) == before


def test_landlord_b_cannot_post_to_a_s_objects(landlord_b, db_session, a_world):
    w = a_world
    token = factories.csrf_token(landlord_b)
    before = _state(db_session)
    posts = [
        (f"/landlord/submissions/{w['move_in'].id}/withdraw", {}),
        (f"/landlord/submissions/{w['move_in'].id}/correct", {}),
        (f"/landlord/submissions/{w['registration'].id}/correct", {}),
        (f"/landlord/tenancies/{w['tenancy'].id}/move-out",
         {"move_out_date": "2024-01-01", "form_key": "x" * 43}),
    ]
    for url, data in posts:
        assert landlord_b.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert _state(db_session) == before


def test_b_s_lists_show_nothing_of_a(landlord_b, db_session, a_world):
    for url in ("/landlord/", "/landlord/submissions"):
        main = text_of(parse(landlord_b.get(url)).find("main"))
        assert a_world["house"].address.text not in main
        assert a_world["move_in"].receipt not in main.replace("-", "")


DRAFT_STEPS = ["/person/0", "/person/1", "/another", "/dates", "/check", "", "/discard"]


@pytest.mark.parametrize("step", DRAFT_STEPS)
def test_a_s_move_in_draft_is_a_404_for_b_like_one_that_does_not_exist(landlord_b, db_session, a_world, step):
    before = _state(db_session)
    response = landlord_b.get(a_world["draft_root"] + step)
    assert response.status_code == 404
    page = text_of(parse(response).find("main"))
    assert "诸葛草庐" not in page and a_world["draft_person"]["id_number"][-4:] not in page
    nowhere = landlord_b.get("/landlord/drafts/" + "n" * 43 + step)
    assert nowhere.status_code == 404
    assert text_of(parse(nowhere).find("main")) == page  # the same answer: nothing tells them apart
    home = text_of(parse(landlord_b.get("/landlord/")).find("main"))
    assert "诸葛草庐" not in home and a_world["draft_person"]["id_number"][-4:] not in home
    assert _state(db_session) == before


@pytest.mark.parametrize("step", ["/use", "/capacity", "/house-check", "", "/discard"])
def test_a_s_house_draft_is_a_404_for_b(landlord_b, db_session, a_world, step):
    assert landlord_b.get(a_world["house_draft_root"] + step).status_code == 404


def test_b_cannot_send_change_or_discard_a_s_draft(landlord_b, landlord_client, db_session, a_world):
    token = factories.csrf_token(landlord_b)
    root, key = a_world["draft_root"], a_world["draft_root"].rsplit("/", 1)[1]
    house_root = a_world["house_draft_root"]
    before = _state(db_session)
    posts = [
        (root + "/check", {"form_key": key}),
        (root + "/person/0", {"id_type": "resident_id", "id_number": factories.resident_id(), "name": "冒名",
                              "relation": "main_tenant"}),
        (root + "/person/0/remove", {}),
        (root + "/dates", {"move_in_date": "2024-01-01"}),
        (root + "/discard", {}),
        (house_root + "/house-check", {"form_key": house_root.rsplit("/", 1)[1]}),
        (house_root + "/use", {"use": "vacant"}),
        (house_root + "/discard", {}),
    ]
    for url, data in posts:
        response = landlord_b.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 404, url
    assert _state(db_session) == before
    # A's draft is untouched: A carries on where they were.
    page = parse(landlord_client.get(root + "/person/0"))
    assert factories.field_value(page, "name") == "诸葛草庐"


# --- the public receipt page -------------------------------------------------------------------------

@pytest.fixture
def anonymous(app, db_session):
    return english(FormClient(app.test_client()))


def test_the_public_receipt_works_for_anyone_and_shows_no_personal_data(anonymous, landlord_b, officer_client,
                                                                        db_session, landlord, a_world):
    sub = a_world["move_in"]
    tenant = a_world["tenant"]
    number = sub.receipt
    for c in (anonymous, landlord_b, english(officer_client)):
        for typed in (number, receipts.display(number), receipts.display(number).lower()):
            response = c.get(f"/r/{typed}")
            assert response.status_code == 200, (typed, response.status_code)
            page = parse(response)
            assert text_of(page.find("h1")) == receipts.display(number)
            # What is left once the receipt number and the filing time are taken out (their digits
            # could meet an ID's by chance) must hold nothing about a person.
            page.find("h1").decompose()
            filed = next(dt for dt in page.select("dl.summary-list dt") if text_of(dt) == "Filed")
            filed.find_next("dd").decompose()
            text = text_of(page.find("main"))
            assert TENANT not in text
            assert tenant["id_number"] not in text
            assert identity.mask_id(tenant["id_number"]) not in text
            assert tenant["id_number"][-4:] not in text and tenant["id_number"][:6] not in text
            assert "13912345678" not in text and tenant["phone"][-4:] not in text
            assert landlord.name not in text and landlord.phone not in text
            assert landlord.id_number[-4:] not in text
            # The address is masked: the road, not the building or room.
            address = a_world["house"].address
            assert address.road in text and address.room not in text and address.building not in text
    # Looking it up is not a landlord action: nothing is written.
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == str(sub.id), AuditEvent.action != "submission.create")) == 0


def test_a_mistyped_or_unknown_receipt_is_404(anonymous, db_session, a_world):
    number = a_world["move_in"].receipt
    wrong_check = number[:-1] + next(c for c in receipts.ALPHABET if c != number[-1])
    assert anonymous.get(f"/r/{wrong_check}").status_code == 404
    assert anonymous.get("/r/not-a-receipt").status_code == 404


def test_the_reports_list_pages_through_older_reports(landlord_client, db_session, landlord, district):
    from portal.models import Submission
    from portal.services import reporting
    from tests.browser import parse

    address = district.addresses[0]
    filed = reporting.register_house(db_session, landlord, address_code=address.code, use="vacant",
                                     max_occupants=1, certificate_no=None, actor=factories.as_actor(landlord))
    for _ in range(54):  # withdraw and register again: 55 reports of one house
        reporting.withdraw(db_session, landlord, filed.submission.id, factories.as_actor(landlord))
        filed = reporting.register_house(db_session, landlord, address_code=address.code, use="vacant",
                                         max_occupants=1, certificate_no=None, actor=factories.as_actor(landlord))
    db_session.commit()
    first = parse(landlord_client.get("/landlord/submissions"))
    seen = [a["href"] for a in first.select("ul.submission-list a")]
    older = first.find("a", string=lambda t: t and t.strip() in ("Older reports", "更早的申报"))
    assert len(seen) == 50 and older is not None
    second = parse(landlord_client.get(older["href"]))
    seen += [a["href"] for a in second.select("ul.submission-list a")]
    total = db_session.query(Submission).filter(Submission.reporter_id == landlord.id).count()
    assert len(seen) == len(set(seen)) == total == 55
