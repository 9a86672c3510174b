"""The one state machine for submissions (portal/services/review.py) and what decisions do to the register."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select, update

from portal.models import AuditEvent, Decision, House, RecordStatus, Submission, SubmissionStatus, Tenancy
from portal.services import reporting, review
from portal.services.errors import ValidationFailed
from tests import factories

S = SubmissionStatus
ALL_PAIRS = list(itertools.product(list(S), repeat=2))
ALLOWED = sorted(review.TRANSITIONS)
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in review.TRANSITIONS]
OFFICER_TARGETS = (S.confirmed, S.rejected, S.site_visit)


def test_the_transition_table_is_the_designed_one():
    """DESIGN.md section 2: pending -> confirmed | rejected | site_visit (-> confirmed | rejected);
    pending -> superseded or withdrawn; a rejected report may be corrected."""
    assert review.TRANSITIONS == {
        (S.pending, S.confirmed), (S.pending, S.rejected), (S.pending, S.site_visit),
        (S.site_visit, S.confirmed), (S.site_visit, S.rejected),
        (S.pending, S.superseded), (S.rejected, S.superseded), (S.pending, S.withdrawn),
    }
    assert len(ALL_PAIRS) == 36 and len(FORBIDDEN) == 28


@pytest.fixture
def case(db_session, district, landlord, officer):
    """A house with one pending move-in of two people."""
    reg = factories.make_house(db_session, landlord, district.addresses[0])
    reg.house.status = RecordStatus.verified
    db_session.commit()
    sub = factories.make_move_in(db_session, landlord, reg.house_id,
                                 [factories.occupant(name="李四"),
                                  factories.occupant(name="王五", relation="spouse")])
    return sub


def _put_in(session, sub: Submission, status: S) -> None:
    session.execute(update(Submission).where(Submission.id == sub.id)
                    .values(status=status, is_open=status in SubmissionStatus.OPEN))
    session.commit()
    session.expire(sub)


def _actor_for(to_status: S, landlord, officer):
    return officer if to_status in OFFICER_TARGETS or to_status == S.pending else landlord


def _snapshot(session, sub: Submission) -> dict:
    session.expire_all()
    row = session.get(Submission, sub.id)
    return {
        "status": row.status, "version": row.version, "is_open": row.is_open, "decided_by": row.decided_by_id,
        "decisions": session.scalar(select(func.count()).select_from(Decision)),
        "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        "tenancies": sorted((t.id, t.status, t.move_out_date) for t in
                            session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id))),
    }


def _reason_for(to_status: S) -> dict:
    if to_status != S.rejected:
        return {}
    return {"reason_code": "not_living_here", "reason_text": "  门上无人应答  "}


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_succeeds_and_is_recorded(db_session, case, landlord, officer, from_status,
                                                           to_status):
    _put_in(db_session, case, from_status)
    version = case.version
    actor = _actor_for(to_status, landlord, officer)

    decision = review.transition(db_session, case, to_status, actor, factories.as_actor(actor),
                                 **_reason_for(to_status))

    db_session.expire_all()
    sub = db_session.get(Submission, case.id)
    assert sub.status == to_status
    assert sub.version == version + 1
    assert sub.is_open == (to_status in SubmissionStatus.OPEN)
    stored = db_session.scalars(select(Decision).where(Decision.submission_id == sub.id)).all()
    assert [(d.id, d.actor_id, d.from_status, d.to_status) for d in stored] == \
        [(decision.id, actor.id, str(from_status), str(to_status))]
    assert stored[0].at is not None
    if to_status == S.rejected:
        assert (stored[0].reason_code, stored[0].reason_text) == ("not_living_here", "门上无人应答")
    else:
        assert (stored[0].reason_code, stored[0].reason_text) == (None, None)
    if to_status in OFFICER_TARGETS:
        assert sub.decided_by_id == officer.id and sub.decided_at is not None
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == f"submission.{to_status}",
                                                         AuditEvent.object_id == str(sub.id))).all()
    assert [(e.actor_id, e.object_type, e.outcome) for e in events] == [(actor.id, "submission", "success")]


@pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_every_other_pair_raises_and_changes_nothing(db_session, case, landlord, officer, from_status,
                                                     to_status):
    _put_in(db_session, case, from_status)
    assert not review.allowed(from_status, to_status)
    before = _snapshot(db_session, case)
    actor = _actor_for(to_status, landlord, officer)
    sub = db_session.get(Submission, case.id)

    with pytest.raises(ValueError):
        review.transition(db_session, sub, to_status, actor, factories.as_actor(actor),
                          reason_code="other", reason_text="x")

    db_session.rollback()
    assert _snapshot(db_session, case) == before


@pytest.mark.parametrize("to_status", [S.confirmed, S.rejected, S.site_visit])
def test_a_reporter_cannot_make_an_officer_move(db_session, case, landlord, to_status):
    before = _snapshot(db_session, case)
    with pytest.raises(PermissionError):
        review.transition(db_session, case, to_status, landlord, factories.as_actor(landlord),
                          reason_code="duplicate")
    assert _snapshot(db_session, case) == before


@pytest.mark.parametrize("to_status", [S.withdrawn, S.superseded])
def test_an_officer_cannot_make_a_reporter_move(db_session, case, officer, to_status):
    before = _snapshot(db_session, case)
    with pytest.raises(PermissionError):
        review.transition(db_session, case, to_status, officer, factories.as_actor(officer))
    assert _snapshot(db_session, case) == before


def test_another_landlord_cannot_withdraw_or_correct(db_session, case):
    other = factories.make_user(db_session, role="landlord")
    before = _snapshot(db_session, case)
    for to_status in (S.withdrawn, S.superseded):
        with pytest.raises(PermissionError):
            review.transition(db_session, case, to_status, other, factories.as_actor(other))
    assert _snapshot(db_session, case) == before


def test_the_reviewer_is_never_the_submitter(db_session, district):
    """An officer who filed a declaration (here: registered a house) can never decide on it."""
    reporting_officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    sub = factories.make_house(db_session, reporting_officer, district.addresses[0])
    before = _snapshot(db_session, sub)
    for to_status in OFFICER_TARGETS:
        with pytest.raises(PermissionError):
            review.transition(db_session, sub, to_status, reporting_officer,
                              factories.as_actor(reporting_officer), reason_code="duplicate")
    assert _snapshot(db_session, sub) == before
    # Another officer may.
    colleague = factories.make_user(db_session, role="officer", station=district.stations[0])
    factories.decide(db_session, sub, colleague, S.confirmed)
    assert db_session.get(Submission, sub.id).status == S.confirmed


@pytest.mark.parametrize(("reason", "field"), [
    ({}, "reason_code"),
    ({"reason_code": ""}, "reason_code"),
    ({"reason_code": "no_such_reason", "reason_text": "x"}, "reason_code"),
    ({"reason_code": "other"}, "reason_text"),
    ({"reason_code": "other", "reason_text": "   "}, "reason_text"),
])
def test_reject_needs_a_reason_code_and_text_for_other(db_session, case, officer, reason, field):
    before = _snapshot(db_session, case)
    with pytest.raises(ValidationFailed) as failure:
        review.transition(db_session, case, S.rejected, officer, factories.as_actor(officer), **reason)
    assert [e.field for e in failure.value.errors] == [field]
    assert _snapshot(db_session, case) == before


def test_reject_with_other_and_text_is_recorded(db_session, case, officer):
    decision = factories.decide(db_session, case, officer, S.rejected, reason_code="other",
                                reason_text=" 房东不认识此人 ")
    assert (decision.reason_code, decision.reason_text) == ("other", "房东不认识此人")


def test_a_stale_version_is_a_conflict_naming_who_moved_first(db_session, case, officer, district):
    """The second of two officers deciding on the same page version is told who decided first."""
    seen = case.version
    factories.decide(db_session, case, officer, S.site_visit)
    colleague = factories.make_user(db_session, role="officer", station=district.stations[0], name="赵警官")
    before = _snapshot(db_session, case)
    sub = db_session.get(Submission, case.id)
    with pytest.raises(review.DecidedAlready) as conflict:
        review.transition(db_session, sub, S.confirmed, colleague, factories.as_actor(colleague),
                          expected_version=seen)
    assert (conflict.value.by, conflict.value.status) == (officer.name, "site_visit")
    assert conflict.value.at is not None
    after = _snapshot(db_session, case)
    assert after["audit"] == before["audit"] + 1
    after.pop("audit"), before.pop("audit")
    assert after == before
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.actor_id == colleague.id)).one()
    assert (event.action, event.object_id, event.outcome) == \
        ("submission.confirmed", str(case.id), "conflict")


# --- effects on the register ----------------------------------------------------------------------

def _tenancies(session, sub):
    session.expire_all()
    return list(session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id).order_by(Tenancy.id)))


def test_confirming_a_move_in_verifies_its_tenancies(db_session, case, officer):
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.pending] * 2
    factories.decide(db_session, case, officer, S.confirmed)
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.verified] * 2


def test_a_site_visit_changes_nothing_until_it_is_decided(db_session, case, officer):
    factories.decide(db_session, case, officer, S.site_visit)
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.pending] * 2
    factories.decide(db_session, db_session.get(Submission, case.id), officer, S.confirmed)
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.verified] * 2


def test_rejecting_a_move_in_rejects_its_tenancies(db_session, case, officer):
    factories.decide(db_session, case, officer, S.rejected, reason_code="identity_mismatch")
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.rejected] * 2
    house = db_session.get(House, case.house_id)
    assert reporting.occupants_of(db_session, house) == []


def test_withdrawing_a_move_in_withdraws_its_tenancies(db_session, case, landlord):
    reporting.withdraw(db_session, landlord, case.id, factories.as_actor(landlord))
    assert [t.status for t in _tenancies(db_session, case)] == [RecordStatus.withdrawn] * 2


def test_confirming_a_move_out_ends_the_tenancy(db_session, case, landlord, officer):
    factories.decide(db_session, case, officer, S.confirmed)
    first, second = _tenancies(db_session, case)
    day = reporting.local_today()
    out = factories.make_move_out(db_session, landlord, first.id, move_out_date=day.isoformat())
    assert _tenancies(db_session, case)[0].move_out_date is None  # declared, not yet true
    factories.decide(db_session, out, officer, S.confirmed)
    first, second = _tenancies(db_session, case)
    assert (first.move_out_date, first.status) == (day, RecordStatus.ended)
    assert (second.move_out_date, second.status) == (None, RecordStatus.verified)
    house = db_session.get(House, case.house_id)
    assert [t.id for t in reporting.occupants_of(db_session, house)] == [second.id]


def test_rejecting_a_move_out_leaves_the_tenancy_current(db_session, case, landlord, officer):
    factories.decide(db_session, case, officer, S.confirmed)
    first = _tenancies(db_session, case)[0]
    out = factories.make_move_out(db_session, landlord, first.id)
    factories.decide(db_session, out, officer, S.rejected, reason_code="not_living_here")
    first = _tenancies(db_session, case)[0]
    assert (first.move_out_date, first.status) == (None, RecordStatus.verified)


@pytest.mark.parametrize(("to_status", "house_status"), [(S.confirmed, RecordStatus.verified),
                                                         (S.rejected, RecordStatus.rejected)])
def test_deciding_a_house_registration_sets_the_house(db_session, district, landlord, officer, to_status,
                                                      house_status):
    reg = factories.make_house(db_session, landlord, district.addresses[0])
    assert reg.house.status == RecordStatus.pending
    factories.decide(db_session, reg, officer, to_status,
                     **({"reason_code": "wrong_address"} if to_status == S.rejected else {}))
    db_session.expire_all()
    assert db_session.get(House, reg.house_id).status == house_status
