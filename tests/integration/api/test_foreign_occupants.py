"""The API's occupants are the declaration's: a foreign tenant with nationality, sex, birth date and visa."""
from __future__ import annotations

from portal.models import Submission
from portal.services import declarations, reporting
from tests import factories


def test_the_document_describes_the_declared_fields(api):
    s = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    occupant = s["Occupant"]["properties"]
    assert set(occupant) == set(declarations.Occupant.model_fields)
    assert "USA" in occupant["nationality"]["enum"] and "Atlantis" not in occupant["nationality"]["enum"]
    assert occupant["visa_expiry"]["format"] == "date"


def test_a_foreign_tenant_through_the_api(api, house, db_session):
    body = {"move_in_date": reporting.local_today().isoformat(),
            "occupants": [factories.foreign_occupant(workplace="湘潭大学")]}
    created = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body)
    assert created.status_code == 201, created.get_json()
    sub = db_session.get(Submission, created.get_json()["submission_id"])
    assert sub.payload["occupants"][0]["nationality"] == "GBR"
    assert sub.payload["occupants"][0]["workplace"] == "湘潭大学"
    wrong = {**body, "occupants": [factories.foreign_occupant(number="E55555555", nationality="ZZZ",
                                                              visa_expiry="1970-01-01")]}
    refused = api.post(f"/api/v1/houses/{house.id}/move-ins", json=wrong)
    assert refused.status_code == 422
    assert {(e["field"], e["code"]) for e in refused.get_json()["errors"]} == {
        ("occupants.0.nationality", "invalid_country"), ("occupants.0.visa_expiry", "before_birth")}
