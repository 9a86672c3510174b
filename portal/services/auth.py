"""Signing in: password, TOTP second factor, replay protection, failures counted and throttled.

Every step here adds and flushes; the caller commits whatever the outcome, since a refusal keeps something
too (a failure count, a claimed TOTP step, its audit row)."""
from __future__ import annotations

import enum
import hmac
import re
import time
from datetime import datetime

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal.models import User
from portal.models.base import utcnow
from portal.services import audit, identity, passwords, throttle
from portal.services.errors import FieldError

TOTP_CODE = re.compile(r"[0-9]{6}", re.ASCII)
TOTP_ISSUER = "Portal"


class Outcome(enum.StrEnum):
    ok = "ok"
    needs_totp = "needs_totp"
    needs_enrolment = "needs_enrolment"
    bad_credentials = "bad_credentials"
    throttled = "throttled"  # refused unchecked: too many failures lately; told apart from nothing outside
    replayed = "replayed"


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def signed_in_user(session: Session, user_id: int, session_version: int) -> User | None:
    """The account a session cookie names, if it is still active and its sessions were not ended since."""
    user = session.scalar(select(User).where(User.id == user_id))
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def is_throttled(user: User, now: datetime | None = None) -> bool:
    return throttle.waiting(user.throttled_until, _now(now))


def check_password(
    session: Session, phone: str, password: str, actor: audit.Actor, *, limits: throttle.Throttle,
    known: frozenset[int] = frozenset(), now: datetime | None = None,
) -> tuple[Outcome, User | None]:
    """First step of signing in. The same answer, and the same work (one password hash), whether the phone
    is unknown, the password wrong, or the account or the address must wait. `known`: the accounts that
    signed in from this browser before, which skip the delays (their failures still count)."""
    now = _now(now)
    try:
        phone = identity.check_mobile(phone)
    except FieldError:
        phone = ""
    user = session.scalar(select(User).where(User.phone == phone)) if phone else None
    if (user is None or user.id not in known) and throttle.source_waiting(session, actor.ip, now):
        passwords.verify_password(None, password)
        audit.record(session, "login.password", actor, outcome="throttled", detail="source address")
        return Outcome.throttled, None
    outcome = Outcome.bad_credentials
    if user is None or not user.active:
        passwords.verify_password(None, password)
        audit.record(session, "login.password", actor, outcome="failure",
                     detail=f"unknown phone {identity.mask_phone(phone)}" if user is None else "inactive")
    elif is_throttled(user, now) and user.id not in known:
        passwords.verify_password(None, password)
        audit.record(session, "login.password", actor, user=user, outcome="throttled")
        outcome = Outcome.throttled
    elif not passwords.verify_password(user.password_hash, password):
        throttle.count_account_failure(session, user, actor, "login.password", limits, now)
    else:
        return _password_passed(session, user, password, actor), user
    throttle.count_source_failure(session, actor.ip, limits, now)
    return outcome, user


def _password_passed(session: Session, user: User, password: str, actor: audit.Actor) -> Outcome:
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.role.is_staff:
        return Outcome.needs_totp if user.totp_confirmed else Outcome.needs_enrolment
    complete_login(session, user, actor)
    return Outcome.ok


def complete_login(session: Session, user: User, actor: audit.Actor) -> None:
    throttle.clear_account(session, user)
    audit.record(session, "login.success", actor, user=user)


def unlock(session: Session, user: User, actor: audit.Actor) -> None:
    """Forget the account's failures, and so any delay its next attempt would wait."""
    throttle.clear_account(session, user)
    audit.record(session, "account.unlock", actor, object_type="user", object_id=user.id)


def end_session(session: Session, user: User, actor: audit.Actor, reason: str = "logout") -> None:
    """Bump the session version so that every cookie issued before now stops working."""
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    audit.record(session, reason, actor, user=user)


def record_timeout(session: Session, user: User, actor: audit.Actor) -> None:
    """One browser's session timed out; the user's sessions elsewhere go on."""
    audit.record(session, "session.timeout", actor, user=user)


# --- TOTP -------------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.phone, issuer_name=TOTP_ISSUER)


def start_enrolment(session: Session, user: User) -> str:
    """Give the user a secret to enrol, kept until one code confirms it; an enrolled user gets none."""
    if user.totp_confirmed:
        raise ValueError("already enrolled")
    if user.totp_secret_sealed is None:
        session.execute(update(User).where(User.id == user.id, User.totp_secret_sealed.is_(None))
                        .values(**User.totp_secret.columns_for(session.connection(), user.row_key, new_totp_secret())))
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
    session: Session, user: User, raw_code: str | None, actor: audit.Actor, *, limits: throttle.Throttle,
    known: frozenset[int] = frozenset(), at: float | None = None, enrolling: bool = False,
) -> Outcome:
    """Second step. A code is accepted once: the accepted time step is claimed by a conditional UPDATE.
    Wrong codes count with wrong passwords, and an attempt inside the delay is refused unchecked, unless it
    comes from a browser the account signed in from before (`known`)."""
    now = utcnow()
    if is_throttled(user, now) and user.id not in known:
        audit.record(session, "login.totp", actor, user=user, outcome="throttled")
        return Outcome.throttled
    code = clean_code(raw_code)
    step = _matching_step(user.totp_secret, code, at if at is not None else time.time()) if code and user.totp_secret \
        else None
    if step is None:
        throttle.count_account_failure(session, user, actor, "login.totp", limits, now)
        return Outcome.bad_credentials
    values: dict = {"last_totp_step": step}
    if enrolling:
        values.update(totp_confirmed=True, session_version=User.session_version + 1)
    claimed = session.execute(
        update(User).where(User.id == user.id, or_(User.last_totp_step.is_(None), User.last_totp_step < step))
        .values(**values)
    ).rowcount
    if claimed != 1:  # the UPDATE changed nothing: the code's step was used already
        audit.record(session, "login.totp", actor, user=user, outcome="replay")
        return Outcome.replayed
    if enrolling:
        audit.record(session, "totp.enrol", actor, user=user, object_type="user", object_id=user.id)
    session.refresh(user)
    complete_login(session, user, actor)
    return Outcome.ok
