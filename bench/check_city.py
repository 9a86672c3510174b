"""Check a city that bench/generate.py made (a small one: the recounts read every row through the ORM).

    .venv/bin/python bench/check_city.py --url sqlite:///bench/out/gen_small.sqlite3

Only reads. Checks, and exits 1 if any check fails:
* every anomaly list has rows on the first page of the busiest station's officer (13910000001);
* the quality summaries (migration 0026) and the anomaly summaries (migration 0027) equal a recount, compared as
  the integration tests compare them (their recount functions are imported from the tests), and the bureau's
  and the station's quality report equal quality.recount over the last 30 days and over the last 400;
* the claim flags of every open registration name exactly the other reporters' standing houses on an
  overlapping place (flags.rival_houses) or units with the same credit code (flags.rival_units), as the portal
  would have set them at filing and on the rival's filing (flags.tell_rivals);
* every unit and employment stands as the decisions on its reports left it (services/effects.py);
* every unit's credit code passes identity.check_uscc and its legal representative's sealed ID number opens to a
  resident ID that identity.check_resident_id accepts, with a known region (no flag);
and prints the share of units without a staff list for 90 days.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import argparse  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from sqlalchemy import select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import normalise_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Employment, Role, Station, Submission, SubmissionKind, Unit, User  # noqa: E402
from portal.services import anomalies, flags, identity, quality  # noqa: E402
from portal.services.errors import FieldError  # noqa: E402
from tests.integration import test_anomaly_summaries as anomaly_tests  # noqa: E402
from tests.integration.officer import test_quality_summary as quality_tests  # noqa: E402

failures: list[str] = []
EFFECT = {"pending": "pending", "site_visit": "pending", "confirmed": "verified", "rejected": "rejected"}


def check(ok: bool, what: str) -> None:
    print(f"  {'ok' if ok else 'FAILED'}: {what}", flush=True)
    if not ok:
        failures.append(what)


def lists(session) -> None:
    station_id, beat_id = session.execute(select(User.station_id, User.beat_id)
                                          .where(User.phone == bench_common.STATION_OFFICER_PHONE)).one()
    officer = SimpleNamespace(role=Role.officer, station_id=station_id, beat_id=beat_id)
    for kind in anomalies.KINDS:
        rows = len(anomalies.page(session, officer, kind).rows)
        check(rows > 0, f"{kind}: {rows} rows on the busiest station's first page "
                        f"(count {anomalies.count(session, officer, kind)})")
    bureau = SimpleNamespace(role=Role.officer, station_id=None, beat_id=None, bureau_id=1)
    units = session.query(Unit).count()
    quiet = anomalies.count(session, bureau, "no-staff-list")
    print(f"  units without a staff list for 90 days: {quiet} of {units} ({quiet / units:.0%})")


def summaries(session) -> None:
    check(quality_tests.summary(session) == quality_tests.full_recount(session), "coverage summary = recount")
    kept, counted = quality_tests.verified_counts(session)
    check(kept == counted, "verified houses per address = recount")
    check(quality_tests.filed(session) == quality_tests.filed_recount(session), "filed reports = recount")
    check(quality_tests.open_items(session) == quality_tests.open_recount(session), "open items = recount")
    now, today = datetime.now(UTC), quality.local_today()
    station = session.scalar(select(Station.code).join(User, User.station_id == Station.id)
                             .where(User.phone == bench_common.STATION_OFFICER_PHONE))
    for kind, code in (("bureau", "430302000000"), ("station", station)):
        scope = quality.scope_for(session, kind, code)
        for period in (quality.default_period(), quality.Period(today - timedelta(days=400), today)):
            fast, slow = (f(session, scope, period, now=now) for f in (quality.report, quality.recount))
            check(fast.as_json() == slow.as_json(), f"quality report of the {kind} {code}, {period.start} to "
                                                    f"{period.end} = quality.recount")
    check(anomaly_tests.stored(session) == anomaly_tests.recount(session),
          "anomaly summaries (houses, persons, addresses) = recount")


def claims(session) -> None:
    for kind, code, column in ((SubmissionKind.house_registration, "claimed_by_another", "house_id"),
                               (SubmissionKind.unit_registration, "uscc_claimed_by_another", "unit_id")):
        subs = session.scalars(select(Submission).where(Submission.kind == kind, Submission.is_open.is_(True))).all()
        wrong, flagged = [], 0
        for sub in subs:
            named = sorted(f[column] for f in sub.flags if f.get("code") == code)
            if kind == SubmissionKind.house_registration:
                rivals = flags.rival_houses(session, sub.house.address, sub.house.owner_id)
            else:
                unit = session.get(Unit, sub.unit_id)
                rivals = flags.rival_units(session, unit.uscc, unit.owner_id)
            flagged += bool(named)
            if named != sorted(rivals) or sub.flagged != bool(sub.flags):
                wrong.append(sub.id)
        check(not wrong and flagged > 0, f"{code}: {flagged} of {len(subs)} open registrations flagged, each naming "
                                         f"exactly its rivals (wrong: {wrong[:10]})")


def staff(session) -> None:
    """The register as the decisions left it (services/effects.py): a unit verified by its confirmed registration,
    an employment verified by its confirmed hire, ended (on the list's day) by its confirmed departure."""
    registered = dict(session.execute(select(Submission.unit_id, Submission.status)
                                      .where(Submission.kind == SubmissionKind.unit_registration)).all())
    wrong_units = [u.id for u in session.scalars(select(Unit)) if u.status != EFFECT[registered[u.id]]]
    check(not wrong_units, f"each unit's status follows its registration (wrong: {wrong_units[:10]})")
    hired = dict(session.execute(select(Submission.id, Submission.status)
                                 .where(Submission.kind == SubmissionKind.hire)).all())
    left = {s.employment_id: s for s in session.scalars(select(Submission)
                                                        .where(Submission.kind == SubmissionKind.departure))}
    wrong = []
    for e in session.scalars(select(Employment)):
        gone = left.get(e.id)
        if gone is not None and gone.status == "confirmed":
            ok = e.status == "ended" and e.departure_date.isoformat() == gone.payload["departure_date"]
        else:
            ok = e.status == EFFECT[hired[e.submission_id]] and e.departure_date is None
        if not ok:
            wrong.append(e.id)
    check(not wrong, f"each employment follows its hire and departure (wrong: {wrong[:10]})")


def units(session) -> None:
    bad = []
    for unit in session.scalars(select(Unit)):
        try:
            identity.check_uscc(unit.uscc)
            known = identity.check_resident_id(unit.legal_rep_id_number).region_known  # no unknown_region flag
        except FieldError:
            known = False
        if not known:
            bad.append(unit.id)
    check(not bad, f"credit codes and legal representatives' ID numbers valid (bad: {bad[:10]})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    url = normalise_url(parser.parse_args().url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    print(f"database: {bench_common.describe_url(url)}")
    with app.app_context():
        for step in (lists, summaries, claims, staff, units):
            step(db.session)
            db.session.rollback()
    if failures:
        raise SystemExit(f"{len(failures)} checks failed")
    print("every check passed")


if __name__ == "__main__":
    main()
