"""The anomaly lists' summaries (services/anomaly_summaries.py), kept by triggers: after a random sequence of
real service operations each equals a recount through the ORM by the one rule of who lives where
(residence.living); and the lists that read them give exactly the rows of the queries they replaced."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select, update

from portal.models import House, Person, RecordStatus, Submission, SubmissionStatus, Tenancy
from portal.models.address import Address
from portal.models.base import utcnow
from portal.services import address_merge, anomaly_summaries, reporting, residence, retention
from portal.services.errors import StateConflict, ValidationFailed
from portal.services.filing import local_today
from portal.services.flags import ADULT_AGE, CHILD_AGE
from tests import factories

YEAR = date.today().year
BIRTHS = [f"{YEAR - 8}0301", f"{YEAR - 12}0601", f"{YEAR - 17}0101", "19800101", "19950505", "19600101"]


def recount(session) -> dict:
    """Every summary as the plain path computes it."""
    session.flush()
    session.expire_all()
    living = session.execute(select(Tenancy.house_id, Tenancy.person_id, Person.birth_year)
                             .join(Person, Person.id == Tenancy.person_id).where(*residence.living())).all()
    last = dict(session.execute(select(Submission.house_id, func.max(Submission.submitted_at))
                                .where(Submission.house_id.is_not(None)).group_by(Submission.house_id)).all())
    houses = {hid: (0, None, None, last.get(hid)) for hid in session.scalars(select(House.id))}
    persons = {pid: 0 for pid in session.scalars(select(Person.id))}
    for house_id, person_id, year in living:
        n, young, old, at = houses[house_id]
        known = year if year is not None else anomaly_summaries.UNKNOWN_BIRTH_YEAR
        houses[house_id] = (n + 1, year if young is None or (year is not None and year > young) else young,
                            known if old is None or known < old else old, at)
        persons[person_id] += 1
    claimants = dict(session.execute(select(House.address_id, func.count(func.distinct(House.owner_id)))
                                     .where(House.status.in_(RecordStatus.ACTIVE)).group_by(House.address_id)).all())
    addresses = {aid: claimants.get(aid, 0) for aid in session.scalars(select(Address.id))}
    return {"houses": houses, "persons": persons, "addresses": addresses}


def stored(session) -> dict:
    session.flush()
    session.expire_all()
    return {"houses": {r[0]: tuple(r[1:]) for r in session.execute(select(
                House.id, House.anom_living_count, House.anom_youngest_birth_year, House.anom_eldest_birth_year,
                House.anom_last_report_at))},
            "persons": dict(session.execute(select(Person.id, Person.anom_living_count)).all()),
            "addresses": dict(session.execute(select(Address.id, Address.anom_claimant_count)).all())}


class World:
    """Landlords with houses in the district, people who move between them, and an officer who decides."""

    def __init__(self, session, district, rng: random.Random):
        self.s, self.d, self.rng = session, district, rng
        self.officer = factories.make_user(session, role="officer", station=district.stations[0])
        self.officer2 = factories.make_user(session, role="officer", station=district.stations[1])
        self.landlords = [factories.make_user(session, role="landlord") for _ in range(3)]
        self.people = [factories.occupant(name=f"人{chr(0x4e00 + i)}", birth=BIRTHS[i % len(BIRTHS)],
                                          region="430302") for i in range(14)]
        self.people.append(factories.foreign_occupant(number="E87654321", name="Ann Lee"))
        self.houses: list[tuple] = []  # (owner, house id)
        self.n = 0
        self.merged = 0

    def address(self, beat):
        self.n += 1
        a = factories.make_address(self.s, beat, road="建设路", door_no=f"{self.n}号", community="",
                                   building="1栋", unit="1单元", room=f"{self.n}01")
        self.s.commit()
        return a

    def new_house(self):
        owner = self.rng.choice(self.landlords)
        sub = factories.make_house(self.s, owner, self.address(self.rng.choice(self.d.beats)),
                                   max_occupants=self.rng.choice([1, 2, 3]))
        self.houses.append((owner, sub.house_id))

    def move_in(self):
        owner, hid = self.rng.choice(self.houses)
        people = self.rng.sample(self.people, self.rng.choice([1, 1, 2, 3]))
        try:
            factories.make_move_in(self.s, owner, hid, [dict(p) for p in people],
                                   lease_end_date=(local_today() - timedelta(days=3)).isoformat()
                                   if self.rng.random() < 0.2 else None)
        except ValidationFailed:  # someone of them lives there already
            self.s.rollback()

    def living(self):
        return self.s.execute(select(Tenancy, House.owner_id).join(House, House.id == Tenancy.house_id)
                              .where(*residence.living()).order_by(Tenancy.id)).all()

    def move_out(self):
        rows = self.living()
        if rows:
            tenancy, owner_id = self.rng.choice(rows)
            owner = next(u for u in self.landlords if u.id == owner_id)
            factories.make_move_out(self.s, owner, tenancy.id)

    def open_items(self, kind=None):
        where = [Submission.is_open.is_(True)] + ([Submission.kind == kind] if kind else [])
        return list(self.s.scalars(select(Submission).where(*where).order_by(Submission.id)))

    def decide(self):
        items = self.open_items()
        if items:
            sub = self.rng.choice(items)
            officer = self.officer if sub.station_id == self.d.stations[0].id else self.officer2
            to = self.rng.choice([SubmissionStatus.confirmed, SubmissionStatus.confirmed, SubmissionStatus.rejected])
            reason = {"reason_code": "other", "reason_text": "测试"} if to == SubmissionStatus.rejected else {}
            factories.decide(self.s, sub, officer, to, **reason)

    def correct(self):
        items = self.open_items("move_in")
        if items:
            sub = self.rng.choice(items)
            owner = next(u for u in self.landlords if u.id == sub.reporter_id)
            people = [dict(p, birth_date=None) for p in self.rng.sample(self.people[:14], 1)]
            try:
                reporting.correct_move_in(self.s, owner, sub.id, occupants=people,
                                          move_in_date=local_today().isoformat(), lease_end_date=None,
                                          actor=factories.as_actor(owner), deadline_days=3)
                self.s.commit()
            except ValidationFailed:
                self.s.rollback()

    def withdraw(self):
        items = self.open_items()
        if items:
            sub = self.rng.choice(items)
            owner = next((u for u in self.landlords if u.id == sub.reporter_id), None)
            if owner is not None:
                reporting.withdraw(self.s, owner, sub.id, factories.as_actor(owner))
                self.s.commit()

    def birth_year(self):
        person = self.s.scalars(select(Person).order_by(Person.id)).all()
        if person:
            p = self.rng.choice(person)
            p.birth_date = self.rng.choice([None, date(YEAR - 5, 1, 1), date(1970, 2, 2)])
            self.s.commit()

    def merge(self, clerk):
        """A house's address written a second way, with a house (of its owner or another) and a tenant, merged
        with it: the other address's houses move to the survivor, one owner's two houses become one."""
        owner, hid = self.rng.choice(self.houses)
        original = self.s.get(House, hid).address
        values = {c: getattr(original, c) for c in ("road", "door_no", "building", "unit", "room")}
        self.n += 1
        twin = factories.make_address(self.s, self.s.get(type(self.d.beats[0]), original.beat_id),
                                      community=f"别名{self.n}", **values)
        self.s.commit()
        other_owner = self.rng.choice([owner, *self.landlords])
        sub = factories.make_house(self.s, other_owner, twin, max_occupants=1)
        self.houses.append((other_owner, sub.house_id))
        factories.make_move_in(self.s, other_owner, sub.house_id, [dict(self.rng.choice(self.people))])
        survivor, other = self.rng.sample([original, twin], 2)
        try:
            address_merge.merge(self.s, clerk, survivor.id, other.id, factories.as_actor(clerk))
            self.s.commit()
            self.merged += 1
        except StateConflict:  # the same person in both of one owner's houses: refused
            self.s.rollback()
        self.houses = [(o, h) for o, h in self.houses if self.s.get(House, h) is not None]

    def purge(self):
        """The oldest reports and move-outs aged past the retention period, then a purge."""
        ended = self.s.scalars(select(Tenancy).where(Tenancy.move_out_date.is_not(None))).all()
        long_ago = utcnow() - timedelta(days=5 * 365)
        for t in ended:
            self.s.execute(update(Tenancy).where(Tenancy.id == t.id).values(
                move_in_date=date(2019, 1, 1), move_out_date=date(2020, 1, 1)))
            self.s.execute(update(Submission).where(Submission.id == t.submission_id,
                                                    Submission.is_open.is_(False)).values(submitted_at=long_ago))
            self.s.execute(update(Person).where(Person.id == t.person_id).values(created_at=long_ago))
        retention.purge_batch(self.s, today=local_today(), keep_days=3 * 365)
        self.s.commit()


def test_summaries_equal_a_recount_after_real_operations(db_session, district):
    rng = random.Random(20261203)
    world = World(db_session, district, rng)
    clerk = factories.make_user(db_session, role="clerk", name="地址员", bureau_id=district.bureau.id)
    for _ in range(6):
        world.new_house()
    steps = [world.move_in] * 6 + [world.move_out] * 3 + [world.decide] * 5 + [world.correct, world.withdraw,
                                                                             world.birth_year, world.new_house]
    for i in range(70):
        rng.choice(steps)()
        if i % 10 == 9:
            world.merge(clerk)
        assert stored(db_session) == recount(db_session), f"after step {i}"
    world.merge(clerk)
    assert stored(db_session) == recount(db_session)
    world.purge()
    assert stored(db_session) == recount(db_session)
    # The sequence did reach what the lists look for.
    assert world.merged >= 3
    summary = stored(db_session)
    assert max(summary["persons"].values()) >= 2
    assert any(n > 0 and old is not None and old > YEAR - 18 for n, _y, old, _a in summary["houses"].values())
    assert any(n == 0 for n, *_rest in summary["houses"].values())


# --- the lists that read the summaries give the rows of the queries they replaced ------------------------

def _reference_keys(kind: str, beat_ids: list[int], today: date, now):
    """The lists' statements before the summaries (main at 7ca7f1e), from the tenancies and reports themselves."""
    from sqlalchemy import exists, or_
    from sqlalchemy.orm import aliased

    from portal.models import HouseUse

    if kind == "two-houses":
        t2 = aliased(Tenancy)
        other = exists().where(t2.person_id == Tenancy.person_id, t2.house_id != Tenancy.house_id,
                               t2.move_out_date.is_(None), t2.status.in_(RecordStatus.ACTIVE),
                               ~residence.moving_out(t2.id))
        return (select(Tenancy.person_id).join(House, House.id == Tenancy.house_id)
                .where(House.beat_id.in_(beat_ids), *residence.living(), other).group_by(Tenancy.person_id)
                .order_by(Tenancy.person_id))
    if kind == "over-capacity":
        living = (select(func.count()).select_from(Tenancy).where(*residence.living(House.id))
                  .correlate(House).scalar_subquery())
        return (select(House.id).where(House.beat_id.in_(beat_ids), House.max_occupants.is_not(None),
                                       living > House.max_occupants).order_by(House.id))
    if kind == "children-alone":
        living_here = (Tenancy.house_id == House.id, *residence.living())
        child = exists().where(*living_here, Tenancy.person_id == Person.id,
                               Person.birth_year > today.year - CHILD_AGE)
        adult = exists().where(*living_here, Tenancy.person_id == Person.id,
                               or_(Person.birth_year.is_(None), Person.birth_year <= today.year - ADULT_AGE))
        return select(House.id).where(House.beat_id.in_(beat_ids), child, ~adult).order_by(House.id)
    if kind == "silent-houses":
        reported = exists().where(Submission.house_id == House.id,
                                  Submission.submitted_at >= now - timedelta(days=180))
        rental = (HouseUse.whole_rental, HouseUse.shared_rental, HouseUse.owner_occupied_rooms)
        return (select(House.id).where(House.beat_id.in_(beat_ids), House.use.in_(rental),
                                       House.status.in_(RecordStatus.ACTIVE), ~reported).order_by(House.id))
    assert kind == "conflicting-claims"  # its same-address part (the overlaps part is unchanged)
    same = (select(House.address_id).where(House.beat_id.in_(beat_ids), House.status.in_(RecordStatus.ACTIVE))
            .group_by(House.address_id).having(func.count(func.distinct(House.owner_id)) > 1))
    return same.order_by(House.address_id)


CHANGED = ("two-houses", "over-capacity", "children-alone", "silent-houses", "conflicting-claims")


def _paged(session, officer, kind) -> list[tuple]:
    from portal.services import anomalies

    found, cursor = [], None
    while True:
        page = anomalies.page(session, officer, kind, cursor, size=2)
        found += [row.key for row in page.rows]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_the_lists_give_the_rows_of_the_queries_they_replaced(db_session, district):
    from portal.services import anomalies, jurisdiction

    world = World(db_session, district, random.Random(7))
    s, beats = db_session, district.beats
    owner, other = world.landlords[:2]

    def house_in(beat, landlord=owner, **kw):
        return factories.make_house(s, landlord, world.address(beat), **kw).house_id

    def tenants(hid, landlord, *people, **kw):
        return factories.make_move_in(s, landlord, hid, [dict(p) for p in people], **kw)

    child = [factories.occupant(name=f"童{chr(0x4e00 + i)}", birth=f"{YEAR - 9}0101", relation="child")
             for i in range(4)]
    adult = [factories.occupant(name=f"大{chr(0x4e00 + i)}", birth="19800101") for i in range(8)]
    for b in (0, 1, 2):  # in every beat but one: full houses, lone children, people in two houses
        full = house_in(beats[b], max_occupants=1)
        tenants(full, owner, adult[b], adult[b + 4])
        tenants(house_in(beats[b]), owner, child[b])
        tenants(house_in(beats[b + 1]), owner, dict(adult[b], relation="relative"))
    with_adult = house_in(beats[0])
    tenants(with_adult, owner, child[3], adult[7])
    unknown = house_in(beats[1])
    sub = tenants(unknown, owner, child[3], adult[6])
    person = s.get(Tenancy, next(t.id for t in sub.tenancies if t.declared_name == adult[6]["name"])).person
    person.birth_date = None  # of unknown age: a possible adult
    s.commit()
    # At the ages' edges: a child with someone turning 18 this year (a possible adult), and two teenagers of
    # whom the younger turns 16 this year (no child): neither house is on the list.
    tenants(house_in(beats[0]), owner, dict(child[0], relation="relative"),
            factories.occupant(name="将成", birth=f"{YEAR - ADULT_AGE}1231"))
    tenants(house_in(beats[1]), owner, factories.occupant(name="少甲", birth=f"{YEAR - CHILD_AGE}1231"),
            factories.occupant(name="少乙", birth=f"{YEAR - ADULT_AGE + 1}0101"))
    leaving = house_in(beats[0], max_occupants=1)
    sub = tenants(leaving, owner, adult[3], adult[5])
    factories.make_move_out(s, owner, sub.tenancies[0].id)  # a move-out waiting: one lives there
    for b, days in ((0, 200), (1, 200), (2, 100), (3, 200)):
        hid = house_in(beats[b])
        s.execute(update(Submission).where(Submission.house_id == hid)
                  .values(submitted_at=utcnow() - timedelta(days=days)))
    never = house_in(beats[1])  # a house no report names (as a bulk load may leave one)
    s.execute(update(Submission).where(Submission.house_id == never).values(house_id=None))
    vacant = house_in(beats[0], use="vacant")
    s.execute(update(Submission).where(Submission.house_id == vacant)
              .values(submitted_at=utcnow() - timedelta(days=200)))
    s.commit()
    shared = world.address(beats[0])
    factories.make_house(s, owner, shared)
    factories.make_house(s, other, shared)
    refused = world.address(beats[2])
    factories.make_house(s, owner, refused)
    s.execute(update(House).where(House.id == factories.make_house(s, other, refused).house_id)
              .values(status="rejected"))
    s.commit()

    beat_officer = factories.make_user(s, role="officer", beat=beats[0])
    today, now = local_today(), utcnow()
    for officer in (world.officer, world.officer2, beat_officer):
        beat_ids = jurisdiction.beat_ids_for(s, officer)
        for kind in CHANGED:
            expected = [tuple(r) for r in s.execute(_reference_keys(kind, beat_ids, today, now))]
            assert _paged(s, officer, kind) == expected, (kind, officer.id)
            assert anomalies.count(s, officer, kind) == len(expected)
            assert anomalies.count(s, officer, kind, cap=1) == min(len(expected), 2)
    # What the rows show of each house: who lives there, and the last report, as the plain path counts them.
    living = dict(s.execute(select(Tenancy.house_id, func.count()).where(*residence.living())
                            .group_by(Tenancy.house_id)).all())
    last = dict(s.execute(select(Submission.house_id, func.max(Submission.submitted_at))
                          .group_by(Submission.house_id)).all())
    for kind in ("over-capacity", "children-alone"):
        rows = anomalies.page(s, world.officer, kind).rows
        assert rows and [r.number for r in rows] == [living.get(r.key[0], 0) for r in rows]
    rows = anomalies.page(s, world.officer, "silent-houses").rows
    assert rows and [r.at for r in rows] == [last.get(r.key[0]) for r in rows]
    # Every changed list has rows for the station 1 officer, so the comparison compared something.
    assert all(anomalies.count(s, world.officer, kind) for kind in CHANGED)
