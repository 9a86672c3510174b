"""How a report's rows reach the database. Rows nothing reads back in their transaction (audit rows, stored
API responses) are written by its commit: on PostgreSQL in one statement, on SQLite one by one; never when
the transaction is rolled back. A move-in's submission and tenancies are one statement on PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from portal.db import insert_at_commit
from portal.models import AuditEvent, IdempotencyRecord, Person, Tenancy
from portal.services import audit, reporting
from tests.integration.api.conftest import ApiClient, new_token, occupant


def audit_rows(session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@contextmanager
def statements(connection):
    """The SQL text of every statement sent on this connection meanwhile."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_a_row_is_written_by_the_commit_and_not_before(db_session, landlord):
    audit.record(db_session, "test.at_commit", audit.Actor(user=landlord))
    assert audit_rows(db_session, "test.at_commit") == 0
    db_session.commit()
    assert audit_rows(db_session, "test.at_commit") == 1
    db_session.commit()  # the queue is empty again: nothing is written twice
    assert audit_rows(db_session, "test.at_commit") == 1


def test_a_rolled_back_transaction_writes_none_of_its_rows(db_session, landlord):
    audit.record(db_session, "test.rolled_back", audit.Actor(user=landlord))
    db_session.rollback()
    db_session.commit()
    assert audit_rows(db_session, "test.rolled_back") == 0


def test_a_released_savepoint_leaves_the_rows_to_the_outer_commit(db_session, landlord):
    """Written inside a savepoint, a row would go if a later savepoint of the same transaction failed."""
    audit.record(db_session, "test.savepoint", audit.Actor(user=landlord))
    with db_session.begin_nested():
        pass
    assert audit_rows(db_session, "test.savepoint") == 0
    db_session.commit()
    assert audit_rows(db_session, "test.savepoint") == 1


def test_a_rolled_back_savepoint_takes_back_only_its_own_rows(db_session, landlord):
    actor = audit.Actor(user=landlord)
    audit.record(db_session, "test.before_savepoint", actor)
    savepoint = db_session.begin_nested()
    audit.record(db_session, "test.in_savepoint", actor)
    with db_session.begin_nested():  # released into the savepoint: it goes with it
        audit.record(db_session, "test.in_inner_savepoint", actor)
    savepoint.rollback()
    audit.record(db_session, "test.after_savepoint", actor)
    db_session.commit()
    assert [audit_rows(db_session, action) for action in
            ("test.before_savepoint", "test.in_savepoint", "test.in_inner_savepoint", "test.after_savepoint")] \
        == [1, 0, 0, 1]


def test_a_row_survives_an_inner_savepoint_that_fails(db_session, landlord):
    actor = audit.Actor(user=landlord)
    with db_session.begin_nested():
        audit.record(db_session, "test.outer_savepoint", actor)
        with pytest.raises(RuntimeError), db_session.begin_nested():
            audit.record(db_session, "test.failed_savepoint", actor)
            raise RuntimeError("the inner step fails")
    db_session.commit()
    assert audit_rows(db_session, "test.outer_savepoint") == 1
    assert audit_rows(db_session, "test.failed_savepoint") == 0


def test_a_broken_constraint_is_raised_by_the_commit(db_session, landlord):
    from sqlalchemy.exc import IntegrityError

    row = {"token_id": 2**31 - 1, "key": "k", "request_hash": "h", "status_code": 201, "response_body": "{}",
           "created_at": reporting.utcnow()}  # no such token: the foreign key refuses the row
    insert_at_commit(db_session, IdempotencyRecord.__table__, row)
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    db_session.commit()  # the refused row is gone with its transaction, not queued again
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)
                             .where(IdempotencyRecord.token_id == 2**31 - 1)) == 0


def test_an_api_move_in_sends_its_audit_row_and_stored_response_in_one_statement(app, db_session, landlord, house):
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}
    with statements(db_session.connection()) as sent:
        response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="one-statement")
    assert response.status_code == 201, response.get_data(as_text=True)
    writing_audit = [s for s in sent if "INSERT INTO audit_event" in s]
    writing_key = [s for s in sent if "INSERT INTO idempotency_record" in s]
    assert len(writing_audit) == len(writing_key) == 1
    if db_session.get_bind().dialect.name == "postgresql":
        assert writing_audit == writing_key and writing_audit[0].lstrip().startswith("WITH")
    else:
        assert writing_audit != writing_key
    stored = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "one-statement"))
    assert stored.status_code == 201 and stored.response_body == response.get_data(as_text=True)
    assert audit_rows(db_session, "submission.create") >= 1


def test_a_move_in_files_its_submission_and_tenancies_together_in_the_order_of_its_people(
        app, db_session, landlord, house):
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    people = [occupant(name=name, birth=birth) for name, birth in (("王一", "19800101"), ("王二", "19850202"),
                                                                   ("王三", "19900303"))]
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": people}
    with statements(db_session.connection()) as sent:
        response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="together")
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    named = [db_session.scalar(select(Person.name).join(Tenancy, Tenancy.person_id == Person.id)
                               .where(Tenancy.id == tenancy_id, Tenancy.submission_id == answer["submission_id"]))
             for tenancy_id in answer["tenancy_ids"]]
    assert named == ["王一", "王二", "王三"]
    filing = [s for s in sent if "INSERT INTO submission" in s or "INSERT INTO tenancy" in s]
    if db_session.get_bind().dialect.name == "postgresql":
        assert len(filing) == 1 and "INSERT INTO submission" in filing[0] and "INSERT INTO tenancy" in filing[0]
    else:  # the submission, then its tenancies (SQLite's RETURNING in the order of the rows: one at a time)
        assert "INSERT INTO tenancy" not in filing[0] and filing[1:]
        assert all("INSERT INTO tenancy" in s for s in filing[1:])


def test_an_api_move_in_sends_one_statement_per_step(app, db_session, landlord, house):
    """The most frequent write of the portal, statement by statement: each one is a round trip and work for
    both processes, so one more is a regression (bench/README.md). Nothing is loaded lazily on the way, and
    nothing of the owner's account but what the API needs is read."""
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    assert api.get("/api/v1/houses").status_code == 200  # the token's last use is recorded (once a minute)
    url = f"/api/v1/houses/{house.id}/move-ins"
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}
    with statements(db_session.connection()) as sent:
        response = api.post(url, json=body, key="steps")
    assert response.status_code == 201, response.get_data(as_text=True)
    sent = [s for s in sent if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]
    token_lookup = sent[0]
    assert "FROM api_token JOIN user_account" in token_lookup and "password_hash" not in token_lookup
    assert "totp_secret" not in token_lookup
    assert sum("user_account" in s for s in sent) == 1, [s for s in sent if "user_account" in s]
    if db_session.get_bind().dialect.name == "postgresql":  # the token lookup also claims the key
        assert "pg_try_advisory_xact_lock" in token_lookup and "idempotency_record" in token_lookup
        # The audit chain (services/audit_chain.py) adds two at the commit: its lock, then the last row read
        # once the lock is held.
        steps = ["api_token", "FROM house JOIN address", "INSERT INTO person", "INSERT INTO tenancy",
                 "pg_advisory_xact_lock", "FROM audit_event", "INSERT INTO idempotency_record"]
        assert len(sent) == len(steps), sent
        assert all(step in statement for step, statement in zip(steps, sent, strict=True)), sent
    else:  # one statement per row, each cheap in-process: the token, the key, the house, the person, the
        # submission, its tenancy, the audit chain's last row, the audit row and the stored response
        assert len(sent) == 9, sent
        assert sum("FROM audit_event" in s for s in sent) == 1, sent


def test_the_unique_index_of_a_key_leads_with_the_key(db_session):
    """The token lookup joins a key's stored answer on the token it finds. A generic plan cached while the
    table was new looked the key up by the second column of (token_id, key), scanning the whole index on
    every request: 38 µs growing to 380 µs within 30 s of load (bench/README.md). Led by the key, every
    plan finds it directly."""
    from sqlalchemy import inspect

    found = inspect(db_session.connection()).get_unique_constraints("idempotency_record")
    assert [c["column_names"] for c in found] == [["key", "token_id"]]
