"""One unit of work: an audit row and a stored API response are ORM rows of the request's transaction,
committed with its work or rolled back with it; a move-in's tenancies are a relationship of its
submission, filed with it exactly once, in the order of its people."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from portal.models import AuditEvent, IdempotencyRecord, Person, Submission, Tenancy
from portal.services import audit, idempotency, reporting
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


def test_an_audit_row_has_its_id_and_chain_when_recorded(db_session, landlord):
    audit.record(db_session, "test.uow", audit.Actor(user=landlord))
    row = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "test.uow"))
    assert row is not None and row.id is not None and len(row.chain) == 64
    audit.record(db_session, "test.uow", audit.Actor(user=landlord))  # chained onto the first, flushed first
    ids = list(db_session.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.uow")
                                  .order_by(AuditEvent.id)))
    assert ids == [ids[0], ids[0] + 1]


def test_a_rolled_back_transaction_leaves_no_audit_row_and_no_gap(db_session, landlord):
    actor = audit.Actor(user=landlord)
    audit.record(db_session, "test.kept", actor)
    db_session.commit()
    audit.record(db_session, "test.rolled_back", actor)
    db_session.rollback()
    audit.record(db_session, "test.kept", actor)
    db_session.commit()
    assert audit_rows(db_session, "test.rolled_back") == 0
    ids = list(db_session.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.kept")
                                  .order_by(AuditEvent.id)))
    assert ids == [ids[0], ids[0] + 1]  # the rolled-back row's id is given again: the chain stays contiguous


def test_a_rolled_back_savepoint_takes_back_only_its_own_audit_rows(db_session, landlord):
    actor = audit.Actor(user=landlord)
    audit.record(db_session, "test.before_savepoint", actor)
    savepoint = db_session.begin_nested()
    audit.record(db_session, "test.in_savepoint", actor)
    savepoint.rollback()
    audit.record(db_session, "test.after_savepoint", actor)
    db_session.commit()
    assert [audit_rows(db_session, a) for a in ("test.before_savepoint", "test.in_savepoint",
                                                 "test.after_savepoint")] == [1, 0, 1]


def test_a_refused_api_request_leaves_no_audit_row(app, db_session, landlord, house):
    """The move-in is filed (its audit row flushed), then the request fails: nothing of it is kept."""
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    before = audit_rows(db_session, "submission.create")
    real = reporting.tenancy_ids_of

    def fails_after_filing(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the response cannot be built")

    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reporting, "tenancy_ids_of", fails_after_filing)
        response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="fails-late")
    assert response.status_code == 500
    assert audit_rows(db_session, "submission.create") == before
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)
                             .where(IdempotencyRecord.key == "fails-late")) == 0
    again = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="fails-late")
    assert again.status_code == 201, again.get_data(as_text=True)  # the key stayed free


def test_a_stored_response_and_its_work_commit_together(app, db_session, landlord, house):
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}
    response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="together")
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "together"))
    assert stored.status_code == 201 and stored.response_body == response.get_data(as_text=True)
    sub = db_session.get(Submission, response.get_json()["submission_id"])
    assert sub is not None and sub.form_key is not None


def test_a_stored_response_that_breaks_a_constraint_takes_its_work_with_it(db_session, landlord, house):
    """store() adds the response to the work's transaction: when the commit cannot write it, neither is the
    work written."""
    claim = idempotency.Claim(2**31 - 1, "no-such-token", "h" * 64, idempotency.form_key_for(2**31 - 1, "k"),
                              reporting.utcnow())
    db_session.commit()
    filed = reporting.report_move_in(db_session, landlord, house.id, occupants=[occupant()],
                                     move_in_date=reporting.local_today().isoformat(),
                                     actor=audit.Actor(user=landlord), deadline_days=3)
    idempotency.store(db_session, claim, 201, "{}")
    with pytest.raises(IntegrityError):  # no such token: the foreign key refuses the stored response
        db_session.commit()
    db_session.rollback()
    assert db_session.get(Submission, filed.submission.id) is None


def test_a_move_in_files_its_tenancies_exactly_once_in_the_order_of_its_people(app, db_session, landlord, house):
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    people = [occupant(name=name, birth=birth) for name, birth in (("王一", "19800101"), ("王二", "19850202"),
                                                                   ("王三", "19900303"))]
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": people}
    response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="in-order")
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    named = [db_session.scalar(select(Person).join(Tenancy, Tenancy.person_id == Person.id)
                               .where(Tenancy.id == tenancy_id, Tenancy.submission_id == answer["submission_id"])).name
             for tenancy_id in answer["tenancy_ids"]]
    assert named == ["王一", "王二", "王三"]
    assert db_session.scalar(select(func.count()).select_from(Tenancy)
                             .where(Tenancy.submission_id == answer["submission_id"])) == 3
    replayed = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="in-order")
    assert replayed.get_json() == answer
    assert db_session.scalar(select(func.count()).select_from(Tenancy)
                             .where(Tenancy.house_id == house.id)) == 3  # the retry filed nothing


def test_an_api_move_in_reads_the_owner_once_and_never_its_secrets(app, db_session, landlord, house):
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    assert api.get("/api/v1/houses").status_code == 200  # the token's last use is recorded (once a minute)
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]}
    with statements(db_session.connection()) as sent:
        response = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="steps")
    assert response.status_code == 201, response.get_data(as_text=True)
    token_lookup = next(s for s in sent if "FROM api_token" in s)
    assert "JOIN user_account" in token_lookup
    assert "password_hash" not in token_lookup and "totp_secret" not in token_lookup
    assert sum("user_account" in s for s in sent) == 1, [s for s in sent if "user_account" in s]
    assert sum("INSERT INTO audit_event" in s for s in sent) == 1
    assert sum("INSERT INTO idempotency_record" in s for s in sent) == 1


def test_the_unique_index_of_a_key_leads_with_the_key(db_session):
    """A key's stored answer is looked up by the key: led by it, every plan finds it directly."""
    from sqlalchemy import inspect

    found = inspect(db_session.connection()).get_unique_constraints("idempotency_record")
    assert [c["column_names"] for c in found] == [["key", "token_id"]]
