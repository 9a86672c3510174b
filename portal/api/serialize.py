"""Objects as the API shows them: the response models of portal.api.schemas, built from the records."""
from __future__ import annotations

from datetime import UTC, date, datetime

from portal.api import schemas
from portal.services import flags, identity, review


def when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def address_json(address) -> schemas.Address:
    return schemas.Address(code=address.code, text=address.text, level=str(address.level))


def tenancy_json(tenancy) -> schemas.Tenancy:
    person = tenancy.person
    return schemas.Tenancy(id=tenancy.id, submission_id=tenancy.submission_id, name=tenancy.declared_name,
                           id_type=str(person.id_type), id_number_masked=identity.masked(person.id_number, "id_number"),
                           move_in_date=day(tenancy.move_in_date), lease_end_date=day(tenancy.lease_end_date),
                           record_status=str(tenancy.status))


def house_json(house, tenancies) -> schemas.House:
    return schemas.House(id=house.id, address_code=house.address.code, address=house.address.text,
                         use=str(house.use), max_occupants=house.max_occupants,
                         certificate_no=house.certificate_no, record_status=str(house.status),
                         tenancies=[tenancy_json(t) for t in tenancies])


def flag_json(flag: dict) -> schemas.Flag:
    # Only the code and which person: details such as another owner's house id are for officers.
    person = flag.get("person")
    return schemas.Flag(code=flag.get("code"), message=str(flags.label(flag.get("code"))),
                        person=person if isinstance(person, int) and not isinstance(person, bool) else None)


def flags_json(sub) -> list[schemas.Flag]:
    return [flag_json(f) for f in flags.for_reporter(sub.flags)]


def decision_json(decision) -> schemas.Decision | None:
    if decision is None:
        return None
    reason = None
    if decision.reason_code or decision.reason_text:
        label = review.REJECT_REASONS.get(decision.reason_code) if decision.reason_code else None
        reason = schemas.DecisionReason(code=decision.reason_code, message=str(label) if label is not None else None,
                                        text=decision.reason_text)
    return schemas.Decision(status=decision.to_status, reason=reason, decided_at=when(decision.at))


def submission_json(sub, *, decision=None) -> schemas.Submission:
    return schemas.Submission(id=sub.id, kind=str(sub.kind), status=str(sub.status), receipt=sub.receipt,
                              submitted_at=when(sub.submitted_at), due_at=when(sub.due_at), late=bool(sub.late),
                              flags=flags_json(sub), house_id=sub.house_id, unit_id=sub.unit_id,
                              decision=decision_json(decision))


def unit_json(unit) -> schemas.Unit:
    return schemas.Unit(id=unit.id, uscc=unit.uscc, name=unit.name, unit_type=str(unit.unit_type),
                        industry=unit.industry,
                        special_trade=str(unit.special_trade) if unit.special_trade else None,
                        address_code=unit.address.code, address=unit.address.text, record_status=str(unit.status))


def import_json(pv, *, done=None) -> schemas.StaffImportResult:
    """What a staff list holds and what its import did: the counts of the committed import `done`, else of
    the preview (a dry run, or a list that was imported already and changed nothing now). `row` counts the
    header as row 1."""
    counts = done if done is not None else pv
    size = (lambda v: v) if done is not None else len
    return schemas.StaffImportResult(
        rows=pv.rows, valid=size(counts.valid), invalid=pv.invalid, hires=size(counts.hires),
        departures=size(counts.departures), unchanged=size(counts.unchanged),
        departure_pending=len(pv.departure_pending), renamed=len(pv.renamed),
        departures_need_confirmation=pv.departures_need_confirmation, ignored_columns=list(pv.unknown_columns),
        committed=done is not None,
        errors=[schemas.FieldError(row=e.row, column=e.column, code=e.code, message=str(e.message))
                for e in pv.errors])
