"""Idempotency-Key on API writes: the first response to a key is stored and replayed to every retry.

The key is claimed by the first statement of the request's own write transaction, and the response is
stored in that same transaction before its one commit: the work and its stored response become visible
together or not at all, so a retry can never find the work done without its response, nor the reverse.

Two requests with one key at the same moment: on PostgreSQL the claim takes a transaction-scoped
advisory lock on the key without waiting; a duplicate that cannot take it is told that the first is still
running (409). On SQLite a write transaction waits for the one before it, so the duplicate runs after the
first has committed and gets its response. Either way the work runs once.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, bindparam, cast, delete, func, literal, select
from sqlalchemy.orm import Session

from portal.db import writing
from portal.models import IdempotencyRecord
from portal.models.base import utcnow
from portal.services.errors import Conflict, FieldError, ServiceError

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as a header carries it safely
KEEP_FOR = timedelta(hours=24)  # as the API document says (it reads this)
KEY_REUSED = _l("This Idempotency-Key was used for a different request. Use a new key for a new request.")


class InProgress(Conflict):
    """The first request with this key has not finished yet."""


@dataclass
class KeyReused(ServiceError):
    """The key was used before for a different request."""

    error: FieldError

    def __post_init__(self) -> None:
        super().__init__(self.error.code)


class MalformedKey(KeyReused):
    """The header is not a usable key."""


class ClaimedKey(str):
    """The form key of a claimed Idempotency-Key: the claim found no stored response, and a submission and
    its stored response are committed together, so no submission holds this key yet and the service need
    not look for one before filing (the key's unique constraint still stands behind it)."""


@dataclass
class Claim:
    """This request holds the key and runs; `form_key` goes to the service."""

    token_id: int
    key: str
    request_hash: str
    form_key: ClaimedKey
    created_at: datetime


@dataclass
class Replay:
    status_code: int
    body: str


def fingerprint(*parts: bytes | str) -> str:
    """A digest of what makes two requests the same request (method, path, canonical body)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def form_key_for(token_id: int, key: str) -> ClaimedKey:
    """The submission form key of an API write: unique per token and key, 64 characters."""
    return ClaimedKey(hashlib.sha256(f"api-idempotency\x1f{token_id}\x1f{key}".encode()).hexdigest())


def check_key(raw: str | None) -> str | None:
    """The key of the header, None without one; a malformed one is refused (MalformedKey, a 400)."""
    if raw is None:
        return None
    if usable_key(raw) is None:
        raise MalformedKey(FieldError("invalid_idempotency_key",
                                      _l("An Idempotency-Key is 1 to 200 visible ASCII characters."), HEADER))
    return raw


def usable_key(raw: str | None) -> str | None:
    """The key, if the header holds a well-formed one (check_key says what is wrong with it otherwise)."""
    return raw if raw is not None and KEY_SHAPE.fullmatch(raw) else None


def claim(session: Session, token_id: int, key: str, request_hash: str, *, now: datetime | None = None
          ) -> Claim | Replay:
    """Claim the key in the request's write transaction, or say what the first request answered.

    Raises InProgress while a first request with this key runs (PostgreSQL), KeyReused when the key came
    with another request. The caller runs its work in the same transaction, stores the response (store)
    and commits; after a Replay or a refusal it rolls the transaction back."""
    with writing():  # on SQLite the claim's statement begins the write transaction (BEGIN IMMEDIATE)
        if session.get_bind().dialect.name == "postgresql":
            # The lock and the stored answer in one round trip. Should the first request commit between
            # this statement's snapshot and the lock, its answer is not seen here; then this request's
            # stored response meets the first's unique key at the commit, and the owner rolls this one
            # back and returns the first's answer (stored()), so the work still runs once.
            first = session.execute(_LOCK_AND_STORED, {"token_id": token_id, "key": key}).one()
            if not first.locked:
                raise InProgress()
            first = _opened(session, first) if first.request_hash is not None else None
        else:
            first = stored(session, token_id, key)
    if first is not None:
        return replay(first, request_hash)
    return Claim(token_id, key, request_hash, form_key_for(token_id, key), now or utcnow())


def store(session: Session, held: Claim, status_code: int, body: str) -> None:
    """Add the response to the work it describes, in the same transaction: the owner's one commit writes and
    makes visible both together or neither (an IntegrityError then: another request with the key stored its
    answer first; stored() reads it). Not flushed here: the commit's flush writes it with the work's last rows."""
    session.add(IdempotencyRecord(token_id=held.token_id, key=held.key, request_hash=held.request_hash,
                                  status_code=status_code, response_body=body, created_at=held.created_at))


def stored(session: Session, token_id: int, key: str):
    """The stored answer to this token's key, if any (request_hash, status_code, response_body)."""
    row = session.execute(_STORED, {"token_id": token_id, "key": key}).first()
    return None if row is None else _opened(session, row)


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status_code: int
    response_body: str


def _opened(session: Session, row) -> Stored:
    """A stored answer read in SQL, its body opened (it names people: sealed, fieldcrypt.py)."""
    body = IdempotencyRecord.response_body.open_stored(session.connection(), row.row_key, row.response_body_sealed)
    return Stored(row.request_hash, row.status_code, body)


_TABLE = IdempotencyRecord.__table__
_STORED = select(_TABLE.c.request_hash, _TABLE.c.status_code, _TABLE.c.row_key, _TABLE.c.response_body_sealed).where(
    _TABLE.c.token_id == bindparam("token_id"), _TABLE.c.key == bindparam("key"))
# The key's transaction-scoped lock, taken without waiting, and its stored answer, if any (PostgreSQL).
_KEY_LOCK = func.hashtextextended(cast(bindparam("token_id", type_=Integer), String) + literal("\x1f")
                                  + bindparam("key", type_=String), 0)
_ONE = select(literal(1).label("one")).subquery()
_LOCK_AND_STORED = (select(func.pg_try_advisory_xact_lock(_KEY_LOCK).label("locked"), _TABLE.c.request_hash,
                           _TABLE.c.status_code, _TABLE.c.row_key, _TABLE.c.response_body_sealed)
                    .select_from(_ONE)
                    .outerjoin(_TABLE, and_(_TABLE.c.token_id == bindparam("token_id"),
                                            _TABLE.c.key == bindparam("key"))))


def replay(first, request_hash: str) -> Replay:
    """The first request's answer (a stored() row) for this request; KeyReused if that came with another."""
    if first.request_hash != request_hash:
        raise KeyReused(FieldError("idempotency_key_reused", KEY_REUSED, HEADER))
    return Replay(first.status_code, first.response_body)


def purge_old(session: Session, *, now: datetime | None = None) -> int:
    """Forget responses older than KEEP_FOR (the form keys still stop a late duplicate); the caller commits."""
    with writing():
        return session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < (now or utcnow()) - KEEP_FOR)).rowcount
