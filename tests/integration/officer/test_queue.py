"""The verification queue: oldest first, filters, keyset pagination; the audited full-ID reveal."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from portal.models import AuditEvent, Submission, Tenancy
from portal.models.base import utcnow
from portal.services import identity, queue, reporting
from tests import factories
from tests.browser import parse
from tests.factories import english, post_form, text_of


def rows(page) -> list[int]:
    return [int(a["href"].rsplit("/", 1)[1]) for a in page.select("table.queue tbody tr td.queue-when a")]


def next_link(page) -> str | None:
    link = page.find("a", string=lambda s: s and s.strip() == "Next page")
    return link["href"] if link else None


def stamp(session, sub, when) -> None:
    session.execute(update(Submission).where(Submission.id == sub.id).values(submitted_at=when))
    session.commit()


@pytest.fixture
def officer_en(officer_client):
    return english(officer_client)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=200).house


def test_oldest_first(officer_en, db_session, landlord, house):
    registration = db_session.scalars(select(Submission)).one()
    subs = [factories.make_move_in(db_session, landlord, house.id, [factories.occupant()]) for _ in range(3)]
    now = utcnow()
    # Filed in one order, dated in another: the queue follows the dates.
    for sub, age in zip([registration, *subs], [2, 4, 1, 3], strict=True):
        stamp(db_session, sub, now - timedelta(hours=age))
    expected = [subs[0].id, subs[2].id, registration.id, subs[1].id]
    assert rows(parse(officer_en.get("/officer/queue"))) == expected


def test_filters_by_kind_beat_flagged_and_late(officer_en, db_session, district, landlord, house):
    beat1 = factories.make_address(db_session, district.beats[1], road="建设路", door_no="7号", community="",
                                   building="1栋", unit="1单元", room="201")
    db_session.commit()
    registration = db_session.scalars(select(Submission)).one()
    other_house = factories.make_house(db_session, landlord, beat1, max_occupants=1)
    plain = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    late = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                  move_in_date=(reporting.local_today() - timedelta(days=10)).isoformat())
    crowded = factories.make_move_in(db_session, landlord, other_house.house_id,
                                     [factories.occupant(), factories.occupant()])
    assert (plain.flagged, late.flagged, late.late) == (False, True, True)
    assert (crowded.flagged, crowded.late) == (True, False)

    def ids(query):
        return set(rows(parse(officer_en.get(f"/officer/queue{query}"))))

    everything = {registration.id, other_house.id, plain.id, late.id, crowded.id}
    assert ids("") == everything
    assert ids("?kind=move_in") == {plain.id, late.id, crowded.id}
    assert ids("?kind=house_registration") == {registration.id, other_house.id}
    assert ids("?kind=move_out") == set()
    assert ids(f"?beat={district.beats[1].id}") == {other_house.id, crowded.id}
    assert ids(f"?beat={district.beats[0].id}") == {registration.id, plain.id, late.id}
    assert ids("?flagged=y") == {late.id, crowded.id}
    assert ids("?late=y") == {late.id}
    assert ids(f"?flagged=y&beat={district.beats[1].id}") == {crowded.id}
    assert ids("?late=y&kind=house_registration") == set()


def test_keyset_pagination_repeats_and_skips_nothing(officer_en, db_session, landlord, house):
    registration = db_session.scalars(select(Submission)).one()
    subs = [registration] + [factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
                             for _ in range(queue.PAGE_SIZE + 6)]
    # Several items share a timestamp: the id breaks the tie, so none is lost at a page boundary.
    base = utcnow() - timedelta(days=1)
    for i, sub in enumerate(reversed(subs)):
        stamp(db_session, sub, base + timedelta(seconds=i // 4, microseconds=(i % 4 == 3) * 123457))
    db_session.expire_all()
    stored = db_session.scalars(select(Submission)).all()
    expected = [s.id for s in sorted(stored, key=lambda s: (s.submitted_at, s.id))]
    assert len(expected) == queue.PAGE_SIZE + 7

    seen, pages, url = [], [], "/officer/queue"
    while url is not None:
        page = parse(officer_en.get(url))
        pages.append(rows(page))
        seen += pages[-1]
        url = next_link(page)
        assert len(pages) < 10
    assert [len(p) for p in pages] == [queue.PAGE_SIZE, 7]
    assert seen == expected
    assert text_of(parse(officer_en.get("/officer/queue")).find(id="open-count")) == str(len(expected))


def test_the_next_page_keeps_the_filters(officer_en, db_session, landlord, house):
    subs = [factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
            for _ in range(queue.PAGE_SIZE + 2)]
    first = parse(officer_en.get("/officer/queue?kind=move_in"))
    link = next_link(first)
    assert parse_qs(urlsplit(link).query)["kind"] == ["move_in"]
    second = parse(officer_en.get(link))
    assert rows(first) + rows(second) == [s.id for s in subs]
    assert next_link(second) is None


def test_a_broken_cursor_starts_from_the_beginning(officer_en, db_session, landlord, house):
    ids = rows(parse(officer_en.get("/officer/queue")))
    assert rows(parse(officer_en.get("/officer/queue?after=nonsense"))) == ids
    assert rows(parse(officer_en.get("/officer/queue?after=1e400_1"))) == ids


# --- the item page and the audited reveal ------------------------------------------------------------

@pytest.fixture
def move_in(db_session, landlord, house):
    people = [factories.occupant(name="李四", birth="19880215"),
              factories.occupant(name="王芳", birth="19920704")]
    return factories.make_move_in(db_session, landlord, house.id, people)


def reveals(session):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == "id.reveal")).all()


def test_the_item_page_shows_only_masked_numbers(officer_en, db_session, move_in):
    page = parse(officer_en.get(f"/officer/items/{move_in.id}"))
    people = page.select("ol.people > li")
    assert len(people) == 2
    for li, person in zip(people, move_in.payload["occupants"], strict=True):
        text = text_of(li)
        assert person["name"] in text
        assert identity.mask_id(person["id_number"]) in text
        assert person["id_number"] not in text
    assert not any(p["id_number"] in text_of(page) for p in move_in.payload["occupants"])
    assert reveals(db_session) == []


def test_the_reveal_shows_the_full_number_and_is_audited(officer_en, db_session, officer, move_in):
    url = f"/officer/items/{move_in.id}"
    second = move_in.payload["occupants"][1]
    page = parse(officer_en.get(url))
    forms = page.find_all("form", action=f"{url}/reveal")
    assert [f.find("input", attrs={"name": "person"})["value"] for f in forms] == ["0", "1"]
    response = post_form(officer_en, page, url, "/reveal", data={"person": "1"})
    assert response.status_code == 200
    shown = parse(response)
    people = [text_of(li) for li in shown.select("ol.people > li")]
    assert second["id_number"] in people[1]
    first = move_in.payload["occupants"][0]
    assert first["id_number"] not in people[0] and identity.mask_id(first["id_number"]) in people[0]
    events = reveals(db_session)
    assert [(e.actor_id, e.object_type, e.object_id, e.detail, e.outcome) for e in events] == [
        (officer.id, "submission", str(move_in.id), "person=1", "success")]
    # The next view is masked again: a reveal is for one look, and each look is recorded.
    again = parse(officer_en.get(url))
    assert second["id_number"] not in text_of(again)


def test_a_reveal_of_nobody_is_404_and_not_recorded(officer_en, db_session, move_in):
    url = f"/officer/items/{move_in.id}"
    page = parse(officer_en.get(url))
    assert post_form(officer_en, page, url, "/reveal", data={"person": "2"}).status_code == 404
    assert post_form(officer_en, page, url, "/reveal", data={"person": "-1"}).status_code == 404
    assert reveals(db_session) == []


def test_the_reveal_needs_the_confirm_field_and_a_csrf_token(officer_en, db_session, move_in):
    url = f"/officer/items/{move_in.id}"
    page = parse(officer_en.get(url))
    assert post_form(officer_en, page, url, "/reveal", data={"confirm": ""}).status_code == 400
    forged = post_form(officer_en, page, url, "/reveal", data={"csrf_token": "forged"})
    assert forged.status_code in (400, 403)
    assert reveals(db_session) == []


def test_a_move_out_item_reveals_its_one_person(officer_en, db_session, landlord, officer, move_in):
    factories.decide(db_session, move_in, officer, "confirmed")
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == move_in.id)
                                 .order_by(Tenancy.id)).first()
    out = factories.make_move_out(db_session, landlord, tenancy.id)
    url = f"/officer/items/{out.id}"
    page = parse(officer_en.get(url))
    number = move_in.payload["occupants"][0]["id_number"]
    assert number not in text_of(page) and identity.mask_id(number) in text_of(page.find("main"))
    shown = parse(post_form(officer_en, page, url, "/reveal"))
    assert number in text_of(shown.find("main"))
    assert [e.detail for e in reveals(db_session)] == ["person=0"]


def test_a_unit_registration_reveals_its_legal_representative(officer_en, db_session, district):
    employer = factories.make_user(db_session, role="employer")
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    number = sub.payload["legal_rep_id_number"]
    url = f"/officer/items/{sub.id}"
    page = parse(officer_en.get(url))
    assert number not in text_of(page) and identity.mask_id(number) in text_of(page.find("main"))
    shown = parse(post_form(officer_en, page, url, "/reveal"))
    assert number in text_of(shown.find("main"))
    assert [e.detail for e in reveals(db_session)] == ["person=0"]
