"""Checking the people in a report: identity documents, names, dates, duplicates."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from portal.models import IdType
from portal.services import declarations, identity
from portal.services.errors import FieldError

DOC_PATTERNS = declarations.DOC_PATTERNS
RELATIONS = declarations.RELATIONS
Occupant = declarations.Checked  # one person as checked: their declared values by field name


def check_occupant(raw: dict, *, today: date | None = None) -> tuple[Occupant | None, list[FieldError]]:
    """Validate one person by the occupant's declaration. Returns what is valid and every error, each
    tagged with its field name."""
    return declarations.check(declarations.Occupant, raw, today=today or date.today())


def check_event_date(raw: date | str | None, field: str, *, today: date, required: bool = True) -> date | None:
    if raw in (None, ""):
        if required:
            raise FieldError("required", _l("Enter the date."), field)
        return None
    if isinstance(raw, str):
        try:
            raw = date.fromisoformat(raw.strip())
        except ValueError:
            raise FieldError("invalid_date", _l("Enter a real date, like 2026-03-05."), field) from None
    if raw.year < 1900:
        raise FieldError("invalid_date", _l("Enter a real date, like 2026-03-05."), field)
    return raw


def age_on(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def same_number(a: dict, b: dict) -> bool:
    return identity.normalise(a.get("id_number")).replace(" ", "") == \
        identity.normalise(b.get("id_number")).replace(" ", "")


def checked_people(people: list[dict], *, today: date | None = None) -> list[dict]:
    """The people of a draft as their declaration checks them (a resident ID number's sex and birth date
    filled in, a nationality as its code), for the reporter's own check page: what they typed, in full. A
    person who no longer checks (a date that was today is now in the future) is shown as typed."""
    out = []
    for raw in people:
        person, _errors = check_occupant(raw, today=today)
        out.append(declarations.payload(declarations.Occupant, person) if person is not None else raw)
    return out


def check_report_person(raw: dict, people: list[dict], *, index: int, today: date | None = None
                        ) -> list[FieldError]:
    """One person of a report written page by page: the person's own checks, then nobody twice.
    The same rule as check_move_in applies to the whole report when it is sent."""
    person, errors = check_occupant(raw, today=today)
    if person is None:
        return errors
    for i, other in enumerate(people):
        if i != index and (other.get("id_type") or IdType.resident_id) == person.id_type \
                and same_number(other, raw):
            return [FieldError("duplicate_person", _l("This person is already in this report as person %(n)d.",
                                                      n=i + 1), "id_number")]
    return []
