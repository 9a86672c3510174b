"""The JSON bodies of the API, declared once as pydantic models: requests are parsed by them, responses are
built from them, and the OpenAPI document's schemas are generated from them (portal/api/openapi.py).

Request models check the structure only (types, required and unknown members, text that is text). What the
values mean (a real date, a valid ID number, a known address, one of the listed codes) is decided by the
services, exactly as for the web forms, so that both say the same thing in the same words: the enumerations
below are declared in the document for clients, and checked by the services.
"""

import re
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from portal.models import AddressLevel, HouseUse, IdType, RecordStatus, SubmissionKind, SubmissionStatus
from portal.models.unit import SpecialTrade, UnitType
from portal.services import declarations
from portal.services import errors as service_errors
from portal.services.errors import ValidationFailed
from portal.services.flags import REPORTER_VISIBLE

ID_TYPES = [e.value for e in IdType]
USES = [e.value for e in HouseUse]
UNIT_TYPES = [e.value for e in UnitType]
SPECIAL_TRADES = [e.value for e in SpecialTrade]
LEVELS = [e.value for e in AddressLevel]
KINDS = [e.value for e in SubmissionKind]
STATUSES = [e.value for e in SubmissionStatus]
RECORD_STATUSES = [e.value for e in RecordStatus]
DECIDED = ["confirmed", "rejected", "site_visit"]
FLAGS = sorted(REPORTER_VISIBLE)  # flags about other people's records are for officers only
NAME_MAX = declarations.NAME_MAX

MESSAGES = {
    "required": _l("This is required."),
    "type": _l("This has the wrong type of value: see the API description."),
    "unknown_field": _l("This is not a field of this request."),
    "invalid_choice": _l("This is not one of the values listed in the API description."),
    "invalid_text": _l("This holds a character that is not text (a NUL character or half of a surrogate "
                       "pair): send it as UTF-8 text."),
    "invalid_number": _l("This is not a whole number in the range given in the API description."),
}


About = declarations.About  # what a field is beyond its JSON type: personal data, staff-list column, label ...
text, choice, Date = declarations.text, declarations.choice, declarations.Date
DateTime = text("A time in UTC, RFC 3339.", format="date-time")


Request = declarations.Declaration  # a request body: JSON types exactly, and no member it does not declare


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict:
        return self.model_dump(mode="json", exclude_unset=True)  # a member not given (a row without field) is absent


# --- requests: the reports as declared (services/declarations.py), by the names the document gives them ---

class HouseRequest(declarations.HouseRegistration):
    pass


Occupant = declarations.Occupant


class MoveInRequest(declarations.MoveIn):
    pass


class MoveOutRequest(declarations.MoveOut):
    pass


class UnitRequest(declarations.UnitRegistration):
    pass


# --- responses ----------------------------------------------------------------------------------

class FieldError(Response):
    field: text("The request member at fault, as a dotted path (occupants.0.id_number), a query parameter or "
                "a header name; null for the request as a whole.") | None = None
    row: Annotated[int, WithJsonSchema({"type": "integer", "description": (
        "Spreadsheet row, the header being row 1 (file uploads).")})] | SkipJsonSchema[None] = None
    column: text("Column name (file uploads).") | None = None
    code: text("A stable lower-case code: see `x-error-codes` for every code and what it means.")
    message: text("What is wrong, in the language of Accept-Language.")


class Problem(Response):
    """RFC 9457 problem details."""

    type: text("urn:portal:problem: followed by the kind of problem: see `x-problem-types`.", format="uri")
    title: text()
    status: int
    detail: text()
    instance: text("This request, for support.", format="uri") | SkipJsonSchema[None] = None
    errors: list[FieldError]


class Address(Response):
    code: text()
    text: text()
    level: choice(LEVELS)


class Tenancy(Response):
    id: Annotated[int, WithJsonSchema({"type": "integer", "description": "Use with POST /tenancies/{id}/move-out."})]
    submission_id: Annotated[int, WithJsonSchema({"type": "integer",
                                                  "description": "The move-in that declared this person."})]
    name: text()
    id_type: choice(ID_TYPES)
    id_number_masked: text(examples=["430302********1234"])
    move_in_date: Date
    lease_end_date: Date | None
    record_status: choice(RECORD_STATUSES)


class House(Response):
    id: int
    address_code: text()
    address: text()
    use: choice(USES)
    max_occupants: int
    certificate_no: text() | None
    record_status: choice(RECORD_STATUSES, "Where the house stands in the register.")
    tenancies: list[Tenancy] = Field(description="Who lives here now, as reported.")


class Flag(Response):
    """Something the officer will look at; never blocks a report."""

    code: choice(FLAGS)
    message: text()
    person: Annotated[int, WithJsonSchema({"type": "integer", "description": "Index of the person in the report."})] \
        | None


class HouseCreated(Response):
    id: int
    submission_id: int
    status: choice(STATUSES)
    flags: list[Flag] = Field(description="claimed_by_another: another reporter's house stands at this address; "
                                          "the police will check which claim is true.")


class MoveInCreated(Response):
    submission_id: int
    receipt: text("The receipt number.")
    status: choice(STATUSES)
    late: bool
    flags: list[Flag]
    tenancy_ids: list[int] = Field(description="One per occupant, in the order sent.")


class MoveOutCreated(Response):
    submission_id: int
    receipt: text()
    status: choice(STATUSES)


class DecisionReason(Response):
    code: text("A stable reason code, as listed for rejections.") | None
    message: text("The reason in words.") | None
    text: text("What the officer wrote to you.") | None


class Decision(Response):
    """The police's latest decision."""

    status: choice(DECIDED)
    reason: DecisionReason | None
    decided_at: DateTime


class Submission(Response):
    id: int
    kind: choice(KINDS)
    status: choice(STATUSES)
    receipt: text()
    submitted_at: DateTime
    due_at: DateTime | None
    late: bool
    flags: list[Flag]
    house_id: int | None
    unit_id: int | None
    decision: Decision | None


class SubmissionPage(Response):
    items: list[Submission]
    next_cursor: text("Pass as ?cursor= for the next page; null on the last page.") | None


class Unit(Response):
    id: int
    uscc: text()
    name: text()
    unit_type: choice(UNIT_TYPES)
    industry: text()
    special_trade: choice(SPECIAL_TRADES) | None
    address_code: text()
    address: text()
    record_status: choice(RECORD_STATUSES)


class UnitCreated(Response):
    id: int
    submission_id: int
    status: choice(STATUSES)
    flags: list[Flag] = Field(description="uscc_claimed_by_another: another employer's unit with this credit code "
                                          "stands; the police will check which claim is true.")


def _count(description: str) -> Any:
    return Annotated[int, WithJsonSchema({"type": "integer", "description": description})]


class StaffImportResult(Response):
    rows: _count("Data rows in the file.")
    valid: int
    invalid: int
    hires: int
    departures: int
    unchanged: int
    departure_pending: _count(
        "People in the file whose departure is already waiting for the police: the list does not take it back "
        "(withdraw that report if they still work here), and they are not hired again.")
    renamed: _count(
        "Rows whose ID number is on the roster under another name: neither unchanged nor sent (a mistyped ID "
        "number can hit a colleague's); check them and correct the list or the roster.")
    departures_need_confirmation: bool = Field(
        description="True when the list would report so many people as having left (more than 3, or more than "
                    "a fifth of the roster) that it is imported only with confirm_departures=true.")
    ignored_columns: list[str] = Field(description="Columns of the file that are not staff-list columns; their "
                                                   "cells were not read.")
    committed: bool = Field(description="False for a dry run, or when nothing was written.")
    errors: list[FieldError]


REQUESTS = (HouseRequest, Occupant, MoveInRequest, MoveOutRequest, UnitRequest)
RESPONSES = (Problem, FieldError, Address, Tenancy, House, HouseCreated, Flag, MoveInCreated, MoveOutCreated,
             DecisionReason, Decision, Submission, SubmissionPage, Unit, UnitCreated, StaffImportResult)


# --- parsing request bodies ----------------------------------------------------------------------

# What no string of a request may hold: NUL (PostgreSQL cannot store it) and a lone UTF-16 surrogate, which
# JSON's \ud800 escape can carry but no UTF-8 text can (it fails wherever the string is encoded).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_Error = service_errors.FieldError  # the services' error, beside this module's FieldError body
_ITEMS_CHECKED = 1000  # of any one array: enough for every error a person can act on


def parse(model: type[Request], data: Any) -> Request:
    """The request body as its model, or ValidationFailed with every structural error, each at its dotted
    path and with the API's own code (required, type, unknown_field, invalid_text)."""
    text_errors: list[_Error] = []
    cleaned = _only_text(data, "", text_errors)
    try:
        parsed = model.model_validate(cleaned)
    except ValidationError as invalid:
        raise ValidationFailed(text_errors + [_field_error(e) for e in invalid.errors()]) from None
    if text_errors:
        raise ValidationFailed(text_errors)
    return parsed


def _only_text(value: Any, path: str, errors: list[_Error]) -> Any:
    """The value with every string that is not text found and reported (invalid_text at its path) and blanked,
    so that the model still reports the other errors of the body, and a member name that is not text dropped
    (it is reported as itself, escaped, rather than as an unknown member)."""
    if isinstance(value, str):
        if _NOT_TEXT.search(value):
            errors.append(_Error("invalid_text", MESSAGES["invalid_text"], path or None))
            return ""
        return value
    if isinstance(value, dict):
        out = {}
        for name, member in value.items():
            if _NOT_TEXT.search(name):
                errors.append(_Error("invalid_text", MESSAGES["invalid_text"], _join(path, _shown(name))))
            else:
                out[name] = _only_text(member, _join(path, name), errors)
        return out
    if isinstance(value, list):
        return [_only_text(item, _join(path, str(i)), errors) for i, item in enumerate(value[:_ITEMS_CHECKED])]
    return value


def _field_error(error: dict) -> _Error:
    loc = error["loc"]
    path = ".".join(str(part) for part in loc) or None
    if error["type"] == "missing" or (error.get("input", ...) is None and loc and isinstance(loc[-1], str)):
        code = "required"  # absent, or null where null is not allowed: one error, as for a missing member
    elif error["type"] == "extra_forbidden":
        code = "unknown_field"
    else:
        code = "type"
    return _Error(code, MESSAGES[code], path)


def _shown(name: str) -> str:
    """A member name that cannot be text, as it can be shown: \\ud800 and \\x00 escaped."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
