"""The OpenAPI document is complete and true: every /api/v1 route and method is described and nothing else,
its schemas are valid JSON Schema, the enumerations are the issue's, and real responses match it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import jsonschema_rs
import pytest

from portal.services import reporting
from tests import factories
from tests.integration.api.conftest import ApiClient, new_token, occupant

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # added to every route by Flask itself


@pytest.fixture(scope="module")
def doc(app):
    response = app.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _template(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)[len(PREFIX) :]


def test_every_route_is_described_and_nothing_else(app, doc):
    routes = {
        (_template(r.rule), m)
        for r in app.url_map.iter_rules()
        if r.rule.startswith(PREFIX + "/")
        for m in r.methods - IGNORED_METHODS
    }
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert described == routes
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": PREFIX}]


def test_path_parameters_match_the_routes(app, doc):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        for method, op in doc["paths"][_template(rule.rule)].items():
            in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert in_path == set(rule.arguments), (rule.rule, method)


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_schemas_are_valid_and_every_reference_resolves(doc):
    schemas = doc["components"]["schemas"]
    for ref in set(_refs(doc)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for name, schema in schemas.items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_operation_is_complete(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert doc["security"] == [{"bearerAuth": []}]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op["operationId"] and op["summary"] and op["responses"], where
            for status, response in op["responses"].items():
                content = response["content"]
                media = "application/problem+json" if int(status) >= 400 else "application/json"
                assert list(content) == [media], (where, status)
                if int(status) >= 400:
                    assert content[media]["schema"] == {"$ref": "#/components/schemas/Problem"}
            if path == "/openapi.json":
                assert op["security"] == []
                continue
            assert {"401", "429", "500", "503"} <= set(op["responses"]), where
            if method == "post":
                assert {"400", "409", "413", "415", "422"} <= set(op["responses"]), where
                assert op["requestBody"]["required"] is True
                assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
            if "{" in path:
                assert "404" in op["responses"], where


def test_enumerations_are_exactly_the_issues(doc):
    s = doc["components"]["schemas"]
    assert s["Occupant"]["properties"]["id_type"]["enum"] == [
        "resident_id",
        "passport",
        "hk_macau_permit",
        "taiwan_permit",
        "foreign_permanent_id",
    ]
    assert s["HouseRequest"]["properties"]["use"]["enum"] == [
        "whole_rental",
        "shared_rental",
        "owner_occupied_rooms",
        "vacant",
        "business",
    ]
    assert s["UnitRequest"]["properties"]["unit_type"]["enum"] == [
        "enterprise",
        "individual_business",
        "public_institution",
        "social_organisation",
    ]
    assert s["Address"]["properties"]["level"]["enum"] == ["door_plate", "building", "room"]
    assert s["Submission"]["properties"]["kind"]["enum"] == [
        "house_registration",
        "move_in",
        "move_out",
        "unit_registration",
        "hire",
        "departure",
    ]
    assert s["Submission"]["properties"]["status"]["enum"] == [
        "pending",
        "confirmed",
        "rejected",
        "site_visit",
        "superseded",
        "withdrawn",
    ]
    params = {p["name"]: p for p in doc["paths"]["/submissions"]["get"]["parameters"]}
    assert params["status"]["schema"]["enum"] == s["Submission"]["properties"]["status"]["enum"]
    assert params["kind"]["schema"]["enum"] == s["Submission"]["properties"]["kind"]["enum"]


# --- real responses against the document ---------------------------------------------------------


def _validator(doc, path: str, method: str, status: int):
    response = doc["paths"][path][method]["responses"][str(status)]
    media, content = next(iter(response["content"].items()))
    return media, jsonschema_rs.Draft202012Validator({**content["schema"], "components": doc["components"]})


def conforms(doc, response, path: str, method: str = "get"):
    media, validator = _validator(doc, path, method, response.status_code)
    assert response.mimetype == media, (path, response.status_code, response.mimetype)
    errors = [e.message for e in validator.iter_errors(response.get_json(force=True))]
    assert errors == [], (path, method, response.status_code, errors)


def test_real_responses_match_the_document(app, doc, db_session, district, landlord, api, anonymous):
    today = reporting.local_today().isoformat()
    address = district.addresses[0]
    conforms(doc, api.get("/api/v1/addresses", query_string={"q": "银海花园"}), "/addresses")
    conforms(doc, api.get("/api/v1/addresses"), "/addresses")
    created = api.post(
        "/api/v1/houses", json={"address_code": address.code, "use": "whole_rental", "max_occupants": 2}
    )
    conforms(doc, created, "/houses", "post")
    conforms(doc, api.post("/api/v1/houses", json={"use": 1}), "/houses", "post")
    conforms(doc, api.post("/api/v1/houses", data="{", content_type="application/json"), "/houses", "post")
    conforms(doc, api.post("/api/v1/houses", data="x", content_type="text/plain"), "/houses", "post")
    house_id = created.get_json()["id"]
    old = "2020-01-01"
    move_in = api.post(
        f"/api/v1/houses/{house_id}/move-ins",
        json={"move_in_date": old, "occupants": [occupant(), occupant(), occupant()]},
    )
    conforms(doc, move_in, "/houses/{house_id}/move-ins", "post")
    assert {f["code"] for f in move_in.get_json()["flags"]} >= {"late", "over_capacity"}
    conforms(doc, api.get("/api/v1/houses"), "/houses")
    tenancy = move_in.get_json()["tenancy_ids"][0]
    conforms(
        doc,
        api.post(f"/api/v1/tenancies/{tenancy}/move-out", json={"move_out_date": today}),
        "/tenancies/{tenancy_id}/move-out",
        "post",
    )
    conforms(
        doc,
        api.post("/api/v1/tenancies/999999/move-out", json={"move_out_date": today}),
        "/tenancies/{tenancy_id}/move-out",
        "post",
    )
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    from portal.models import Submission

    factories.decide(
        db_session,
        db_session.get(Submission, move_in.get_json()["submission_id"]),
        officer,
        "rejected",
        reason_code="other",
        reason_text="请补充租赁合同",
    )
    conforms(doc, api.get("/api/v1/submissions"), "/submissions")
    conforms(doc, api.get("/api/v1/submissions?status=nope"), "/submissions")
    conforms(
        doc,
        api.get(f"/api/v1/submissions/{move_in.get_json()['submission_id']}"),
        "/submissions/{submission_id}",
    )
    conforms(doc, anonymous.get("/api/v1/submissions"), "/submissions")

    employer = factories.make_user(db_session, role="employer")
    emp = ApiClient(app.test_client(), new_token(db_session, employer))
    unit = emp.post("/api/v1/units", json=factories.unit_fields(address))
    conforms(doc, unit, "/units", "post")
    conforms(doc, emp.get("/api/v1/units"), "/units")
    staff = Path(__file__).resolve().parents[2] / "fixtures" / "staff"
    for name, query in (
        ("row_errors.csv", "?dry_run=true"),
        ("utf8.csv", ""),
        ("utf8.csv", ""),
        ("empty.csv", ""),
    ):
        response = emp.post(
            f"/api/v1/units/{unit.get_json()['id']}/staff-imports{query}",
            data={"file": (io.BytesIO((staff / name).read_bytes()), name)},
            content_type="multipart/form-data",
        )
        conforms(doc, response, "/units/{unit_id}/staff-imports", "post")


# --- what the document declares beyond the shapes ------------------------------------------------

PORTAL = Path(__file__).resolve().parents[3] / "portal"
# Where codes are made, and which argument is the code: FieldError(code, ...), FileRejected(code, ...), the
# staff list's fail(column, code, ...) and RowError(row, column, code, ...).
CODE_ARGUMENT = {"FieldError": 0, "FileRejected": 0, "fail": 1, "RowError": 2}
# Modules no API request reaches: accounts, passwords and tokens (the web pages and the CLI), officers' and
# clerks' work (the register, its search and exports), door plates, quality rates, the data keys; and in
# addresses.py, the address CSV import (a CLI command), whose row errors are made by its own fail() and
# RowError.
NOT_API = {"accounts", "passwords", "tokens", "admin", "auth", "throttle", "review", "queue", "anomalies",
           "attention", "doorplates", "quality", "audit_chain", "address_duplicates", "jurisdiction", "register",
           "register_search", "exports", "keys", "staff_accounts", "address_upkeep", "address_merge"}
NOT_API_CALLS = {("addresses", "fail"), ("addresses", "RowError")}
# Codes of the services that only the web pages can raise today (withdrawing, correcting, a single departure).
WEB_ONLY = {"not_withdrawable", "not_correctable", "before_hire",
            "other_claim_confirmed"}  # an officer's decision (flags.check_confirmable): no API decides


def _raised_codes() -> dict[str, set[str]]:
    import ast

    found: dict[str, set[str]] = {}
    paths = [*(PORTAL / "api").glob("*.py"), *(PORTAL / "services").glob("*.py"), PORTAL / "security.py"]
    for path in paths:
        if path.stem in NOT_API and path.parent.name == "services":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            index = CODE_ARGUMENT.get(name)
            if index is None or (path.stem, name) in NOT_API_CALLS or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, set()).add(f"{path.stem}.{name}")
    return found


def test_every_error_code_raised_is_declared(doc):
    from portal.services import staff_import

    declared = doc["components"]["schemas"]["FieldError"]["properties"]["code"]["x-error-codes"]
    raised = _raised_codes()
    raised.update({code: {"staff_import._MESSAGES"} for code in staff_import._MESSAGES if code != "position_too_long"})
    assert len(raised) > 40  # the scan finds the codes where they are made
    missing = {code: sorted(where) for code, where in raised.items() if code not in declared and code not in WEB_ONLY}
    assert missing == {}
    assert all(isinstance(meaning, str) and meaning for meaning in declared.values())


def test_every_problem_type_is_declared(doc):
    from portal.api.problems import KINDS, TYPE_PREFIX

    declared = doc["components"]["schemas"]["Problem"]["properties"]["type"]["x-problem-types"]
    assert set(declared) == {TYPE_PREFIX + kind for kind in KINDS}
    assert declared[TYPE_PREFIX + "too_many_requests"] == {"status": 429, "title": "Too many requests"}  # English
    assert all(declared[TYPE_PREFIX + kind]["status"] == status for kind, (status, _t, _d) in KINDS.items())
    statuses = {status for op in _operations(doc) for status in op["responses"]}
    assert {str(p["status"]) for p in declared.values()} - {"405"} <= statuses


def _operations(doc):
    return [op for ops in doc["paths"].values() for op in ops.values()]


def test_rate_limit_headers_are_declared_on_every_answer_to_a_token(doc):
    for op in _operations(doc):
        if op.get("security") == []:
            continue
        for status, response in op["responses"].items():
            headers = response.get("headers", {})
            if status == "401":
                assert not {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} & set(headers)
                continue
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(headers), (
                op["operationId"], status)
            assert ("Retry-After" in headers) == (status in ("409", "429", "503")), (op["operationId"], status)
            if status.startswith("2") and "requestBody" in op:
                assert "Idempotent-Replayed" in headers


def test_the_staff_list_upload_is_a_file_with_its_columns(doc):
    from portal.services import staff_import

    op = doc["paths"]["/units/{unit_id}/staff-imports"]["post"]
    upload = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["file"]
    file = upload["properties"]["file"]
    assert file["type"] == "string" and file["format"] == "binary"
    columns = {c["column"]: c for c in file["x-staff-columns"]}
    assert list(columns) == list(staff_import.COLUMNS)
    assert {c for c, about in columns.items() if about["required"]} == {"name", "id_number"}
    assert "姓名" in columns["name"]["chinese"] and "name" in columns["name"]["english"]
    assert "身份证号码" in columns["id_number"]["chinese"] and "入职日期" in columns["hire_date"]["chinese"]
    for about in columns.values():  # every name the import knows, and each in the description as well
        assert set(about["chinese"] + about["english"]) == set(staff_import.ALIASES[about["column"]])
        assert all(name in op["description"] for name in about["chinese"] + about["english"])


def test_the_limits_are_declared(doc):
    from portal.services import addresses, paging

    s = doc["components"]["schemas"]
    people = s["MoveInRequest"]["properties"]["occupants"]
    assert (people["minItems"], people["maxItems"]) == (1, reporting.MAX_PEOPLE_PER_REPORT)
    capacity = s["HouseRequest"]["properties"]["max_occupants"]
    assert (capacity["minimum"], capacity["maximum"]) == (0, reporting.MAX_OCCUPANTS_LIMIT)
    assert "at most 60 characters" in s["Occupant"]["properties"]["name"]["description"]
    assert s["MoveInRequest"]["properties"]["move_in_date"]["format"] == "date"
    limit = {p["name"]: p for p in doc["paths"]["/addresses"]["get"]["parameters"]}["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, addresses.MAX_PAGE_SIZE, addresses.PAGE_SIZE)
    intro = doc["info"]["description"]
    assert f"pages of {paging.PAGE_SIZE}" in intro and "YYYY-MM-DD" in intro
    assert f"1 to {reporting.MAX_PEOPLE_PER_REPORT} people" in intro


def test_personal_fields_are_marked_in_the_models():
    """What issue 17's one declaration builds on: each request field says whether it is personal data."""
    from portal.api import schemas

    def personal(model) -> set[str]:
        return {name for name, f in model.model_fields.items()
                if any(isinstance(m, schemas.About) and m.personal for m in f.metadata)}

    assert personal(schemas.Occupant) == {"id_number", "name", "phone"}
    assert personal(schemas.UnitRequest) == {"legal_rep_name", "legal_rep_id_number", "contact_name", "contact_phone"}
