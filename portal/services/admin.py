"""What administrators and auditors see and do."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, User
from portal.models.base import utcnow
from portal.services import audit, spreadsheets, staff_accounts, throttle
from portal.services import auth as auth_service

PAGE = 50


def list_accounts(session: Session, *, after_id: int = 0, admin: User | None = None) -> list[User]:
    """Accounts by id, one keyset page at a time: those the administrator manages (staff_accounts.in_scope)."""
    query = select(User).where(User.id > after_id).order_by(User.id).limit(PAGE)
    if admin is not None:
        query = query.where(staff_accounts.in_scope(session, admin))
    return list(session.scalars(query))


def accounts_under_attack(session: Session, limits: throttle.Throttle, admin: User | None = None) -> list[User]:
    """The accounts with many failed sign-ins in a row lately, for the notice on the administrators' home:
    those this administrator manages."""
    return throttle.under_attack(session, limits, utcnow(),
                                 among=staff_accounts.in_scope(session, admin) if admin is not None else None)


def unlock_account(session: Session, admin: User, user_id: int, actor: audit.Actor) -> User:
    user = staff_accounts.account(session, admin, user_id)
    auth_service.unlock(session, user, actor)
    return user


# What the audit log's action codes mean, for the auditor's page and export (a code not here is shown as it is).
ACTIONS = {
    "login.success": _l("Signed in"),
    "login.password": _l("Sign-in: password"),
    "login.totp": _l("Sign-in: second-factor code"),
    "logout": _l("Signed out"),
    "session.timeout": _l("Session timed out"),
    "password.change": _l("Password changed"),
    "totp.enrol": _l("Second factor set up"),
    "account.create": _l("Account created"),
    "account.unlock": _l("Failed attempts cleared"),
    "account.update": _l("Account's role or station changed"),
    "account.disable": _l("Account disabled"),
    "account.enable": _l("Account enabled again"),
    "account.totp_reset": _l("Authenticator reset"),
    "account.sessions_end": _l("Account's sessions ended"),
    "jurisdiction.create": _l("Bureau, station or beat created"),
    "jurisdiction.rename": _l("Bureau, station or beat renamed"),
    "jurisdiction.move": _l("Community or building moved to another beat"),
    "account.under_attack": _l("Many failed sign-ins in a row"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API token revoked"),
    "id.reveal": _l("Full ID number revealed"),
    "item.view": _l("Report opened by an officer"),
    "person.view": _l("Person's register page opened by an officer"),
    "person.reveal": _l("Person's full record shown"),
    "export": _l("Export"),
    "export.full": _l("Full export"),
    "access.code": _l("Code asked for to see who read a record"),
    "access.check": _l("Code entered to see who read a record"),
    "access.view": _l("A person saw who read their record"),
    "access.hold_request": _l("Hold asked for by an officer (investigation)"),
    "access.hold": _l("Hold approved by an auditor (investigation)"),
    "access.hold_refuse": _l("Hold refused by an auditor (investigation)"),
    "access.hold_extend": _l("Investigation hold extended"),
    "access.hold_end": _l("Investigation hold ended early"),
    "submission.create": _l("Report filed"),
    "submission.confirmed": _l("Report confirmed"),
    "submission.rejected": _l("Report rejected"),
    "submission.site_visit": _l("Site visit asked for"),
    "submission.withdrawn": _l("Report withdrawn"),
    "queue.confirm_selected": _l("Clean reports confirmed together"),
    "staff_list.upload": _l("Staff list uploaded"),
    "staff_list.export_errors": _l("Staff-list errors exported"),
    "staff_import.commit": _l("Staff list committed"),
    "staff_import.confirm_clean": _l("Clean staff-list rows confirmed"),
    "address.import": _l("Addresses imported"),
    "doorplates.print": _l("Door plates printed"),
    "audit.export": _l("Audit log exported"),
}
OUTCOMES = {
    "success": _l("Success"),
    "failure": _l("Failure"),
    "refused": _l("Refused"),
    "throttled": _l("Slowed down"),
    "replay": _l("Replayed code"),
    "conflict": _l("Conflict"),
    "duplicate": _l("Duplicate"),
}
# The most rows one export holds: the auditor narrows the filter for more.
EXPORT_MAX_ROWS = 100_000


def action_label(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def outcome_label(code: str) -> str:
    label = OUTCOMES.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor narrows the log to; dates are UTC days, both included."""

    phone: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    start: date | None = None
    end: date | None = None

    def describe(self) -> str:
        """The filter for the export's audit row: the actor by account id, never by phone."""
        parts = [f"{name}={getattr(self, name)}" for name in ("action", "object_type", "object_id", "outcome",
                                                                 "start", "end") if getattr(self, name)]
        return " ".join(parts)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _filtered(f: AuditFilter) -> Select:
    query = select(AuditEvent)
    if f.phone:
        query = query.where(AuditEvent.actor_id.in_(select(User.id).where(User.phone == f.phone.strip())))
    for name in ("action", "object_type", "object_id", "outcome"):
        value = getattr(f, name)
        if value:
            query = query.where(getattr(AuditEvent, name) == value.strip())
    if f.start:
        query = query.where(AuditEvent.at >= _day_start(f.start))
    if f.end:
        query = query.where(AuditEvent.at < _day_start(f.end + timedelta(days=1)))
    return query


def audit_log(session: Session, f: AuditFilter = AuditFilter(), *, before_id: int | None = None) -> list[AuditEvent]:
    """Newest first, keyset paged; read-only."""
    query = _filtered(f).order_by(AuditEvent.id.desc()).limit(PAGE)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))


EXPORT_HEADER = ("id", "at_utc", "actor_id", "actor_role", "ip", "request_id", "action", "action_name",
                 "object_type", "object_id", "outcome", "detail", "chain")


def _export_rows(session: Session, f: AuditFilter, batch: int = 1000) -> Iterator[tuple]:
    """The filtered rows newest first, a keyset page at a time, at most EXPORT_MAX_ROWS."""
    before, sent = None, 0
    while sent < EXPORT_MAX_ROWS:
        query = _filtered(f).order_by(AuditEvent.id.desc()).limit(min(batch, EXPORT_MAX_ROWS - sent))
        if before is not None:
            query = query.where(AuditEvent.id < before)
        page = list(session.scalars(query))
        for e in page:
            yield (e.id, e.at.astimezone(UTC).isoformat(timespec="seconds"), e.actor_id, e.actor_role, e.ip,
                   e.request_id, e.action, action_label(e.action), e.object_type, e.object_id, e.outcome,
                   e.detail, e.chain)
        session.expunge_all()  # constant memory in the session, whatever the export's size
        sent += len(page)
        if len(page) < batch:
            return
        before = page[-1].id


def export_audit_log(session: Session, f: AuditFilter, actor: audit.Actor) -> bytes:
    """The filtered log as CSV (every cell neutralised: spreadsheets.write_csv); the export is audited."""
    data = spreadsheets.write_csv([EXPORT_HEADER, *_export_rows(session, f)])
    audit.record(session, "audit.export", actor, object_type="audit_event", detail=f.describe() or None)
    return data
