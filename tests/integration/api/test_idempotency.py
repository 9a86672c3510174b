"""Idempotency-Key: a retry returns the first response and writes nothing; two concurrent duplicates run
once; the same key with another request is a 422. Real threads and connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import (
    Address,
    ApiToken,
    AuditEvent,
    Beat,
    Bureau,
    House,
    IdempotencyRecord,
    Person,
    Station,
    Submission,
    Tenancy,
    User,
)
from portal.services import audit, reporting, tokens
from tests import factories
from tests.integration.api.conftest import ApiClient, codes, count, occupant, problem


def move_in_body() -> dict:
    return {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}


def test_a_retry_gets_the_first_response_and_writes_nothing(api, db_session, house):
    body = move_in_body()
    first = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="retry-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = {m: count(db_session, m) for m in (Submission, Tenancy, Person, AuditEvent)}
    for _ in range(3):
        again = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="retry-1")
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.get_data() == first.get_data()
    assert {m: count(db_session, m) for m in (Submission, Tenancy, Person, AuditEvent)} == before


def test_the_same_body_in_another_order_or_spacing_is_the_same_request(api, house):
    body = move_in_body()
    first = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="k")
    import json as _json

    reordered = _json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = api.post(
        f"/api/v1/houses/{house.id}/move-ins", data=reordered, content_type="application/json", key="k"
    )
    assert again.status_code == 201 and again.get_data() == first.get_data()


def test_the_same_key_with_another_request_is_422(api, db_session, house, district):
    body = move_in_body()
    first = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="k2")
    before = count(db_session, Submission)
    changed = {**body, "occupants": [occupant()]}
    assert codes(problem(api.post(f"/api/v1/houses/{house.id}/move-ins", json=changed, key="k2"), 422)) == {
        ("Idempotency-Key", "idempotency_key_reused")
    }
    other_endpoint = api.post(
        "/api/v1/houses",
        json={"address_code": district.addresses[1].code, "use": "vacant", "max_occupants": 1},
        key="k2",
    )
    assert problem(other_endpoint, 422)["type"] == "urn:portal:problem:idempotency_key_reused"
    assert count(db_session, Submission) == before
    assert api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="k2").get_data() == first.get_data()


def test_keys_belong_to_one_token(app, api, db_session, house, landlord):
    """Two tokens of the same owner (two systems) may happen to choose the same key: both run."""
    other = ApiClient(app.test_client(), tokens.create(db_session, landlord, "second", audit.SYSTEM).secret)
    a = api.post(f"/api/v1/houses/{house.id}/move-ins", json=move_in_body(), key="shared")
    b = other.post(f"/api/v1/houses/{house.id}/move-ins", json=move_in_body(), key="shared")
    assert a.status_code == b.status_code == 201
    assert a.get_json()["submission_id"] != b.get_json()["submission_id"]


@pytest.mark.parametrize("status, send", [
    (422, lambda api, house: api.post(f"/api/v1/houses/{house.id}/move-ins", key="k",
                                      json={"move_in_date": "2026-02-30", "occupants": [occupant()]})),
    (400, lambda api, house: api.post(f"/api/v1/houses/{house.id}/move-ins", key="k", data="{",
                                      headers={"Content-Type": "application/json"})),
    (415, lambda api, house: api.post(f"/api/v1/houses/{house.id}/move-ins", key="k", data="x=1",
                                      headers={"Content-Type": "text/plain"})),
    (409, lambda api, house: api.post("/api/v1/houses", key="k", json={
        "address_code": house.address.code, "use": "whole_rental", "max_occupants": 2})),
], ids=["422", "400", "415", "409"])
def test_a_refused_request_leaves_the_key_free(api, db_session, house, status, send):
    """An integrator's corrected retry with the same key runs: only a request carried out stores its answer."""
    problem(send(api, house), status)
    assert db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k")) is None
    body = move_in_body()
    corrected = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="k")
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    replayed = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="k")
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_data(as_text=True) == corrected.get_data(as_text=True)


def test_a_server_error_lets_the_key_go(api, db_session, house, monkeypatch):
    real = reporting.report_move_in

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(reporting, "report_move_in", broken)
    body = move_in_body()
    problem(api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="flaky"), 500)
    assert db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "flaky")) is None
    monkeypatch.setattr(reporting, "report_move_in", real)
    assert api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="flaky").status_code == 201


def test_the_work_and_its_stored_response_are_one_transaction(api, db_session, landlord, house, monkeypatch):
    """A request that fails after the service has written (here: building the response) leaves nothing:
    neither the report nor a stored response. The retry then files the report once."""
    from portal.api import views

    real = views.flags_json

    def broken(*_a, **_k):
        raise RuntimeError("failed after the service wrote")

    monkeypatch.setattr(views, "flags_json", broken)
    body, before = move_in_body(), count(db_session, Submission)
    problem(api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="atomic"), 500)
    assert count(db_session, Submission) == before
    assert db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "atomic")) is None
    monkeypatch.setattr(views, "flags_json", real)
    first = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="atomic")
    again = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="atomic")
    assert first.status_code == again.status_code == 201 and again.get_data() == first.get_data()
    assert count(db_session, Submission) == before + 1
    stored = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "atomic"))
    assert stored.status_code == 201 and stored.response_body == first.get_data(as_text=True)


# --- concurrency: committed data, one connection per request -----------------------------------------


@pytest.fixture
def committed_landlord(app):
    """A landlord with a token and a house, committed for real (threads cannot share the test's
    transaction), and removed again afterwards."""
    # tests/conftest.py's db_session teardown configures join_transaction_mode="conservative_savepoint", which
    # SQLAlchemy 2.1 refuses when the next session is made; put back the default ("conditional_savepoint").
    db.session.remove()
    db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")
    suffix = factories.phone()[-6:]
    with Session(db.engine) as s:
        bureau = Bureau(code=f"C-B{suffix}", name="并发分局")
        station = Station(code=f"C-S{suffix}", name="并发派出所", bureau=bureau)
        beat = Beat(code=f"C-{suffix}", name="并发警务区", station=station)
        s.add_all([bureau, station, beat])
        s.flush()
        address = factories.make_address(s, beat, road=f"并发路{suffix}", building="1栋", room="101")
        user = factories.make_user(s, role="landlord")
        house = factories.make_house(s, user, address).house
        secret = tokens.create(s, user, "concurrency", audit.SYSTEM).secret
        s.commit()
        ids = {
            "user": user.id,
            "house": house.id,
            "address": address.id,
            "beat": beat.id,
            "station": station.id,
            "bureau": bureau.id,
        }
    yield ids, secret
    with Session(db.engine) as s:
        subs = select(Submission.id).where(Submission.reporter_id == ids["user"])
        people = list(s.scalars(select(Tenancy.person_id).where(Tenancy.house_id == ids["house"])))
        s.execute(update(Submission).where(Submission.reporter_id == ids["user"]).values(tenancy_id=None))
        s.execute(delete(Tenancy).where(Tenancy.house_id == ids["house"]))
        s.execute(delete(Submission).where(Submission.id.in_(subs)))
        s.execute(delete(Person).where(Person.id.in_(people)))
        s.execute(delete(House).where(House.id == ids["house"]))
        token_ids = select(ApiToken.id).where(ApiToken.user_id == ids["user"])
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.token_id.in_(token_ids)))
        s.execute(delete(ApiToken).where(ApiToken.user_id == ids["user"]))
        s.execute(delete(AuditEvent).where(AuditEvent.actor_id == ids["user"]))
        s.execute(delete(User).where(User.id == ids["user"]))
        s.execute(delete(Address).where(Address.id == ids["address"]))
        s.execute(delete(Beat).where(Beat.id == ids["beat"]))
        s.execute(delete(Station).where(Station.id == ids["station"]))
        s.execute(delete(Bureau).where(Bureau.id == ids["bureau"]))
        s.commit()


@pytest.mark.parametrize("used_just_now", [False, True], ids=["token-not-used-lately", "token-used-just-now"])
def test_concurrent_duplicates_run_once(app, committed_landlord, monkeypatch, used_just_now):
    """Five requests with one key at the same moment: the service runs once. On PostgreSQL a duplicate that
    arrives while the first runs is told so (409, Retry-After); on SQLite it waits for the first's write
    transaction and gets its response. Afterwards every retry gets that response.

    The token lookup runs in a transaction of its own, and records the token's use in another when due:
    both ways are tried, the claim of the key is its own step either way."""
    ids, secret = committed_landlord
    if used_just_now:
        assert ApiClient(app.test_client(), secret).get("/api/v1/houses").status_code == 200
    real, calls = reporting.report_move_in, []

    def slow_move_in(*args, **kwargs):
        calls.append(1)
        time.sleep(0.5)  # long enough for every duplicate to arrive while the first still runs
        return real(*args, **kwargs)

    monkeypatch.setattr(reporting, "report_move_in", slow_move_in)
    body, url = move_in_body(), f"/api/v1/houses/{ids['house']}/move-ins"
    barrier, results = threading.Barrier(5), []

    def send():
        client = ApiClient(app.test_client(), secret)
        barrier.wait()
        r = client.post(url, json=body, key="concurrent")
        results.append((r.status_code, r.get_data(as_text=True)))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 5 and len(calls) == 1
    statuses = sorted(s for s, _ in results)
    if db.engine.dialect.name == "postgresql":
        assert statuses.count(201) >= 1 and statuses.count(409) >= 1 and set(statuses) == {201, 409}
        refused = [b for s, b in results if s == 409]
        assert all('"urn:portal:problem:in_progress"' in b for b in refused)
    else:
        assert statuses == [201] * 5
    created = {b for s, b in results if s == 201}
    assert len(created) == 1
    retry = ApiClient(app.test_client(), secret).post(url, json=body, key="concurrent")
    assert retry.status_code == 201 and retry.get_data(as_text=True) == created.pop()
    with Session(db.engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.house_id == ids["house"], Submission.kind == "move_in")
            )
            == 1
        )


def test_concurrent_different_keys_all_run(app, committed_landlord):
    """No false duplicates: distinct keys from parallel workers each file their own report."""
    ids, secret = committed_landlord
    url, barrier, results = f"/api/v1/houses/{ids['house']}/move-ins", threading.Barrier(4), []

    def send(n):
        client = ApiClient(app.test_client(), secret)
        body = move_in_body()
        barrier.wait()
        results.append(client.post(url, json=body, key=f"distinct-{n}").status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [201] * 4
    with Session(db.engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.house_id == ids["house"], Submission.kind == "move_in")
            )
            == 4
        )
