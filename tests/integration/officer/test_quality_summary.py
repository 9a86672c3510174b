"""The summaries the database keeps by triggers (migration 0026: coverage per beat, timeliness counts per beat
and local day) equal a full recount: after random sequences of the services that change houses, addresses and
reports, on hand-built data, and after the back-fill."""
from __future__ import annotations

import itertools
import random
import threading
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import writing
from portal.models import (
    Address,
    AddressLevel,
    AddressPairDismissal,
    AddressStatus,
    House,
    QualityAddress,
    QualityCoverage,
    QualityFiled,
    QualityOpen,
    Submission,
    Unit,
)
from portal.services import (
    address_merge,
    address_upkeep,
    jurisdiction,
    quality,
    quality_summaries,
    reporting,
    retention,
    review,
)
from portal.services.errors import Conflict, NotFound, ServiceError
from tests import factories

REFUSED = (ServiceError, Conflict, NotFound, PermissionError)
LOCAL = ZoneInfo("Asia/Shanghai")
_receipts = itertools.count(1)


def summary(session) -> dict[int, tuple[int, int]]:
    """Per beat: (room-level addresses, covered), as the summary has it (beats with no room left out)."""
    rows = session.execute(select(QualityCoverage.beat_id, QualityCoverage.room_addresses, QualityCoverage.covered))
    return {b: (rooms, covered) for b, rooms, covered in rows if rooms or covered}


def full_recount(session) -> dict[int, tuple[int, int]]:
    verified = select(House.id).where(House.address_id == Address.id, House.status == "verified").exists()
    rows = session.execute(select(Address.beat_id, func.count(), func.count().filter(verified))
                           .where(Address.level == AddressLevel.room).group_by(Address.beat_id))
    return {b: (rooms, covered) for b, rooms, covered in rows}


def verified_counts(session) -> tuple[dict[int, int], dict[int, int]]:
    kept = {a: n for a, n in session.execute(select(QualityAddress.address_id, QualityAddress.verified_houses))
            if n}
    counted = dict(session.execute(select(House.address_id, func.count()).where(House.status == "verified")
                                   .group_by(House.address_id)).all())
    return kept, counted


def filed(session) -> dict[tuple[int, date], tuple[int, int, int]]:
    """Per beat and local day: (with a due time, on time, without), as the summary has it (zeros left out)."""
    rows = session.execute(select(QualityFiled.beat_id, QualityFiled.day, QualityFiled.timed, QualityFiled.on_time,
                                  QualityFiled.untimed))
    return {(b, d): (t, o, u) for b, d, t, o, u in rows if t or o or u}


def filed_recount(session) -> dict[tuple[int, date], tuple[int, int, int]]:
    """The same from every report, its local day worked out here in Python."""
    out: dict = defaultdict(lambda: (0, 0, 0))
    for beat_id, at, due in session.execute(select(Submission.beat_id, Submission.submitted_at, Submission.due_at)
                                            .where(Submission.kind.in_(quality.TIMED_KINDS))):
        t, o, u = out[(beat_id, at.astimezone(LOCAL).date())]
        out[(beat_id, at.astimezone(LOCAL).date())] = (t + (due is not None), o + (due is not None and at <= due),
                                                       u + (due is None))
    return dict(out)


def open_items(session) -> dict[tuple[int, date], int]:
    rows = session.execute(select(QualityOpen.beat_id, QualityOpen.day, QualityOpen.open_items))
    return {(b, d): n for b, d, n in rows if n}


def open_recount(session) -> dict[tuple[int, date], int]:
    return dict(Counter((b, at.astimezone(LOCAL).date()) for b, at in session.execute(
        select(Submission.beat_id, Submission.submitted_at).where(Submission.is_open.is_(True)))))


def assert_summary_is_a_recount(session, district, *, cut_offs: bool = False) -> None:
    session.flush()
    assert summary(session) == full_recount(session)
    kept, counted = verified_counts(session)
    assert kept == counted
    assert filed(session) == filed_recount(session)
    assert open_items(session) == open_recount(session)
    # And the report's figures, by beat, by week and in total, are the recount's, over the usual 30 days and
    # over a longer period cut at some weeks; the open items with the cut-off now and at times of the last
    # days around local midnight (the cut-off's own day is counted from the reports).
    scope = quality.scope_for(session, "bureau", district.bureau.code)
    today, now = quality.local_today(), datetime.now(UTC)
    for period in (quality.default_period(), quality.Period(today - timedelta(days=75), today - timedelta(days=3))):
        fast, slow = quality.report(session, scope, period, now=now), quality.recount(session, scope, period, now=now)
        assert fast.total.coverage == slow.total.coverage
        assert fast.total.timeliness == slow.total.timeliness
        assert fast.as_json() == slow.as_json()
    for days, minutes in itertools.product(range(8) if cut_offs else (), (0, 1, 12 * 60)):
        now = datetime.combine(today - timedelta(days=days), datetime.min.time(), LOCAL) + timedelta(minutes=minutes)
        fast, slow = (f(session, scope, quality.default_period(), now=now) for f in (quality.report, quality.recount))
        assert [b.figures.open_older_than_3_days for b in fast.beats] == \
            [b.figures.open_older_than_3_days for b in slow.beats]


class World:
    """The test district, with more rooms and buildings in three communities, and the people who act."""

    def __init__(self, session, district, rng: random.Random):
        self.s, self.d, self.rng = session, district, rng
        self.landlords = [factories.make_user(session, role="landlord") for _ in range(3)]
        self.officer = factories.make_user(session, role="officer", station=district.stations[0])
        self.clerk = factories.make_user(session, role="clerk", bureau_id=district.bureau.id)
        self.admin = factories.make_user(session, role="admin")
        self.rooms = 0
        for _ in range(10):
            self.add_room()
        for n in range(2):
            factories.make_address(session, rng.choice(district.beats), community="银海花园", building=f"{n + 20}栋")
        session.commit()

    def add_room(self) -> None:
        self.rooms += 1
        community = self.rng.choice(("银海花园", "金岸小区", "河西新村"))
        factories.make_address(self.s, self.rng.choice(self.d.beats), community=community,
                               building=f"{self.rooms % 3 + 1}栋", room=str(100 + self.rooms))
        self.s.flush()

    def addresses(self, *, room_or_building=True, active=True) -> list[Address]:
        where = [Address.status == AddressStatus.active] if active else []
        if room_or_building:
            where.append(Address.level != AddressLevel.door_plate)
        return list(self.s.scalars(select(Address).where(*where).order_by(Address.id)))

    def open_registrations(self) -> list[Submission]:
        return list(self.s.scalars(select(Submission).where(Submission.kind == "house_registration",
                                                            Submission.is_open.is_(True)).order_by(Submission.id)))

    # --- the operations --------------------------------------------------------------------------------

    def register(self) -> None:
        owner, address = self.rng.choice(self.landlords), self.rng.choice(self.addresses())
        reporting.register_house(self.s, owner, address_code=address.code, use="whole_rental", max_occupants=3,
                                 certificate_no=None, actor=factories.as_actor(owner))

    def decide(self, to_status: str) -> None:
        subs = [s for s in self.open_registrations() if (s.status, to_status) != ("site_visit", "site_visit")]
        if subs:
            sub = self.rng.choice(subs)
            reason = {"reason_code": "incomplete"} if to_status == "rejected" else {}
            review.transition(self.s, sub, to_status, self.officer, factories.as_actor(self.officer), **reason)

    def withdraw(self) -> None:
        subs = [s for s in self.open_registrations() if s.status == "pending"]
        if subs:
            sub = self.rng.choice(subs)
            reporter = next(u for u in self.landlords if u.id == sub.reporter_id)
            reporting.withdraw(self.s, reporter, sub.id, factories.as_actor(reporter))

    def merge(self) -> None:
        rooms = [a for a in self.addresses() if a.level == AddressLevel.room]
        if len(rooms) >= 2:
            survivor, other = self.rng.sample(rooms, 2)
            address_merge.merge(self.s, self.clerk, survivor.id, other.id, factories.as_actor(self.clerk))

    def move(self) -> None:
        a = self.rng.choice(self.addresses(active=False))
        what = jurisdiction.place(self.s, self.admin, a.beat_id, community=a.community)
        target = self.rng.choice([b for b in self.d.beats if b.id != a.beat_id])
        jurisdiction.move(self.s, self.admin, what, target.id, factories.as_actor(self.admin))

    def retire(self) -> None:
        a = self.rng.choice(self.addresses())
        address_upkeep.retire(self.s, self.clerk, a.id, None, factories.as_actor(self.clerk))

    def relevel(self) -> None:
        """A level corrected by a bulk UPDATE, as the address import writes its changes."""
        a = self.rng.choice(self.addresses(active=False))
        level = AddressLevel.building if a.level == AddressLevel.room else AddressLevel.room
        self.s.execute(update(Address).where(Address.id == a.id).values(level=level),
                       execution_options={"synchronize_session": False})
        self.s.expire_all()

    def verify_all_at(self) -> None:
        """Every house of one address verified by one statement (PostgreSQL's row triggers then run after it)."""
        a = self.rng.choice(self.addresses(active=False))
        self.s.execute(update(House).where(House.address_id == a.id).values(status="verified"),
                       execution_options={"synchronize_session": False})
        self.s.expire_all()

    def delete_empty_address(self) -> None:
        """An address that nothing refers to, deleted (no service deletes one; the trigger must still count)."""
        used = [select(House.address_id), select(Unit.address_id),
                select(Address.replaced_by_id).where(Address.replaced_by_id.is_not(None)),
                select(AddressPairDismissal.first_id), select(AddressPairDismissal.second_id)]
        empty = list(self.s.scalars(select(Address).where(*(Address.id.not_in(u) for u in used),
                                                          Address.id.not_in([a.id for a in self.d.addresses]))
                                    .order_by(Address.id)))
        if empty:
            self.s.delete(self.rng.choice(empty))
            self.s.flush()

    def move_in(self) -> None:
        houses = list(self.s.scalars(select(House).where(House.status.in_(("pending", "verified")))
                                    .order_by(House.id)))
        if houses:
            house = self.rng.choice(houses)
            owner = next(u for u in self.landlords if u.id == house.owner_id)
            reporting.report_move_in(self.s, owner, house.id, occupants=[factories.occupant(name="李四")],
                                     move_in_date=reporting.local_today().isoformat(), lease_end_date=None,
                                     actor=factories.as_actor(owner), deadline_days=3)

    def backdated(self) -> None:
        """A report filed some days ago, on time or late or with no due time, as the generator writes them;
        times near local midnight too."""
        beat, owner = self.rng.choice(self.d.beats), self.rng.choice(self.landlords)
        kind = self.rng.choice(("move_in", "move_out", "hire", "departure", "unit_registration"))
        ago = self.rng.choice((self.rng.randrange(0, 80), self.rng.randrange(0, 8)))  # the last days often
        day = quality.local_today() - timedelta(days=ago)
        filed = datetime.combine(day, datetime.min.time(), LOCAL) + timedelta(
            minutes=self.rng.choice((0, 1, 12 * 60, 24 * 60 - 1)))
        due = self.rng.choice((None, filed, filed - timedelta(minutes=1), filed + timedelta(days=2)))
        status = self.rng.choice(("pending", "confirmed", "withdrawn"))
        self.s.add(Submission(kind=kind, reporter_id=owner.id, beat_id=beat.id, station_id=beat.station_id,
                              status=status, is_open=status == "pending", payload={}, flags=[],
                              due_at=due and due.astimezone(UTC), late=bool(due and filed > due),
                              submitted_at=filed.astimezone(UTC), receipt=f"QS{next(_receipts):08d}"))
        self.s.flush()

    def retime(self) -> None:
        """One of those reports' filing time, due time, beat or kind changed by one UPDATE (no service changes
        the first two or the last; the triggers must follow whatever writes)."""
        ids = list(self.s.scalars(select(Submission.id).where(Submission.receipt.like("QS%")).order_by(Submission.id)))
        if ids:
            values = self.rng.choice(({"submitted_at": datetime.now(UTC) - timedelta(days=self.rng.randrange(40))},
                                      {"due_at": None}, {"due_at": datetime.now(UTC)},
                                      {"beat_id": self.rng.choice(self.d.beats).id},
                                      {"kind": self.rng.choice(("move_in", "unit_registration"))}))
            self.s.execute(update(Submission).where(Submission.id == self.rng.choice(ids)).values(**values),
                           execution_options={"synchronize_session": False})
            self.s.expire_all()

    def purge(self) -> None:
        retention.purge_batch(self.s, today=date(2100, 1, 1), keep_days=1)

    OPERATIONS = (("register", 6), ("confirm", 4), ("reject", 2), ("site_visit", 1), ("withdraw", 1),
                  ("merge", 2), ("move", 2), ("retire", 1), ("relevel", 1), ("verify_all_at", 1),
                  ("add_room", 2), ("delete_empty_address", 1), ("purge", 1), ("move_in", 3), ("backdated", 4),
                  ("retime", 2))

    def step(self) -> str:
        names, weights = zip(*self.OPERATIONS, strict=True)
        name = self.rng.choices(names, weights)[0]
        action = {"confirm": lambda: self.decide("confirmed"), "reject": lambda: self.decide("rejected"),
                  "site_visit": lambda: self.decide("site_visit")}.get(name) or getattr(self, name)
        try:
            with self.s.begin_nested():
                action()
        except REFUSED:
            name += " (refused)"
        self.s.expire_all()
        return name


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_after_random_changes_the_summary_is_a_full_recount(db_session, district, seed):
    world = World(db_session, district, random.Random(seed))
    assert_summary_is_a_recount(db_session, district)
    done = Counter()
    for i in range(120):
        done[world.step()] += 1
        if i % 10 == 9:
            assert_summary_is_a_recount(db_session, district, cut_offs=i % 40 == 39)
    assert_summary_is_a_recount(db_session, district, cut_offs=True)
    # Counting them afresh in one pass (the migration's back-fill, the generator's after a bulk load) gives
    # what the triggers kept.
    kept = summary(db_session), filed(db_session), open_items(db_session), verified_counts(db_session)[0]
    quality_summaries.refill(db_session.connection())
    assert (summary(db_session), filed(db_session), open_items(db_session), verified_counts(db_session)[0]) == kept
    # The sequence did exercise what it is meant to.
    for name in ("register", "confirm", "reject", "merge", "move", "relevel", "verify_all_at", "move_in",
                 "backdated", "retime"):
        assert done[name] > 0, (name, done)
    assert db_session.scalar(select(func.count()).select_from(House).where(House.status == "verified")) > 0


def test_report_and_recount_agree_on_hand_built_data(db_session, district):
    l1, l2 = (factories.make_user(db_session, role="landlord") for _ in range(2))
    b0, b1 = district.beats[0], district.beats[1]
    rooms = [factories.make_address(db_session, b, building="1栋", room=str(r)) for b, r in
             ((b0, 101), (b0, 102), (b1, 201))]
    db_session.flush()
    for address, owner, status in ((rooms[0], l1, "verified"), (rooms[0], l2, "verified"),
                                   (rooms[1], l1, "pending"), (rooms[2], l2, "verified")):
        db_session.add(House(address_id=address.id, owner_id=owner.id, beat_id=address.beat_id,
                             use="whole_rental", max_occupants=2, status=status))
    db_session.flush()
    station = quality.scope_for(db_session, "station", district.stations[0].code)
    got = quality.report(db_session, station, quality.default_period())
    # Beat 0: the test room 402 and 101, 102 (101 covered once for its two verified houses); beat 1: 201.
    assert (got.total.coverage.numerator, got.total.coverage.denominator) == (2, 4)
    assert [(b.figures.coverage.numerator, b.figures.coverage.denominator) for b in got.beats] == [(1, 3), (1, 1)]
    assert got.as_json() == quality.recount(db_session, station, quality.default_period()).as_json()
    # One of 101's two houses stops being verified: still covered; the other too: no longer.
    first, second = db_session.scalars(select(House).where(House.address_id == rooms[0].id).order_by(House.id))
    first.status = "rejected"
    db_session.flush()
    assert summary(db_session)[b0.id] == (3, 1)
    second.address_id = rooms[1].id  # moved onto 102: 102 is covered now, 101 not
    db_session.flush()
    assert summary(db_session)[b0.id] == (3, 1)
    assert db_session.get(QualityAddress, rooms[0].id).verified_houses == 0
    assert db_session.get(QualityAddress, rooms[1].id).verified_houses == 1
    second.status = "withdrawn"
    db_session.flush()
    assert summary(db_session)[b0.id] == (3, 0)
    assert_summary_is_a_recount(db_session, district)


# --- the back-fill of migration 0026 ---------------------------------------------------------------------

def test_the_migration_back_fills_the_summary_from_the_rows_there(app, empty_database):
    # The rows are written through today's models (later migrations add columns to them), then the summaries are
    # taken away down to 0025 and 0026 counts them afresh from the rows it finds.
    migrate.upgrade(empty_database)
    with app.app_context(), Session(empty_database) as session:
        district = factories.make_district(session)
        owners = [factories.make_user(session, role="landlord") for _ in range(2)]
        rooms = [factories.make_address(session, district.beats[i % 4], building=f"{i}栋", room="101")
                 for i in range(6)]
        factories.make_address(session, district.beats[0], building="9栋")
        session.flush()
        for address, owner, status in ((rooms[0], owners[0], "verified"), (rooms[0], owners[1], "verified"),
                                       (rooms[1], owners[0], "pending"), (rooms[2], owners[0], "verified"),
                                       (rooms[5], owners[1], "rejected"), (district.addresses[1], owners[1],
                                                                           "verified")):
            session.add(House(address_id=address.id, owner_id=owner.id, beat_id=address.beat_id,
                              use="whole_rental", max_occupants=2, status=status))
        for minutes, kind, due in ((0, "move_in", 60), (-1, "hire", None), (24 * 60 - 1, "move_out", -1),
                                   (3 * 24 * 60, "house_registration", 60), (5, "departure", None)):
            at = datetime(2026, 3, 8, tzinfo=LOCAL) + timedelta(minutes=minutes)  # around local midnights
            session.add(Submission(kind=kind, reporter_id=owners[0].id, beat_id=district.beats[1].id,
                                   station_id=district.beats[1].station_id, status="pending", is_open=True,
                                   payload={}, flags=[], submitted_at=at.astimezone(UTC),
                                   due_at=None if due is None else (at + timedelta(minutes=due)).astimezone(UTC),
                                   receipt=f"QB{next(_receipts):08d}"))
        session.flush()
        expected = {rooms[0].id: 2, rooms[2].id: 1, district.addresses[1].id: 1}
        beat = district.beats[1].id
        session.commit()
    migrate.downgrade(empty_database, "0025")
    with Session(empty_database) as session:
        assert "quality_coverage" not in inspect(session.connection()).get_table_names()
    migrate.upgrade(empty_database)
    with Session(empty_database) as session:
        assert summary(session) == full_recount(session) != {}
        kept, counted = verified_counts(session)
        assert kept == counted == expected
        assert filed(session) == filed_recount(session) == {
            (beat, date(2026, 3, 7)): (0, 0, 1), (beat, date(2026, 3, 8)): (2, 1, 1)}
        assert open_items(session) == open_recount(session) == {
            (beat, date(2026, 3, 7)): 1, (beat, date(2026, 3, 8)): 3, (beat, date(2026, 3, 11)): 1}


def test_two_transactions_verifying_two_houses_of_one_address_count_it_once(app, empty_database):
    """Neither sees the other's house: the second's count waits for the first's row and goes on from it."""
    migrate.upgrade(empty_database)
    with app.app_context(), Session(empty_database) as session:
        district = factories.make_district(session)
        owners = [factories.make_user(session, role="landlord") for _ in range(2)]
        room = district.addresses[0]
        houses = [House(address_id=room.id, owner_id=o.id, beat_id=room.beat_id, use="whole_rental",
                        max_occupants=2, status="pending") for o in owners]
        session.add_all(houses)
        session.commit()
        first, second, beat = houses[0].id, houses[1].id, room.beat_id
        assert summary(session)[beat] == (1, 0)

    def verify(house_id: int, hold: threading.Event | None = None) -> None:
        with writing(), empty_database.begin() as conn:
            conn.execute(update(House).where(House.id == house_id).values(status="verified"))
            if hold is not None:
                hold.wait(2)  # the other transaction starts meanwhile (on SQLite it waits for the write lock)

    go = threading.Event()
    holder = threading.Thread(target=verify, args=(first, go))
    holder.start()
    other = threading.Thread(target=verify, args=(second,))
    other.start()
    other.join(0.5)
    go.set()
    holder.join()
    other.join()
    with Session(empty_database) as session:
        assert summary(session)[beat] == (1, 1) and summary(session) == full_recount(session)
        kept, counted = verified_counts(session)
        assert kept == counted and list(kept.values()) == [2]
