"""Two officers deciding the same item at once: exactly one decision wins, the other is told who decided
first, and both attempts are audited. Real separate connections on committed data, as two requests."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.db import writing
from portal.extensions import db
from portal.models import (
    Address,
    AuditEvent,
    Beat,
    Bureau,
    Decision,
    House,
    Station,
    Submission,
    SubmissionStatus,
    User,
)
from portal.services import review
from portal.services.audit import Actor
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, post_form, text_of

S = SubmissionStatus
ROUNDS = 4


def _cleanup(ids: dict) -> None:
    with Session(db.engine) as s:
        users = ids.get("users", [])
        beats = ids.get("beats", [])
        subs = list(s.scalars(select(Submission.id).where(Submission.reporter_id.in_(users))))
        s.execute(delete(AuditEvent).where(AuditEvent.actor_id.in_(users)))
        s.execute(delete(Decision).where(Decision.submission_id.in_(subs)))
        s.execute(delete(Submission).where(Submission.id.in_(subs)))
        s.execute(delete(House).where(House.owner_id.in_(users)))
        s.execute(delete(User).where(User.id.in_(users)))
        s.execute(delete(Address).where(Address.beat_id.in_(beats)))
        s.execute(delete(Beat).where(Beat.id.in_(beats)))
        s.execute(delete(Station).where(Station.id.in_(ids.get("stations", []))))
        s.execute(delete(Bureau).where(Bureau.id.in_(ids.get("bureaus", []))))
        s.commit()


def _setup(ids: dict) -> tuple[list[int], int, int]:
    """Committed: a district, a landlord with ROUNDS pending house registrations, two officers of
    station 1."""
    with Session(db.engine) as s:
        d = factories.make_district(s)
        ids.update(bureaus=[d.bureau.id], stations=[st.id for st in d.stations],
                   beats=[b.id for b in d.beats], users=[])
        landlord = factories.make_user(s, role="landlord")
        ids["users"].append(landlord.id)
        first = factories.make_user(s, role="officer", station=d.stations[0], name="甲警官")
        second = factories.make_user(s, role="officer", station=d.stations[0], name="乙警官")
        ids["users"] += [first.id, second.id]
        addresses = [factories.make_address(s, d.beats[i % 2], building="9栋", unit="1单元",
                                            room=f"{100 + i}") for i in range(ROUNDS)]
        s.commit()
        subs = [factories.make_house(s, landlord, a).id for a in addresses]
        return subs, first.id, second.id


def _attempt(barrier, results: dict, sub_id: int, seen: int, officer_id: int, to_status,
             reason: dict) -> None:
    """One officer's POST: its own connection, the version their page showed."""
    barrier.wait()
    try:
        with writing(), Session(db.engine) as s:  # as a POST request: BEGIN IMMEDIATE on SQLite
            officer = s.get(User, officer_id)
            sub = s.get(Submission, sub_id)
            try:
                decision = review.transition(s, sub, to_status, officer, Actor(user=officer),
                                             expected_version=seen, **reason)
            except review.DecidedAlready as conflict:
                s.commit()  # the owner keeps the conflict's audit row, as the view does
                results[officer_id] = conflict
                return
            s.commit()
            results[officer_id] = decision.to_status
    except Exception as error:  # noqa: BLE001 - shown by the assertion on the results
        results[officer_id] = error


def test_two_officers_at_once_exactly_one_wins(app):
    ids: dict = {}
    try:
        subs, first_id, second_id = _setup(ids)
        names = {first_id: "甲警官", second_id: "乙警官"}
        for round_no, sub_id in enumerate(subs):
            with Session(db.engine) as s:
                seen = s.get(Submission, sub_id).version  # both officers loaded the same page
            # Each officer makes a different decision, so the winner can be read from the outcome.
            plan = {first_id: (S.confirmed, {}), second_id: (S.rejected, {"reason_code": "duplicate"})}
            if round_no % 2:
                plan = {first_id: (S.site_visit, {}), second_id: (S.confirmed, {})}
            results: dict[int, object] = {}
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=_attempt,
                                        args=(barrier, results, sub_id, seen, oid, *plan[oid]))
                       for oid in plan]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads)

            won = [oid for oid, r in results.items() if isinstance(r, str)]
            lost = [oid for oid, r in results.items() if isinstance(r, review.DecidedAlready)]
            assert len(won) == 1 and len(lost) == 1, results
            winner, loser = won[0], lost[0]
            conflict = results[loser]
            assert conflict.by == names[winner]
            assert conflict.status == str(plan[winner][0]) and conflict.at is not None

            with Session(db.engine) as s:
                sub = s.get(Submission, sub_id)
                assert (sub.status, sub.version, sub.decided_by_id) == (plan[winner][0], seen + 1, winner)
                decisions = s.scalars(select(Decision).where(Decision.submission_id == sub_id)).all()
                assert [(d.actor_id, d.to_status) for d in decisions] == [(winner, str(plan[winner][0]))]
                events = s.execute(select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.outcome).where(
                    AuditEvent.object_type == "submission", AuditEvent.object_id == str(sub_id),
                    AuditEvent.actor_id.in_([first_id, second_id]))).all()
                assert sorted(events) == sorted([
                    (winner, f"submission.{plan[winner][0]}", "success"),
                    (loser, f"submission.{plan[loser][0]}", "conflict")])
    finally:
        _cleanup(ids)


# --- the same through the pages -----------------------------------------------------------------------

@pytest.fixture
def colleague(db_session, district):
    return factories.make_user(db_session, role="officer", station=district.stations[0], name="乙警官")


@pytest.fixture
def colleague_client(app, db_session, colleague):
    c = FormClient(app.test_client())
    c.sign_in(colleague.phone, factories.PASSWORD, totp_secret=colleague.totp_secret)
    return english(c)


@pytest.fixture
def item(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0])


@pytest.mark.parametrize(("first_action", "second_action"), [
    ({"action": "confirmed"}, {"action": "rejected", "reason_code": "duplicate"}),
    ({"action": "site_visit"}, {"action": "confirmed"}),
    ({"action": "rejected", "reason_code": "other", "reason_text": "地址不存在"}, {"action": "confirmed"}),
])
def test_the_second_officer_on_the_same_page_is_told_who_decided(officer_client, colleague_client, db_session,
                                                                  officer, colleague, item, first_action,
                                                                  second_action):
    english(officer_client)
    officer.name = "甲警官"
    db_session.commit()
    url = f"/officer/items/{item.id}"
    page_a = parse(officer_client.get(url))
    page_b = parse(colleague_client.get(url))
    version = page_a.find("input", attrs={"name": "version"})["value"]
    assert page_b.find("input", attrs={"name": "version"})["value"] == version

    first = post_form(officer_client, page_a, url, "/decide", data=first_action)
    assert first.status_code == 302 and first.headers["Location"].endswith("/officer/queue")
    second = post_form(colleague_client, page_b, url, "/decide", data=second_action)
    assert second.status_code == 302 and second.headers["Location"].endswith(url)

    shown = parse(colleague_client.get(url))
    notice = text_of(shown.select_one(".notice-error"))
    assert notice.startswith("甲警官 decided this item first")
    assert str(review.status_label(first_action["action"])) in notice and "Nothing was changed." in notice

    db_session.expire_all()
    sub = db_session.get(Submission, item.id)
    assert (sub.status, sub.decided_by_id) == (first_action["action"], officer.id)
    decisions = db_session.scalars(select(Decision).where(Decision.submission_id == item.id)).all()
    assert [(d.actor_id, d.to_status) for d in decisions] == [(officer.id, first_action["action"])]
    attempts = db_session.execute(select(AuditEvent.actor_id, AuditEvent.outcome).where(
        AuditEvent.object_id == str(item.id), AuditEvent.action.like("submission.%"),
        AuditEvent.action != "submission.create")).all()
    assert sorted(attempts) == sorted([(officer.id, "success"), (colleague.id, "conflict")])


def test_a_fresh_page_after_a_site_visit_can_be_decided(officer_client, colleague_client, db_session, officer,
                                                         colleague, item):
    """Optimistic locking refuses stale pages only: the colleague who reloads may decide."""
    url = f"/officer/items/{item.id}"
    assert post_form(officer_client, parse(officer_client.get(url)), url, "/decide",
                     data={"action": "site_visit"}).status_code == 302
    fresh = parse(colleague_client.get(url))
    assert post_form(colleague_client, fresh, url, "/decide", data={"action": "confirmed"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Submission, item.id).status == S.confirmed
    assert db_session.scalar(select(func.count()).select_from(Decision)
                             .where(Decision.submission_id == item.id)) == 2


def test_a_rejection_without_reason_is_shown_at_the_field(officer_client, db_session, item):
    english(officer_client)
    url = f"/officer/items/{item.id}"
    response = post_form(officer_client, parse(officer_client.get(url)), url, "/decide",
                         data={"action": "rejected", "reason_text": "看不清"})
    assert response.status_code == 400
    page = parse(response)
    assert factories.field_error(page, "reason_code") == "Choose a reason."
    assert factories.field_value(page, "reason_text") == "看不清"
    db_session.expire_all()
    assert db_session.get(Submission, item.id).status == S.pending
