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
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import ApiToken, Role, User
from portal.models.base import utcnow
from portal.services import audit
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
    return token


def well_formed(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(TOKEN_PREFIX) and len(raw) <= 200 and raw.isascii()


# What an API request needs of the owner, and nothing more: never the password hash or second-factor secret.
_OWNER_COLUMNS = (User.id, User.role, User.name, User.active, User.locale, User.station_id, User.beat_id)
# Built once: the loader options cost more to build than the statement costs to run (every API request).
_BY_DIGEST = (select(ApiToken).join(ApiToken.user)
              .options(contains_eager(ApiToken.user).load_only(*_OWNER_COLUMNS))
              .where(ApiToken.token_hash == bindparam("digest")))


def authenticate(session: Session, raw: str | None) -> ApiToken | None:
    """The live token for this secret, with its owner, or None: unknown, malformed, revoked, or its owner may
    not use the API (disabled, or not a landlord or employer any more). The four are never told apart."""
    if not well_formed(raw):
        return None
    digest = hash_token(raw)
    token = session.scalar(_BY_DIGEST, {"digest": digest})
    # The lookup is by an unguessable hash; compare anyway in constant time, as the stored value is a secret.
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None
    return token if may_use_api(token.user) else None


def touch_due(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's last use is to be recorded now: at most once a minute, so that reads stay reads."""
    return token.last_used_at is None or (now or utcnow()) - token.last_used_at >= TOUCH_EVERY


def touch(session: Session, token: ApiToken, now: datetime | None = None) -> None:
    """Record that the token was used now (unless another request did within the minute); the caller
    commits, in a short write of its own."""
    now = now or utcnow()
    session.execute(update(ApiToken).where(ApiToken.id == token.id,
                                           (ApiToken.last_used_at.is_(None))
                                           | (ApiToken.last_used_at < now - TOUCH_EVERY))
                    .values(last_used_at=now).execution_options(synchronize_session=False))
    set_committed_value(token, "last_used_at", now)  # known now, without a second UPDATE at the commit
