"""Time the officers' register and search (services/register.py, services/register_search.py) on the data
bench/generate.py makes.

    .venv/bin/python bench/register.py --url sqlite:///bench/out/bench.sqlite3
    .venv/bin/python bench/register.py --url postgresql:///bench

Only reads. For the station officer of the busiest station (13910000001): the register page of a building
(register.rooms, first page of 50 rooms with their houses and living counts) of the building with the most
houses among the station's first addresses, a house page (register.house_view), a person page
(register.person_view), and search by exact ID number, by whole name and by phone of a person living in the
station (register_search.search), and the export of the station's whole queue as XLSX (exports, at most 50,000
rows: EXPORT_REPEAT times, with the process's peak memory after it). Each REPEAT times after WARMUP runs, in a
fresh session, keeping the slowest statement of one more run. Results go to
bench/out/register-<database>.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.quality import timed  # noqa: E402
from portal import create_app  # noqa: E402
from portal.db import normalise_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import House, Person, Role, Tenancy, User  # noqa: E402
from portal.models.address import Address  # noqa: E402
from portal.services import exports, jurisdiction, queue, register, register_search, residence  # noqa: E402

TARGETS_MS = {"building page": 30.0, "search by exact ID": 20.0, "search by name": 100.0,
              "export of the queue (XLSX)": 10_000.0}
EXPORT_REPEAT = 3


def pick(officer) -> dict:
    """A busy building, a house with people living in it, and one of them, all in the officer's station."""
    beat_ids = jurisdiction.beat_ids_for(db.session, officer)
    first = select(Address.id).where(Address.beat_id.in_(beat_ids)).order_by(Address.id).limit(5000).subquery()
    house_id = db.session.scalar(
        select(House.id).join(Address, Address.id == House.address_id).where(Address.id.in_(select(first.c.id)))
        .join(Tenancy, Tenancy.house_id == House.id).where(*residence.living())
        .group_by(House.id).order_by(func.count().desc()).limit(1))
    house = db.session.get(House, house_id)
    anchor = db.session.get(Address, house.address_id)
    person = db.session.scalar(select(Person).join(Tenancy, Tenancy.person_id == Person.id)
                               .where(Tenancy.house_id == house_id, *residence.living()).limit(1))
    return {"anchor_id": anchor.id, "house_id": house_id, "person_id": person.id, "id_number": person.id_number,
            "name": person.name, "phone": person.phone}


def bureau_export() -> dict:
    """The whole bureau's queue as XLSX, for an officer of the bureau's own staff: at most exports.MAX_ROWS rows;
    the time of each of EXPORT_REPEAT runs and the process's peak memory (this process does nothing else)."""
    import time

    from portal.models import Bureau

    bureau_id = db.session.scalar(select(Bureau.id).order_by(Bureau.id).limit(1))
    officer = SimpleNamespace(role=Role.officer, station_id=None, beat_id=None, bureau_id=bureau_id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, rows, size = [], 0, 0
    for _ in range(EXPORT_REPEAT):
        start = time.perf_counter()
        table = exports.table(db.session, officer, exports.Source("queue", queue.Filters()), full=False)
        size = len(exports.write(table, "xlsx"))
        seconds.append(round(time.perf_counter() - start, 2))
        rows = table.counted
        db.session.remove()
    return {"export of the bureau's queue (XLSX)": {"seconds": seconds, "rows": rows, "kib": size // 1024,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_before_mb": round(before, 1), "targets": "< 10 s, < 300 MB"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--bureau-export", action="store_true",
                        help="only the export of the whole bureau's queue (50,000 rows, the most one export holds) "
                             "as an officer of the bureau's own staff, in a process of its own (its peak memory)")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    log = bench_common.StatementLog(db.engine)

    results: dict = {"url": bench_common.describe_url(url), "targets_ms": TARGETS_MS}
    if args.bureau_export:
        with app.app_context():
            print("  " + json.dumps(bureau_export(), ensure_ascii=False), flush=True)
        return
    with app.app_context():
        station_id, beat_id = db.session.execute(select(User.station_id, User.beat_id).where(
            User.phone == bench_common.STATION_OFFICER_PHONE)).one()
        officer = SimpleNamespace(role=Role.officer, station_id=station_id, beat_id=beat_id)
        chosen = pick(officer)
        db.session.remove()
        results["chosen"] = {k: v for k, v in chosen.items() if k.endswith("_id")}

        def building():
            anchor = register.address(db.session, officer, chosen["anchor_id"])
            return len(register.rooms(db.session, officer, anchor).rows)

        runs = {
            "building page": building,
            "house page": lambda: len(register.house_view(db.session, officer, chosen["house_id"]).occupants),
            "person page": lambda: len(register.person_view(db.session, officer, chosen["person_id"]).living),
            "search by exact ID": lambda: len(register_search.search(db.session, officer, chosen["id_number"]).people),
            "search by name": lambda: len(register_search.search(db.session, officer, chosen["name"]).people),
        }
        if chosen["phone"]:
            runs["search by phone"] = lambda: len(register_search.search(db.session, officer, chosen["phone"]).people)
        def export():
            table = exports.table(db.session, officer, exports.Source("queue", queue.Filters()), full=False)
            size = len(exports.write(table, "xlsx"))
            return f"{table.counted} rows, {size // 1024} KiB"

        runs["export of the queue (XLSX)"] = export
        for name, fn in runs.items():
            def run(fn=fn):
                try:
                    return fn()
                finally:
                    db.session.remove()

            slow = name.startswith("export")
            r = timed(run, EXPORT_REPEAT if slow else args.repeat, 0 if slow else args.warmup)
            if slow:
                r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            with log:
                r["result"] = run()
            slowest = max(log.statements, key=lambda s: s[1])
            r["slowest_statement"] = {"ms": round(slowest[1], 1), "sql": slowest[0][:200].replace("\n", " ")}
            results[name] = r
            target = TARGETS_MS.get(name)
            print(f"  {name:<22} {r['median_ms']:>8} / {r['p95_ms']:<8} ms (rows: {r['result']})"
                  + (f"  target < {target:.0f} ms" if target else ""), flush=True)

    out = bench_common.OUT / f"register-{url.split(':', 1)[0].split('+')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
