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
