"""Cost of the audit chain (services/audit_chain.py) per commit with one and with five audit rows: chained
(audit.record), and added as plain ORM rows with a constant chain value (the ids from the database).

    PYTHONPATH=. .venv/bin/python bench/audit_chain.py sqlite:////tmp/chain.sqlite3 [COMMITS]

Writes `bench.chain` rows and deletes them again at the end (from the end of the chain)."""
from __future__ import annotations

import sys
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal import create_app, migrate
from portal.extensions import db
from portal.models import AuditEvent
from portal.models.base import utcnow
from portal.services import audit, audit_chain


def chained(s: Session, detail: str) -> None:
    audit.record(s, "bench.chain", detail=detail)


def unchained(s: Session, detail: str) -> None:
    s.add(AuditEvent(at=utcnow(), action="bench.chain", detail=detail, chain="0" * 64))
    s.flush()


def commits(app, n: int, per_commit: int, add=chained) -> float:
    """Microseconds per commit of `per_commit` audit rows."""
    with app.app_context():
        start = time.perf_counter()
        for i in range(n):
            with Session(db.engine) as s:
                for j in range(per_commit):
                    add(s, f"{i}.{j}")
                s.commit()
        return (time.perf_counter() - start) / n * 1e6


def main(url: str, n: int) -> None:
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    migrate.upgrade(db.engine)
    row = {"id": 1, "at": utcnow(), "actor_id": 7, "actor_role": "officer", "ip": "10.0.0.1", "request_id": "r" * 32,
           "action": "identity.reveal", "object_type": "person", "object_id": "123", "outcome": "success",
           "detail": "x" * 40}
    start = time.perf_counter()
    for _ in range(20_000):
        audit_chain.link(b"k" * 64, "a" * 64, row)
    print(f"link() alone: {(time.perf_counter() - start) / 20_000 * 1e6:.1f} us per row")
    for per_commit in (1, 5):
        commits(app, n // 4, per_commit)  # warm up
        plain = min(commits(app, n, per_commit, unchained) for _ in range(3))
        linked = min(commits(app, n, per_commit) for _ in range(3))
        print(f"{db.engine.dialect.name}, {per_commit} row(s) per commit: {plain:.0f} us unchained, "
              f"{linked:.0f} us chained (+{linked - plain:.0f} us)")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE action = 'bench.chain'"))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
