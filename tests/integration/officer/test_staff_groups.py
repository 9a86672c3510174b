"""Officers see the rows of one staff-list upload together and confirm its clean rows in one action."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from portal.models import (
    AuditEvent,
    Decision,
    Employment,
    RecordStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Unit,
)
from portal.services import review
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import text_of

S = SubmissionStatus


@pytest.fixture
def employer(db_session):
    return factories.make_user(db_session, role="employer")


@pytest.fixture
def case(db_session, district, employer):
    """A unit (registration still pending) in the first officer's station, and one upload of five rows:
    three clean, one of a person working at another unit, one with an unknown region code."""
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    elsewhere_owner = factories.make_user(db_session, role="employer")
    elsewhere = factories.make_unit(db_session, elsewhere_owner, district.addresses[1]).unit_id
    busy = factories.resident_id("19880808")
    factories.make_hire(db_session, elsewhere_owner, elsewhere, id_number=busy)
    rows = [factories.staff_row("甲一"), factories.staff_row("乙二"), factories.staff_row("丙三"),
            factories.staff_row("丁四", id_number=busy), factories.staff_row("戊五", region="990101")]
    imp = factories.make_staff_import(db_session, employer, unit_id, rows)
    subs = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id)
                              .order_by(Submission.id)).all()
    assert [s.payload["name"] for s in subs] == ["甲一", "乙二", "丙三", "丁四", "戊五"]
    assert [bool(s.flagged) for s in subs] == [False, False, False, True, True]
    return imp, subs, unit_id


def officer_client_for(app, user) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return factories.english(c)


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    return response.headers["Location"]


def test_a_hire_links_to_its_upload_which_lists_its_rows(officer_client, db_session, case):
    imp, subs, unit_id = case
    english = factories.english(officer_client)
    item = parse(english.get(f"/officer/items/{subs[0].id}"))
    link = item.select_one("#staff-upload a")
    assert link["href"] == f"/officer/uploads/{imp.id}"
    summary = text_of(item.select_one("dl.summary-list"))
    assert "甲一" in summary and "Row in the uploaded file 2" in summary and "Hire date 2024-03-05" in summary
    assert subs[0].payload["id_number"] not in item.get_text()  # masked until revealed

    page = parse(english.get(link["href"]))
    listed = [int(tr["data-submission"]) for tr in page.select("table.upload-rows tbody tr")]
    assert listed == [s.id for s in subs]
    assert "Confirm all 3 clean rows of this upload" in text_of(page.find("form", action=lambda a: a and
                                                                          a.endswith("/confirm-clean")))
    assert "2 rows have flags" in text_of(page.main)
    assert "The unit's own registration is not verified yet." in text_of(page.main)


def test_the_queue_can_show_the_rows_of_one_upload(officer_client, db_session, case, employer, district):
    imp, subs, unit_id = case
    factories.make_hire(db_session, employer, unit_id, name="单个雇员")  # not from the upload
    page = parse(factories.english(officer_client).get(f"/officer/queue?upload={imp.id}"))
    shown = [a["href"] for a in page.select("table.queue tbody td.queue-when a")]
    assert shown == [f"/officer/items/{s.id}" for s in subs]
    assert page.select_one("#upload-filter") is not None
    flagged = parse(officer_client.get(f"/officer/queue?upload={imp.id}&flagged=y"))
    assert [a["href"] for a in flagged.select("table.queue tbody td.queue-when a")] == \
        [f"/officer/items/{s.id}" for s in subs[3:]]


def test_confirm_all_clean_rows_confirms_only_the_unflagged_waiting_rows(officer_client, db_session, case,
                                                                         officer, employer):
    imp, subs, unit_id = case
    english = factories.english(officer_client)
    # One clean row is already sent for a site visit: it waits for the visit, not for the bulk action.
    factories.decide(db_session, subs[2], officer, "site_visit")
    other_upload_hire = factories.make_hire(db_session, employer, unit_id, name="别的")
    url = f"/officer/uploads/{imp.id}"
    page = parse(english.get(url))
    response = factories.post_form(english, page, url, action="/confirm-clean")
    assert location(response).endswith(url)
    notices = [text_of(n) for n in parse(english.get(url)).select(".notice")]
    assert "2 rows confirmed." in notices
    assert "2 rows with flags are left for you to decide one by one." in notices

    db_session.expire_all()
    assert [s.status for s in subs] == [S.confirmed, S.confirmed, S.site_visit, S.pending, S.pending]
    assert other_upload_hire.status == S.pending
    decisions = db_session.scalars(select(Decision).where(Decision.to_status == "confirmed")).all()
    assert sorted(d.submission_id for d in decisions) == [subs[0].id, subs[1].id]
    assert {d.actor_id for d in decisions} == {officer.id}
    # Effects, as for any confirmation: the employments are verified; the unit waits for its own decision.
    employments = {e.submission_id: e.status for e in db_session.scalars(select(Employment))}
    verified, pending = RecordStatus.verified, RecordStatus.pending
    assert [employments[s.id] for s in subs] == [verified, verified, pending, pending, pending]
    assert db_session.get(Unit, unit_id).status == RecordStatus.pending
    bulk = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "staff_import.confirm_clean"))
    assert (bulk.actor_id, bulk.object_id, bulk.detail) == (officer.id, str(imp.id),
                                                            "confirmed=2 conflicts=0 flagged_left=2")

    # Pressed again: nothing left to confirm, nothing changes.
    page = parse(english.get(url))
    assert page.select_one("#no-clean-rows") is not None
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    again = english.client.post(f"{url}/confirm-clean", data={"csrf_token": token})
    assert location(again).endswith(url)
    assert "0 rows confirmed." in [text_of(n) for n in parse(english.get(url)).select(".notice")]
    assert db_session.scalar(select(Decision).where(Decision.to_status == "confirmed")
                             .order_by(Decision.id.desc())).submission_id == subs[1].id


def test_flagged_rows_are_decided_one_by_one(officer_client, db_session, case, officer):
    imp, subs, unit_id = case
    factories.decide(db_session, subs[3], officer, "confirmed")
    db_session.expire_all()
    assert subs[3].status == S.confirmed
    assert db_session.scalar(select(Employment).where(Employment.submission_id == subs[3].id)).status == \
        RecordStatus.verified


def test_a_row_decided_by_someone_else_meanwhile_is_left_as_they_decided(app, db_session, case, officer,
                                                                         monkeypatch):
    """A second officer rejects a clean row after the bulk action has read it: that row is a conflict,
    the others are confirmed."""
    from portal.services import queue

    imp, subs, unit_id = case
    target = subs[1]
    real = review.transition
    calls = []

    def meanwhile(session, submission, *args, **kwargs):
        if not calls:  # before the first row of the batch: the other officer's decision commits
            session.execute(update(Submission).where(Submission.id == target.id)
                            .values(status=S.rejected, is_open=False, version=Submission.version + 1)
                            .execution_options(synchronize_session=False))
            session.commit()
        calls.append(submission.id)
        return real(session, submission, *args, **kwargs)

    monkeypatch.setattr(review, "transition", meanwhile)
    outcome = queue.confirm_clean(db_session, officer, imp.id, factories.as_actor(officer))
    assert (outcome.confirmed, outcome.conflicts, outcome.flagged_left) == (2, 1, 2)
    db_session.expire_all()
    assert [s.status for s in subs[:3]] == [S.confirmed, S.rejected, S.confirmed]
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.outcome == "conflict",
                                                      AuditEvent.object_id == str(target.id))) is not None


def test_another_stations_officer_gets_404_and_changes_nothing(app, db_session, district, case):
    imp, subs, unit_id = case
    stranger = factories.make_user(db_session, role="officer", station=district.stations[1])
    c = officer_client_for(app, stranger)
    assert c.get(f"/officer/uploads/{imp.id}").status_code == 404
    token = factories.csrf_token(c)
    response = c.client.post(f"/officer/uploads/{imp.id}/confirm-clean", data={"csrf_token": token})
    assert response.status_code == 404
    assert c.get(f"/officer/items/{subs[0].id}").status_code == 404
    rows = parse(c.get(f"/officer/queue?upload={imp.id}")).select("table.queue tbody tr")
    assert rows == []
    db_session.expire_all()
    assert {s.status for s in subs} == {S.pending}


def test_a_beat_officer_of_another_beat_gets_404(app, db_session, district, case):
    imp, subs, unit_id = case
    neighbour = factories.make_user(db_session, role="officer", beat=district.beats[1])  # same station
    assert officer_client_for(app, neighbour).get(f"/officer/uploads/{imp.id}").status_code == 404
    own = factories.make_user(db_session, role="officer", beat=district.beats[0])
    assert officer_client_for(app, own).get(f"/officer/uploads/{imp.id}").status_code == 200


def test_confirming_the_registration_verifies_the_unit(officer_client, db_session, case, officer):
    imp, subs, unit_id = case
    registration = db_session.scalar(select(Submission).where(
        Submission.unit_id == unit_id, Submission.kind == SubmissionKind.unit_registration))
    page = parse(factories.english(officer_client).get(f"/officer/uploads/{imp.id}"))
    assert page.find("a", href=f"/officer/items/{registration.id}") is not None
    item_url = f"/officer/items/{registration.id}"
    item = parse(officer_client.get(item_url))
    response = factories.post_form(officer_client, item, item_url, action="/decide",
                                   data={"action": "confirmed"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Unit, unit_id).status == RecordStatus.verified
    assert review.history(db_session, registration.id)[-1].actor_id == officer.id
