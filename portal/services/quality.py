"""The quality rates a bureau is judged on (采集率, 及时率, 准确率) and verification times: defined here only.

Every figure is counted in SQL over indexed columns, grouped by beat and by week, so that one pass gives
the total, the weekly trend and the per-beat breakdown of a scope. The definitions (also shown on the
officers' quality page, from DEFINITIONS below):

* coverage: room-level standard addresses with a verified house / room-level standard addresses. The
  register records no date at which a house became verified, so coverage is as it stands now, whatever
  the period.
* timeliness: move-in, move-out, hire and departure reports filed in the period by their due time
  (submitted_at <= due_at) / such reports filed in the period that have a due time. Reports without a
  due time (hires and departures: the law sets employers no deadline the portal tracks) can be neither
  on time nor late; they are left out of both counts and counted on their own (`without_due_time`).
  Every filing counts, corrections and later-withdrawn reports too: each is a declaration filed then.
* accuracy: reports decided in the period (confirmed or rejected by an officer; a site visit is not a
  decision yet) that were confirmed without an earlier rejection in their correction chain
  (supersedes_id) / all reports decided in the period. A rejected report that its reporter corrected
  (status superseded) still counts as rejected when it was rejected.
* verification time: hours from filing to the first officer decision (confirm, reject or site visit;
  Decision rows), for reports whose first decision was made in the period: median and 90th percentile
  (linear interpolation between ranks, as PostgreSQL's percentile_cont).
* open items older than 3 days: pending or site-visit reports filed more than 72 hours ago, now.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from portal.models import (
    Address,
    AddressLevel,
    Beat,
    Bureau,
    Decision,
    House,
    QualityCoverage,
    QualityFiled,
    QualityOpen,
    RecordStatus,
    Role,
    Station,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    User,
)
from portal.models.base import utcnow
from portal.services.errors import FieldError, NotFound, ValidationFailed

LOCAL = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 30
MAX_DAYS = 366
OPEN_AGE = timedelta(days=3)
TIMED_KINDS = (SubmissionKind.move_in, SubmissionKind.move_out, SubmissionKind.hire, SubmissionKind.departure)
FINAL = (SubmissionStatus.confirmed, SubmissionStatus.rejected, SubmissionStatus.superseded)
OFFICER_DECISIONS = (str(SubmissionStatus.confirmed), str(SubmissionStatus.rejected),
                     str(SubmissionStatus.site_visit))

DEFINITIONS = {
    "coverage": _l("Room-level standard addresses with a house the police verified, out of all room-level "
                   "standard addresses. As the register stands today, whatever the period."),
    "timeliness": _l("Move-in, move-out, hire and departure reports filed in the period by their due time, "
                     "out of those filed in the period that have a due time. Reports without a due time "
                     "(hires and departures) are counted apart and left out of the rate."),
    "accuracy": _l("Reports decided in the period (confirmed or rejected) that were confirmed with no earlier "
                   "rejection in their chain of corrections, out of all reports decided in the period."),
    "verification": _l("Hours from filing to the first decision (confirm, reject or site visit), for the "
                       "reports first decided in the period: median and 90th percentile."),
    "open_old": _l("Items waiting now that were filed more than 3 days ago."),
}


# --- what is measured: a scope and a period ------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    kind: str  # bureau, station, beat or reporter
    code: str
    name: str
    beat_ids: tuple[int, ...]  # the beats whose addresses and reports count
    reporter_id: int | None = None  # a reporter's own reports (and houses) only

    def submissions(self):
        where = [Submission.beat_id.in_(self.beat_ids)]
        if self.reporter_id is not None:
            where.append(Submission.reporter_id == self.reporter_id)
        return where


def _beats_of(session: Session, *where) -> tuple[int, ...]:
    return tuple(session.scalars(select(Beat.id).join(Station).where(*where).order_by(Beat.code)))


def scope_for(session: Session, kind: str, code: str) -> Scope:
    """A bureau, station or beat by its code, or a reporter by phone; NotFound when there is none."""
    if kind == "bureau":
        found = session.scalar(select(Bureau).where(Bureau.code == code))
        beats = _beats_of(session, Station.bureau_id == found.id) if found else ()
    elif kind == "station":
        found = session.scalar(select(Station).where(Station.code == code))
        beats = _beats_of(session, Station.id == found.id) if found else ()
    elif kind == "beat":
        found = session.scalar(select(Beat).where(Beat.code == code))
        beats = (found.id,) if found else ()
    elif kind == "reporter":
        found = session.scalar(select(User).where(User.phone == code,
                                                  User.role.in_((Role.landlord, Role.employer))))
        beats = tuple(session.scalars(select(Beat.id).order_by(Beat.code))) if found else ()
        if found is not None:
            return Scope("reporter", code, found.name, beats, reporter_id=found.id)
    else:
        raise ValueError(kind)
    if found is None:
        raise NotFound()
    return Scope(kind, found.code, found.name, beats)


def scope_of_officer(session: Session, officer: User) -> Scope:
    """The officer's own jurisdiction, exactly as the queue scopes it; nothing for anyone else."""
    if officer.role != Role.officer:
        raise NotFound()
    if officer.beat_id is not None:
        beat = session.get(Beat, officer.beat_id)
        return Scope("beat", beat.code, beat.name, (beat.id,))
    if officer.station_id is not None:
        station = session.get(Station, officer.station_id)
        return Scope("station", station.code, station.name, _beats_of(session, Station.id == station.id))
    if officer.bureau_id is not None:  # the bureau's own staff: every station of it
        bureau = session.get(Bureau, officer.bureau_id)
        return Scope("bureau", bureau.code, bureau.name, _beats_of(session, Station.bureau_id == bureau.id))
    raise NotFound()


@dataclass(frozen=True)
class Period:
    """Local (Asia/Shanghai) dates, both days included."""

    start: date
    end: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _utc(self.start), _utc(self.end + timedelta(days=1))

    def weeks(self) -> list[tuple[date, date]]:
        """The period cut at each Monday: (first day, last day) of each piece."""
        out, day = [], self.start
        while day <= self.end:
            last = min(self.end, day + timedelta(days=6 - day.weekday()))
            out.append((day, last))
            day = last + timedelta(days=1)
        return out


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


def local_today() -> date:
    return datetime.now(LOCAL).date()


def default_period(today: date | None = None) -> Period:
    today = today or local_today()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


# The days a period may start or end on: Python's dates reach from 0001 to 9999, but a period's bounds in UTC
# and its default start (30 days before) do not, at either end (OverflowError).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _parse_day(raw: str | None, name: str) -> date | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        raise FieldError("bad_date", _l("Enter a date as YYYY-MM-DD, for example 2026-01-31."), name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FieldError("out_of_range", _l("Enter a day between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                                            last=LAST_DAY.isoformat()), name)
    return day


def parse_period(raw_from: str | None, raw_to: str | None, today: date | None = None) -> Period:
    """A period from two optional YYYY-MM-DD strings; a missing end is today, a missing start 30 days
    before the end. Raises ValidationFailed with a message at the field that is wrong."""
    errors = []
    days = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        try:
            days[name] = _parse_day(raw, name)
        except FieldError as err:
            errors.append(err)
    if errors:
        raise ValidationFailed(errors)
    end = days["to"] or (today or local_today())
    start = days["from"] or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationFailed([FieldError("end_before_start", _l("The period must end on or after the day it "
                                                                   "starts."), "to")])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed([FieldError("too_long", _l("Choose a period of at most %(days)d days.",
                                                          days=MAX_DAYS), "from")])
    return Period(start, end)


# --- the figures -----------------------------------------------------------------------------------

@dataclass
class Rate:
    numerator: int = 0
    denominator: int = 0

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)

    def as_json(self) -> dict:
        return {"rate": self.rate, "numerator": self.numerator, "denominator": self.denominator}


@dataclass
class Figures:
    coverage: Rate = field(default_factory=Rate)
    timeliness: Rate = field(default_factory=Rate)
    without_due_time: int = 0
    accuracy: Rate = field(default_factory=Rate)
    hours: list[float] = field(default_factory=list)  # filing to first decision, one per report
    open_older_than_3_days: int = 0

    @property
    def verification_hours_median(self) -> float | None:
        return percentile(self.hours, 0.5)

    @property
    def verification_hours_p90(self) -> float | None:
        return percentile(self.hours, 0.9)

    def as_json(self) -> dict:
        return {"coverage": self.coverage.as_json(), "timeliness": self.timeliness.as_json(),
                "timeliness_without_due_time": self.without_due_time, "accuracy": self.accuracy.as_json(),
                "verification_hours_median": _round(self.verification_hours_median),
                "verification_hours_p90": _round(self.verification_hours_p90),
                "verification_count": len(self.hours),
                "open_older_than_3_days": self.open_older_than_3_days}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Week:
    start: date
    end: date
    figures: Figures


@dataclass
class BeatFigures:
    code: str
    name: str
    figures: Figures


@dataclass
class Report:
    scope: Scope
    period: Period
    total: Figures
    weeks: list[Week]
    beats: list[BeatFigures]  # one per beat, for a station or a bureau

    def as_json(self) -> dict:
        return {"scope": {"kind": self.scope.kind, "code": self.scope.code, "name": self.scope.name},
                "from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                **self.total.as_json(),
                "weeks": [{"from": w.start.isoformat(), "to": w.end.isoformat(), **w.figures.as_json()}
                          for w in self.weeks],
                "beats": [{"code": b.code, "name": b.name, **b.figures.as_json()} for b in self.beats]}


def report(session: Session, scope: Scope, period: Period, *, now: datetime | None = None) -> Report:
    """Every figure of a scope over a period: in total, by week and (for more than one beat) by beat.
    Coverage, timeliness and the open items are read from the summaries the database keeps
    (models/quality.py), except for a reporter's own figures, which are counted from their rows."""
    return _report(session, scope, period, now, summaries=scope.reporter_id is None)


def recount(session: Session, scope: Scope, period: Period, *, now: datetime | None = None) -> Report:
    """The same figures counted from the register's own rows, every one: the reference the summaries are
    tested against (tests/integration/officer/test_quality_summary.py)."""
    return _report(session, scope, period, now, summaries=False)


def _report(session: Session, scope: Scope, period: Period, now: datetime | None, *, summaries: bool) -> Report:
    weeks = period.weeks()
    edges = [_utc(first) for first, _last in weeks[1:]]
    cells: dict[tuple[int, int], Figures] = defaultdict(Figures)  # (beat id, week index)
    if scope.beat_ids:
        if summaries:
            _coverage_summary(session, scope, cells)
            _timeliness_summary(session, scope, period, [first for first, _last in weeks[1:]], cells)
        else:
            _coverage(session, scope, cells)
            _timeliness(session, scope, period, edges, cells)
        _accuracy(session, scope, period, edges, cells)
        _verification(session, scope, period, edges, cells)
        (_open_old_summary if summaries else _open_old)(session, scope, now or utcnow(), cells)
    total = _sum(cells.values())
    by_week = [Week(first, last, _sum(f for (_b, w), f in cells.items() if w == i))
               for i, (first, last) in enumerate(weeks)]
    # Coverage is as it stands now: it belongs to the total and to each beat, not to a week.
    for week in by_week:
        week.figures.coverage = Rate()
    beats = []
    if len(scope.beat_ids) > 1 and scope.reporter_id is None:
        names = {b.id: b for b in session.scalars(select(Beat).where(Beat.id.in_(scope.beat_ids)))}
        beats = [BeatFigures(names[b].code, names[b].name, _sum(f for (beat, _w), f in cells.items() if beat == b))
                 for b in sorted(scope.beat_ids, key=lambda b: names[b].code)]
    return Report(scope, period, total, by_week, beats)


def _sum(parts: Iterable[Figures]) -> Figures:
    out = Figures()
    for f in parts:
        out.coverage += f.coverage
        out.timeliness += f.timeliness
        out.without_due_time += f.without_due_time
        out.accuracy += f.accuracy
        out.hours.extend(f.hours)
        out.open_older_than_3_days += f.open_older_than_3_days
    return out


def _bucket(column, edges: list[datetime] | list[date]):
    """The index of the week a time (or a day) falls in (the period's pieces, cut at `edges`), in SQL."""
    if not edges:  # one week: still an expression, since a bare 0 in GROUP BY would name a column
        return case((column.is_(None), 0), else_=0)
    return case(*((column < edge, i) for i, edge in enumerate(edges)), else_=len(edges))


def _week_of(moment: datetime, edges: list[datetime]) -> int:
    return next((i for i, edge in enumerate(edges) if moment < edge), len(edges))


def _coverage(session: Session, scope: Scope, cells) -> None:
    verified = exists().where(House.address_id == Address.id, House.status == RecordStatus.verified)
    where = [Address.beat_id.in_(scope.beat_ids), Address.level == AddressLevel.room]
    if scope.reporter_id is not None:  # a reporter's coverage: the room addresses of their own houses
        verified = verified.where(House.owner_id == scope.reporter_id)
        where.append(exists().where(House.address_id == Address.id, House.owner_id == scope.reporter_id))
    rows = session.execute(select(Address.beat_id, func.count(), func.count(case((verified, 1))))
                           .where(*where).group_by(Address.beat_id))
    for beat_id, rooms, covered in rows:
        cells[(beat_id, 0)].coverage = Rate(covered, rooms)


def _coverage_summary(session: Session, scope: Scope, cells) -> None:
    """Coverage per beat from quality_coverage, which triggers keep (migration 0026)."""
    rows = session.execute(select(QualityCoverage.beat_id, QualityCoverage.room_addresses, QualityCoverage.covered)
                           .where(QualityCoverage.beat_id.in_(scope.beat_ids)))
    for beat_id, rooms, covered in rows:
        cells[(beat_id, 0)].coverage = Rate(covered, rooms)


def _timeliness_summary(session: Session, scope: Scope, period: Period, edges: list[date], cells) -> None:
    """Timeliness per beat and week from quality_filed, the per-beat, per-local-day counts that triggers
    keep (migration 0026): a period is a sum of whole days, as its bounds are."""
    week = _bucket(QualityFiled.day, edges)
    rows = session.execute(
        select(QualityFiled.beat_id, week, func.sum(QualityFiled.on_time), func.sum(QualityFiled.timed),
               func.sum(QualityFiled.untimed))
        .where(QualityFiled.beat_id.in_(scope.beat_ids), QualityFiled.day >= period.start,
               QualityFiled.day <= period.end)
        .group_by(QualityFiled.beat_id, week))
    for beat_id, w, on_time, timed, untimed in rows:
        cell = cells[(beat_id, w)]
        cell.timeliness = Rate(int(on_time), int(timed))
        cell.without_due_time = int(untimed)


def _timeliness(session: Session, scope: Scope, period: Period, edges, cells) -> None:
    start, end = period.bounds
    week = _bucket(Submission.submitted_at, edges)
    has_due = Submission.due_at.is_not(None)
    rows = session.execute(
        select(Submission.beat_id, week,
               func.count(case((and_(has_due, Submission.submitted_at <= Submission.due_at), 1))),
               func.count(case((has_due, 1))), func.count(case((~has_due, 1))))
        .where(*scope.submissions(), Submission.kind.in_(TIMED_KINDS),
               Submission.submitted_at >= start, Submission.submitted_at < end)
        .group_by(Submission.beat_id, week))
    for beat_id, w, on_time, timed, untimed in rows:
        cell = cells[(beat_id, w)]
        cell.timeliness = Rate(on_time, timed)
        cell.without_due_time = untimed


def _accuracy(session: Session, scope: Scope, period: Period, edges, cells) -> None:
    start, end = period.bounds
    # decided_at is the time of the last officer move; a reporter's move never sets it. So a report whose
    # status is confirmed or rejected, or superseded with a decided_at (rejected, then corrected), was
    # decided for good at decided_at; one in site_visit is still waiting.
    decided = (*scope.submissions(), Submission.status.in_(FINAL), Submission.decided_at >= start,
               Submission.decided_at < end)
    week = _bucket(Submission.decided_at, edges)
    confirmed = Submission.status == SubmissionStatus.confirmed
    rows = session.execute(select(Submission.beat_id, week, func.count(case((confirmed, 1))), func.count())
                           .where(*decided).group_by(Submission.beat_id, week))
    for beat_id, w, ok, n in rows:
        cells[(beat_id, w)].accuracy = Rate(ok, n)
    # Corrections are few: walk the chain of each confirmed correction and take back the ones with a
    # rejection before them.
    corrections = session.execute(select(Submission.beat_id, Submission.decided_at, Submission.supersedes_id)
                                  .where(*decided, confirmed, Submission.supersedes_id.is_not(None))).all()
    rejected = _rejected_in_chains(session, [c.supersedes_id for c in corrections])
    for beat_id, decided_at, older in corrections:
        if rejected[older]:
            cells[(beat_id, _week_of(decided_at, edges))].accuracy.numerator -= 1


def _rejected_in_chains(session: Session, heads: list[int]) -> dict[int, bool]:
    """For each submission id: was it, or any report it corrected in turn, rejected by an officer?"""
    answer: dict[int, bool] = {}
    frontier = {h: h for h in heads}  # current link -> the head it belongs to
    for _ in range(50):  # a chain of corrections is short; the bound only guards against a cycle
        if not frontier:
            break
        ids = list(frontier)
        rejected = set(session.scalars(select(Decision.submission_id).where(
            Decision.submission_id.in_(ids), Decision.to_status == str(SubmissionStatus.rejected))))
        parents = dict(session.execute(select(Submission.id, Submission.supersedes_id)
                                       .where(Submission.id.in_(ids))).all())
        nxt = {}
        for link, head in frontier.items():
            if link in rejected:
                answer[head] = True
            elif parents.get(link) is not None:
                nxt[parents[link]] = head
        frontier = {link: head for link, head in nxt.items() if head not in answer}
    return defaultdict(bool, answer)


def _verification(session: Session, scope: Scope, period: Period, edges, cells) -> None:
    start, end = period.bounds
    first = func.min(Decision.at)
    # decided_at (the last officer move) is at or after the first decision: a first decision in the period
    # means decided_at >= start, which the (beat_id, decided_at) index finds. One beat at a time: with a
    # bureau's forty beats in one IN (...) SQLite read every report instead of that index (400 ms against
    # a few; bench/README.md, quality rates, session 11).
    for beat_id in scope.beat_ids:
        rows = session.execute(
            select(Submission.submitted_at, first)
            .join(Decision, Decision.submission_id == Submission.id)
            .where(*replace(scope, beat_ids=(beat_id,)).submissions(), Submission.decided_at >= start,
                   Decision.to_status.in_(OFFICER_DECISIONS))
            .group_by(Submission.id, Submission.submitted_at)
            .having(and_(first >= start, first < end)))
        for filed, decided in rows:
            cells[(beat_id, _week_of(decided, edges))].hours.append((decided - filed).total_seconds() / 3600)


def _open_old(session: Session, scope: Scope, now: datetime, cells) -> None:
    rows = session.execute(select(Submission.beat_id, func.count())
                           .where(*scope.submissions(), Submission.is_open.is_(True),
                                  Submission.submitted_at < now - OPEN_AGE).group_by(Submission.beat_id))
    for beat_id, n in rows:
        cells[(beat_id, 0)].open_older_than_3_days = n


def _open_old_summary(session: Session, scope: Scope, now: datetime, cells) -> None:
    """The same count from quality_open (migration 0026): the whole local days before the cut-off's, and that
    day's part up to the cut-off from the reports themselves (one day's open items at most)."""
    cutoff = now - OPEN_AGE
    day = cutoff.astimezone(LOCAL).date()
    whole = session.execute(select(QualityOpen.beat_id, func.sum(QualityOpen.open_items))
                            .where(QualityOpen.beat_id.in_(scope.beat_ids), QualityOpen.day < day)
                            .group_by(QualityOpen.beat_id))
    part = session.execute(select(Submission.beat_id, func.count())
                           .where(*scope.submissions(), Submission.is_open.is_(True),
                                  Submission.submitted_at >= _utc(day), Submission.submitted_at < cutoff)
                           .group_by(Submission.beat_id))
    for beat_id, n in [*whole, *part]:
        cells[(beat_id, 0)].open_older_than_3_days += int(n)
