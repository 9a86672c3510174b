"""Automatic flags on a declaration: they never block it, they tell the officer where to look."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import House, IdType, RecordStatus, Tenancy
from portal.services import residence
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
}
# Flags that tell something about other people's records (where else a person lives or works, what the
# register holds for them): for officers only. A reporter who could see them could ask the register
# whether any ID number lives or works somewhere, then withdraw the report.
OFFICER_ONLY = frozenset({"other_tenancy", "other_employment", "details_differ"})
REPORTER_VISIBLE = frozenset(LABELS) - OFFICER_ONLY


def for_reporter(found: list[dict] | None) -> list[dict]:
    """The flags of a report that its reporter may see: those about their own report and house."""
    return [f for f in found or [] if f.get("code") in REPORTER_VISIBLE]


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


def for_house(session: Session, address_id: int, owner_id: int) -> list[dict]:
    """A house registration at an address where another reporter's house stands (declared or verified): the
    officer decides which claim is true. A flag about the address, which its reporter may see (without
    anything of the other reporter)."""
    others = session.scalars(select(House.id).where(House.address_id == address_id, House.owner_id != owner_id,
                                                    House.status.in_(RecordStatus.ACTIVE)).order_by(House.id))
    return [{"code": "claimed_by_another", "house_id": other} for other in others]


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
