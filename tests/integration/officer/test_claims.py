"""Two claims on one place (issue 15, item 2): a room registered by two landlords, a USCC by two employers.

Both claims are flagged, each naming the other; both officers' items show the other claim, linked; the
officer settles it by confirming one and rejecting the other (review.transition), after which the register
shows one owner and the surviving claim's flag is marked resolved (flags.py holds every rule)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import House, RecordStatus, Submission, SubmissionKind, Unit
from portal.services import review
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, post_form, text_of
from tests.integration.api.conftest import ApiClient, new_token
from tests.integration.officer.conftest import signed_in

ROOM = 0  # district.addresses[0]: a room of station 1, beat 1


@pytest.fixture
def claims(db_session, district, owner_a, owner_b):
    """A's registration of the room, then B's: (A's submission, B's submission)."""
    first = factories.make_house(db_session, owner_a, district.addresses[ROOM])
    second = factories.make_house(db_session, owner_b, district.addresses[ROOM])
    db_session.expire_all()
    return first, second


def decide_on_page(client, sub, **data):
    url = f"/officer/items/{sub.id}"
    return post_form(client, parse(client.get(url)), url, "/decide", data=data)


def test_both_claims_are_flagged_each_naming_the_other(db_session, claims):
    first, second = claims
    assert second.flags == [{"code": "claimed_by_another", "house_id": first.house_id}] and second.flagged
    assert first.flags == [{"code": "claimed_by_another", "house_id": second.house_id}] and first.flagged
    # The version of A's item is unchanged: an officer's open page of it still decides it.
    assert first.version == 1


def test_a_third_claim_flags_both_others_and_is_flagged_twice(db_session, district, claims):
    first, second = claims
    owner_c = factories.make_user(db_session, role="landlord")
    third = factories.make_house(db_session, owner_c, district.addresses[ROOM])
    db_session.expire_all()
    assert [f["house_id"] for f in third.flags] == [first.house_id, second.house_id]
    assert [f["house_id"] for f in first.flags] == [second.house_id, third.house_id]
    assert [f["house_id"] for f in second.flags] == [first.house_id, third.house_id]


def test_the_same_reporter_or_another_room_is_no_claim(db_session, district, owner_a):
    first = factories.make_house(db_session, owner_a, district.addresses[ROOM])
    other_room = factories.make_house(db_session, owner_a, district.addresses[1])
    assert first.flags == [] and other_room.flags == [] and not first.flagged


def test_a_refused_or_withdrawn_house_is_no_claim(db_session, district, officer, owner_a, owner_b):
    first = factories.make_house(db_session, owner_a, district.addresses[ROOM])
    factories.decide(db_session, first, officer, "rejected", reason_code="wrong_address")
    second = factories.make_house(db_session, owner_b, district.addresses[ROOM])
    assert second.flags == []


def test_both_items_show_the_other_claim_linked(officer_en, claims, owner_a, owner_b):
    first, second = claims
    for mine, other, other_owner in ((first, second, owner_b), (second, first, owner_a)):
        page = parse(officer_en.get(f"/officer/items/{mine.id}"))
        section = page.select_one("#claims")
        assert section is not None and "notice-error" in section["class"]
        rows = section.select("li.claim")
        assert len(rows) == 1 and rows[0]["data-standing"] == "yes"
        assert rows[0].select_one("a.claim-item")["href"].endswith(f"/officer/items/{other.id}")
        assert rows[0].select_one("a.claim-record")["href"].endswith(f"/officer/register/houses/{other.house_id}")
        assert other_owner.name not in text_of(rows[0])  # masked, as in every list
        flag = page.select_one("li.flag-claimed_by_another")
        assert flag is not None and "settled" not in text_of(flag)
        assert officer_en.get(rows[0].select_one("a.claim-item")["href"]).status_code == 200


def test_another_stations_officer_gets_404_on_both_claims(app, db_session, district, claims):
    first, second = claims
    outsider = signed_in(app, factories.make_user(db_session, role="officer", station=district.stations[1]))
    for sub in claims:
        assert outsider.get(f"/officer/items/{sub.id}").status_code == 404
        assert outsider.get(f"/officer/register/houses/{sub.house_id}").status_code == 404
    response = outsider.post(f"/officer/items/{second.id}/decide", data={"action": "rejected"})
    assert response.status_code in (400, 404)
    db_session.expire_all()
    assert second.status == "pending"


def test_the_register_tags_the_room_and_lists_both_claims(officer_en, db_session, district, claims):
    first, second = claims
    room = parse(officer_en.get(f"/officer/register/buildings/{district.addresses[ROOM].id}")).select_one(
        f"li.room[data-address='{district.addresses[ROOM].code}']")
    assert len(room.select(".house-cell")) == 2 and room.select_one(".claimed-by-another") is not None
    house_page = parse(officer_en.get(f"/officer/register/houses/{first.house_id}"))
    assert [li["data-standing"] for li in house_page.select("#claims li.claim")] == ["yes"]


def test_rejecting_one_claim_settles_it_and_the_register_shows_one_owner(officer_en, db_session, district,
                                                                          claims, owner_a, officer):
    from portal.services import anomalies

    first, second = claims
    assert anomalies.counts(db_session, officer, cap=None)["conflicting-claims"] == 1
    response = decide_on_page(officer_en, second, action="rejected", reason_code="not_the_owner")
    assert response.status_code == 302, text_of(parse(response).select_one(".error-summary"))
    db_session.expire_all()
    assert first.flags == [{"code": "claimed_by_another", "house_id": second.house_id, "resolved": True}]
    assert not first.flagged  # nothing left to look at: it may be confirmed with the clean items now
    assert second.flags == [{"code": "claimed_by_another", "house_id": first.house_id}]  # as it was decided
    assert anomalies.counts(db_session, officer, cap=None)["conflicting-claims"] == 0
    tag = parse(officer_en.get("/officer/queue")).select_one("td.queue-flags .tag")
    assert "settled" in text_of(tag) and "tag-warn" not in tag["class"]
    assert decide_on_page(officer_en, first, action="confirmed").status_code == 302
    db_session.expire_all()
    assert db_session.get(House, first.house_id).status == RecordStatus.verified
    room = parse(officer_en.get(f"/officer/register/buildings/{district.addresses[ROOM].id}")).select_one(
        f"li.room[data-address='{district.addresses[ROOM].code}']")
    cells = room.select(".house-cell")
    assert len(cells) == 1 and owner_a.name[0] in text_of(cells[0]) and room.select_one(".claimed-by-another") is None
    page = parse(officer_en.get(f"/officer/items/{first.id}"))
    assert "settled" in text_of(page.select_one("li.flag-claimed_by_another"))
    section = page.select_one("#claims")
    assert "notice-error" not in section["class"] and section.select_one("li.claim")["data-standing"] == "no"


def test_confirming_a_claim_while_the_other_is_confirmed_is_refused(officer_en, db_session, claims):
    first, second = claims
    assert decide_on_page(officer_en, first, action="confirmed").status_code == 302  # the other only waits
    response = decide_on_page(officer_en, second, action="confirmed")
    assert response.status_code == 400
    summary = text_of(parse(response).select_one(".error-summary"))
    assert "Another reporter's house at this address is confirmed already" in summary
    db_session.expire_all()
    assert second.status == "pending" and db_session.get(House, second.house_id).status == RecordStatus.pending
    assert decide_on_page(officer_en, second, action="rejected", reason_code="not_the_owner").status_code == 302
    db_session.expire_all()
    assert first.flags[0].get("resolved") is True


def test_the_refusal_is_in_chinese_too(app, db_session, officer, claims):
    first, second = claims
    factories.decide(db_session, first, officer, "confirmed")
    client = FormClient(app.test_client())
    client.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret)
    response = decide_on_page(client, second, action="confirmed")
    assert response.status_code == 400
    summary = text_of(parse(response).select_one(".error-summary"))
    assert "Another" not in summary and "已" in summary


def test_a_withdrawn_claim_settles_the_other(db_session, officer, claims, owner_b):
    first, second = claims
    review.transition(db_session, second, "withdrawn", owner_b, factories.as_actor(owner_b))
    db_session.commit()
    db_session.expire_all()
    assert first.flags[0]["resolved"] is True and not first.flagged


def test_a_corrected_claim_stays_flagged_and_flags_the_other_once(db_session, claims, owner_b):
    from portal.services import reporting

    first, second = claims
    corrected = reporting.correct_house(db_session, owner_b, second.id, use="vacant", max_occupants=1,
                                        certificate_no=None, actor=factories.as_actor(owner_b)).submission
    db_session.commit()
    db_session.expire_all()
    assert corrected.flags == [{"code": "claimed_by_another", "house_id": first.house_id}]
    assert first.flags == [{"code": "claimed_by_another", "house_id": second.house_id}]


def test_the_queues_bulk_confirmation_leaves_both_claims(officer_en, db_session, officer, claims):
    from portal.services import queue

    page = parse(officer_en.get("/officer/queue"))
    offered = {b["value"].split(":")[0] for b in page.select("input[name=item]")}
    assert not offered & {str(s.id) for s in claims}  # flagged: not offered for confirming at once
    done = queue.confirm_selected(db_session, officer, [(s.id, s.version) for s in claims],
                                  factories.as_actor(officer))
    assert done.confirmed == 0 and done.not_clean == 2


def test_the_reporters_see_the_flag_about_the_address_and_nothing_of_the_other(app, db_session, claims, owner_a,
                                                                              owner_b, officer):
    first, second = claims
    api_a = ApiClient(app.test_client(), new_token(db_session, owner_a))
    body = api_a.get(f"/api/v1/submissions/{first.id}").get_json()
    assert [(f["code"], f["person"]) for f in body["flags"]] == [("claimed_by_another", None)]
    assert "house_id" not in str(body["flags"]) and owner_b.name not in str(body)
    factories.decide(db_session, second, officer, "rejected", reason_code="not_the_owner")
    assert api_a.get(f"/api/v1/submissions/{first.id}").get_json()["flags"] == []  # settled: no flag for A


# --- one USCC registered by two employers ----------------------------------------------------------------

@pytest.fixture
def employers(db_session):
    return (factories.make_user(db_session, role="employer", name="甲老板"),
            factories.make_user(db_session, role="employer", name="乙老板"))


@pytest.fixture
def unit_claims(db_session, district, employers):
    code = factories.uscc()
    first = factories.make_unit(db_session, employers[0], district.addresses[ROOM], uscc=code)
    second = factories.make_unit(db_session, employers[1], district.addresses[ROOM], uscc=code, name="另一家公司")
    db_session.expire_all()
    return first, second


def test_one_uscc_by_two_employers_is_flagged_on_both(db_session, unit_claims):
    first, second = unit_claims
    assert second.flags == [{"code": "uscc_claimed_by_another", "unit_id": first.unit_id}] and second.flagged
    assert first.flags == [{"code": "uscc_claimed_by_another", "unit_id": second.unit_id}] and first.flagged


def test_the_employer_is_told_on_the_check_page_and_by_the_api(app, db_session, district, unit_claims, employers):
    first, _ = unit_claims
    code = db_session.get(Unit, first.unit_id).uscc
    third = factories.make_user(db_session, role="employer")
    api = ApiClient(app.test_client(), new_token(db_session, third))
    answer = api.post("/api/v1/units", json=factories.unit_fields(district.addresses[1], uscc=code))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    # Two others hold the code: one flag for the reporter all the same (how many is for the officer).
    assert [f["code"] for f in answer.get_json()["flags"]] == ["uscc_claimed_by_another"]
    assert employers[0].name not in answer.get_data(as_text=True)
    # The check page of a fourth employer's journey says so, without anything of the others.
    fourth = factories.make_user(db_session, role="employer")
    client = english(FormClient(app.test_client()))
    client.sign_in(fourth.phone, factories.PASSWORD)
    from portal.services import drafts

    draft = drafts.start(db_session, fourth, "unit", {**factories.unit_fields(district.addresses[1], uscc=code),
                                                      "address": district.addresses[1].text})
    db_session.commit()
    page = parse(client.get(f"/employer/drafts/{draft.key}/unit-check"))
    notice = page.select_one("#claimed-by-another")
    assert notice is not None and "police will check" in text_of(notice)
    assert employers[0].name not in text_of(page) and employers[1].name not in text_of(page)


def test_unit_claims_are_linked_settled_and_never_both_confirmed(officer_en, db_session, unit_claims):
    first, second = unit_claims
    page = parse(officer_en.get(f"/officer/items/{second.id}"))
    row = page.select_one("#claims li.claim")
    assert row.select_one("a.claim-item")["href"].endswith(f"/officer/items/{first.id}")
    assert row.select_one("a.claim-record")["href"].endswith(f"/officer/register/units/{first.unit_id}")
    assert decide_on_page(officer_en, first, action="confirmed").status_code == 302
    refused = decide_on_page(officer_en, second, action="confirmed")
    assert refused.status_code == 400 and "credit code is confirmed already" in text_of(
        parse(refused).select_one(".error-summary"))
    assert decide_on_page(officer_en, second, action="rejected", reason_code="not_the_owner").status_code == 302
    db_session.expire_all()
    assert first.flags == [{"code": "uscc_claimed_by_another", "unit_id": second.unit_id, "resolved": True}]
    unit_page = parse(officer_en.get(f"/officer/register/units/{first.unit_id}"))
    assert [li["data-standing"] for li in unit_page.select("#claims li.claim")] == ["no"]


def test_another_stations_officer_gets_404_on_the_unit_claims(app, db_session, district, unit_claims):
    outsider = signed_in(app, factories.make_user(db_session, role="officer", station=district.stations[1]))
    for sub in unit_claims:
        assert outsider.get(f"/officer/items/{sub.id}").status_code == 404
        assert outsider.get(f"/officer/register/units/{sub.unit_id}").status_code == 404


def test_the_existing_flag_for_one_person_in_two_houses_stays(db_session, district, claims, owner_a, owner_b):
    first, second = claims
    person = factories.occupant()
    factories.make_move_in(db_session, owner_a, first.house_id, [person])
    again = factories.make_move_in(db_session, owner_b, second.house_id, [person])
    assert [f["code"] for f in again.flags] == ["other_tenancy"]
    assert db_session.scalar(select(Submission.kind).where(Submission.id == again.id)) == SubmissionKind.move_in
