"""The audit chain: each audit row carries an HMAC over the previous row's chain value and its own fields,
so that a row changed, removed or slipped in afterwards shows (SECURITY.md "Data protection").

A row is appended by audit.record() itself, in the transaction of the work it records (append): it takes
the lock that orders the writers of audit rows, reads the last row's id and chain value (its own
transaction's rows included, as the session is flushed first), gives the new row the next id and its chain
value and adds it to the session, whose next flush writes it. The lock is held until the transaction ends, so no other
transaction can append between this one's read and its commit; a rolled-back transaction takes its rows
with it and leaves no gap. Ids are therefore contiguous from the first chained row on, and a gap in them is
a removed row.

- PostgreSQL: pg_advisory_xact_lock, taken in a statement of its own before the last row is read, so that
  the read's snapshot is taken once the lock is held (READ COMMITTED takes one per statement).
- SQLite: the database's one write lock. A request that writes began with BEGIN IMMEDIATE and holds it
  already; a transaction that began as a reader and then appends cannot write over a snapshot another
  writer has moved past (SQLITE_BUSY), so it never chains onto a stale last row.

The key is kept outside the database (AUDIT_CHAIN_KEY, config.py)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from flask import current_app, has_app_context
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from portal.db import writing
from portal.models import AuditEvent

# The MAC of the chain. HMAC-SM3 (GB/T 32905) as GB/T 39786 expects; hashes.SHA256 is the fallback for an
# OpenSSL built without SM3, and the only line to change.
HASH = hashes.SM3
ALGORITHM = "HMAC-SM3"
# The chain value before the first row.
GENESIS = ""
# pg_advisory_xact_lock key that orders the transactions appending audit rows (any constant bigint that
# nothing else uses: these are the bytes of "auditchn").
LOCK_KEY = int.from_bytes(b"auditchn", "big") & 0x7FFF_FFFF_FFFF_FFFF

_TABLE = AuditEvent.__table__
FIELDS = ("id", "at", "actor_id", "actor_role", "ip", "request_id", "action", "object_type", "object_id",
          "outcome", "detail")


def current_key() -> bytes:
    """The app's key; outside an app (alembic run on its own) the one config.py would give it."""
    if has_app_context():
        return current_app.config["AUDIT_CHAIN_KEY"]
    from portal.config import audit_chain_key

    return audit_chain_key(Path(__file__).resolve().parent.parent.parent / "instance",
                           os.environ.get("PORTAL_ENV") == "production")


def serialise(row) -> bytes:
    """The row's fields in a canonical form: a JSON array in FIELDS order, `at` in UTC ISO format."""
    at = row["at"]
    values = [at.astimezone(UTC).isoformat(timespec="microseconds") if f == "at" else row[f] for f in FIELDS]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def link(key: bytes, previous: str, row) -> str:
    """The row's chain value: HMAC over the previous row's chain value and the row's fields."""
    mac = hmac.HMAC(key, HASH())
    mac.update(previous.encode("ascii") + b"\n")
    mac.update(serialise(row))
    return mac.finalize().hex()


_LAST = select(_TABLE.c.id, _TABLE.c.chain).order_by(_TABLE.c.id.desc()).limit(1)
# The last row, and the id sequence moved past the id about to be used (nothing else draws from it, but
# an INSERT that leaves out the id must not collide with a chained row).
_LAST_PG = text(
    "SELECT last.id, last.chain, setval(pg_get_serial_sequence('audit_event', 'id'), COALESCE(last.id, 0) + 1)"
    " FROM (SELECT 1) AS one LEFT JOIN LATERAL"
    " (SELECT id, chain FROM audit_event ORDER BY id DESC LIMIT 1) AS last ON true")
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def take_order(session: Session) -> None:
    """Take the chain's lock now rather than at the first audit row (PostgreSQL; on SQLite the write lock
    orders): a transaction that locks rows and then audits, while another audits and then locks those rows
    (a bulk confirmation against a single decision), would otherwise wait for each other."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"k": LOCK_KEY})


def append(session: Session, row: AuditEvent, key: bytes | None = None) -> None:
    """Give the new audit row the id after the last row's and its chain value and add it (the module's
    docstring says why the order holds). What the session holds is flushed first, this transaction's earlier
    audit rows with it, so that the last row is read from the database; the new row itself is written by the
    next flush (the next audit row's, a query's autoflush, or the owner's commit), with the work after it."""
    with writing():  # on SQLite a transaction begun here is a writer (BEGIN IMMEDIATE)
        session.flush()
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            take_order(session)
            last_id, previous, _ = connection.execute(_LAST_PG).one()
        else:
            last_id, previous = connection.execute(_LAST).first() or (None, None)
        row.id = (last_id or 0) + 1
        row.chain = link(key or current_key(), previous or GENESIS, {f: getattr(row, f) for f in FIELDS})
        session.add(row)


# --- checking ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Break:
    """Where the chain first fails: the row and what is wrong with it."""

    row_id: int
    # removed_before | changed | last_changed | inserted | changed_or_added | rows_after_anchor_removed | anchor
    reason: str


@dataclass(frozen=True)
class Report:
    rows: int
    last_id: int | None
    broken: Break | None = None


_COLUMNS = [_TABLE.c[f] for f in FIELDS] + [_TABLE.c.chain]


def _rows(connection: Connection, after: int | None, batch: int) -> Iterator:
    """The rows in id order, `batch` at a time (keyset paging: constant memory)."""
    last = after if after is not None else -1
    while True:
        page = connection.execute(select(*_COLUMNS).where(_TABLE.c.id > last).order_by(_TABLE.c.id)
                                  .limit(batch)).mappings().all()
        yield from page
        if len(page) < batch:
            return
        last = page[-1]["id"]


def _row_after(connection: Connection, row_id: int):
    return connection.execute(select(*_COLUMNS).where(_TABLE.c.id > row_id).order_by(_TABLE.c.id)
                              .limit(1)).mappings().first()


def verify(connection: Connection, *, key: bytes | None = None, anchor: dict | None = None,
           batch: int = 1000) -> Report:
    """Walk the chain in id order from its start, or from an anchor (a head written by `head` earlier,
    trusted), and report the first row that was changed, removed or inserted out of order."""
    key = key or current_key()
    prev_id, previous, after = None, GENESIS, None
    if anchor is not None and anchor.get("last_id") is not None:
        prev_id, previous, after = anchor["last_id"], anchor["chain"], anchor["last_id"]
        stored = connection.execute(select(_TABLE.c.chain).where(_TABLE.c.id == after)).scalar()
        if stored is None:
            return Report(0, None, Break(after, "rows_after_anchor_removed" if _is_past_end(connection, after)
                                         else "removed_before"))
        if stored != previous:
            return Report(0, None, Break(after, "anchor"))
    count = 0
    for row in _rows(connection, after, batch):
        if row["chain"] != link(key, previous, row):
            return Report(count, prev_id, Break(row["id"], _diagnose(connection, key, prev_id, previous, row)))
        prev_id, previous, count = row["id"], row["chain"], count + 1
    return Report(count, prev_id)


def _is_past_end(connection: Connection, row_id: int) -> bool:
    return connection.execute(select(_TABLE.c.id).where(_TABLE.c.id > row_id).limit(1)).first() is None


def _diagnose(connection: Connection, key: bytes, prev_id: int | None, previous: str, row) -> str:
    """Why `row` does not follow the row before it, told by the row after it: built on the one before
    `row`, `row` was slipped in; built on `row`, `row` is as written and either the rows between it and
    the one before were removed (a gap in the ids) or its fields were changed."""
    following = _row_after(connection, row["id"])
    if following is not None and following["chain"] == link(key, previous, following):
        return "inserted"
    gap = row["id"] != (prev_id if prev_id is not None else 0) + 1
    if following is None:
        return "removed_before" if gap else "last_changed"
    if following["chain"] == link(key, row["chain"], following):
        return "removed_before" if gap else "changed"
    return "changed_or_added"


def head(connection: Connection) -> dict:
    """The chain's head, to keep elsewhere (an anchor for `verify`)."""
    row = connection.execute(select(_TABLE.c.id, _TABLE.c.chain, _TABLE.c.at).order_by(_TABLE.c.id.desc())
                             .limit(1)).first()
    return {
        "algorithm": ALGORITHM,
        "last_id": row.id if row else None,
        "chain": row.chain if row else GENESIS,
        "at": row.at.astimezone(UTC).isoformat() if row else None,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
