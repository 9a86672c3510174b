"""Signing in: password, TOTP second factor, replay protection, failure counting and lockout."""
from __future__ import annotations

import enum
import hmac
import re
import time
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.models import User
from portal.models.base import utcnow
from portal.services import audit, identity, passwords
from portal.services.errors import FieldError

TOTP_CODE = re.compile(r"[0-9]{6}", re.ASCII)
TOTP_ISSUER = "Portal"


class Outcome(enum.StrEnum):
    ok = "ok"
    needs_totp = "needs_totp"
    needs_enrolment = "needs_enrolment"
    bad_credentials = "bad_credentials"
    locked = "locked"
    replayed = "replayed"


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > _now(now)


def check_password(
    session: Session, phone: str, password: str, actor: audit.Actor, *, max_failures: int, lockout: timedelta,
    now: datetime | None = None,
) -> tuple[Outcome, User | None]:
    """First step of signing in. The same answer, and similar work, whether or not the phone exists."""
    now = _now(now)
    try:
        phone = identity.check_mobile(phone)
    except FieldError:
        phone = ""
    user = session.scalar(select(User).where(User.phone == phone)) if phone else None
    if user is None or not user.active:
        passwords.verify_password(None, password)
        audit.record(session, "login.password", actor, outcome="failure",
                     detail=f"unknown phone {identity.mask_phone(phone)}" if user is None else "inactive")
        session.commit()
        return Outcome.bad_credentials, None
    if user.locked_until is not None and user.locked_until <= now:
        _reset_failures(session, user)
    if is_locked(user, now):
        passwords.verify_password(None, password)
        audit.record(session, "login.password", actor, user=user, outcome="locked")
        session.commit()
        return Outcome.locked, user
    if not passwords.verify_password(user.password_hash, password):
        locked = register_failure(session, user, actor, "login.password", max_failures=max_failures,
                                  lockout=lockout, now=now)
        return (Outcome.locked if locked else Outcome.bad_credentials), user
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.role.is_staff:
        session.commit()
        return (Outcome.needs_totp if user.totp_confirmed else Outcome.needs_enrolment), user
    complete_login(session, user, actor)
    return Outcome.ok, user


def register_failure(
    session: Session, user: User, actor: audit.Actor, action: str, *, max_failures: int, lockout: timedelta,
    now: datetime | None = None,
) -> bool:
    """Count one failure in SQL (never read-modify-write in Python); lock at the limit. True if now locked."""
    count = session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    audit.record(session, action, actor, user=user, outcome="failure", detail=f"failures={count}")
    locked = count >= max_failures
    if locked:
        session.execute(update(User).where(User.id == user.id).values(locked_until=_now(now) + lockout))
        audit.record(session, "account.lock", actor, user=user, object_type="user", object_id=user.id)
    session.commit()
    session.refresh(user)
    return locked


def _reset_failures(session: Session, user: User) -> None:
    session.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
    session.refresh(user)


def complete_login(session: Session, user: User, actor: audit.Actor) -> None:
    _reset_failures(session, user)
    audit.record(session, "login.success", actor, user=user)
    session.commit()


def unlock(session: Session, user: User, actor: audit.Actor) -> None:
    _reset_failures(session, user)
    audit.record(session, "account.unlock", actor, object_type="user", object_id=user.id)
    session.commit()


def end_session(session: Session, user: User, actor: audit.Actor, reason: str = "logout") -> None:
    """Bump the session version so that every cookie issued before now stops working."""
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    audit.record(session, reason, actor, user=user)
    session.commit()


def record_timeout(session: Session, user: User, actor: audit.Actor) -> None:
    """One browser's session timed out; the user's sessions elsewhere go on."""
    audit.record(session, "session.timeout", actor, user=user)
    session.commit()


# --- TOTP -------------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.phone, issuer_name=TOTP_ISSUER)


def start_enrolment(session: Session, user: User) -> str:
    """Give the user a secret to enrol, kept until one code confirms it; an enrolled user gets none."""
    if user.totp_confirmed:
        raise ValueError("already enrolled")
    if not user.totp_secret:
        session.execute(update(User).where(User.id == user.id, User.totp_secret.is_(None))
                        .values(totp_secret=new_totp_secret()))
        session.commit()
        session.refresh(user)
    return user.totp_secret


def clean_code(raw: str | None) -> str | None:
    """Only six ASCII digits after removing spaces; pyotp alone would take full-width digits."""
    code = (raw or "").replace(" ", "").replace("\u00a0", "")
    return code if TOTP_CODE.fullmatch(code) else None


def _matching_step(secret: str, code: str, at: float) -> int | None:
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):  # valid_window = 1
        moment = at + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment) // totp.interval
    return None


def verify_totp(
    session: Session, user: User, raw_code: str | None, actor: audit.Actor, *, max_failures: int,
    lockout: timedelta, at: float | None = None, enrolling: bool = False,
) -> Outcome:
    """Second step. A code is accepted once: the accepted time step is claimed by a conditional UPDATE."""
    if is_locked(user):
        audit.record(session, "login.totp", actor, user=user, outcome="locked")
        session.commit()
        return Outcome.locked
    code = clean_code(raw_code)
    step = _matching_step(user.totp_secret, code, at if at is not None else time.time()) if code and user.totp_secret \
        else None
    if step is None:
        locked = register_failure(session, user, actor, "login.totp", max_failures=max_failures, lockout=lockout)
        return Outcome.locked if locked else Outcome.bad_credentials
    values: dict = {"last_totp_step": step}
    if enrolling:
        values.update(totp_confirmed=True, session_version=User.session_version + 1)
    claimed = session.execute(
        update(User).where(User.id == user.id, or_(User.last_totp_step.is_(None), User.last_totp_step < step))
        .values(**values)
    ).rowcount
    if claimed != 1:
        session.rollback()
        audit.record(session, "login.totp", actor, user=user, outcome="replay")
        session.commit()
        return Outcome.replayed
    if enrolling:
        audit.record(session, "totp.enrol", actor, user=user, object_type="user", object_id=user.id)
    session.commit()
    session.refresh(user)
    complete_login(session, user, actor)
    return Outcome.ok
