"""The JSON shapes of the API: request and response schemas for the OpenAPI document, and a check of request
bodies against their schema's structure (types, required and unknown members).

Only the structure is checked here. What the values mean (a real date, a valid ID number, a known address,
one of the enumerated codes) is decided by the services, exactly as for the web forms.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import AddressLevel, HouseUse, IdType, RecordStatus, SubmissionKind, SubmissionStatus
from portal.models.unit import SpecialTrade, UnitType
from portal.services.errors import FieldError
from portal.services.flags import REPORTER_VISIBLE
from portal.services.occupants import RELATIONS
from portal.services.reporting import MAX_PEOPLE_PER_REPORT

ID_TYPES = [e.value for e in IdType]
USES = [e.value for e in HouseUse]
UNIT_TYPES = [e.value for e in UnitType]
SPECIAL_TRADES = [e.value for e in SpecialTrade]
LEVELS = [e.value for e in AddressLevel]
KINDS = [e.value for e in SubmissionKind]
STATUSES = [e.value for e in SubmissionStatus]
RECORD_STATUSES = [e.value for e in RecordStatus]
FLAGS = sorted(REPORTER_VISIBLE)  # flags about other people's records are for officers only


def string(description: str | None = None, **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def nullable(schema: dict) -> dict:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": [*types, "null"]}
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | tuple[str, ...] = (), *, closed: bool = True,
        description: str | None = None) -> dict:
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


DATE = string("A calendar date, YYYY-MM-DD.", format="date", examples=["2026-03-05"])
DATETIME = string("A time in UTC, RFC 3339.", format="date-time")

# --- requests -----------------------------------------------------------------------------------

REQUESTS = {
    "HouseRequest": obj({
        "address_code": string("The standard address code (on the door plate's QR code) of the room or "
                               "building; see GET /addresses.", examples=["7Q2M4H9KXD"]),
        "use": string(enum=USES),
        "max_occupants": {"type": "integer", "description": "The most people who can live here."},
        "certificate_no": nullable(string("Property certificate number, as printed.")),
    }, ["address_code", "use", "max_occupants"]),
    "Occupant": obj({
        "id_type": string(enum=ID_TYPES),
        "id_number": string("The document number; for resident_id the 18-character number."),
        "name": string("Full name, as on the document."),
        "phone": nullable(string("Mainland mobile number.")),
        "occupation": nullable(string()),
        "relation": nullable(string("Relation to the main tenant.", enum=list(RELATIONS))),
    }, ["id_type", "id_number", "name"]),
    "MoveInRequest": obj({
        "move_in_date": DATE,
        "lease_end_date": nullable(DATE),
        "occupants": {"type": "array", "items": ref("Occupant"), "minItems": 1,
                      "maxItems": MAX_PEOPLE_PER_REPORT},
    }, ["move_in_date", "occupants"]),
    "MoveOutRequest": obj({"move_out_date": DATE}, ["move_out_date"]),
    "UnitRequest": obj({
        "uscc": string("Unified social credit code (统一社会信用代码), 18 characters."),
        "name": string(),
        "unit_type": string(enum=UNIT_TYPES),
        "industry": string("Free text."),
        "special_trade": nullable(string("Set for trades under special police oversight.",
                                         enum=SPECIAL_TRADES)),
        "address_code": string("The standard address code of the workplace."),
        "legal_rep_name": string(),
        "legal_rep_id_number": string(),
        "contact_name": string(),
        "contact_phone": string(),
    }, ["uscc", "name", "unit_type", "industry", "address_code", "legal_rep_name", "legal_rep_id_number",
        "contact_name", "contact_phone"]),
}

# --- responses ----------------------------------------------------------------------------------

FIELD_ERROR = obj({
    "field": nullable(string("The request member at fault, as a dotted path (occupants.0.id_number), a query "
                             "parameter or a header name; null for the request as a whole.")),
    "row": {"type": "integer", "description": "Spreadsheet row, the header being row 1 (file uploads)."},
    "column": nullable(string("Column name (file uploads).")),
    "code": string("A stable lower-case code, for example required, checksum, invalid_date, numeric_id_cell, "
                   "duplicate_in_file."),
    "message": string("What is wrong, in the language of Accept-Language."),
}, ["code", "message"])

RESPONSES = {
    "Problem": obj({
        "type": string("urn:portal:problem: followed by the kind of problem.", format="uri"),
        "title": string(),
        "status": {"type": "integer"},
        "detail": string(),
        "instance": string("This request, for support.", format="uri"),
        "errors": {"type": "array", "items": ref("FieldError")},
    }, ["type", "title", "status", "detail", "errors"], description="RFC 9457 problem details."),
    "FieldError": FIELD_ERROR,
    "Address": obj({"code": string(), "text": string(), "level": string(enum=LEVELS)},
                   ["code", "text", "level"]),
    "Tenancy": obj({
        "id": {"type": "integer", "description": "Use with POST /tenancies/{id}/move-out."},
        "submission_id": {"type": "integer", "description": "The move-in that declared this person."},
        "name": string(),
        "id_type": string(enum=ID_TYPES),
        "id_number_masked": string(examples=["430302********1234"]),
        "move_in_date": DATE,
        "lease_end_date": nullable(DATE),
        "record_status": string(enum=RECORD_STATUSES),
    }, ["id", "submission_id", "name", "id_type", "id_number_masked", "move_in_date", "lease_end_date",
        "record_status"]),
    "House": obj({
        "id": {"type": "integer"},
        "address_code": string(),
        "address": string(),
        "use": string(enum=USES),
        "max_occupants": {"type": "integer"},
        "certificate_no": nullable(string()),
        "record_status": string("Where the house stands in the register.", enum=RECORD_STATUSES),
        "tenancies": {"type": "array", "items": ref("Tenancy"),
                      "description": "Who lives here now, as reported."},
    }, ["id", "address_code", "address", "use", "max_occupants", "certificate_no", "record_status",
        "tenancies"]),
    "HouseCreated": obj({"id": {"type": "integer"}, "submission_id": {"type": "integer"},
                         "status": string(enum=STATUSES),
                         "flags": {"type": "array", "items": ref("Flag"), "description": (
                             "claimed_by_another: another reporter's house stands at this address; the "
                             "police will check which claim is true.")}},
                        ["id", "submission_id", "status", "flags"]),
    "Flag": obj({
        "code": string(enum=FLAGS),
        "message": string(),
        "person": nullable({"type": "integer", "description": "Index of the person in the report."}),
    }, ["code", "message", "person"],
        description="Something the officer will look at; never blocks a report."),
    "MoveInCreated": obj({
        "submission_id": {"type": "integer"},
        "receipt": string("The receipt number."),
        "status": string(enum=STATUSES),
        "late": {"type": "boolean"},
        "flags": {"type": "array", "items": ref("Flag")},
        "tenancy_ids": {"type": "array", "items": {"type": "integer"},
                        "description": "One per occupant, in the order sent."},
    }, ["submission_id", "receipt", "status", "late", "flags", "tenancy_ids"]),
    "MoveOutCreated": obj({"submission_id": {"type": "integer"}, "receipt": string(),
                           "status": string(enum=STATUSES)}, ["submission_id", "receipt", "status"]),
    "Decision": obj({
        "status": string(enum=["confirmed", "rejected", "site_visit"]),
        "reason": {"oneOf": [obj({"code": nullable(string("A stable reason code, as listed for rejections.")),
                                  "message": nullable(string("The reason in words.")),
                                  "text": nullable(string("What the officer wrote to you."))},
                                 ["code", "message", "text"]), {"type": "null"}]},
        "decided_at": DATETIME,
    }, ["status", "reason", "decided_at"], description="The police's latest decision."),
    "Submission": obj({
        "id": {"type": "integer"},
        "kind": string(enum=KINDS),
        "status": string(enum=STATUSES),
        "receipt": string(),
        "submitted_at": DATETIME,
        "due_at": nullable(DATETIME),
        "late": {"type": "boolean"},
        "flags": {"type": "array", "items": ref("Flag")},
        "house_id": nullable({"type": "integer"}),
        "unit_id": nullable({"type": "integer"}),
        "decision": {"oneOf": [ref("Decision"), {"type": "null"}]},
    }, ["id", "kind", "status", "receipt", "submitted_at", "due_at", "late", "flags", "house_id", "unit_id",
        "decision"]),
    "SubmissionPage": obj({
        "items": {"type": "array", "items": ref("Submission")},
        "next_cursor": nullable(string("Pass as ?cursor= for the next page; null on the last page.")),
    }, ["items", "next_cursor"]),
    "Unit": obj({
        "id": {"type": "integer"},
        "uscc": string(),
        "name": string(),
        "unit_type": string(enum=UNIT_TYPES),
        "industry": string(),
        "special_trade": nullable(string(enum=SPECIAL_TRADES)),
        "address_code": string(),
        "address": string(),
        "record_status": string(enum=RECORD_STATUSES),
    }, ["id", "uscc", "name", "unit_type", "industry", "special_trade", "address_code", "address",
        "record_status"]),
    "UnitCreated": obj({"id": {"type": "integer"}, "submission_id": {"type": "integer"},
                        "status": string(enum=STATUSES)}, ["id", "submission_id", "status"]),
    "StaffImportResult": obj({
        "rows": {"type": "integer", "description": "Data rows in the file."},
        "valid": {"type": "integer"},
        "invalid": {"type": "integer"},
        "hires": {"type": "integer"},
        "departures": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "departure_pending": {"type": "integer", "description": (
            "People in the file whose departure is already waiting for the police: the list does not take it "
            "back (withdraw that report if they still work here), and they are not hired again.")},
        "ignored_columns": {"type": "array", "items": {"type": "string"}, "description": (
            "Columns of the file that are not staff-list columns; their cells were not read.")},
        "committed": {"type": "boolean", "description": "False for a dry run, or when nothing was written."},
        "errors": {"type": "array", "items": ref("FieldError")},
    }, ["rows", "valid", "invalid", "hires", "departures", "unchanged", "departure_pending", "ignored_columns",
        "committed", "errors"]),
}

# --- checking request bodies ---------------------------------------------------------------------

_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict,
               "null": type(None)}
MESSAGES = {
    "required": _l("This is required."),
    "type": _l("This has the wrong type of value: see the API description."),
    "unknown_field": _l("This is not a field of this request."),
    "invalid_choice": _l("This is not one of the values listed in the API description."),
    "invalid_text": _l("This holds a character that is not text (a NUL character or half of a surrogate "
                       "pair): send it as UTF-8 text."),
    "invalid_number": _l("This is not a whole number in the range given in the API description."),
}
# What no string of a request may hold: NUL (PostgreSQL cannot store it) and a lone UTF-16 surrogate, which
# JSON's \ud800 escape can carry but no UTF-8 text can (it fails wherever the string is encoded).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def _resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return REQUESTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is(value: Any, type_name: str) -> bool:
    if type_name == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES[type_name])


def check(schema_name: str, value: Any) -> list[FieldError]:
    """Every structural error in a request body, each with its dotted path."""
    errors: list[FieldError] = []
    _check(REQUESTS[schema_name], value, "", errors)
    return errors


def _error(code: str, path: str) -> FieldError:
    return FieldError(code, MESSAGES[code], path or None)


def _check(schema: dict, value: Any, path: str, errors: list[FieldError]) -> None:
    schema = _resolve(schema)
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not any(_is(value, t) for t in types):
        errors.append(_error("type", path))
        return
    if isinstance(value, str) and _NOT_TEXT.search(value):
        errors.append(_error("invalid_text", path))
        return
    if isinstance(value, dict):
        props = schema.get("properties", {})
        required = schema.get("required", [])
        for name in required:
            if value.get(name) is None:
                errors.append(_error("required", _join(path, name)))
        for name, member in value.items():
            if _NOT_TEXT.search(name):
                errors.append(_error("invalid_text", _join(path, _shown(name))))
            elif name not in props:
                if schema.get("additionalProperties") is False:
                    errors.append(_error("unknown_field", _join(path, str(name))))
            elif not (member is None and name in required):  # a missing required member is reported once
                _check(props[name], member, _join(path, name), errors)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value[:1000]):
            _check(schema["items"], item, _join(path, str(index)), errors)


def _shown(name: str) -> str:
    """A member name that cannot be text, as it can be shown: \\ud800 and \\x00 escaped."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
