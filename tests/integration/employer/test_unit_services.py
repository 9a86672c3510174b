"""services.units: registering units, single hires and departures, and what decisions do to them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import (
    AuditEvent,
    Employment,
    RecordStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Unit,
)
from portal.services import reporting, units
from portal.services.errors import NotFound, ValidationFailed
from tests import factories


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- registration ---------------------------------------------------------------------------------

def test_a_unit_registration_is_a_pending_unit_and_a_submission_in_its_beat(db_session, district, employer):
    address = district.addresses[1]
    fields = factories.unit_fields(address, special_trade="hotel")
    typed = f"{fields['uscc'][:8]} {fields['uscc'][8:].lower()}"  # spaces and lower case: the same code
    filed = units.register_unit(db_session, employer, **{**fields, "uscc": typed},
                                actor=factories.as_actor(employer), form_key="k-unit-1")
    sub = filed.submission
    unit = db_session.get(Unit, sub.unit_id)
    assert filed.created
    assert (sub.kind, sub.status, sub.reporter_id) == (
        SubmissionKind.unit_registration, SubmissionStatus.pending, employer.id)
    assert (sub.beat_id, sub.station_id) == (address.beat_id, district.beats[2].station_id)
    assert (unit.owner_id, unit.uscc, unit.status, unit.special_trade, unit.beat_id) == (
        employer.id, fields["uscc"], RecordStatus.pending, "hotel", address.beat_id)
    assert sub.payload["uscc"] == unit.uscc and sub.payload["address"] == address.text
    assert sub.receipt and not sub.flagged
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.create",
                                                      AuditEvent.object_id == str(sub.id))) is not None


def test_the_same_form_sent_twice_files_one_registration(db_session, district, employer):
    fields = factories.unit_fields(district.addresses[0])
    actor = factories.as_actor(employer)
    first = units.register_unit(db_session, employer, **fields, actor=actor, form_key="twice")
    again = units.register_unit(db_session, employer, **fields, actor=actor, form_key="twice")
    assert (first.created, again.created) == (True, False)
    assert again.submission.id == first.submission.id
    assert _count(db_session, Unit) == 1 and _count(db_session, Submission) == 1


def test_every_bad_field_is_reported_at_once(db_session, district, employer):
    with pytest.raises(ValidationFailed) as failure:
        units.register_unit(db_session, employer, uscc="91430300MA00000010", name="", unit_type="bank",
                            industry="x" * 61, special_trade="casino", address_code="NOSUCHCODE",
                            legal_rep_name="王1", legal_rep_id_number="430302199001011234",
                            contact_name="", contact_phone="1234", actor=factories.as_actor(employer))
    assert {e.field: e.code for e in failure.value.errors} == {
        "uscc": "checksum", "name": "required", "unit_type": "invalid_choice", "industry": "too_long",
        "special_trade": "invalid_choice", "address_code": "unknown_address", "legal_rep_name": "name_chars",
        "legal_rep_id_number": "checksum", "contact_name": "required", "contact_phone": "phone"}
    assert _count(db_session, Unit) == 0 and _count(db_session, Submission) == 0


def test_one_employer_may_hold_several_units_but_not_the_same_code_twice(db_session, district, employer):
    first = factories.make_unit(db_session, employer, district.addresses[0])
    factories.make_unit(db_session, employer, district.addresses[1], name="另一家公司")
    assert [u.id for u in units.units_of(db_session, employer)] == [first.unit_id, first.unit_id + 1]
    code = db_session.get(Unit, first.unit_id).uscc
    with pytest.raises(ValidationFailed) as failure:
        units.register_unit(db_session, employer, **factories.unit_fields(district.addresses[1], uscc=code),
                            actor=factories.as_actor(employer))
    assert [(e.field, e.code) for e in failure.value.errors] == [("uscc", "unit_exists")]


def test_another_employer_may_register_the_same_code(db_session, district, employer, other_employer):
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    code = db_session.get(Unit, sub.unit_id).uscc
    other = factories.make_unit(db_session, other_employer, district.addresses[0], uscc=code)
    assert other.unit_id != sub.unit_id


def test_another_employers_unit_does_not_exist(db_session, district, employer, other_employer):
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    with pytest.raises(NotFound):
        units.unit_of(db_session, other_employer, sub.unit_id)
    assert units.units_of(db_session, other_employer) == []
    with pytest.raises(NotFound):
        units.report_hire(db_session, other_employer, sub.unit_id, name="赵六",
                          id_number=factories.resident_id(), phone="", position="", hire_date="2024-01-01",
                          actor=factories.as_actor(other_employer))


def test_an_unknown_region_in_the_legal_representatives_id_is_a_flag(db_session, district, employer):
    sub = factories.make_unit(db_session, employer, district.addresses[0],
                              legal_rep_id_number=factories.resident_id("19800101", region="990101"))
    assert sub.flagged and sub.flags == [{"code": "unknown_region", "field": "legal_rep_id_number"}]


# --- what officers' decisions do to the unit -----------------------------------------------------

@pytest.mark.parametrize(("to_status", "expected"), [("confirmed", RecordStatus.verified),
                                                     ("rejected", RecordStatus.rejected)])
def test_a_decision_on_the_registration_decides_the_unit(db_session, district, employer, officer, to_status,
                                                         expected):
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    reason = {"reason_code": "wrong_address"} if to_status == "rejected" else {}
    factories.decide(db_session, sub, officer, to_status, **reason)
    db_session.expire_all()
    assert db_session.get(Unit, sub.unit_id).status == expected


def test_a_withdrawn_registration_withdraws_the_unit_and_it_can_be_registered_again(db_session, district,
                                                                                    employer):
    sub = factories.make_unit(db_session, employer, district.addresses[0])
    reporting.withdraw(db_session, employer, sub.id, factories.as_actor(employer))
    db_session.expire_all()
    unit = db_session.get(Unit, sub.unit_id)
    assert unit.status == RecordStatus.withdrawn and units.units_of(db_session, employer) == []
    again = factories.make_unit(db_session, employer, district.addresses[1], uscc=unit.uscc, name="新名字")
    assert again.unit_id == unit.id
    db_session.expire_all()
    assert (unit.status, unit.name, unit.address_id) == (
        RecordStatus.pending, "新名字", district.addresses[1].id)


# --- single hires ---------------------------------------------------------------------------------

def test_a_hire_is_a_submission_and_a_pending_employment(db_session, district, employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    number = factories.resident_id("19950505")
    sub = factories.make_hire(db_session, employer, unit_id, name="赵六", id_number=number,
                              phone="138 1234 5678", hire_date="2024-03-05", form_key="hire-1")
    employment = db_session.scalars(select(Employment)).one()
    assert (sub.kind, sub.unit_id, sub.employment_id, sub.version) == (
        SubmissionKind.hire, unit_id, employment.id, 1)
    assert (employment.unit_id, employment.submission_id, employment.status, employment.hire_date,
            employment.position) == (unit_id, sub.id, RecordStatus.pending, date(2024, 3, 5), "厨师")
    assert employment.person.id_number == number and employment.person.phone == "13812345678"
    assert sub.payload["id_number"] == number and sub.payload["hire_date"] == "2024-03-05"
    assert "row" not in sub.payload and sub.payload["unit_name"] == db_session.get(Unit, unit_id).name
    assert not sub.flagged
    assert [e.id for e in units.roster(db_session, db_session.get(Unit, unit_id))] == [employment.id]
    # The same form again: the first submission, no second employment.
    again = factories.make_hire(db_session, employer, unit_id, id_number=number, form_key="hire-1")
    assert again.id == sub.id and _count(db_session, Employment) == 1


def test_a_hire_uses_the_import_rules_and_reports_every_problem(db_session, district, employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    tomorrow = (reporting.local_today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationFailed) as failure:
        units.report_hire(db_session, employer, unit_id, name="", id_number="4.30302E+17", phone="12345",
                          position="x" * 61, hire_date=tomorrow, actor=factories.as_actor(employer))
    codes = {e.field: e.code for e in failure.value.errors}
    assert codes == {"name": "required", "id_number": "numeric_id_cell", "phone": "phone",
                     "position": "too_long", "hire_date": "future_date"}
    with pytest.raises(ValidationFailed) as failure:
        units.report_hire(db_session, employer, unit_id, name="赵六", id_number=factories.resident_id(),
                          phone="", position="", hire_date="", actor=factories.as_actor(employer))
    assert [(e.field, e.code) for e in failure.value.errors] == [("hire_date", "required")]
    assert _count(db_session, Employment) == 0 and _count(db_session, Submission) == 1


def test_a_hire_date_may_be_written_as_in_a_staff_list(db_session, district, employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    sub = factories.make_hire(db_session, employer, unit_id, hire_date="2024年3月5日")
    assert sub.payload["hire_date"] == "2024-03-05"


def test_someone_already_on_the_staff_list_cannot_be_hired_again(db_session, district, employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    number = factories.resident_id()
    factories.make_hire(db_session, employer, unit_id, id_number=number)
    with pytest.raises(ValidationFailed) as failure:
        factories.make_hire(db_session, employer, unit_id, id_number=number.lower())
    assert [(e.field, e.code) for e in failure.value.errors] == [("id_number", "already_employed")]


def test_a_worker_employed_elsewhere_or_with_an_unknown_region_is_flagged_not_refused(
        db_session, district, employer, other_employer):
    mine = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    theirs = factories.make_unit(db_session, other_employer, district.addresses[1]).unit_id
    number = factories.resident_id("19900101", region="990101")
    factories.make_hire(db_session, other_employer, theirs, id_number=number)
    sub = factories.make_hire(db_session, employer, mine, id_number=number)
    assert sub.flagged
    assert sub.flags == [{"code": "other_employment", "unit_id": theirs}, {"code": "unknown_region"}]


@pytest.mark.parametrize(("to_status", "expected"), [
    ("confirmed", RecordStatus.verified), ("rejected", RecordStatus.rejected),
    ("withdrawn", RecordStatus.withdrawn)])
def test_a_decision_on_a_hire_decides_the_employment(db_session, district, employer, officer, to_status,
                                                     expected):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    sub = factories.make_hire(db_session, employer, unit_id)
    if to_status == "withdrawn":
        reporting.withdraw(db_session, employer, sub.id, factories.as_actor(employer))
    else:
        factories.decide(db_session, sub, officer, to_status,
                         **({"reason_code": "identity_mismatch"} if to_status == "rejected" else {}))
    db_session.expire_all()
    employment = db_session.scalars(select(Employment)).one()
    assert employment.status == expected
    on_roster = units.roster(db_session, db_session.get(Unit, unit_id))
    assert bool(on_roster) == (expected == RecordStatus.verified)


# --- single departures ----------------------------------------------------------------------------

def test_a_confirmed_departure_ends_the_employment_on_the_declared_day(db_session, district, employer,
                                                                       officer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    hire = factories.make_hire(db_session, employer, unit_id, hire_date="2024-03-05")
    factories.decide(db_session, hire, officer, "confirmed")
    employment = db_session.scalars(select(Employment)).one()
    sub = factories.make_departure(db_session, employer, unit_id, employment.id, departure_date="2025-01-31")
    assert (sub.kind, sub.employment_id, sub.payload["departure_date"]) == (
        SubmissionKind.departure, employment.id, "2025-01-31")
    assert units.pending_departures(db_session, db_session.get(Unit, unit_id)) == {employment.id: sub}
    factories.decide(db_session, sub, officer, "confirmed")
    db_session.expire_all()
    assert (employment.status, employment.departure_date) == (RecordStatus.ended, date(2025, 1, 31))
    assert units.roster(db_session, db_session.get(Unit, unit_id)) == []


def test_a_rejected_departure_leaves_the_worker_on_the_list(db_session, district, employer, officer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    factories.make_hire(db_session, employer, unit_id)
    employment = db_session.scalars(select(Employment)).one()
    sub = factories.make_departure(db_session, employer, unit_id, employment.id)
    factories.decide(db_session, sub, officer, "rejected", reason_code="other", reason_text="仍在岗")
    db_session.expire_all()
    assert (employment.status, employment.departure_date) == (RecordStatus.pending, None)


def test_departure_rules(db_session, district, employer, other_employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    factories.make_hire(db_session, employer, unit_id, hire_date="2024-03-05")
    employment = db_session.scalars(select(Employment)).one()
    actor = factories.as_actor(employer)
    tomorrow = (reporting.local_today() + timedelta(days=1)).isoformat()
    cases = [({"employment_id": "", "departure_date": ""},
              {"employment": "required", "departure_date": "required"}),
             ({"employment_id": employment.id, "departure_date": "2024-03-04"},
              {"departure_date": "before_hire"}),
             ({"employment_id": employment.id, "departure_date": tomorrow},
              {"departure_date": "future_date"}),
             ({"employment_id": "9" * 30, "departure_date": "2024-03-05"}, {"employment": "required"}),
             ({"employment_id": "²", "departure_date": "2024-03-05"}, {"employment": "required"}),
             ({"employment_id": "x", "departure_date": "2024-13-01"},
              {"employment": "required", "departure_date": "invalid_date"})]
    for args, expected in cases:
        with pytest.raises(ValidationFailed) as failure:
            units.report_departure(db_session, employer, unit_id, actor=actor, **args)
        assert {e.field: e.code for e in failure.value.errors} == expected, args
    factories.make_departure(db_session, employer, unit_id, employment.id, departure_date="2024-03-05")
    with pytest.raises(ValidationFailed) as failure:
        factories.make_departure(db_session, employer, unit_id, employment.id)
    assert [(e.field, e.code) for e in failure.value.errors] == [("employment", "already_reported")]
    # Someone else's unit, or an employment of another unit chosen in this one, does not exist.
    other_unit = factories.make_unit(db_session, other_employer, district.addresses[1]).unit_id
    with pytest.raises(NotFound):
        units.report_departure(db_session, other_employer, unit_id, employment_id=employment.id,
                               departure_date="2024-04-01", actor=factories.as_actor(other_employer))
    with pytest.raises(ValidationFailed):
        units.report_departure(db_session, other_employer, other_unit, employment_id=employment.id,
                               departure_date="2024-04-01", actor=factories.as_actor(other_employer))
