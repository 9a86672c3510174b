"""Request bodies are parsed by their pydantic models, with the API's own error codes at dotted paths."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.api import schemas
from portal.services.errors import ValidationFailed
from portal.services.reporting import MAX_PEOPLE_PER_REPORT


def errors_of(model, data) -> list[tuple[str | None, str]]:
    with pytest.raises(ValidationFailed) as failed:
        schemas.parse(model, data)
    return [(e.field, e.code) for e in failed.value.errors]


def person(**extra) -> dict:
    return {"id_type": "resident_id", "id_number": "430302199001011239", "name": "张三", **extra}


def test_a_valid_body_is_its_model_and_values_are_left_to_the_services():
    parsed = schemas.parse(schemas.MoveInRequest, {"move_in_date": "soon", "occupants": [person(relation="x")]})
    assert parsed.move_in_date == "soon" and parsed.lease_end_date is None  # a real date: the service decides
    assert parsed.occupants[0].relation == "x" and parsed.occupants[0].phone is None


def test_every_structural_error_at_once_each_at_its_path():
    body = {"move_in_date": 5, "occupants": [person(id_number=1, name=None, colour="red"), None, "x"], "extra": 1}
    assert sorted(errors_of(schemas.MoveInRequest, body), key=str) == sorted([
        ("move_in_date", "type"), ("occupants.0.id_number", "type"), ("occupants.0.name", "required"),
        ("occupants.0.colour", "unknown_field"), ("occupants.1", "type"), ("occupants.2", "type"),
        ("extra", "unknown_field")], key=str)


@pytest.mark.parametrize(("value", "code"), [(True, "type"), ("2", "type"), (2.0, "type"), (None, "required")])
def test_json_types_are_exact(value, code):
    body = {"address_code": "X", "use": "vacant", "max_occupants": value}
    assert errors_of(schemas.HouseRequest, body) == [("max_occupants", code)]


def test_a_missing_member_and_a_null_one_are_both_required_and_reported_once():
    assert errors_of(schemas.MoveOutRequest, {}) == [("move_out_date", "required")]
    assert errors_of(schemas.MoveOutRequest, {"move_out_date": None}) == [("move_out_date", "required")]
    assert errors_of(schemas.MoveInRequest, {"move_in_date": "2026-01-01", "occupants": None}) == [
        ("occupants", "required")]


def test_text_that_is_not_text_is_named_and_the_rest_still_checked():
    body = {"move_in_date": "\ud800", "occupants": [person(name="a\x00b", id_number=7)], "k\ud800": 1}
    assert sorted(errors_of(schemas.MoveInRequest, body)) == sorted([
        ("move_in_date", "invalid_text"), ("occupants.0.name", "invalid_text"), ("occupants.0.id_number", "type"),
        ("k\\ud800", "invalid_text")])


def test_more_people_than_a_report_holds_are_not_all_checked():
    """The service refuses too_many; thousands of broken people give one more than that many errors, not all."""
    body = {"move_in_date": "2026-01-01", "occupants": [{"id_type": 1}] * 5000}
    errors = errors_of(schemas.MoveInRequest, body)
    assert {path.split(".")[1] for path, _code in errors} == {str(i) for i in range(MAX_PEOPLE_PER_REPORT + 1)}
    parsed = schemas.parse(schemas.MoveInRequest, {"move_in_date": "d", "occupants": [person()] * 50})
    assert len(parsed.occupants) == MAX_PEOPLE_PER_REPORT + 1  # enough for the service to say too_many


def test_responses_keep_null_members_and_leave_out_those_never_given():
    row = schemas.FieldError(row=3, column=None, code="checksum", message="m")
    assert row.body() == {"row": 3, "column": None, "code": "checksum", "message": "m"}


def test_no_library_private_names_in_the_portal():
    """Rate limiting goes through Flask-Limiter's public interface: no name-mangled or private method of the
    limits library (or any other) is overridden or called."""
    portal = Path(schemas.__file__).resolve().parents[1]
    mangled = re.compile(r"\b_[A-Z][A-Za-z]+__[a-z]\w*")
    found = [(p.name, m.group()) for p in portal.rglob("*.py") for m in mangled.finditer(p.read_text())]
    assert found == []
    assert not (portal / "ratelimit.py").exists()
