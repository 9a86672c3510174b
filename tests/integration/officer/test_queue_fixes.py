"""The queue: Beijing time everywhere, cards with masked names, a filtered empty state, confirming several."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal.models import AuditEvent, Decision, Submission, SubmissionStatus
from portal.services import queue
from portal.templating import age, localtime
from tests import factories
from tests.browser import parse
from tests.factories import english, post_form, text_of

S = SubmissionStatus


@pytest.fixture
def officer_en(officer_client):
    return english(officer_client)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=200).house


def move_in(db_session, landlord, house, name="张三丰"):
    return factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name=name)])


def stamp(db_session, sub, when):
    db_session.execute(update(Submission).where(Submission.id == sub.id).values(submitted_at=when))
    db_session.commit()


def row_of(page, sub):
    return page.select_one(f"table.queue tr[data-id='{sub.id}']")


def test_queue_times_are_beijing_time(officer_en, db_session, landlord, house):
    sub = move_in(db_session, landlord, house)
    stamp(db_session, sub, datetime(2026, 3, 1, 20, 30, tzinfo=UTC))  # 04:30 on 2 March in Beijing
    row = row_of(parse(officer_en.get("/officer/queue")), sub)
    assert text_of(row.select_one("td.queue-when")) == "2026-03-02 04:30"
    assert localtime(datetime(2026, 3, 1, 20, 30, tzinfo=UTC)) == "2026-03-02 04:30"


def test_officer_templates_show_times_through_the_one_filter():
    from pathlib import Path

    for template in Path("templates/officer").glob("*.html"):
        assert "strftime" not in template.read_text(), template


def test_a_row_shows_kind_masked_names_address_age_and_flags(officer_en, db_session, landlord, house):
    sub = move_in(db_session, landlord, house, name="欧阳修")
    stamp(db_session, sub, datetime.now(UTC) - timedelta(hours=50, minutes=1))
    row = row_of(parse(officer_en.get("/officer/queue")), sub)
    assert text_of(row.select_one(".queue-kind")) == "Move-in"
    assert text_of(row.select_one(".queue-names")) == "欧**"
    assert "欧阳修" not in text_of(row)
    assert house.address.text in text_of(row.select_one(".queue-address"))
    assert text_of(row.select_one(".queue-age")) == "2 d 2 h"
    assert row.select_one(".queue-select input[type=checkbox]")["value"] == f"{sub.id}:{sub.version}"


def test_age_reads_in_hours_then_days():
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    assert age(datetime(2026, 3, 5, 9, 59, tzinfo=UTC), now) == "2 h"
    assert age(datetime(2026, 3, 1, 11, tzinfo=UTC), now) == "4 d 1 h"


def test_the_empty_state_says_whether_a_filter_found_nothing(officer_en, db_session, landlord, house):
    move_in(db_session, landlord, house)
    filtered = parse(officer_en.get("/officer/queue?kind=hire"))
    assert text_of(filtered.find(id="queue-empty")).startswith("No open item matches this filter.")
    assert filtered.find(id="clear-filter")["href"] == "/officer/queue"
    db_session.execute(update(Submission).values(status=S.withdrawn, is_open=False))
    db_session.commit()
    empty = parse(officer_en.get("/officer/queue"))
    assert text_of(empty.find(id="queue-empty")) == "Nothing is waiting for you here."


def bulk(client, values, back=""):
    token = factories.csrf_token(client)
    return client.post("/officer/queue/confirm", data={"csrf_token": token, "item": values, "back": back})


def test_several_clean_items_confirmed_at_once(officer_en, db_session, officer, landlord, house):
    subs = [move_in(db_session, landlord, house) for _ in range(3)]
    flagged = move_in(db_session, landlord, house)
    db_session.execute(update(Submission).where(Submission.id == flagged.id).values(
        flagged=True, flags=[{"code": "late"}]))
    db_session.commit()
    page = parse(officer_en.get("/officer/queue"))
    assert row_of(page, flagged).select_one("input[type=checkbox]") is None  # no box for a flagged item
    values = [f"{s.id}:{s.version}" for s in subs[:2]] + [f"{flagged.id}:{flagged.version}"]
    response = bulk(officer_en, values, back="kind=move_in&after=x&next=//evil")
    assert response.status_code == 302 and response.headers["Location"] == "/officer/queue?kind=move_in"
    notices = [text_of(n) for n in parse(officer_en.get("/officer/queue")).select(".notice")]
    assert "2 items confirmed." in notices
    assert any(n.startswith("1 items have flags") for n in notices)
    db_session.expire_all()
    assert [db_session.get(Submission, s.id).status for s in subs] == [S.confirmed, S.confirmed, S.pending]
    assert db_session.get(Submission, flagged.id).status == S.pending
    decisions = db_session.scalars(select(Decision).where(Decision.to_status == "confirmed")).all()
    assert sorted((d.submission_id, d.actor_id) for d in decisions) == sorted((s.id, officer.id) for s in subs[:2])
    audited = db_session.execute(select(AuditEvent.action, AuditEvent.object_id, AuditEvent.outcome).where(
        AuditEvent.actor_id == officer.id, AuditEvent.action.in_(("submission.confirmed",
                                                                  "queue.confirm_selected")))).all()
    assert sorted(audited, key=str) == sorted([("submission.confirmed", str(subs[0].id), "success"),
                                               ("submission.confirmed", str(subs[1].id), "success"),
                                               ("queue.confirm_selected", None, "success")], key=str)


def test_items_decided_meanwhile_are_reported_back_in_local_time(app, officer_en, db_session, district, officer,
                                                                landlord, house):
    a, b = move_in(db_session, landlord, house), move_in(db_session, landlord, house)
    seen = {s.id: s.version for s in (a, b)}
    colleague = factories.make_user(db_session, role="officer", station=district.stations[0], name="乙警官")
    factories.decide(db_session, a, colleague, "rejected", reason_code="duplicate")
    db_session.execute(update(Decision).where(Decision.submission_id == a.id).values(
        at=datetime(2026, 3, 1, 20, 30, tzinfo=UTC)))
    db_session.commit()
    response = bulk(officer_en, [f"{i}:{v}" for i, v in seen.items()])
    assert response.status_code == 302
    notices = [text_of(n) for n in parse(officer_en.get("/officer/queue")).select(".notice")]
    assert "1 items confirmed." in notices
    conflict = next(n for n in notices if "decided this item first" in n)
    assert "乙警官" in conflict and "Rejected" in conflict and "2026-03-02 04:30" in conflict and "UTC" not in conflict
    db_session.expire_all()
    assert db_session.get(Submission, a.id).status == S.rejected
    assert db_session.get(Submission, b.id).status == S.confirmed
    assert db_session.scalar(select(AuditEvent.outcome).where(
        AuditEvent.actor_id == officer.id, AuditEvent.object_id == str(a.id),
        AuditEvent.action == "submission.confirmed")) == "conflict"


def test_items_outside_the_jurisdiction_are_left_alone(app, officer_en, db_session, district, landlord):
    other = factories.make_house(db_session, landlord, district.addresses[1])  # station 2
    response = bulk(officer_en, [f"{other.id}:{other.version}", "junk", "1:x", ""])
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Submission, other.id).status == S.pending


def test_nothing_chosen_is_a_message_and_an_expired_form_is_refused(officer_en, db_session, landlord, house):
    move_in(db_session, landlord, house)
    assert bulk(officer_en, []).status_code == 302
    assert "Choose the items to confirm." in text_of(parse(officer_en.get("/officer/queue")))
    expired = officer_en.post("/officer/queue/confirm", data={"item": ["1:1"]})
    assert expired.status_code == 400  # the app's page for an expired form (errors/resubmit.html), not a 500


def test_the_decided_first_message_of_an_item_page_is_local_time(officer_en, db_session, district, landlord, house):
    sub = move_in(db_session, landlord, house)
    page = parse(officer_en.get(f"/officer/items/{sub.id}"))
    colleague = factories.make_user(db_session, role="officer", station=district.stations[0], name="乙警官")
    factories.decide(db_session, sub, colleague, "confirmed")
    db_session.execute(update(Decision).where(Decision.submission_id == sub.id).values(
        at=datetime(2026, 3, 1, 20, 30, tzinfo=UTC)))
    db_session.commit()
    response = post_form(officer_en, page, f"/officer/items/{sub.id}", "/decide", data={"action": "confirmed"})
    assert response.status_code == 302, text_of(parse(response).select_one(".error-summary"))
    notice = text_of(parse(officer_en.get(f"/officer/items/{sub.id}")).select_one(".notice-error"))
    assert "2026-03-02 04:30" in notice and "UTC" not in notice


def test_parse_selection_keeps_only_id_version_pairs():
    assert queue.parse_selection(["3:1", "3:1", "x", "4:", ":2", "5:2"]) == [(3, 1), (5, 2)]
    assert len(queue.parse_selection([f"{i}:1" for i in range(500)])) == queue.MAX_SELECTED
