"""Polling statuses: keyset pages of the caller's own reports, filters, and one report with its decision."""

from __future__ import annotations

from portal.services import paging, reporting
from tests import factories
from tests.integration.api.conftest import codes, occupant, problem


def _move_ins(api, house, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        r = api.post(
            f"/api/v1/houses/{house.id}/move-ins",
            json={"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]},
        )
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["submission_id"])
    return ids


def test_keyset_pages_cover_everything_once_newest_first(api, house, monkeypatch, db_session):
    monkeypatch.setattr(paging, "PAGE_SIZE", 3)
    ids = _move_ins(api, house, 7)
    registration = api.get("/api/v1/submissions?kind=house_registration").get_json()["items"]
    seen, cursor, pages = [], None, 0
    while True:
        body = api.get("/api/v1/submissions", query_string={"cursor": cursor} if cursor else {}).get_json()
        assert len(body["items"]) <= 3
        seen += [s["id"] for s in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids)) + [registration[0]["id"]]
    # A report filed between two pages does not shift the later pages (keyset, not offset).
    first = api.get("/api/v1/submissions").get_json()
    newer = _move_ins(api, house, 1)
    second = api.get("/api/v1/submissions", query_string={"cursor": first["next_cursor"]}).get_json()
    assert [s["id"] for s in second["items"]] == seen[3:6] and newer[0] not in seen


def test_filters_by_status_and_kind(api, db_session, district, house):
    ids = _move_ins(api, house, 2)
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    from portal.models import Submission

    factories.decide(db_session, db_session.get(Submission, ids[0]), officer, "confirmed")
    confirmed = api.get("/api/v1/submissions?status=confirmed").get_json()["items"]
    assert [s["id"] for s in confirmed] == [ids[0]]
    assert confirmed[0]["decision"]["status"] == "confirmed" and confirmed[0]["decision"]["reason"] is None
    pending_moves = api.get("/api/v1/submissions?status=pending&kind=move_in").get_json()["items"]
    assert [s["id"] for s in pending_moves] == [ids[1]]
    assert api.get("/api/v1/submissions?kind=hire").get_json() == {"items": [], "next_cursor": None}


def test_bad_parameters_are_422(api):
    assert codes(problem(api.get("/api/v1/submissions?status=accepted"), 422)) == {
        ("status", "invalid_choice")
    }
    assert codes(problem(api.get("/api/v1/submissions?kind=MOVE_IN"), 422)) == {("kind", "invalid_choice")}
    # An empty value is not one of the listed values either (found by schemathesis).
    assert codes(problem(api.get("/api/v1/submissions?status="), 422)) == {("status", "invalid_choice")}
    for cursor in ("garbage", "%%%", "MjAyNi0wMS0wMXww", "bm9ufDE"):
        assert codes(problem(api.get("/api/v1/submissions", query_string={"cursor": cursor}), 422)) == {
            ("cursor", "invalid_cursor")
        }


def test_one_submission(api, house):
    sid = _move_ins(api, house, 1)[0]
    body = api.get(f"/api/v1/submissions/{sid}").get_json()
    assert body["id"] == sid and body["kind"] == "move_in" and body["status"] == "pending"
    assert body["submitted_at"].endswith("Z") and body["due_at"].endswith("Z")
    assert body["late"] is False and body["flags"] == [] and body["decision"] is None
    assert body["house_id"] == house.id and body["unit_id"] is None
