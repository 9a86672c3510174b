"""The audit chain (services/audit_chain.py): verified intact, and broken at the right row by an UPDATE, a
DELETE or a forged INSERT; twenty writers at once leave one chain; `flask audit verify` and `anchor`."""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, inspect, select, text, update
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import make_engine
from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit, audit_chain

ACTION = "test.audit_chain"


def _write(session, n: int) -> list[int]:
    for i in range(n):
        audit.record(session, ACTION, object_type="test", object_id=i, detail=f"row {i}")
    session.commit()
    return list(session.scalars(select(AuditEvent.id).where(AuditEvent.action == ACTION).order_by(AuditEvent.id)))


@pytest.fixture
def chained(app, db_session):
    """The chain's head before the test (earlier tests' committed rows are not this test's business),
    and five rows written after it."""
    with app.app_context():
        anchor = audit_chain.head(db_session.connection())
        ids = _write(db_session, 5)
        yield anchor, ids


def _verify(session, anchor):
    return audit_chain.verify(session.connection(), anchor=anchor, batch=2)  # several pages


def test_a_fresh_chain_verifies(db_session, chained):
    anchor, ids = chained
    report = _verify(db_session, anchor)
    assert report.broken is None and report.rows == 5 and report.last_id == ids[-1]
    assert ids == list(range(ids[0], ids[0] + 5))  # contiguous: a gap is a removed row
    rows = db_session.execute(select(AuditEvent.chain).where(AuditEvent.id.in_(ids))).scalars().all()
    assert all(len(c) == 64 for c in rows) and len(set(rows)) == 5


def test_an_updated_row_is_named(db_session, chained):
    anchor, ids = chained
    db_session.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(detail="row 2, edited"))
    assert _verify(db_session, anchor).broken == audit_chain.Break(ids[2], "changed")


def test_a_deleted_middle_row_is_named(db_session, chained):
    anchor, ids = chained
    db_session.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    assert _verify(db_session, anchor).broken == audit_chain.Break(ids[3], "removed_before")


def _forge(session, row_id: int) -> None:
    session.execute(insert(AuditEvent).values(id=row_id, at=audit.utcnow(), action=ACTION, outcome="success",
                                              detail="forged", chain="0" * 64))


def test_a_forged_row_at_the_end_is_named(db_session, chained):
    anchor, ids = chained
    _forge(db_session, ids[-1] + 1)
    assert _verify(db_session, anchor).broken == audit_chain.Break(ids[-1] + 1, "last_changed")


def test_a_forged_row_in_place_of_a_removed_one_is_named(db_session, chained):
    anchor, ids = chained
    db_session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    _forge(db_session, ids[1])
    assert _verify(db_session, anchor).broken == audit_chain.Break(ids[1], "changed_or_added")


def test_rows_removed_after_the_anchor_are_found(app, db_session, chained):
    _anchor, ids = chained
    with app.app_context():
        later = audit_chain.head(db_session.connection())
    db_session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[3:])))
    assert _verify(db_session, later).broken == audit_chain.Break(ids[-1], "rows_after_anchor_removed")


def test_the_whole_chain_is_checked_from_its_start(app, tmp_path):
    """Without an anchor the walk starts at the first row: on a database of its own (the shared test
    database has rows that other tests' clean-ups removed), intact from row 1, then broken at row 1."""
    engine = make_engine(f"sqlite:///{tmp_path / 'chain.sqlite3'}")
    try:
        migrate.upgrade(engine)
        with app.app_context(), Session(engine) as session:
            ids = _write(session, 4)
            report = audit_chain.verify(session.connection(), batch=3)
            assert report.broken is None and report.rows == 4 and ids[0] == 1
            session.execute(update(AuditEvent).where(AuditEvent.id == 1).values(outcome="failure"))
            assert audit_chain.verify(session.connection(), batch=3).broken == audit_chain.Break(1, "changed")
    finally:
        engine.dispose()


# --- committed, real connections ---------------------------------------------------------------------


@pytest.fixture
def committed(app):
    """Committed audit rows, removed afterwards (from the end of the chain, which stays a chain)."""
    db.session.remove()
    db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")
    yield
    with Session(db.engine) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.action == ACTION))
        s.commit()


def test_twenty_writers_at_once_leave_one_chain(app, committed, tmp_path):
    runner = app.test_cli_runner()
    anchor_file = tmp_path / "anchor.json"
    assert runner.invoke(args=["audit", "anchor", "-o", str(anchor_file)]).exit_code == 0
    barrier, errors, spent = threading.Barrier(20), [], []

    def write(i: int) -> None:
        # All twenty begin at once; each takes the chain's order at its first row (audit_chain.append)
        # and keeps it until its commit.
        try:
            with app.app_context(), Session(db.engine) as s:
                barrier.wait()
                start = time.perf_counter()
                for j in range(3):
                    audit.record(s, ACTION, object_type="thread", object_id=i, detail=f"{i}.{j}")
                s.commit()
                spent.append(time.perf_counter() - start)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchor_file)])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine.connect() as c:
        report = audit_chain.verify(c, anchor=json.loads(anchor_file.read_text()))
        ids = c.execute(select(AuditEvent.id).where(AuditEvent.action == ACTION).order_by(AuditEvent.id)).scalars()
        ids = list(ids)
    assert report.broken is None and report.rows == 60 and len(ids) == 60
    assert ids == list(range(ids[0], ids[0] + 60))


def test_verify_names_a_changed_committed_row_and_exits_1(app, committed, tmp_path):
    runner = app.test_cli_runner()
    anchor_file = tmp_path / "anchor.json"
    runner.invoke(args=["audit", "anchor", "-o", str(anchor_file)])
    with app.app_context(), Session(db.engine) as s:
        ids = _write(s, 3)
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(outcome="denied"))
        s.commit()
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchor_file)])
    assert result.exit_code == 1 and str(ids[1]) in result.output
    with app.app_context(), Session(db.engine) as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(outcome="success"))
        s.commit()
    result = runner.invoke(args=["audit", "verify", "--anchor", str(anchor_file)])
    assert result.exit_code == 0 and "3" in result.output


def test_anchor_prints_the_head(app, committed):
    with app.app_context(), Session(db.engine) as s:
        ids = _write(s, 1)
    head = json.loads(app.test_cli_runner().invoke(args=["audit", "anchor"]).output)
    assert head["last_id"] == ids[0] and len(head["chain"]) == 64 and head["algorithm"] == "HMAC-SM3"


# --- the migration ----------------------------------------------------------------------------------------


def test_the_migration_chains_the_rows_there_are_in_id_order(app, empty_database):
    """Rows written before 0014 (with a gap in their ids, as a rolled-back sequence value leaves) are chained
    as they are; the first row written after follows the last of them."""
    engine = empty_database
    migrate.upgrade(engine, "0013")
    at = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        for row_id in (1, 2, 5):
            conn.execute(text("INSERT INTO audit_event (id, at, action, outcome, detail) "
                              "VALUES (:id, :at, 'login.success', 'success', :detail)"),
                         {"id": row_id, "at": at + timedelta(seconds=row_id), "detail": f"行 {row_id}"})
    with app.app_context():
        migrate.upgrade(engine)
        with Session(engine) as s:
            audit.record(s, ACTION, detail="after the migration")
            s.commit()
            report = audit_chain.verify(s.connection())
            assert report.broken is None and report.rows == 4 and report.last_id == 6
            s.execute(update(AuditEvent).where(AuditEvent.id == 2).values(detail="行 2 edited"))
            assert audit_chain.verify(s.connection()).broken == audit_chain.Break(2, "changed")
            s.rollback()
    migrate.downgrade(engine, "0013")
    assert "chain" not in {c["name"] for c in inspect(engine).get_columns("audit_event")}
