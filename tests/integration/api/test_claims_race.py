"""Two reporters registering one room (one USCC), or a building and rooms of it, at the same moment: both end
flagged, each naming the other, or one is refused; never two claims that do not know of each other. Real
threads, connections and commits, on SQLite and PostgreSQL (flags.hold_claims orders them)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import (
    Address,
    ApiToken,
    AuditEvent,
    Beat,
    Bureau,
    Decision,
    House,
    IdempotencyRecord,
    Station,
    Submission,
    Unit,
    User,
)
from portal.services import audit, review, tokens
from portal.services.errors import ValidationFailed
from tests import factories
from tests.integration.api.conftest import ApiClient

ROUNDS = 4
BUILDING_CLAIMS = 20


def committed(roles: tuple[str, ...], places: list[dict]):
    """A beat with these addresses (make_address's components), users of these roles with tokens and two officers,
    committed; all removed afterwards. Yields (ids, the tokens' secrets)."""
    db.session.remove()
    db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")
    suffix = factories.phone()[-6:]
    with Session(db.engine) as s:
        bureau = Bureau(code=f"R-B{suffix}", name="抢登分局")
        station = Station(code=f"R-S{suffix}", name="抢登派出所", bureau=bureau)
        beat = Beat(code=f"R-{suffix}", name="抢登警务区", station=station)
        s.add_all([bureau, station, beat])
        s.flush()
        rooms = [factories.make_address(s, beat, road=f"抢登路{suffix}", **place) for place in places]
        users = [factories.make_user(s, role=role) for role in roles]
        secrets = [tokens.create(s, u, "race", audit.SYSTEM).secret for u in users]
        users += [factories.make_user(s, role="officer", station=station) for _ in range(2)]
        s.commit()
        ids = {"bureau": bureau.id, "station": station.id, "beat": beat.id, "rooms": [a.code for a in rooms],
               "addresses": [a.id for a in rooms], "users": [u.id for u in users]}
    yield ids, secrets
    with Session(db.engine) as s:
        users = ids["users"]
        mine = select(Submission.id).where(Submission.reporter_id.in_(users))
        s.execute(delete(Decision).where(Decision.submission_id.in_(mine)))
        s.execute(delete(Submission).where(Submission.reporter_id.in_(users)))
        s.execute(delete(House).where(House.owner_id.in_(users)))
        s.execute(delete(Unit).where(Unit.owner_id.in_(users)))
        token_ids = select(ApiToken.id).where(ApiToken.user_id.in_(users))
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.token_id.in_(token_ids)))
        s.execute(delete(ApiToken).where(ApiToken.user_id.in_(users)))
        s.execute(delete(AuditEvent).where(AuditEvent.actor_id.in_(users)))
        s.execute(delete(User).where(User.id.in_(users)))
        s.execute(delete(Address).where(Address.id.in_(ids["addresses"])))
        s.execute(delete(Beat).where(Beat.id == ids["beat"]))
        s.execute(delete(Station).where(Station.id == ids["station"]))
        s.execute(delete(Bureau).where(Bureau.id == ids["bureau"]))
        s.commit()


@pytest.fixture
def committed_rivals(app):
    """Two landlords and two employers with tokens, and ROUNDS rooms of one building."""
    yield from committed(("landlord", "landlord", "employer", "employer"),
                         [{"building": "1栋", "room": f"{i + 1}01"} for i in range(ROUNDS)])


@pytest.fixture
def committed_building(app):
    """BUILDING_CLAIMS landlords; building 1栋 (the first address) and BUILDING_CLAIMS - 1 rooms in it."""
    yield from committed(("landlord",) * BUILDING_CLAIMS,
                         [{"building": "1栋"}] + [{"building": "1栋", "unit": "1单元", "room": f"{i + 1:02d}"}
                                                 for i in range(BUILDING_CLAIMS - 1)])


def at_once(app, requests: list[tuple[str, str, dict, str | None]]) -> list[tuple[int, dict]]:
    """POST each (token, url, body, Idempotency-Key) from its own thread, released together."""
    barrier, results = threading.Barrier(len(requests)), [None] * len(requests)

    def send(i, secret, url, body, key):
        client = ApiClient(app.test_client(), secret)
        headers = {"Idempotency-Key": key} if key else {}
        barrier.wait()
        r = client.client.post(url, json=body, headers=client.headers(headers))
        results[i] = (r.status_code, r.get_json())

    threads = [threading.Thread(target=send, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def never_two_unknowing(results, kind_column: str, code: str) -> int:
    """Both registrations flagged, each naming the other's record, or one refused. Returns how many were made."""
    made = [body for status, body in results if status == 201]
    assert all(status in (201, 503) for status, _ in results), results  # 503: the database was busy, retry
    assert made, results
    with Session(db.engine) as s:
        subs = [s.get(Submission, body["submission_id"]) for body in made]
        if len(subs) == 2:
            assert subs[0].flags == [{"code": code, kind_column: getattr(subs[1], kind_column)}], subs[0].flags
            assert subs[1].flags == [{"code": code, kind_column: getattr(subs[0], kind_column)}], subs[1].flags
            assert subs[0].flagged and subs[1].flagged
            # The first was alone when it was answered; the second was told that another claim stands.
            told = sorted([f["code"] for f in body["flags"]] for body in made)
            assert told == [[], [code]], told
    return len(made)


def test_two_landlords_registering_one_room_at_once_both_end_flagged(app, committed_rivals):
    ids, secrets = committed_rivals
    made = 0
    for n, room in enumerate(ids["rooms"]):
        body = {"address_code": room, "use": "whole_rental", "max_occupants": 2}
        key = f"race-{n}" if n % 2 else None  # with and without an Idempotency-Key (how SQLite begins differs)
        results = at_once(app, [(secrets[0], "/api/v1/houses", body, key), (secrets[1], "/api/v1/houses", body, key)])
        made += never_two_unknowing(results, "house_id", "claimed_by_another")
    assert made >= ROUNDS + 1  # at least once both went through, flagged


def test_two_employers_registering_one_uscc_at_once_both_end_flagged(app, committed_rivals):
    ids, secrets = committed_rivals
    made = 0
    for n, room in enumerate(ids["rooms"]):
        code = factories.uscc()
        bodies = [factories.unit_fields(Address(code=room), uscc=code) for _ in range(2)]
        key = f"race-unit-{n}" if n % 2 else None
        results = at_once(app, [(secrets[2], "/api/v1/units", bodies[0], key),
                                (secrets[3], "/api/v1/units", bodies[1], key)])
        made += never_two_unknowing(results, "unit_id", "uscc_claimed_by_another")
    assert made >= ROUNDS + 1


def test_two_officers_confirming_the_two_claims_at_once_confirm_one(app, committed_rivals):
    """Both claims waiting, two officers confirming one each at the same moment: one is confirmed, the other
    refused (told that the other claim is confirmed, or the database was busy): never two owners."""
    ids, secrets = committed_rivals
    body = {"address_code": ids["rooms"][0], "use": "whole_rental", "max_occupants": 2}
    # One after the other, each from a thread of its own as the other tests here send theirs.
    answers = [at_once(app, [(secret, "/api/v1/houses", body, None)])[0] for secret in secrets[:2]]
    assert [status for status, _ in answers] == [201, 201], answers
    made = [answer["submission_id"] for _, answer in answers]
    officers, barrier, outcomes = ids["users"][4:], threading.Barrier(2), []

    def confirm(submission_id, officer_id):
        with app.app_context():  # the request's one session, as a view decides with
            s = db.session
            sub, officer = s.get(Submission, submission_id), s.get(User, officer_id)
            barrier.wait()
            try:
                review.transition(s, sub, "confirmed", officer, audit.Actor(user=officer))
                s.commit()
                outcomes.append("confirmed")
            except (ValidationFailed, OperationalError) as refused:
                s.rollback()
                outcomes.append(type(refused).__name__)

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip(made, officers, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("confirmed") == 1, outcomes
    with Session(db.engine) as s:
        houses = s.scalars(select(House.status).where(House.address_id == ids["addresses"][0])).all()
    assert sorted(houses) == ["pending", "verified"]


def test_a_building_and_its_rooms_registered_at_once_each_room_claims_against_the_building(app, committed_building):
    """One landlord registers the whole building while each of the others registers a room of it, all at the same
    moment: the building's claim names every room's house that was made, each room's names the building's only
    (two rooms are apart), whatever the order the lock on the building gave them."""
    ids, secrets = committed_building
    requests = [(secret, "/api/v1/houses", {"address_code": code, "use": "whole_rental", "max_occupants": 2},
                 f"race-building-{i}" if i % 2 else None) for i, (secret, code) in enumerate(zip(secrets, ids["rooms"],
                                                                                               strict=True))]
    results = at_once(app, requests)
    assert all(status in (201, 503) for status, _ in results), results  # 503: the database was busy, retry
    made = {i: body["submission_id"] for i, (status, body) in enumerate(results) if status == 201}
    with Session(db.engine) as s:
        subs = {i: s.get(Submission, sid) for i, sid in made.items()}
        building = subs.pop(0, None)
        rooms = sorted(sub.house_id for sub in subs.values())
        for sub in subs.values():
            expected = [{"code": "claimed_by_another", "house_id": building.house_id}] if building else []
            assert sub.flags == expected, sub.flags
        if building is not None:
            assert sorted(f["house_id"] for f in building.flags) == rooms, building.flags
            assert building.flagged == bool(rooms)
    assert 0 in made and len(made) > 2, results  # the building and some rooms went through
