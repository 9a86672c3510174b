"""Automatic flags on a declaration: they never block it, they tell the officer where to look."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, text, true, update
from sqlalchemy.orm import Session, aliased

from portal.models import House, IdType, RecordStatus, Submission, SubmissionKind, Tenancy, Unit
from portal.models.address import Address, AddressLevel
from portal.services import audit_chain, residence
from portal.services.errors import FieldError, ValidationFailed
from portal.services.occupants import age_on

CHILD_AGE = 16
ADULT_AGE = 18

LABELS = {
    "other_tenancy": _l("Already living at another house"),
    "over_capacity": _l("More occupants than the house allows"),
    "minor_alone": _l("A child under 16 with no adult in the house"),
    "late": _l("Reported after the deadline"),
    "unknown_region": _l("ID region code is not a known division"),
    "other_employment": _l("Already employed at another unit"),
    "details_differ": _l("The declared name or phone differs from the register"),
    "claimed_by_another": _l("Another reporter has registered a house at this address"),
    "uscc_claimed_by_another": _l("Another employer has registered a unit with this credit code"),
}
# Flags that tell something about other people's records (where else a person lives or works, what the
# register holds for them): for officers only. A reporter who could see them could ask the register
# whether any ID number lives or works somewhere, then withdraw the report.
OFFICER_ONLY = frozenset({"other_tenancy", "other_employment", "details_differ"})
REPORTER_VISIBLE = frozenset(LABELS) - OFFICER_ONLY


def for_reporter(found: list[dict] | None) -> list[dict]:
    """The flags of a report that its reporter may see: those about their own report and house (a claim the
    police settled is no longer a flag for them)."""
    shown, claims = [], set()
    for f in found or []:
        code = f.get("code")
        if code not in REPORTER_VISIBLE or f.get("resolved") or code in claims:
            continue  # one flag per kind of claim: how many others claim the place is for the officer
        if code in CLAIMS:
            claims.add(code)
        shown.append(f)
    return shown


def open_flags(found: list[dict] | None) -> bool:
    """Whether any flag still asks the officer to look (Submission.flagged): a settled claim does not."""
    return any(not f.get("resolved") for f in found or [])


def label(code: str):
    return LABELS.get(code, code)


def late(due, now) -> list[dict]:
    """A report made after its deadline (`due`, filing.due_at; None: no deadline)."""
    return [{"code": "late"}] if due is not None and now > due else []


def for_unit(legal_rep_region_known: bool) -> list[dict]:
    """A unit registration whose legal representative's ID number names no known division."""
    return [] if legal_rep_region_known else [{"code": "unknown_region", "field": "legal_rep_id_number"}]


def for_hire(other_units: list[int], region_known: bool, differs: bool) -> list[dict]:
    """A hire, single or imported: employed at other units now (`other_units`), an ID number naming no
    known division, declared details that differ from the register's."""
    found = [{"code": "other_employment", "unit_id": other} for other in sorted(set(other_units))]
    if not region_known:
        found.append({"code": "unknown_region"})
    if differs:
        found.append({"code": "details_differ"})
    return found


# --- two claims on one place: a house at one address, a unit with one USCC, by two reporters ---------
#
# The new registration is flagged, and so is the other claim's open registration item, each naming the
# other's house (or unit). The officer settles it through review.transition: confirming one claim is
# refused while another reporter's claim there is verified, and rejecting (or withdrawing) one marks the
# flag on the other resolved. Whether a house stands claimed by another is read from the register
# (rival_houses), so it is never stale. Two registrations at once are ordered by a lock on the building (on
# the USCC), taken before either looks for the other: both end flagged, never neither.
#
# One place is claimed by a house at an address, at every wider address holding it and at every narrower one
# inside it: a whole building, a unit of it and a room of that unit claim overlapping places
# (overlapping), two rooms of one building do not.
CLAIMS = {  # flag code -> (kind of registration, the submission's column, which is also the key in the flag)
    "claimed_by_another": (SubmissionKind.house_registration, "house_id"),
    "uscc_claimed_by_another": (SubmissionKind.unit_registration, "unit_id"),
}
_LOCK_SPACE = {"house_id": 0x636C6168, "unit_id": 0x636C6175}  # pg_advisory_xact_lock(int, int) namespaces
_LOCK = text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))")
# Overlapping addresses share these (a house sits on a building or a room, never on a door plate alone) ...
BUILDING = ("division_code", "township", "road", "door_no", "community", "building")
# ... and below the building, one's unit and room are the start of the other's: ("4单元", "") holds
# ("4单元", "402"); ("", "") holds both; ("4单元", "402") and ("4单元", "403") are apart.
_BELOW = ("unit", "room")


def _all(*terms):
    """and_ of SQL terms and plain booleans (the components of an Address in hand), the booleans settled here
    so that the statement holds only column conditions (which the address index serves)."""
    if any(t is False for t in terms):
        return false()
    kept = [t for t in terms if t is not True]
    return and_(*kept) if kept else true()


def _any(*terms):
    if any(t is True for t in terms):
        return True
    kept = [t for t in terms if t is not False]
    return or_(*kept) if kept else False


def overlapping(other, mine):
    """The condition that the address `other` (Address, or an alias of it) and `mine` (an Address in hand, or
    an alias for a correlated statement) claim one place: the same building, neither a door plate, and below
    the building the one's components are the start of the other's (an empty component ends an address)."""
    terms = [getattr(other, c) == getattr(mine, c) for c in BUILDING]
    for i, c in enumerate(_BELOW):
        rest = _BELOW[i:]
        terms.append(_any(getattr(other, c) == getattr(mine, c), _all(*(getattr(other, r) == "" for r in rest)),
                          _all(*(getattr(mine, r) == "" for r in rest))))
    return _all(*terms, other.level != AddressLevel.door_plate, mine.level != AddressLevel.door_plate)


def covering_addresses(address: Address):
    """The addresses that overlap `address` (itself, the wider ones holding it, the narrower ones inside it),
    as a statement of their ids for `House.address_id.in_(...)`."""
    return select(Address.id).where(overlapping(Address, address))


def rivalled(house=House):
    """The condition, correlated to `house` (House or an alias), that a house of another reporter stands
    (declared or verified) on a place overlapping its address."""
    mine, other, theirs = aliased(Address), aliased(Address), aliased(House)
    return (select(theirs.id).join(other, other.id == theirs.address_id).join(mine, mine.id == house.address_id)
            .where(theirs.owner_id != house.owner_id, theirs.status.in_(RecordStatus.ACTIVE),
                   overlapping(other, mine)).exists())


def claim_key(address: Address) -> str:
    """The lock key of the houses that may claim a place overlapping `address`: its building."""
    return "\x1f".join(getattr(address, c) for c in BUILDING)


def hold_claims(session: Session, column: str, key: str) -> None:
    """Order the registrations of one building (column "house_id", key claim_key) or one USCC ("unit_id")
    until the transaction ends (PostgreSQL; on SQLite the one write lock orders them: the registration writes
    its row before it looks for the other). The audit chain's lock comes first, as for every decision: no
    deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        audit_chain.take_order(session)
        session.execute(_LOCK, {"space": _LOCK_SPACE[column], "key": key})


def rivals_at(address: Address, owner_id: int) -> tuple:
    """The conditions on House of another reporter's house (any status) on a place overlapping `address`."""
    return House.address_id.in_(covering_addresses(address)), House.owner_id != owner_id


def rival_houses(session: Session, address: Address, owner_id: int) -> list[int]:
    """Houses of other reporters on a place overlapping this address that stand (declared or verified)."""
    return list(session.scalars(select(House.id).where(*rivals_at(address, owner_id),
                                                       House.status.in_(RecordStatus.ACTIVE)).order_by(House.id)))


def rival_units(session: Session, uscc: str, owner_id: int) -> list[int]:
    """Units of other employers with this USCC that stand (declared or verified)."""
    return list(session.scalars(select(Unit.id).where(Unit.uscc == uscc, Unit.owner_id != owner_id,
                                                      Unit.status.in_(RecordStatus.ACTIVE)).order_by(Unit.id)))


def for_house(session: Session, address: Address, owner_id: int) -> list[dict]:
    """A house registration on a place where another reporter's house stands (declared or verified): the
    officer decides which claim is true. A flag about the address, which its reporter may see (without
    anything of the other reporter)."""
    return [{"code": "claimed_by_another", "house_id": other} for other in rival_houses(session, address, owner_id)]


def for_unit_code(session: Session, uscc: str, owner_id: int) -> list[dict]:
    """A unit registration with a USCC that another employer's unit holds (declared or verified)."""
    return [{"code": "uscc_claimed_by_another", "unit_id": other} for other in rival_units(session, uscc, owner_id)]


def tell_rivals(session: Session, sub: Submission) -> None:
    """Flag the open registration item of each claim `sub` was flagged against, naming `sub`'s house (unit)."""
    for flag in sub.flags or []:
        if flag.get("code") not in CLAIMS:
            continue
        kind, column = CLAIMS[flag["code"]]
        mine = {"code": flag["code"], column: getattr(sub, column)}
        for other in list(session.scalars(select(Submission).where(
                getattr(Submission, column) == flag[column], Submission.kind == kind,
                Submission.is_open.is_(True)))):
            if mine not in other.flags:  # a correction of `sub` names the same house: flagged once
                _set_flags(session, other.id, [*other.flags, mine])


def claim_dropped(session: Session, sub: Submission) -> None:
    """A registration rejected or withdrawn: on the other claims' registrations, the flag naming its house
    (unit) is marked resolved. The flag stays in the item's history, as every flag does."""
    kind = SubmissionKind(sub.kind)
    code, column = next((c, col) for c, (k, col) in CLAIMS.items() if k == kind)
    dropped = getattr(sub, column)
    others = session.scalars(select(Submission).where(Submission.kind == kind, getattr(Submission, column).in_(
        _rivals_of(session, column, dropped))))
    for other in list(others):
        if any(f.get("code") == code and f.get(column) == dropped and not f.get("resolved") for f in other.flags):
            _set_flags(session, other.id, [{**f, "resolved": True} if f.get("code") == code and
                                           f.get(column) == dropped else f for f in other.flags])


def _rivals_of(session: Session, column: str, record_id: int):
    """The other reporters' records (any status) on the same place as this house (unit)."""
    if column == "house_id":
        house = session.get(House, record_id)
        return select(House.id).where(*rivals_at(house.address, house.owner_id))
    unit = session.get(Unit, record_id)
    return select(Unit.id).where(Unit.uscc == unit.uscc, Unit.owner_id != unit.owner_id)


def _set_flags(session: Session, submission_id: int, found: list[dict]) -> None:
    # A flag is no decision: the item's version stays, so an officer's open page still decides it.
    session.execute(update(Submission).where(Submission.id == submission_id)
                    .values(flags=found, flagged=open_flags(found)).execution_options(synchronize_session="evaluate"))


def check_confirmable(session: Session, sub: Submission) -> None:
    """Confirming a registration while another reporter's claim on the same place is verified would put two
    owners in the register: refused, with what to do instead (review.transition asks before it moves). The
    place's lock is held from here on, so two officers confirming the two claims at once cannot both pass."""
    kind = SubmissionKind(sub.kind)
    if kind == SubmissionKind.house_registration and sub.house_id is not None:
        house = session.get(House, sub.house_id)
        hold_claims(session, "house_id", claim_key(house.address))
        verified = session.scalar(select(House.id).where(*rivals_at(house.address, house.owner_id),
                                                         House.status == RecordStatus.verified).limit(1))
        message = _l("Another reporter's house at this address is confirmed already. Reject this claim, or ask "
                     "for a site visit.")
    elif kind == SubmissionKind.unit_registration and sub.unit_id is not None:
        unit = session.get(Unit, sub.unit_id)
        hold_claims(session, "unit_id", unit.uscc)
        verified = session.scalar(select(Unit.id).where(Unit.uscc == unit.uscc, Unit.owner_id != unit.owner_id,
                                                        Unit.status == RecordStatus.verified).limit(1))
        message = _l("Another employer's unit with this credit code is confirmed already. Reject this claim, "
                     "or ask for a site visit.")
    else:
        return
    if verified is not None:
        raise ValidationFailed([FieldError("other_claim_confirmed", message, "action")])


def for_move_in(session: Session, house, report, persons: list, current: list, *,
                today: date, ignore_submission: int | None = None) -> list[dict]:
    """`house`: anything with its id and max_occupants; `persons`: the register's person per person of the
    report (reporting.NamedPerson); `current`: the house's residents (reporting.ReportableHouse.residents).
    Lateness is flagged at filing (late)."""
    person_ids = [p.id for p in persons]
    known = [p.id for p in persons if not p.new]  # a person created just now lives nowhere
    elsewhere = session.execute(
        select(Tenancy.person_id, Tenancy.house_id).where(
            Tenancy.person_id.in_(known), Tenancy.house_id != house.id, *residence.living())
    ).all() if known else []
    staying = [r for r in current if not r.moving_out
               and (ignore_submission is None or r.submission_id != ignore_submission)]
    return move_in_rules(report.occupants, move_in_date=report.move_in_date, today=today,
                         max_occupants=house.max_occupants, staying_births=[r.birth_date for r in staying],
                         elsewhere=[(person_ids.index(pid), other) for pid, other in elsewhere],
                         differs=[i for i, p in enumerate(persons) if p.differs])


def move_in_rules(occupants: list, *, move_in_date: date, today: date, max_occupants: int | None,
                  staying_births: list[date | None], elsewhere: list[tuple[int, int]] = (),
                  differs: list[int] = ()) -> list[dict]:
    """The move-in flags from plain values (bench/generate.py builds its data with them): `occupants`, each
    with id_type, region_known and birth_date; `staying_births`, of those who stay in the house; `elsewhere`,
    (person index, the house they live in now); `differs`, the people whose declared details differ."""
    found = [{"code": "other_tenancy", "person": index, "house_id": other} for index, other in elsewhere]
    found += [{"code": "details_differ", "person": i} for i in differs]
    if max_occupants is not None and len(staying_births) + len(occupants) > max_occupants:
        found.append({"code": "over_capacity", "count": len(staying_births) + len(occupants), "max": max_occupants})
    ages = [age_on(o.birth_date, move_in_date) for o in occupants]
    ages += [age_on(birth, today) for birth in staying_births]
    # A person whose document carries no birth date counts as a possible adult: no flag without evidence.
    has_adult = any(a is None or a >= ADULT_AGE for a in ages)
    for index, occupant in enumerate(occupants):
        age = age_on(occupant.birth_date, move_in_date)
        if age is not None and age < CHILD_AGE and not has_adult:
            found.append({"code": "minor_alone", "person": index})
        if occupant.id_type == IdType.resident_id and not occupant.region_known:
            found.append({"code": "unknown_region", "person": index})
    return found
