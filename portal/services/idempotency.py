"""Idempotency-Key on API writes: the first response to a key is stored and replayed to every retry.

The record is inserted and committed *before* the work runs, so its unique (token, key) constraint decides
which of two concurrent duplicates runs; the other finds a record without a response and is told the
first one is still in progress. The service is also given a form key derived from the idempotency key, so
even a request that died between its own commit and storing the response is never filed twice when a
retry takes the abandoned record over.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import writing
from portal.models import IdempotencyRecord
from portal.models.base import utcnow
from portal.services.errors import Conflict, FieldError, ServiceError

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as a header carries it safely
# A record still without a response after this long belongs to a request that died; a retry may take it.
STALE_AFTER = timedelta(minutes=2)
KEEP_FOR = timedelta(days=7)
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


@dataclass
class Claim:
    """This request holds the key and runs; `form_key` goes to the service."""

    record_id: int
    form_key: str


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


def form_key_for(token_id: int, key: str) -> str:
    """The submission form key of an API write: unique per token and key, 64 characters."""
    return hashlib.sha256(f"api-idempotency\x1f{token_id}\x1f{key}".encode()).hexdigest()


def check_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not KEY_SHAPE.fullmatch(raw):
        raise MalformedKey(FieldError("invalid_idempotency_key",
                                      _l("An Idempotency-Key is 1 to 200 visible ASCII characters."), HEADER))
    return raw


def begin(session: Session, token_id: int, key: str, request_hash: str, *, now: datetime | None = None
          ) -> Claim | Replay:
    """Claim the key for this request, or say what the first request with it answered.

    Raises InProgress while the first request runs, KeyReused when the key came with another request."""
    now = now or utcnow()
    session.commit()  # the claim must be visible to other requests at once: its own short transaction
    for _ in range(3):
        with writing():
            record = IdempotencyRecord(token_id=token_id, key=key, request_hash=request_hash, created_at=now)
            session.add(record)
            try:
                session.commit()
                return Claim(record.id, form_key_for(token_id, key))
            except IntegrityError:
                session.rollback()
        first = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.token_id == token_id,
                                                               IdempotencyRecord.key == key))
        if first is None:
            continue  # the first request failed and let the key go a moment ago: claim it again
        session.commit()
        if first.request_hash != request_hash:
            raise KeyReused(FieldError("idempotency_key_reused", KEY_REUSED, HEADER))
        if first.status_code is not None:
            return Replay(first.status_code, first.response_body or "")
        if first.created_at < now - STALE_AFTER and _take_over(session, first, now):
            return Claim(first.id, form_key_for(token_id, key))
        raise InProgress()
    raise InProgress()


def _take_over(session: Session, record: IdempotencyRecord, now: datetime) -> bool:
    with writing():
        done = session.execute(update(IdempotencyRecord)
                               .where(IdempotencyRecord.id == record.id,
                                      IdempotencyRecord.status_code.is_(None),
                                      IdempotencyRecord.created_at == record.created_at)
                               .values(created_at=now).execution_options(synchronize_session=False)).rowcount
        session.commit()
    return done == 1


def finish(session: Session, claim: Claim, status_code: int, body: str) -> None:
    """Store the response that every retry with this key will get."""
    session.rollback()  # nothing the request left unsaved may ride along with the stored response
    with writing():
        session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
                        .values(status_code=status_code, response_body=body)
                        .execution_options(synchronize_session=False))
        session.commit()


def abandon(session: Session, claim: Claim) -> None:
    """The request failed on our side: let the key go, so that a retry runs again."""
    session.rollback()
    with writing():
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id,
                                                        IdempotencyRecord.status_code.is_(None)))
        session.commit()


def purge_old(session: Session, *, now: datetime | None = None) -> int:
    """Forget responses older than KEEP_FOR (the form keys still stop a late duplicate)."""
    with writing():
        gone = session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < (now or utcnow()) - KEEP_FOR)).rowcount
        session.commit()
    return gone
