"""Creating accounts and changing passwords."""
from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Beat, Bureau, Role, Station, User
from portal.models.base import utcnow
from portal.services import audit, identity, passwords, throttle
from portal.services.errors import FieldError, ValidationFailed

SELF_SERVICE_ROLES = (Role.landlord, Role.employer)


def _collect(checks: dict[str, object]) -> tuple[dict[str, object], list[FieldError]]:
    """Run each field's check; keep every value that passed and every error, per field."""
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for field, check in checks.items():
        try:
            values[field] = check()
        except FieldError as err:
            errors.append(err.at(field))
    return values, errors


def sign_up(
    session: Session, *, role: Role | str, name: str, phone: str, id_number: str, password: str, actor: audit.Actor
) -> User | None:
    """A landlord or employer registers themselves. Never tells whether the phone has an account: with a
    taken phone, the input is checked as for any other and nothing is created (None), after the same work;
    the caller gives the same answer either way (README, "Accounts")."""
    role = Role(role)
    if role not in SELF_SERVICE_ROLES:
        raise ValueError("only landlords and employers sign themselves up")
    values, errors = _checked_sign_up(session, name=name, phone=phone, id_number=id_number, password=password)
    if errors:
        raise ValidationFailed(errors)
    password_hash = passwords.hash_password(password)  # before the look-up, so that both answers take as long
    if _phone_taken(session, values["phone"]):
        return _sign_up_refused(session, actor)
    user = User(role=role, name=values["name"], phone=values["phone"], id_number=values["id_number"],
                password_hash=password_hash)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # two sign-ups with one phone at the same moment
        return _sign_up_refused(session, actor)
    audit.record(session, "account.create", actor, user=user, object_type="user", object_id=user.id,
                 detail="self sign-up")
    return user


def sign_up_errors(session: Session, *, name: str | None, phone: str | None, id_number: str | None,
                   password: str | None) -> list[FieldError]:
    """Every problem sign-up would find in these answers, without creating anything: the page shows them
    all at once with the form's own, rather than one stage after another."""
    return _checked_sign_up(session, name=name, phone=phone, id_number=id_number, password=password)[1]


def _checked_sign_up(session: Session, *, name, phone, id_number, password) -> tuple[dict, list[FieldError]]:
    values, errors = _collect({
        "name": lambda: identity.check_name(name),
        "phone": lambda: identity.check_mobile(phone),
        "id_number": lambda: identity.check_resident_id(id_number).number,
    })
    try:
        passwords.check_new_password(password or "", user_inputs=(values.get("phone", ""),
                                                                 values.get("id_number", ""), values.get("name", "")),
                                     places=passwords.place_words(session))
    except FieldError as err:
        errors.append(err.at("password"))
    return values, errors


def _sign_up_refused(session: Session, actor: audit.Actor) -> None:
    audit.record(session, "account.create", actor, outcome="refused", detail="self sign-up: phone taken")
    return None


def _phone_taken(session: Session, phone: str) -> bool:
    return session.scalar(select(User.id).where(User.phone == phone)) is not None


def create_account(
    session: Session,
    *,
    role: Role,
    phone: str,
    name: str,
    station_code: str | None = None,
    beat_code: str | None = None,
    bureau_code: str | None = None,
    id_number: str | None = None,
    actor: audit.Actor = audit.SYSTEM,
) -> tuple[User, str]:
    """Create an account of any role with a one-time password that must be changed at first login. Staff work in
    a beat, a station, or (the bureau's own staff: an officer who sees every station, a clerk) a bureau."""
    role = Role(role)
    values, errors = _collect({"name": lambda: identity.check_name(name),
                               "phone": lambda: identity.check_mobile(phone)})
    if id_number:
        try:
            values["id_number"] = identity.check_resident_id(id_number).number
        except FieldError as err:
            errors.append(err.at("id_number"))
    station, beat, bureau = _placement(session, role, station_code, beat_code, bureau_code, errors)
    if "phone" in values and _phone_taken(session, values["phone"]):
        errors.append(FieldError("phone_taken", _l("An account with this phone number already exists."), "phone"))
    if errors:
        raise ValidationFailed(errors)
    initial = secrets.token_urlsafe(12)
    user = User(role=role, phone=values["phone"], name=values["name"], id_number=values.get("id_number"),
                password_hash=passwords.hash_password(initial), must_change_password=True,
                station_id=station.id if station else (beat.station_id if beat else None),
                beat_id=beat.id if beat else None, bureau_id=bureau.id if bureau else None)
    session.add(user)
    session.flush()
    audit.record(session, "account.create", actor, object_type="user", object_id=user.id,
                 detail=audit.changes(None, {"role": str(role), "station": station.code if station else None,
                                             "beat": beat.code if beat else None,
                                             **({"bureau": bureau.code} if bureau else {})}))
    return user, initial


def _placement(session: Session, role: Role, station_code: str | None, beat_code: str | None,
               bureau_code: str | None, errors: list) -> tuple[Station | None, Beat | None, Bureau | None]:
    """Where a new account works: its beat, station or bureau (a code that names none is an error in `errors`);
    an officer or a clerk must have one."""
    station = beat = bureau = None
    if bureau_code and (beat_code or station_code):
        errors.append(FieldError("two_places", _l("Give a bureau, a station or a beat, not two of them."), "bureau"))
    elif bureau_code:
        bureau = session.scalar(select(Bureau).where(Bureau.code == bureau_code))
        if bureau is None:
            errors.append(FieldError("unknown_bureau", _l("There is no bureau with this code."), "bureau"))
    elif beat_code:
        beat = session.scalar(select(Beat).where(Beat.code == beat_code))
        if beat is None:
            errors.append(FieldError("unknown_beat", _l("There is no beat with this code."), "beat"))
    elif station_code:
        station = session.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            errors.append(FieldError("unknown_station", _l("There is no station with this code."), "station"))
    elif role == Role.officer:
        errors.append(FieldError("jurisdiction_required", _l("An officer needs a station or a beat."), "station"))
    elif role == Role.clerk:  # a clerk keeps the addresses of the bureau of their station
        errors.append(FieldError("jurisdiction_required", _l("An address clerk needs a station or a beat."),
                                 "station"))
    return station, beat, bureau


def change_password(
    session: Session, user: User, *, current: str, new: str, actor: audit.Actor, limits: throttle.Throttle,
) -> None:
    """Wrong current passwords count with failed sign-ins, and wait as they do: a stolen session must not
    become a way to guess the password. The caller commits on ValidationFailed too: the refusal changed
    nothing but its failure count and audit row, which are kept."""
    now = utcnow()
    if throttle.waiting(user.throttled_until, now):
        passwords.verify_password(None, current)
        audit.record(session, "password.change", actor, user=user, outcome="throttled")
        raise ValidationFailed([FieldError("throttled", _l("Too many wrong passwords. Wait a few minutes, then "
                                                           "try again."), "current_password")])
    errors = []
    if not passwords.verify_password(user.password_hash, current):
        throttle.count_account_failure(session, user, actor, "password.change", limits, now)
        errors.append(FieldError("wrong_password", _l("Your current password is not right."), "current_password"))
    try:
        passwords.check_new_password(new, user_inputs=(user.phone, user.id_number or "", user.name),
                                     places=passwords.place_words(session))
    except FieldError as err:
        errors.append(err.at("new_password"))
    if not errors and new == current:
        errors.append(FieldError("same_password", _l("Choose a password different from the current one."),
                                 "new_password"))
    if errors:
        raise ValidationFailed(errors)
    session.execute(update(User).where(User.id == user.id).values(
        password_hash=passwords.hash_password(new), must_change_password=False,
        session_version=User.session_version + 1))
    throttle.clear_account(session, user)
    audit.record(session, "password.change", actor, user=user, object_type="user", object_id=user.id)
    session.refresh(user)


def set_locale(session: Session, user: User, locale: str) -> None:
    session.execute(update(User).where(User.id == user.id).values(locale=locale))
