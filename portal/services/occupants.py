"""Checking the people in a report: identity documents, names, dates, duplicates."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from portal.models import IdType
from portal.services import identity
from portal.services.errors import FieldError

DOC_PATTERNS = {
    IdType.passport: re.compile(r"[A-Z0-9]{5,20}", re.ASCII),
    IdType.hk_macau_permit: re.compile(r"[HM][0-9]{8,10}", re.ASCII),
    IdType.taiwan_permit: re.compile(r"[0-9]{8}([0-9]{2})?", re.ASCII),
    IdType.foreign_permanent_id: re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X]", re.ASCII),
}
RELATIONS = ("main_tenant", "spouse", "child", "parent", "relative", "roommate", "other")


@dataclass
class Occupant:
    id_type: IdType
    id_number: str
    name: str
    sex: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    occupation: str | None = None
    workplace: str | None = None
    relation: str | None = None
    region_known: bool = True

    def as_payload(self) -> dict:
        return {"id_type": str(self.id_type), "id_number": self.id_number, "name": self.name, "sex": self.sex,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None, "phone": self.phone,
                "occupation": self.occupation, "workplace": self.workplace, "relation": self.relation}


def _free_text(raw: str | None, limit: int, field: str) -> str | None:
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        return None
    if len(value) > limit:
        raise FieldError("too_long", _l("Use at most %(n)d characters.", n=limit), field)
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise FieldError("invalid_chars", _l("Remove the invisible or control characters."), field)
    return value


def _check_document(raw: dict, errors: list[FieldError], *, today: date | None
                    ) -> tuple[IdType | None, str | None, str | None, date | None, bool]:
    """The identity document: its type, its number, and what a resident ID number says (sex, birth, region)."""
    try:
        id_type = IdType(raw.get("id_type") or IdType.resident_id)
    except ValueError:
        errors.append(FieldError("invalid_choice", _l("Choose the type of identity document."), "id_type"))
        return None, None, None, None, True
    if id_type == IdType.resident_id:
        try:
            rid = identity.check_resident_id(raw.get("id_number"), today=today)
        except FieldError as err:
            errors.append(err.at("id_number"))
            return id_type, None, None, None, True
        return id_type, rid.number, rid.sex, rid.birth_date, rid.region_known
    number = identity.normalise(raw.get("id_number")).replace(" ", "")
    if not number:
        errors.append(FieldError("required", _l("Enter the document number."), "id_number"))
    elif not DOC_PATTERNS[id_type].fullmatch(number):
        errors.append(FieldError("format", _l("This does not look like a number of this type of document."),
                                 "id_number"))
    return id_type, number, None, None, True


def check_occupant(raw: dict, *, today: date | None = None) -> tuple[Occupant | None, list[FieldError]]:
    """Validate one person. Returns what is valid and every error, each tagged with its field name."""
    errors: list[FieldError] = []
    id_type, number, sex, birth, region_known = _check_document(raw, errors, today=today)
    name = phone = None
    try:
        name = identity.check_name(raw.get("name"))
    except FieldError as err:
        errors.append(err.at("name"))
    if (raw.get("phone") or "").strip():
        try:
            phone = identity.check_mobile(raw.get("phone"))
        except FieldError as err:
            errors.append(err.at("phone"))
    relation = raw.get("relation") or None
    if relation is not None and relation not in RELATIONS:
        errors.append(FieldError("invalid_choice", _l("Choose how this person is related to the main tenant."),
                                 "relation"))
    occupation = workplace = None
    try:
        occupation = _free_text(raw.get("occupation"), 60, "occupation")
        workplace = _free_text(raw.get("workplace"), 100, "workplace")
    except FieldError as err:
        errors.append(err)
    if errors:
        return None, errors
    return Occupant(id_type=id_type, id_number=number, name=name, sex=sex, birth_date=birth, phone=phone,
                    occupation=occupation, workplace=workplace, relation=relation,
                    region_known=region_known), []


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


def derived(raw: dict) -> dict:
    """What a resident ID number says about its holder, to show (never to type) on the check page."""
    if (raw.get("id_type") or "resident_id") != IdType.resident_id:
        return {}
    try:
        rid = identity.check_resident_id(raw.get("id_number"))
    except FieldError:
        return {}
    return {"sex": rid.sex, "birth_date": rid.birth_date.isoformat(), "masked": rid.masked}


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
