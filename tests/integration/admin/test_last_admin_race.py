"""Two administrators disabling each other at the same moment: one succeeds, the other finds the last active
administrator and is refused, so the portal is never left without one. Real separate connections on
committed data, as two requests."""
from __future__ import annotations

import threading

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.db import writing
from portal.extensions import db
from portal.models import AuditEvent, Role, User
from portal.services import staff_accounts
from portal.services.audit import Actor
from portal.services.errors import ValidationFailed
from tests import factories

ROUNDS = 3


def _attempt(barrier, results: dict, actor_id: int, target_id: int) -> None:
    barrier.wait()
    try:
        with writing(), Session(db.engine) as s:  # as a POST request: BEGIN IMMEDIATE on SQLite
            admin = s.get(User, actor_id)
            try:
                staff_accounts.set_active(s, admin, target_id, False, Actor(user=admin))
            except ValidationFailed as refused:
                s.commit()  # the refusal's audit row, as the view keeps it
                results[actor_id] = refused.errors[0].code
                return
            s.commit()
            results[actor_id] = "disabled"
    except Exception as error:  # noqa: BLE001 - shown by the assertion on the results
        results[actor_id] = error


def test_two_administrators_disabling_each_other_leave_one(app):
    ids: list[int] = []
    try:
        for _ in range(ROUNDS):
            with Session(db.engine) as s:
                assert s.scalar(select(func.count()).select_from(User).where(User.role == Role.admin,
                                                                             User.active.is_(True))) == 0
                first, second = (factories.make_user(s, role="admin", enrolled=False) for _ in range(2))
                ids += [first.id, second.id]
                pair = (first.id, second.id)
            results: dict = {}
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=_attempt, args=(barrier, results, a, b))
                       for a, b in (pair, pair[::-1])]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert sorted(map(str, results.values())) == ["disabled", "last_admin"], results
            with Session(db.engine) as s:
                active = s.scalars(select(User.id).where(User.id.in_(pair), User.active.is_(True))).all()
                assert len(active) == 1
                s.execute(delete(AuditEvent).where(AuditEvent.actor_id.in_(pair)))
                s.execute(delete(User).where(User.id.in_(pair)))
                s.commit()
    finally:
        with Session(db.engine) as s:
            s.execute(delete(AuditEvent).where(AuditEvent.actor_id.in_(ids)))
            s.execute(delete(User).where(User.id.in_(ids)))
            s.commit()
