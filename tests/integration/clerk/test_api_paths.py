"""The API's paths follow the clerk's changes: a retired address refuses new reports (409, the replacement
named), and a merged address's code finds the address it was merged into."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.models import Submission
from portal.services import address_merge, address_upkeep
from tests import factories
from tests.integration.api.conftest import ApiClient, codes, new_token, problem
from tests.integration.clerk.conftest import duplicate_of


@pytest.fixture
def api(app, db_session, landlord) -> ApiClient:
    return ApiClient(app.test_client(), new_token(db_session, landlord))


def test_a_house_on_a_retired_address_is_refused(api, db_session, district, clerk):
    old, new = district.addresses
    address_upkeep.retire(db_session, clerk, old.id, new.code, factories.as_actor(clerk))
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(Submission))
    body = problem(api.post("/api/v1/houses", json={"address_code": old.code, "use": "whole_rental",
                                                    "max_occupants": 2}), 409)
    assert codes(body) == {("address_code", "address_retired")}
    assert new.code in body["errors"][0]["message"]
    assert db_session.scalar(select(func.count()).select_from(Submission)) == before
    assert api.get("/api/v1/addresses", query_string={"q": "银海花园 13栋 4单元 402"}).get_json() == []


def test_a_merged_code_finds_the_survivor(api, db_session, district, clerk):
    survivor = district.addresses[0]
    other = duplicate_of(db_session, survivor, building="13号楼")
    address_merge.merge(db_session, clerk, survivor.id, other.id, factories.as_actor(clerk))
    db_session.commit()
    found = api.get("/api/v1/addresses", query_string={"q": other.code}).get_json()
    assert [a["code"] for a in found] == [survivor.code]
    response = api.post("/api/v1/houses", json={"address_code": other.code, "use": "whole_rental",
                                                "max_occupants": 2})
    assert response.status_code == 201


def test_a_staff_list_for_a_unit_at_a_retired_address_is_refused(app, db_session, district, clerk):
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, district.addresses[1]).unit_id
    address_upkeep.retire(db_session, clerk, district.addresses[1].id, None, factories.as_actor(clerk))
    db_session.commit()
    api = ApiClient(app.test_client(), new_token(db_session, employer))
    csv = f"姓名,身份证号码,入职日期\n赵六,{factories.resident_id()},2024-03-05\n".encode()
    response = api.post(f"/api/v1/units/{unit_id}/staff-imports", data={"file": (io.BytesIO(csv), "staff.csv")},
                        content_type="multipart/form-data")
    body = problem(response, 409)
    assert codes(body) == {("file", "address_retired")}
