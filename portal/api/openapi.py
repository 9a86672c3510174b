"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json and generated, not written: the schemas
from the pydantic models of portal/api/schemas.py, the paths from the app's route table and the `operation`
each API view declares, the error codes, problem types, staff-list columns and limits from the code that
uses them. tests/integration/api/test_openapi.py keeps it true against the routes and real responses."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_babel import force_locale
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.routing import Rule

from portal.api import problems, schemas
from portal.config import API_ACCOUNT_RATE_LIMIT, API_RATE_LIMIT
from portal.services import staff_import
from portal.services.addresses import MAX_PAGE_SIZE, PAGE_SIZE
from portal.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from portal.services.idempotency import KEEP_FOR as IDEMPOTENCY_KEPT
from portal.services.paging import PAGE_SIZE as SUBMISSIONS_PAGE_SIZE
from portal.services.reporting import MAX_PEOPLE_PER_REPORT

VERSION = "1.0.0"
PREFIX = "/api/v1"
KEPT_HOURS = int(IDEMPOTENCY_KEPT.total_seconds()) // 3600
REF = "#/components/schemas/{model}"
MAX_ID = 2147483647  # a larger id would overflow the database's integer: the routes answer 404
ID = f"int(min=1, max={MAX_ID})"  # the converter of every id in a path
_PATH_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")

# --- what a view declares ----------------------------------------------------------------------------

UPLOAD = "multipart/form-data"


@dataclass(frozen=True)
class Operation:
    """One operation of the document, declared by its view with @operation(...)."""

    id: str
    summary: str
    ok: tuple[int, Any, str]  # status, response model (or [Model] for a list), description
    errors: tuple[int, ...] = ()  # problem statuses besides those every operation of its kind may answer
    body: Any = None  # a request model, or UPLOAD
    parameters: tuple[dict, ...] = ()
    description: str | None = None
    links: dict = field(default_factory=dict)
    ok_headers: dict = field(default_factory=dict)
    also: dict = field(default_factory=dict)  # other success statuses: status -> (model, description)
    path_ids: dict = field(default_factory=dict)  # path parameter -> what it is the id of


def operation(**declared: Any):
    def mark(view):
        view.openapi = Operation(**declared)
        return view

    return mark


def query(name: str, schema: dict, description: str | None = None, *, required: bool = False) -> dict:
    out = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        out["description"] = description
    return out


def link(operation_id: str, description: str, **parameters: str) -> dict:
    """How a response leads on: which operation takes which of its values."""
    return {"operationId": operation_id, "description": description, "parameters": parameters}


SUBMISSION_LINK = {"GetSubmission": link("submissions_get", "Poll the status of the report.",
                                         submission_id="$response.body#/submission_id")}
TRUE_FALSE = {"type": "string", "enum": ["true", "false"]}
# Houses belong to landlords and units to employers: for a token of the other role they do not exist.
LANDLORD_ONLY = "Landlord tokens only; for an employer's token this is a 404, as the page is in the portal."
EMPLOYER_ONLY = "Employer tokens only; for a landlord's token this is a 404, as the page is in the portal."

# --- what the API answers when something is wrong -----------------------------------------------------

PROBLEM_STATUSES = {
    400: "The body is not valid JSON, or the Idempotency-Key header is malformed.",
    401: "No token, or a revoked or unknown token.",
    404: "Nothing here, or it belongs to another account.",
    409: "What is recorded now stands in the way (the house or unit is registered already, the person has "
         "moved out or their move-out is reported already; see `errors`), or a request with this "
         "Idempotency-Key is still running (with `Retry-After`).",
    413: "The body or file is too large.",
    415: "The body is not of the content type this operation accepts.",
    422: "The request has errors, listed in `errors`; or the Idempotency-Key was used for another request.",
    429: "Too many requests from this token, or from all the tokens of its account together.",
    500: "Something went wrong on our side.",
    503: "The service is busy; try again in a moment.",
}
READ = (401, 429, 500, 503)
WRITE = (400, 401, 409, 413, 415, 422, 429, 500, 503)

# Every code an error of the API can carry (FieldError.code), and what it means. tests/integration/api/
# test_openapi.py fails when a service or the API can raise a code that is not here.
ERROR_CODES = {
    # the request itself
    "required": "A required member, parameter or file is missing (or null, or only spaces).",
    "type": "A member has the wrong JSON type (a string where an integer is declared, ...).",
    "unknown_field": "The body has a member that this request does not declare.",
    "invalid_text": "A string holds a NUL character or a lone UTF-16 surrogate: not UTF-8 text.",
    "invalid_choice": "The value is not one of the values the document lists for it.",
    "invalid_number": "Not a whole number in the range the document gives.",
    "invalid_cursor": "The cursor is not one this API gave: start again from the first page.",
    "invalid_idempotency_key": "The Idempotency-Key header is empty, too long or not visible ASCII.",
    "idempotency_key_reused": "This Idempotency-Key was used for a different request.",
    # values
    "too_long": "Longer than the field allows.",
    "invalid_chars": "Holds invisible or control characters.",
    "invalid_date": "Not a real date in the form YYYY-MM-DD (staff lists: also 2024/3/5 or 2024年3月5日).",
    "future_date": "A date that has not come yet.",
    "before_move_in": "A move-out or lease end before the move-in date.",
    "format": "An ID number that is not 17 digits followed by a digit or X (or a document number of the wrong "
              "form).",
    "legacy_id": "A 15-digit ID number: only the 18-character number is accepted.",
    "birth_date": "The birth date inside the ID number does not exist, or is not plausible.",
    "checksum": "The check character of the ID number or social credit code is wrong: a mistyped character.",
    "phone": "Not a mainland China mobile number of 11 digits.",
    "invalid_country": "A nationality that is not an ISO 3166-1 alpha-3 code (nor a country's name as listed).",
    "before_birth": "A visa or residence permit that ends before the holder's date of birth.",
    "name_chars": "A name with characters other than letters, ·, spaces, apostrophes and hyphens.",
    "duplicate_person": "The same person twice in one report.",
    "too_many": f"More than {MAX_PEOPLE_PER_REPORT} people in one report.",
    # addresses, houses, units
    "unknown_address": "No standard address has this code.",
    "address_level": "A door plate's address: register at a room or building.",
    "house_exists": "You have registered a house at this address already (409).",
    "unit_exists": "This social credit code is registered already (409).",
    "unit_not_active": "The unit's registration was rejected or withdrawn: register it again first.",
    "address_retired": "The address is retired: no new report is accepted on it; the message names the address "
                       "that replaced it, if any (409).",
    # what is recorded
    "already_living_here": "The person lives in this house already, as reported (409).",
    "already_employed": "The person is on this unit's staff list already (409).",
    "already_reported": "This person's move-out is reported already (409).",
    "not_current": "The person does not live here any more (409).",
    # staff lists: the file
    "empty_file": "The file is empty.",
    "too_large": "The file is larger than the upload limit, or its sheet is too wide.",
    "unsupported_type": "Neither CSV nor XLSX (an .xls or .xlsb workbook: save it as .xlsx).",
    "corrupt": "The file cannot be read as the spreadsheet it claims to be.",
    "encrypted": "The workbook is protected by a password.",
    "macros": "The workbook holds macros: save it as a plain .xlsx.",
    "zip_bomb": "The workbook unpacks to far more than it holds: refused unread.",
    "no_header": "The first row does not name the columns.",
    "missing_columns": "A required staff-list column is missing.",
    "too_many_rows": "More rows than one list may hold.",
    "departures_unconfirmed": "A complete list would report many people as having left: send it again with "
                              "confirm_departures=true once they have (422).",
    # staff lists: a row (with `row` and `column`)
    "numeric_id_cell": "Excel stored the ID number as a number and lost its last digits.",
    "duplicate_in_file": "The same person on two rows of the file.",
    "serial_date": "A number where a date belongs (an Excel date serial).",
    "invalid_sex": "Not 男 or 女 (or M or F).",
    "sex_mismatch": "The sex does not match the ID number.",
    "nul_byte": "The cell holds a NUL character.",
    "field_too_long": f"A cell of more than {staff_import.MAX_FIELD} characters.",
    "id_type": "The ID number is not text.",
}

RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the window shown: of the token or of its account, "
                                         "whichever is nearer its end.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in that window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "The Unix time at which that window ends.", "schema": {"type": "integer"}},
}
RETRY_AFTER = {"description": "Seconds to wait before sending the request again.", "schema": {"type": "integer"}}
REPLAYED = {"description": "Present (true) when this is the stored response to an earlier request with this "
                           "key.", "schema": {"type": "string", "enum": ["true"]}}
IDEMPOTENCY_KEY = {"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                   "description": "Makes a retry of this request harmless: see the introduction.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"}}


HEADERS = {**RATE_HEADERS, "Retry-After": RETRY_AFTER, "Idempotent-Replayed": REPLAYED}


def _headers(names) -> dict:
    """The headers, written out in each response (generated clients read them there)."""
    return {name: HEADERS[name] for name in names}


def _problem(status: int, *, token: bool) -> dict:
    out: dict = {"description": PROBLEM_STATUSES[status],
                 "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}}
    headers = _headers(RATE_HEADERS) if token and status != 401 else {}
    if status in (409, 429, 503):
        headers = {**headers, **_headers(["Retry-After"])}
    if headers:
        out["headers"] = headers
    return out


# --- the introduction ---------------------------------------------------------------------------------

DESCRIPTION = f"""\
The API of the resident reporting portal (一标三实) for property managers and employers' HR systems.

**Authentication.** Create a personal API token in your account settings (/account/tokens) and send it
as `Authorization: Bearer <token>`. A token acts as its owner, with exactly the owner's rights: it reaches
only the owner's houses, units and reports. Only landlord and employer accounts may hold tokens. Cookies
are neither needed nor used.

**Retries never duplicate.** Every POST accepts an `{IDEMPOTENCY_HEADER}` header (1 to 200 visible ASCII
characters, for example a UUID). The first response to a key is stored for {KEPT_HOURS} hours;
sending the same request with the same key again returns that response (with `Idempotent-Replayed: true`) and
changes nothing. While the first request is still running, a duplicate waits for it and gets its response, or
gets 409 with `Retry-After` (the first has not finished; send it again then); the same key with a different
request gets 422. The work and its stored response are saved in one transaction: never one without the other.
Only a request that was carried out (2xx) is stored: one refused (400, 409, 415, 422, ...) or failed (5xx)
leaves the key free, so the corrected request may be sent with the same key. After that time a retry with the
key is still never filed twice: it answers with the report the first request filed.

**Errors** are `application/problem+json` (RFC 9457). `errors` lists every problem found, each with a
stable lower-case `code` and a `message`, and either the `field` at fault (a dotted path into the JSON body,
such as `occupants.0.id_number`, or a query parameter or header name) or, for file uploads, the spreadsheet
`row` (the header is row 1) and `column`. Nothing is saved when a request has errors. Every code is listed,
with its meaning, in `x-error-codes` of the `FieldError` schema's `code`, and every problem `type` in
`x-problem-types` of the `Problem` schema's `type`; new codes may be added, so treat an unknown one as a
refusal of that field.

**Language.** Messages follow `Accept-Language`: Chinese by default, English for `en`.

**Rate limits.** {API_RATE_LIMIT} per token and {API_ACCOUNT_RATE_LIMIT} for all the tokens of one account
together, by default, counted in fixed windows; beyond either, 429 with `Retry-After` (seconds until the
window ends). Every answer to a valid token carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (the Unix time at which the window ends), for the window nearer its end.

**Limits.** A move-in reports 1 to {MAX_PEOPLE_PER_REPORT} people; a name has at most {schemas.NAME_MAX}
characters; dates are written `YYYY-MM-DD` (a staff list also takes `2024/3/5` and `2024年3月5日`).

**Lists.** `GET /submissions` returns pages of {SUBMISSIONS_PAGE_SIZE}, newest first; pass `next_cursor`
back as `cursor` until it is null. `GET /addresses` answers a JSON list, one page of it ({PAGE_SIZE} by default,
at most {MAX_PAGE_SIZE}), and says in headers how many match (`X-Total-Count`) and where the next page is
(`Link: <...>; rel="next"`, absent on the last).
"""


# --- the staff list ------------------------------------------------------------------------------------

def staff_columns() -> list[dict]:
    """The staff list's columns as staff_import reads them: the names it knows in Chinese and English."""
    out = []
    for column in staff_import.COLUMNS:
        names = staff_import.ALIASES[column]
        out.append({"column": column, "required": column in staff_import.REQUIRED,
                    "chinese": [n for n in names if not n.isascii()], "english": [n for n in names if n.isascii()]})
    return out


def staff_columns_text() -> str:
    lines = [f"- `{c['column']}` ({'required' if c['required'] else 'optional'}): "
             + ", ".join(c["chinese"] + c["english"]) for c in staff_columns()]
    return "\n".join(lines)


STAFF_IMPORT = (
    "The whole file is checked before anything is written; rows with errors are never sent, the valid rows "
    "are. With `dry_run=true` nothing is written and the response says what the import would do. With "
    "`full_list=true` (the default) people on the unit's current list who are missing from the file are "
    "reported as departures; with `false` the file only adds people. Importing the same content twice "
    "changes nothing. Row numbers count the header as row 1. " + EMPLOYER_ONLY + "\n\n"
    "The first row names the columns, in Chinese or English (case, full-width letters, runs of spaces and a "
    "note in brackets, as in 姓名（必填）, do not matter); other columns are listed in `ignored_columns` and "
    "not read:\n\n")


def _upload_body() -> dict:
    return {UPLOAD: {"schema": {
        "type": "object", "required": ["file"], "additionalProperties": False,
        "properties": {"file": {
            "type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
            "description": "The staff list, .csv (UTF-8 or GB18030) or .xlsx.",
            "x-staff-columns": staff_columns()}}}}}


# --- assembling -----------------------------------------------------------------------------------------

class _Generator(GenerateJsonSchema):
    """Model schemas without a title on each property: generated clients name their enum and object types
    after the property (OccupantIdType), not after a title."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def nullable_schema(self, schema):
        """`"type": ["string", "null"]` for a nullable value of one plain type (as JSON Schema writes it, and as
        test generators negate it best); pydantic's anyOf with null only around a reference."""
        inner = self.generate_inner(schema["schema"])
        if not isinstance(inner.get("type"), str):
            return {"anyOf": [inner, {"type": "null"}]}
        out = {**inner, "type": [inner["type"], "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out


def components() -> dict:
    _, defs = models_json_schema([(m, "validation") for m in schemas.REQUESTS]
                                 + [(m, "serialization") for m in schemas.RESPONSES],
                                 ref_template=REF, schema_generator=_Generator)
    out = defs["$defs"]
    out["FieldError"]["properties"]["code"]["x-error-codes"] = dict(sorted(ERROR_CODES.items()))
    out["Problem"]["properties"]["type"]["x-problem-types"] = {
        problems.TYPE_PREFIX + kind: {"status": status, "title": str(title)}
        for kind, (status, title, _detail) in problems.KINDS.items()}
    return out


def _response_schema(model: Any) -> dict:
    if model is None:
        return {"type": "object"}
    if isinstance(model, list):
        return {"type": "array", "items": {"$ref": REF.format(model=model[0].__name__)}}
    return {"$ref": REF.format(model=model.__name__)}


def _ok(model: Any, description: str, *, headers: dict, links: dict | None = None) -> dict:
    out: dict = {"description": description, "content": {"application/json": {"schema": _response_schema(model)}}}
    if headers:
        out["headers"] = headers
    if links:
        out["links"] = links
    return out


def _path_parameters(rule: Rule, op: Operation) -> list[dict]:
    return [{"name": name, "in": "path", "required": True,
             "description": f"The id of the {op.path_ids.get(name, name.removesuffix('_id'))}.",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}} for name in sorted(rule.arguments)]


def _operation(rule: Rule, view) -> dict:
    op: Operation = view.openapi
    public = getattr(view, "access", None) == "public"
    write = op.body is not None
    rate = {} if public else _headers(RATE_HEADERS)
    replay = _headers(["Idempotent-Replayed"]) if write else {}
    status, model, description = op.ok
    out: dict = {"operationId": op.id, "summary": op.summary, "tags": [op.id.split("_")[0]],
                 "parameters": [*_path_parameters(rule, op), *op.parameters],
                 "responses": {str(status): _ok(model, description, headers={**rate, **replay, **op.ok_headers},
                                                links=op.links)}}
    if op.description:
        out["description"] = op.description
    if public:
        out["security"] = []
        return out
    if write:
        content = _upload_body() if op.body == UPLOAD else {
            "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}}
        out["requestBody"] = {"required": True, "content": content}
        out["parameters"].append(IDEMPOTENCY_KEY)
    for code, (other, text) in op.also.items():
        out["responses"][str(code)] = _ok(other, text, headers={**rate, **replay})
    for code in sorted({*(WRITE if write else READ), *op.errors}):
        out["responses"][str(code)] = _problem(code, token=True)
    return out


def build(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        if not isinstance(getattr(view, "openapi", None), Operation):
            raise LookupError(f"{rule.endpoint} is under {PREFIX} but declares no @operation")
        path = _PATH_ARGUMENT.sub(r"{\1}", rule.rule[len(PREFIX):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Resident Reporting Portal API", "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal API token (ptk_…)."}},
            "schemas": components(),
        },
    }


def document(app: Flask) -> dict:
    """The document of this app (its routes), built once."""
    if "portal.openapi" not in app.extensions:
        with force_locale("en"):  # the document is in English, whichever request builds it first
            app.extensions["portal.openapi"] = build(app)
    return copy.deepcopy(app.extensions["portal.openapi"])
