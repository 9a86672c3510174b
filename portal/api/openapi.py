"""The OpenAPI 3.1 description of the API, served at /api/v1/openapi.json and kept true by a test against
the app's routes."""
from __future__ import annotations

import copy
from functools import cache

from portal.api import schemas
from portal.api.auth import DEFAULT_RATE_LIMIT
from portal.services.addresses import COUNT_CAP, MAX_PAGE_SIZE, PAGE_SIZE
from portal.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from portal.services.idempotency import KEEP_FOR as IDEMPOTENCY_KEPT
from portal.services.paging import PAGE_SIZE as SUBMISSIONS_PAGE_SIZE

VERSION = "1.0.0"
KEPT_HOURS = int(IDEMPOTENCY_KEPT.total_seconds()) // 3600

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
`row` (the header is row 1) and `column`. Nothing is saved when a request has errors.

**Language.** Messages follow `Accept-Language`: Chinese by default, English for `en`.

**Rate limit.** {DEFAULT_RATE_LIMIT} per token by default, counted in fixed windows; beyond it, 429 with
`Retry-After` (seconds until the window ends). Every answer to a valid token carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (the Unix time at which the window ends).

**Lists.** `GET /submissions` returns pages of {SUBMISSIONS_PAGE_SIZE}, newest first; pass `next_cursor`
back as `cursor` until it is null. `GET /addresses` answers a JSON list, one page of it, and says in headers
how many match (`X-Total-Count`) and where the next page is (`Link: <...>; rel="next"`, absent on the last).
"""

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
    429: "Too many requests from this token.",
    500: "Something went wrong on our side.",
    503: "The service is busy; try again in a moment.",
}
READ = (401, 429, 500, 503)
WRITE = (400, 401, 409, 413, 415, 422, 429, 500, 503)
# Houses belong to landlords and units to employers: for a token of the other role they do not exist.
LANDLORD_ONLY = "Landlord tokens only; for an employer's token this is a 404, as the page is in the portal."
EMPLOYER_ONLY = "Employer tokens only; for a landlord's token this is a 404, as the page is in the portal."


def _problem(status: int) -> dict:
    out: dict = {"description": PROBLEM_STATUSES[status],
                 "content": {"application/problem+json": {"schema": schemas.ref("Problem")}}}
    if status in (429, 503, 409):
        out["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return out


REPLAYED = {"Idempotent-Replayed": {
    "description": "Present (true) when this is the stored response to an earlier request with this key.",
    "schema": {"type": "string", "enum": ["true"]}}}


def _ok(description: str, schema: dict, *, replayable: bool = False, links: dict | None = None) -> dict:
    out: dict = {"description": description, "content": {"application/json": {"schema": schema}}}
    if replayable:
        out["headers"] = REPLAYED
    if links:
        out["links"] = links
    return out


ADDRESS_SEARCH = (
    "Free text such as `银海花园 13栋 4单元 402`, `13-4-402` or `十三栋四单元402室`, the pinyin of a road or "
    "community (`yhhy`, `yinhaihuayuan`), or an address code from a door plate's QR code. Register houses at a "
    "room or building, not at a door plate. The answer is a list of addresses, best first, "
    f"`limit` ({PAGE_SIZE} by default) at a time; follow the `Link` header's `rel=\"next\"` for the next page. "
    f"Matches are counted up to {COUNT_CAP}: beyond that `X-Total-Count` is {COUNT_CAP}, "
    "`X-Total-Count-Capped` is `true` and the pages end there: add a word to the query.")
PAGE_HEADERS = {
    "X-Total-Count": {"description": f"How many addresses match, counted up to {COUNT_CAP}.",
                      "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-Total-Count-Capped": {"description": f"Present (true) when more than {COUNT_CAP} addresses match.",
                             "schema": {"type": "string", "enum": ["true"]}},
    "Link": {"description": 'The next page, as `<URL>; rel="next"` (RFC 8288); absent on the last page.',
             "schema": {"type": "string"}},
}


def _with_headers(response: dict, headers: dict) -> dict:
    return {**response, "headers": {**response.get("headers", {}), **headers}}


def _link(operation_id: str, description: str, **parameters: str) -> dict:
    """How a response leads on: which operation takes which of its values."""
    return {"operationId": operation_id, "description": description, "parameters": parameters}


SUBMISSION_LINK = {"GetSubmission": _link("submissions_get", "Poll the status of the report.",
                                          submission_id="$response.body#/submission_id")}


def _list_of(name: str) -> dict:
    return {"type": "array", "items": schemas.ref(name)}


def _operation(operation_id: str, summary: str, *, ok: tuple[int, dict], errors: tuple[int, ...],
               parameters: list | None = None, body: dict | None = None, description: str | None = None,
               also: dict | None = None) -> dict:
    status, response = ok
    op: dict = {"operationId": operation_id, "summary": summary, "tags": [operation_id.split("_")[0]],
                "parameters": parameters or [], "responses": {str(status): response}}
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
        op["parameters"] = [*op["parameters"], IDEMPOTENCY_KEY]
    for code, extra in (also or {}).items():
        op["responses"][str(code)] = extra
    for code in sorted(set(errors)):
        op["responses"][str(code)] = _problem(code)
    return op


def _path_id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The id of the {what}.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}


def _query(name: str, schema: dict, description: str | None = None, *, required: bool = False) -> dict:
    out = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        out["description"] = description
    return out


def _json_body(schema_name: str) -> dict:
    return {"application/json": {"schema": schemas.ref(schema_name)}}


IDEMPOTENCY_KEY = {"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                   "description": "Makes a retry of this request harmless: see the introduction.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                              "pattern": "^[\\x21-\\x7e]+$"}}
TRUE_FALSE = {"type": "string", "enum": ["true", "false"]}
STAFF_IMPORT = (
    "The whole file is checked before anything is written; rows with errors are never sent, the valid rows "
    "are. With `dry_run=true` nothing is written and the response says what the import would do. With "
    "`full_list=true` (the default) people on the unit's current list who are missing from the file are "
    "reported as departures; with `false` the file only adds people. Importing the same content twice "
    "changes nothing. Row numbers count the header as row 1. " + EMPLOYER_ONLY)
UPLOAD = {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "additionalProperties": False,
    "properties": {"file": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
                            "description": "The staff list, .csv or .xlsx."}}}}}


def _units_paths() -> dict:
    return {
        "/units": {
            "get": _operation("units_list", "Your units", errors=(*READ, 404), description=EMPLOYER_ONLY,
                              ok=(200, _ok("Your units.", _list_of("Unit")))),
            "post": _operation("units_register", "Register a unit (实有单位)", errors=(*WRITE, 404),
                               description=EMPLOYER_ONLY, body=_json_body("UnitRequest"),
                               ok=(201, _ok("The unit and its registration report.",
                                            schemas.ref("UnitCreated"), replayable=True, links={
                                                **SUBMISSION_LINK,
                                                "UploadStaffList": _link("units_staff_import",
                                                                         "Upload the unit's staff list.",
                                                                         unit_id="$response.body#/id")}))),
        },
        "/units/{unit_id}/staff-imports": {"post": _operation(
            "units_staff_import", "Upload a staff list (CSV or XLSX)", errors=(*WRITE, 404),
            description=STAFF_IMPORT, body=UPLOAD,
            parameters=[_path_id("unit_id", "unit"), _query("dry_run", {**TRUE_FALSE, "default": "false"}),
                        _query("full_list", {**TRUE_FALSE, "default": "true"})],
            ok=(201, _ok("The list was imported: what it held and what the import filed.",
                         schemas.ref("StaffImportResult"), replayable=True)),
            also={200: _ok("Nothing was written: a dry run, or the unit's latest import had the same "
                           "content. The counts say what the list holds and what it would change.",
                           schemas.ref("StaffImportResult"), replayable=True)})},
    }


def _landlord_paths() -> dict:
    return {
        "/houses": {
            "get": _operation("houses_list", "Your houses and who lives in them", errors=(*READ, 404),
                              description=LANDLORD_ONLY, ok=(200, _ok("Your houses.", _list_of("House")))),
            "post": _operation("houses_register", "Register a house (实有房屋)", errors=(*WRITE, 404),
                               description=LANDLORD_ONLY, body=_json_body("HouseRequest"),
                               ok=(201, _ok("The house and its registration report.",
                                            schemas.ref("HouseCreated"), replayable=True, links={
                                                **SUBMISSION_LINK,
                                                "ReportMoveIn": _link("houses_move_in",
                                                                      "Report tenants moving in.",
                                                                      house_id="$response.body#/id")}))),
        },
        "/houses/{house_id}/move-ins": {"post": _operation(
            "houses_move_in", "Report people moving in", errors=(*WRITE, 404),
            description="Report within the deadline (3 days by default); a late report is accepted and "
                        "marked late. Flags never block a report: they tell the officer where to look. "
                        + LANDLORD_ONLY,
            parameters=[_path_id("house_id", "house")], body=_json_body("MoveInRequest"),
            ok=(201, _ok("The move-in report.", schemas.ref("MoveInCreated"), replayable=True, links={
                **SUBMISSION_LINK,
                "ReportMoveOut": _link("tenancies_move_out", "Report that the first person moved out.",
                                       tenancy_id="$response.body#/tenancy_ids/0")})))},
        "/tenancies/{tenancy_id}/move-out": {"post": _operation(
            "tenancies_move_out", "Report that a person moved out", errors=(*WRITE, 404),
            description=LANDLORD_ONLY, parameters=[_path_id("tenancy_id", "tenancy (see GET /houses)")],
            body=_json_body("MoveOutRequest"),
            ok=(201, _ok("The move-out report.", schemas.ref("MoveOutCreated"), replayable=True,
                         links=SUBMISSION_LINK)))},
    }


OPENAPI_DOCUMENT = {"get": {
    "operationId": "openapi_document", "summary": "This document", "tags": ["openapi"], "security": [],
    "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                          "content": {"application/json": {"schema": {"type": "object"}}}}}}}


@cache
def _document() -> dict:
    paths = {
        "/openapi.json": OPENAPI_DOCUMENT,
        "/addresses": {"get": _operation(
            "addresses_search", "Find standard addresses", errors=(*READ, 422),
            description=ADDRESS_SEARCH,
            parameters=[_query("q", {"type": "string", "minLength": 1, "pattern": "\\S"}, required=True),
                        _query("cursor", {"type": "string"}, "From the `Link: <...>; rel=\"next\"` header of "
                                                             "the previous page."),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                         "default": PAGE_SIZE}, "Addresses per page.")],
            ok=(200, _with_headers(_ok("One page of matching addresses, best first.", _list_of("Address")),
                                   PAGE_HEADERS)))},
        **_landlord_paths(),
        **_units_paths(),
        "/submissions": {"get": _operation(
            "submissions_list", "Your reports, newest first", errors=(*READ, 422),
            parameters=[_query("status", {"type": "string", "enum": schemas.STATUSES}),
                        _query("kind", {"type": "string", "enum": schemas.KINDS}),
                        _query("cursor", {"type": "string"}, "`next_cursor` of the previous page.")],
            ok=(200, _ok("One page of reports.", schemas.ref("SubmissionPage"))))},
        "/submissions/{submission_id}": {"get": _operation(
            "submissions_get", "One report and the police's decision", errors=(*READ, 404),
            parameters=[_path_id("submission_id", "report")],
            ok=(200, _ok("The report.", schemas.ref("Submission"))))},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Resident Reporting Portal API", "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal API token (ptk_…)."}},
            "schemas": {**schemas.REQUESTS, **schemas.RESPONSES},
        },
    }


def document() -> dict:
    return copy.deepcopy(_document())
