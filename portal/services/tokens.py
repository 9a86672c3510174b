"""Personal API tokens: created and revoked by their owner, stored only as a SHA-256, acting as the owner."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.db import as_loaded, writing
from portal.models import ApiToken, Role, User
from portal.models.base import utcnow
from portal.services import audit, idempotency
from portal.services.errors import FieldError, NotFound, StateConflict, ValidationFailed

# A token is this prefix and 32 random bytes in base64url: "ptk_" + 43 characters. The prefix lets secret
# scanners recognise a leaked token; the first characters after it tell the owner's tokens apart.
TOKEN_PREFIX = "ptk_"  # noqa: S105 - a public marker, not a secret
TOKEN_BYTES = 32
SHOWN_PREFIX = 12  # len("ptk_") + 8 characters of the random part
MAX_NAME = 60
# Only reporters act through the API: staff work in the portal, behind a second factor.
API_ROLES = (Role.landlord, Role.employer)
# last_used_at is written at most this often per token, so that reads stay reads.
TOUCH_EVERY = timedelta(minutes=1)
MAX_ACTIVE = 5  # unrevoked tokens per account (API_MAX_TOKENS)
NAME_REQUIRED = _l("Give the token a name, such as the system that uses it.")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # the only time the full token exists outside the client


def check_name(raw: str | None) -> str:
    name = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not name:
        raise ValidationFailed([FieldError("required", NAME_REQUIRED, "name")])
    if len(name) > MAX_NAME:
        raise ValidationFailed([FieldError("too_long", _l("Use at most %(n)d characters.", n=MAX_NAME),
                                           "name")])
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValidationFailed([FieldError("invalid_chars", _l("Remove the invisible or control characters."),
                                           "name")])
    return name


def may_use_api(user: User) -> bool:
    return user.active and Role(user.role) in API_ROLES


def create(session: Session, owner: User, name: str | None, actor: audit.Actor, *,
           max_active: int = MAX_ACTIVE) -> NewToken:
    """A new token for its owner; the secret is returned once and never stored. An account has at most
    `max_active` unrevoked tokens (StateConflict, a 409, beyond them): each token has its own rate limit."""
    if not may_use_api(owner):
        raise ValidationFailed([FieldError("role_not_allowed",
                                           _l("Only landlord and employer accounts can use API tokens."))])
    clean_name = check_name(name)
    # The owner's row is locked (PostgreSQL; SQLite's writes are one at a time anyway) so that two creations
    # at once cannot both find room for one more.
    session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    active = session.scalar(select(func.count()).select_from(ApiToken)
                            .where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None)))
    if active >= max_active:
        raise StateConflict([FieldError("too_many_tokens", _l(
            "This account has %(n)d tokens already, the most it may have. Revoke one it no longer needs, then "
            "create the new one.", n=max_active), "name")])
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=owner.id, name=clean_name, token_hash=hash_token(secret),
                     prefix=secret[:SHOWN_PREFIX], created_at=utcnow())
    session.add(token)
    session.flush()
    audit.record(session, "api_token.create", actor, user=owner, object_type="api_token", object_id=token.id)
    session.commit()
    return NewToken(token, secret)


def tokens_of(session: Session, owner: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                          ApiToken.id.desc())))


def token_of(session: Session, owner: User, token_id: int) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == owner.id))
    if token is None:
        raise NotFound()
    return token


def revoke(session: Session, owner: User, token_id: int, actor: audit.Actor) -> ApiToken:
    """Revoke one of the owner's tokens; revoking a revoked token changes nothing."""
    token = token_of(session, owner, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, "api_token.revoke", actor, user=owner, object_type="api_token",
                     object_id=token.id)
        session.commit()
    return token


def well_formed(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(TOKEN_PREFIX) and len(raw) <= 200 and raw.isascii()


_TOKEN, _USER = ApiToken.__table__, User.__table__
# What an API request needs of the token and its owner, and nothing more: never the owner's password hash
# or second-factor secret, and fewer columns to read on every request (db.as_loaded leaves the rest unloaded).
_LOOKUP = (select(_TOKEN.c.id, _TOKEN.c.user_id, _TOKEN.c.token_hash, _TOKEN.c.last_used_at, _TOKEN.c.revoked_at,
                  _USER.c.id, _USER.c.role, _USER.c.name, _USER.c.active, _USER.c.locale, _USER.c.station_id,
                  _USER.c.beat_id)
           .join_from(_TOKEN, _USER, _TOKEN.c.user_id == _USER.c.id)
           .where(_TOKEN.c.token_hash == bindparam("digest")))


_LOOKUP_AND_CLAIM = idempotency.with_claim(_LOOKUP, _TOKEN.c.id)


def authenticate(session: Session, raw: str | None) -> ApiToken | None:
    """The live token for this secret, or None: unknown, malformed, revoked, or its owner may not use the API
    (disabled, or not a landlord or employer any more). The four are never told apart."""
    return _authenticate(session, raw, _LOOKUP, {})[0]


def authenticate_and_read_claim(session: Session, raw: str | None, key: str):
    """authenticate(), reading in the same statement what claiming this Idempotency-Key reads (PostgreSQL;
    idempotency.with_claim): one round trip less for every API write that sends a key. The read is returned
    for idempotency.claim(read=...), or None when the transaction that read it has ended since."""
    return _authenticate(session, raw, _LOOKUP_AND_CLAIM, {"key": key})


def _authenticate(session: Session, raw: str | None, statement, params: dict):
    if not well_formed(raw):
        return None, None
    digest = hash_token(raw)
    # One Core query for the token and its owner, made into ORM objects without the ORM's query machinery:
    # this runs before every API request (bench/README.md).
    row = session.connection().execute(statement, {**params, "digest": digest}).first()
    token = None
    if row is not None:
        token = as_loaded(session, ApiToken, row._mapping)
        set_committed_value(token, "user", as_loaded(session, User, row._mapping))
    # The lookup is by an unguessable hash; compare anyway in constant time, as the stored value is a secret.
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None, None
    if not may_use_api(token.user):
        return None, None
    if _touch(session, token):
        return token, None  # committed: the claim's lock went with that transaction
    return token, row


def _touch(session: Session, token: ApiToken, now: datetime | None = None) -> bool:
    """Record when the token was last used, at most once a minute, in its own short write; says whether it
    did (and so ended the transaction that was open)."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return False
    session.commit()  # end the read so that SQLite can begin the write with BEGIN IMMEDIATE
    try:
        with writing():
            session.execute(update(ApiToken).where(ApiToken.id == token.id,
                                                   (ApiToken.last_used_at.is_(None))
                                                   | (ApiToken.last_used_at < now - TOUCH_EVERY))
                            .values(last_used_at=now).execution_options(synchronize_session=False))
            session.commit()
    except OperationalError:  # a busy database must not fail the request for a bookkeeping write
        session.rollback()
    set_committed_value(token, "last_used_at", now)  # known now, without a second UPDATE at the next commit
    return True
