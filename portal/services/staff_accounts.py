"""Administrators manage accounts: create staff accounts (through accounts.create_account, as the CLI does),
change a staff account's role or station, disable and enable, reset a lost authenticator, see and end sessions.

Rules that hold whatever the page: an administrator never changes their own role, station or state (no
self-granting); the last active administrator is never disabled or demoted; an administrator of a station
manages the accounts of that station's bureau only (anything else is NotFound). Every change is audited with
what the account was before and became after. Functions add and flush; a refusal records its audit row and
raises ValidationFailed, and the caller commits either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from portal.models import AuditEvent, Beat, Bureau, Role, Station, User
from portal.models.base import utcnow
from portal.services import accounts, audit, jurisdiction
from portal.services.errors import FieldError, NotFound, ValidationFailed

STAFF_ROLES = (Role.officer, Role.clerk, Role.admin, Role.auditor)
# Roles that work in a station or beat and need one.
PLACED_ROLES = (Role.officer, Role.clerk)


def in_scope(session: Session, admin: User):
    """The accounts an administrator manages, as a condition on User: all, or those of their bureau."""
    if admin.role != Role.admin:
        return false()
    bureau_id = jurisdiction.managed_bureau_id(session, admin)
    if bureau_id is None:
        return User.id.is_not(None)
    return or_(User.station_id.in_(select(Station.id).where(Station.bureau_id == bureau_id)),
               User.bureau_id == bureau_id)


def account(session: Session, admin: User, user_id: int) -> User:
    if not 0 < user_id < 2**31:
        raise NotFound()
    found = session.scalar(select(User).where(User.id == user_id, in_scope(session, admin)))
    if found is None:
        raise NotFound()
    return found


# --- where an account works: one choice, "bureau:CODE", "station:CODE" or "beat:CODE" ------------------

def where_choices(session: Session, admin: User) -> list[tuple[str, str]]:
    """Every bureau (its own staff: an officer of a bureau sees all its stations), station and beat the
    administrator manages, in tree order, as (value, label)."""
    out = []
    for b in jurisdiction.bureaus(session, admin):
        out.append((f"bureau:{b.code}", str(_l("%(bureau)s (the whole bureau)", bureau=b.name))))
        for s in b.stations:
            out.append((f"station:{s.code}", f"{b.name} · {s.name}"))
            out += [(f"beat:{t.code}", f"{b.name} · {s.name} · {t.name}") for t in s.beats]
    return out


def where_of(user: User) -> str:
    if user.beat is not None:
        return f"beat:{user.beat.code}"
    if user.station is not None:
        return f"station:{user.station.code}"
    return f"bureau:{user.bureau.code}" if user.bureau is not None else ""


def _where(session: Session, admin: User, value: str | None) -> dict[str, str]:
    """{"station_code" | "beat_code" | "bureau_code": code} of a choice the administrator may make ({} for
    none); FieldError at "where" otherwise."""
    value = (value or "").strip()
    if not value:
        if jurisdiction.managed_bureau_id(session, admin) is not None:
            raise FieldError("where_required", _l("Choose the station or beat of this account."), "where")
        return {}
    if value not in dict(where_choices(session, admin)):
        raise FieldError("where_unknown", _l("Choose one of the stations or beats in the list."), "where")
    kind, code = value.split(":", 1)
    return {f"{kind}_code": code}


def _role_for(admin: User, value: str | None) -> Role:
    """The role an administrator may give: an auditor reads every bureau's log and extends every hold, so only an
    administrator of every bureau makes one."""
    role = _role(value)
    if role == Role.auditor and not jurisdiction.manages_everything(admin):
        raise FieldError("role", _l("Only an administrator of every bureau can make an auditor."), "role")
    return role


def _role(value: str | None) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in STAFF_ROLES:
        raise FieldError("role", _l("Choose one of the roles in the list."), "role")
    return role


def _facts(user: User) -> dict:
    return {"role": str(user.role), "station": user.station.code if user.station else None,
            "beat": user.beat.code if user.beat else None, "active": user.active,
            **({"bureau": user.bureau.code} if user.bureau is not None else {}),
            "authenticator": bool(user.totp_confirmed)}


def _refuse(session: Session, action: str, actor: audit.Actor, user: User, code: str, message,
            field: str | None = None):
    audit.record(session, action, actor, object_type="user", object_id=user.id, outcome="refused", detail=code)
    return ValidationFailed([FieldError(code, message, field)])


# --- creating -------------------------------------------------------------------------------------------

def create(session: Session, admin: User, *, role: str | None, phone: str | None, name: str | None,
           where: str | None, actor: audit.Actor) -> tuple[User, str]:
    """A staff account with a one-time password, changed at first sign-in, where the authenticator is set up
    too (the sign-in's own enrolment). The same service as `flask users create`."""
    errors = []
    try:
        role_ = _role_for(admin, role)
    except FieldError as err:
        errors.append(err)
    place: dict[str, str] = {}
    try:
        place = _where(session, admin, where)
    except FieldError as err:
        errors.append(err)
    if errors:
        raise ValidationFailed(errors)
    try:
        return accounts.create_account(session, role=role_, phone=phone or "", name=name or "", actor=actor,
                                       **place)
    except ValidationFailed as failure:
        raise ValidationFailed([e.at("where") if e.field in ("station", "beat", "bureau") else e
                                for e in failure.errors]) from None


# --- changing -------------------------------------------------------------------------------------------

def _keep_one_admin(session: Session, user: User, action: str, actor: audit.Actor) -> None:
    """Refuse to take the last active administrator away. The active administrators' rows are locked
    (PostgreSQL; SQLite's write lock does it there), so two administrators disabling each other at once
    cannot leave none."""
    if user.role != Role.admin or not user.active:
        return
    active = session.scalars(select(User.id).where(User.role == Role.admin, User.active.is_(True))
                             .order_by(User.id).with_for_update()).all()
    if list(active) == [user.id]:
        raise _refuse(session, action, actor, user, "last_admin",
                      _l("This is the last active administrator: enable or create another administrator first."))


def _not_self(session: Session, admin: User, user: User, action: str, actor: audit.Actor, message) -> None:
    if user.id == admin.id:
        raise _refuse(session, action, actor, user, "self", message)


def _changed(session: Session, user: User, action: str, actor: audit.Actor, before: dict, *,
             end_sessions: bool) -> None:
    if end_sessions:
        user.session_version = User.session_version + 1  # every session of the account ends
    session.flush()
    session.refresh(user)
    audit.record(session, action, actor, object_type="user", object_id=user.id,
                 detail=audit.changes(before, _facts(user)))


def change(session: Session, admin: User, user_id: int, *, role: str | None, where: str | None,
           actor: audit.Actor) -> User:
    """Change a staff account's role and station or beat; its sessions end (its rights changed)."""
    user = account(session, admin, user_id)
    if user.role not in STAFF_ROLES:
        raise NotFound()
    _not_self(session, admin, user, "account.update", actor,
              _l("You cannot change your own role or station: ask another administrator."))
    try:
        role_, place = _role_for(admin, role), _where(session, admin, where)
    except FieldError as err:
        raise ValidationFailed([err]) from None
    if role_ in PLACED_ROLES and not place:
        raise ValidationFailed([FieldError("where_required", _l("An officer or an address clerk needs a station "
                                                                "or a beat."), "where")])
    beat = session.scalar(select(Beat).where(Beat.code == place["beat_code"])) if "beat_code" in place else None
    station = beat.station if beat else (session.scalar(select(Station).where(Station.code == place["station_code"]))
                                         if "station_code" in place else None)
    bureau = session.scalar(select(Bureau).where(Bureau.code == place["bureau_code"])) \
        if "bureau_code" in place else None
    if (role_, station, beat, bureau) == (user.role, user.station, user.beat, user.bureau):
        return user
    if role_ != Role.admin:
        _keep_one_admin(session, user, "account.update", actor)
    before = _facts(user)
    user.role, user.station, user.beat, user.bureau = role_, station, beat, bureau
    _changed(session, user, "account.update", actor, before, end_sessions=True)
    return user


def set_active(session: Session, admin: User, user_id: int, active: bool, actor: audit.Actor) -> User:
    """Disable an account (its sessions end, it cannot sign in) or enable it again."""
    user = account(session, admin, user_id)
    action = "account.enable" if active else "account.disable"
    _not_self(session, admin, user, action, actor, _l("You cannot disable your own account."))
    if user.active == active:
        return user
    if not active:
        _keep_one_admin(session, user, action, actor)
    before = _facts(user)
    user.active = active
    _changed(session, user, action, actor, before, end_sessions=not active)
    return user


def reset_authenticator(session: Session, admin: User, user_id: int, actor: audit.Actor) -> User:
    """Forget a staff account's authenticator: its sessions end, and its next sign-in sets one up again."""
    user = account(session, admin, user_id)
    if not user.role.is_staff:
        raise NotFound()
    _not_self(session, admin, user, "account.totp_reset", actor,
              _l("You cannot reset your own authenticator: ask another administrator."))
    before = _facts(user)
    user.totp_secret_sealed, user.totp_confirmed = None, False
    _changed(session, user, "account.totp_reset", actor, before, end_sessions=True)
    return user


# --- sessions -------------------------------------------------------------------------------------------

# What ends every session of an account (each bumps User.session_version): the account's own sign-out, and
# these acts on it. A session begins with a sign-in, or with the password change that starts a new one.
ENDS_OWN = ("logout",)
ENDS_ON_ACCOUNT = ("password.change", "totp.enrol", "account.disable", "account.update", "account.totp_reset",
                   "account.sessions_end")


@dataclass(frozen=True)
class OpenSession:
    started_at: datetime
    ip: str | None


def open_sessions(session: Session, admin: User, user_id: int, *, absolute_hours: int,
                  now: datetime | None = None) -> list[OpenSession]:
    """The sessions of an account that may still be open: its sign-ins since the last act that ended all its
    sessions, within the absolute session time. Each browser's idle timeout is kept in its own cookie and
    cannot be seen here, so a session listed may have timed out already."""
    user = account(session, admin, user_id)
    mine, about = AuditEvent.actor_id == user.id, and_(AuditEvent.object_type == "user",
                                                       AuditEvent.object_id == str(user.id))
    ended = session.execute(
        select(AuditEvent.id, AuditEvent.action).where(
            AuditEvent.outcome == "success",
            or_(and_(mine, AuditEvent.action.in_(ENDS_OWN)), and_(about, AuditEvent.action.in_(ENDS_ON_ACCOUNT))))
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    since = (now or utcnow()) - timedelta(hours=absolute_hours)
    started = (AuditEvent.action == "login.success") if ended is None or ended.action != "password.change" \
        else or_(AuditEvent.action == "login.success", AuditEvent.id == ended.id)
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.ip).where(mine, started, AuditEvent.outcome == "success",
                                                   AuditEvent.id >= (ended.id if ended else 0),
                                                   AuditEvent.at >= since)
        .order_by(AuditEvent.id.desc()).limit(50))
    return [OpenSession(at, ip) for at, ip in rows]


def end_sessions(session: Session, admin: User, user_id: int, actor: audit.Actor) -> User:
    user = account(session, admin, user_id)
    _not_self(session, admin, user, "account.sessions_end", actor,
              _l("To end your own sessions, sign out or change your password."))
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    audit.record(session, "account.sessions_end", actor, object_type="user", object_id=user.id)
    session.refresh(user)
    return user


def count_active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == Role.admin,
                                                                       User.active.is_(True)))
