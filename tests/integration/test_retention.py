"""Retention (services/retention.py, `flask purge`): RETENTION_DAYS after a tenancy or employment ended, its
declared details go, then the people none of whose records stands, then the personal fields of the reports
that only named them; everything newer, or still standing, stays. Each run is audited with its counts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.models import AuditEvent, Person, Submission, SubmissionStatus, Tenancy
from portal.models.base import utcnow
from portal.services import retention
from portal.services.filing import local_today
from tests import factories

YEARS_AGO = local_today() - timedelta(days=4 * 365)


def _moved_out(session, sub: Submission, person_name: str, on) -> Tenancy:
    """The tenancy of `person_name` in the move-in, moved out on `on` (and in before it), the report old."""
    tenancy = next(t for t in session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id))
                   if t.declared_name == person_name)
    session.execute(update(Tenancy).where(Tenancy.id == tenancy.id)
                    .values(move_in_date=on - timedelta(days=300), move_out_date=on))
    return tenancy


def _aged(session, sub: Submission) -> None:
    """The report and the people it created, filed five years ago."""
    five_years = utcnow() - timedelta(days=5 * 365)
    session.execute(update(Submission).where(Submission.id == sub.id).values(submitted_at=five_years))
    person_ids = [t.person_id for t in sub.tenancies]
    session.execute(update(Person).where(Person.id.in_(person_ids)).values(created_at=five_years))


@pytest.fixture
def old_and_new(db_session, district, landlord, officer):
    registration = factories.make_house(db_session, landlord, district.addresses[0])
    factories.decide(db_session, registration, officer, SubmissionStatus.confirmed)
    house = registration.house
    shared = factories.make_move_in(db_session, landlord, house.id, [
        factories.occupant(name="走了", birth="19800101"), factories.occupant(name="还在", birth="19810101")])
    gone = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="早走", birth="19820101")])
    recent = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="新走", birth="19830101")])
    for sub in (shared, gone, recent):
        factories.decide(db_session, sub, officer, SubmissionStatus.confirmed)
        _aged(db_session, sub)
    left = _moved_out(db_session, shared, "走了", YEARS_AGO)
    early = _moved_out(db_session, gone, "早走", YEARS_AGO)
    late = _moved_out(db_session, recent, "新走", local_today() - timedelta(days=2 * 365))
    db_session.commit()
    return {"shared": shared, "gone": gone, "recent": recent, "left": left, "early": early, "late": late}


def test_what_ended_before_the_period_is_anonymised_and_nothing_else(db_session, old_and_new):
    done = retention.purge_batch(db_session, today=local_today(), keep_days=3 * 365)
    db_session.commit()
    assert (done.tenancies, done.persons, done.submissions) == (2, 2, 1)
    for key in ("left", "early"):
        tenancy = db_session.get(Tenancy, old_and_new[key].id)
        assert (tenancy.declared_name, tenancy.declared_phone, tenancy.purged_at is not None) == ("", None, True)
        person = db_session.get(Person, tenancy.person_id)
        assert (person.name, person.phone, person.birth_date, person.birth_year) == ("", None, None, None)
        assert person.id_number.startswith("purged-")
    late = db_session.get(Tenancy, old_and_new["late"].id)
    assert late.declared_name == "新走" and late.purged_at is None
    # The report of someone still living there keeps its personal fields; the report only of people gone
    # is left with dates and the address.
    assert [o["name"] for o in db_session.get(Submission, old_and_new["shared"].id).payload["occupants"]] == \
        ["走了", "还在"]
    gone = db_session.get(Submission, old_and_new["gone"].id).payload
    assert gone["occupants"] and all("name" not in o and "id_number" not in o for o in gone["occupants"])
    assert gone["move_in_date"] and gone["address"]


def test_a_second_run_finds_nothing_and_the_run_is_audited(app, db_session, old_and_new):
    cli = app.test_cli_runner()
    result = cli.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "2 条租住记录、0 条雇佣记录、2 名人员和 1 份申报" in result.output  # the operator's language: zh by default
    row = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).one()
    assert row.detail == "tenancies=2 employments=0 persons=2 submissions=1 keep_days=1095"
    again = cli.invoke(args=["purge"])
    assert "0 条租住记录、0 条雇佣记录、0 名人员和 0 份申报" in again.output


def test_someone_who_still_works_somewhere_keeps_their_record(db_session, district, landlord, officer,
                                                               old_and_new):
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, district.addresses[1], verified_by=officer).unit_id
    person = db_session.get(Person, old_and_new["early"].person_id)
    factories.make_hire(db_session, employer, unit_id, name="早走", id_number=person.id_number)
    retention.purge_batch(db_session, today=local_today(), keep_days=3 * 365)
    db_session.commit()
    assert db_session.get(Tenancy, old_and_new["early"].id).purged_at is not None
    assert db_session.get(Person, person.id).name == "早走"  # the hire still stands


def test_the_same_person_reported_again_is_a_new_record(db_session, district, landlord, old_and_new):
    number = db_session.get(Person, old_and_new["early"].person_id).id_number
    retention.purge_batch(db_session, today=local_today(), keep_days=3 * 365)
    db_session.commit()
    house = factories.make_house(db_session, landlord, district.addresses[1]).house
    again = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="早走", id_number=number)])
    person = db_session.get(Person, again.tenancies[0].person_id)
    assert person.id != old_and_new["early"].person_id and person.name == "早走"
