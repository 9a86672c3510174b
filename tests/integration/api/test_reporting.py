"""Houses, move-ins, move-outs and addresses through the API: the same services and rules as the pages,
and a token of landlord B never reaches landlord A's objects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.models import House, Submission, SubmissionKind, Tenancy
from portal.services import reporting
from tests import factories
from tests.integration.api.conftest import codes, occupant, problem


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def today() -> str:
    return reporting.local_today().isoformat()


def test_find_addresses_by_text_and_by_code(api, district):
    room = district.addresses[0]
    found = api.get("/api/v1/addresses", query_string={"q": "银海花园 13栋 4单元 402"}).get_json()
    assert found[0] == {"code": room.code, "text": room.text, "level": "room"}
    by_code = api.get("/api/v1/addresses", query_string={"q": room.code.lower()}).get_json()
    assert by_code[0]["code"] == room.code
    assert api.get("/api/v1/addresses", query_string={"q": "没有这个地方"}).get_json() == []
    assert codes(problem(api.get("/api/v1/addresses"), 422)) == {("q", "required")}
    assert codes(problem(api.get("/api/v1/addresses?q=%20"), 422)) == {("q", "required")}


def test_register_a_house(api, db_session, district, landlord):
    response = api.post(
        "/api/v1/houses",
        json={
            "address_code": district.addresses[0].code,
            "use": "shared_rental",
            "max_occupants": 6,
            "certificate_no": "湘(2020)雨湖区不动产权第0001号",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "submission_id", "status", "flags"} and body["status"] == "pending"
    assert body["flags"] == []  # nobody else claims this address
    house = db_session.get(House, body["id"])
    assert house.owner_id == landlord.id and house.max_occupants == 6
    sub = db_session.get(Submission, body["submission_id"])
    assert sub.kind == SubmissionKind.house_registration and sub.reporter_id == landlord.id
    listed = api.get("/api/v1/houses").get_json()
    assert listed == [
        {
            "id": house.id,
            "address_code": district.addresses[0].code,
            "address": district.addresses[0].text,
            "use": "shared_rental",
            "max_occupants": 6,
            "certificate_no": house.certificate_no,
            "record_status": "pending",
            "tenancies": [],
        }
    ]


def test_house_errors_come_from_the_service(api, db_session, district, house):
    before = count(db_session, Submission)
    body = problem(
        api.post("/api/v1/houses", json={"address_code": "NOPE", "use": "castle", "max_occupants": 999}), 422
    )
    # Each error as the service words it: one request says everything that is wrong.
    assert ("address_code", "unknown_address") in codes(body)
    again = problem(
        api.post(
            "/api/v1/houses",
            json={"address_code": district.addresses[0].code, "use": "castle", "max_occupants": 999},
        ),
        422,
    )
    assert codes(again) == {("use", "invalid_choice"), ("max_occupants", "invalid_number")}
    dup = problem(
        api.post(
            "/api/v1/houses",
            json={"address_code": district.addresses[0].code, "use": "vacant", "max_occupants": 1},
        ),
        409,  # well formed, but the house is registered already: a conflict with what is recorded
    )
    assert codes(dup) == {("address_code", "house_exists")}
    assert dup["type"] == "urn:portal:problem:conflict"
    assert count(db_session, Submission) == before


def test_structure_errors_name_every_member(api):
    body = problem(
        api.post(
            "/api/v1/houses", json={"address_code": 5, "use": None, "colour": "red", "max_occupants": "4"}
        ),
        422,
    )
    assert codes(body) == {
        ("address_code", "type"),
        ("use", "required"),
        ("colour", "unknown_field"),
        ("max_occupants", "type"),
    }
    assert codes(problem(api.post("/api/v1/houses", json=[1, 2]), 422)) == {(None, "type")}


def test_move_in_and_move_out(api, db_session, house, landlord):
    people = [occupant(name="张三"), occupant(name="李四", birth="19920202", relation="spouse")]
    response = api.post(
        f"/api/v1/houses/{house.id}/move-ins",
        json={"move_in_date": today(), "lease_end_date": None, "occupants": people},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"submission_id", "receipt", "status", "late", "flags", "tenancy_ids"}
    assert body["status"] == "pending" and body["late"] is False and body["flags"] == []
    sub = db_session.get(Submission, body["submission_id"])
    assert sub.receipt == body["receipt"] and sub.kind == SubmissionKind.move_in
    tenancies = [db_session.get(Tenancy, t) for t in body["tenancy_ids"]]
    assert [t.person.name for t in tenancies] == ["张三", "李四"]

    listed = api.get("/api/v1/houses").get_json()[0]["tenancies"]
    assert [t["id"] for t in listed] == body["tenancy_ids"]
    assert listed[0]["id_number_masked"].count("*") == 8 and people[0]["id_number"] not in str(listed)

    out = api.post(f"/api/v1/tenancies/{body['tenancy_ids'][0]}/move-out", json={"move_out_date": today()})
    assert out.status_code == 201, out.get_json()
    assert set(out.get_json()) == {"submission_id", "receipt", "status"}
    twice = problem(
        api.post(f"/api/v1/tenancies/{body['tenancy_ids'][0]}/move-out", json={"move_out_date": today()}), 409
    )
    assert codes(twice) == {("move_out_date", "already_reported")}


def test_late_move_in_is_accepted_and_flagged(api, house):
    old = (reporting.local_today() - timedelta(days=10)).isoformat()
    body = api.post(
        f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": old, "occupants": [occupant()]}
    ).get_json()
    assert body["late"] is True
    assert (
        body["flags"][0]["code"] == "late"
        and body["flags"][0]["message"]
        and body["flags"][0]["person"] is None
    )


def test_people_errors_point_into_the_body(api, db_session, house):
    before = count(db_session, Submission)
    body = problem(
        api.post(
            f"/api/v1/houses/{house.id}/move-ins",
            json={
                "move_in_date": "2026-02-30",
                "occupants": [
                    occupant(),
                    {"id_type": "resident_id", "id_number": "43030219900101123X", "name": "王五"},
                    {"id_type": "passport", "id_number": "E12345678", "name": "Anna\u202eBad", "phone": "12"},
                ],
            },
        ),
        422,
    )
    found = codes(body)
    assert ("move_in_date", "invalid_date") in found
    assert ("occupants.1.id_number", "checksum") in found
    assert ("occupants.2.name", "name_chars") in found and ("occupants.2.phone", "phone") in found
    assert count(db_session, Submission) == before
    too_many = problem(
        api.post(
            f"/api/v1/houses/{house.id}/move-ins",
            json={
                "move_in_date": today(),
                "occupants": [occupant() for _ in range(reporting.MAX_PEOPLE_PER_REPORT + 5)],
            },
        ),
        422,
    )
    assert ("occupants", "too_many") in codes(too_many)
    empty = problem(
        api.post(f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": today(), "occupants": []}), 422
    )
    assert codes(empty) == {("occupants", "required")}


def test_landlord_b_never_reaches_landlord_a(api, api_b, db_session, house, landlord):
    """Every object of A is a 404 for B's token, exactly as for an id that does not exist; nothing changes."""
    a = api.post(
        f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": today(), "occupants": [occupant()]}
    ).get_json()
    before = {m: count(db_session, m) for m in (Submission, Tenancy, House)}
    assert api_b.get("/api/v1/houses").get_json() == []
    assert api_b.get("/api/v1/submissions").get_json()["items"] == []
    for response in (
        api_b.post(
            f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": today(), "occupants": [occupant()]}
        ),
        api_b.post(f"/api/v1/houses/{house.id}/move-ins", json={"nonsense": True}),  # 404 before validation
        api_b.post(f"/api/v1/houses/{house.id}/move-ins", data="{not json", content_type="application/json"),
        api_b.post(f"/api/v1/houses/{house.id}/move-ins", data="move_in_date=x", content_type="text/plain"),
        api_b.post(f"/api/v1/tenancies/{a['tenancy_ids'][0]}/move-out", json={"move_out_date": today()}),
        api_b.get(f"/api/v1/submissions/{a['submission_id']}"),
        api_b.get(f"/api/v1/submissions/{a['submission_id'] + 100000}"),
        api_b.post("/api/v1/houses/2147483647/move-ins", json={}),
        api_b.get("/api/v1/submissions/99999999999999999999"),
    ):
        problem(response, 404)
    assert {m: count(db_session, m) for m in (Submission, Tenancy, House)} == before
    # B may register a house at the same address: houses are per owner.
    address = db_session.get(House, house.id).address
    assert (
        api_b.post(
            "/api/v1/houses", json={"address_code": address.code, "use": "vacant", "max_occupants": 1}
        ).status_code
        == 201
    )


def test_the_web_and_the_api_see_the_same_reports(api, landlord_client, house):
    body = api.post(
        f"/api/v1/houses/{house.id}/move-ins",
        json={"move_in_date": today(), "occupants": [occupant(name="赵六")]},
    ).get_json()
    page = landlord_client.get(f"/landlord/submissions/{body['submission_id']}")
    assert page.status_code == 200 and "赵六" in page.get_data(as_text=True)


def test_officer_decision_is_visible(api, db_session, district, house, landlord):
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    sub = db_session.get(
        Submission,
        api.post(
            f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": today(), "occupants": [occupant()]}
        ).get_json()["submission_id"],
    )
    assert api.get(f"/api/v1/submissions/{sub.id}").get_json()["decision"] is None
    factories.decide(
        db_session, sub, officer, "rejected", reason_code="identity_mismatch", reason_text="请核对证件号码"
    )
    body = api.get(f"/api/v1/submissions/{sub.id}").get_json()
    assert body["status"] == "rejected"
    assert body["decision"]["status"] == "rejected"
    assert body["decision"]["reason"]["code"] == "identity_mismatch"
    assert body["decision"]["reason"]["text"] == "请核对证件号码" and body["decision"]["reason"]["message"]
    assert body["decision"]["decided_at"].endswith("Z")
    assert set(body) >= {"id", "kind", "status", "submitted_at", "due_at", "late", "flags", "decision"}


def test_find_addresses_pages_with_a_count_and_a_next_link(api, district):
    first = api.get("/api/v1/addresses", query_string={"q": "雨湖区", "limit": 1})
    assert first.status_code == 200 and len(first.get_json()) == 1
    total = int(first.headers["X-Total-Count"])
    assert total > 1 and "X-Total-Count-Capped" not in first.headers
    link = first.headers["Link"]
    assert link.startswith("<http") and link.endswith('>; rel="next"')
    seen = [a["code"] for a in first.get_json()]
    url = link[1:link.index(">")]
    while url:
        page = api.get(url)
        seen += [a["code"] for a in page.get_json()]
        url = page.headers["Link"][1:page.headers["Link"].index(">")] if "Link" in page.headers else None
    assert len(seen) == len(set(seen)) == total
    assert codes(problem(api.get("/api/v1/addresses?q=x&cursor=nonsense"), 422)) == {("cursor", "invalid_cursor")}
    for limit in ("0", "101", "x", "２"):
        assert codes(problem(api.get(f"/api/v1/addresses?q=x&limit={limit}"), 422)) == {("limit", "invalid_number")}
