"""bench/queue.py with one of the two app-side fixes that bench/README.md proposes, applied only for the run.

    .venv/bin/python bench/queue_whatif.py --url sqlite:///bench/out/bench.sqlite3 --person-lookup-or
    .venv/bin/python bench/queue_whatif.py --url postgresql:///bench --kind-index

--person-lookup-or  replaces portal.services.queue.other_tenancies in this process by the same function
                    with the person lookup written as OR of (id_type = ? AND id_number = ?) pairs instead
                    of a row-value IN (which SQLite answers with a scan of the whole person index).
--kind-index        creates (station_id, is_open, kind, submitted_at, id) and (beat_id, is_open, kind,
                    submitted_at, id) on the benchmark database, runs, and drops them again.

The app's code and migrations are not touched. Results go to bench/out/queue-<database>-<fix>.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import time  # noqa: E402

from sqlalchemy import and_, or_, select  # noqa: E402

from portal.db import make_engine, normalise_url  # noqa: E402
from portal.models import House, Person, RecordStatus, Tenancy  # noqa: E402
from portal.services import queue as queue_service  # noqa: E402

KIND_INDEXES = {
    "ix_bench_queue_station_kind": "submission (station_id, is_open, kind, submitted_at, id)",
    "ix_bench_queue_beat_kind": "submission (beat_id, is_open, kind, submitted_at, id)",
}


def other_tenancies_or(session, sub):
    """portal.services.queue.other_tenancies, with only the person lookup changed."""
    people = [(o["id_type"], o["id_number"]) for o in sub.payload.get("occupants", [])]
    if sub.payload.get("id_number"):
        people.append((sub.payload["id_type"], sub.payload["id_number"]))
    if not people:
        return []
    ids = list(session.scalars(select(Person.id).where(
        or_(*(and_(Person.id_type == t, Person.id_number.matches(n)) for t, n in people)))))
    return list(session.scalars(
        select(Tenancy).join(House).where(Tenancy.person_id.in_(ids), Tenancy.move_out_date.is_(None),
                                          Tenancy.status.in_((RecordStatus.pending, RecordStatus.verified)),
                                          Tenancy.house_id != (sub.house_id or 0))
        .order_by(Tenancy.id).limit(50)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    fix = p.add_mutually_exclusive_group(required=True)
    fix.add_argument("--person-lookup-or", action="store_true")
    fix.add_argument("--kind-index", action="store_true")
    args, rest = p.parse_known_args()
    url = normalise_url(args.url)
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    spec = importlib.util.spec_from_file_location("bench_queue", Path(__file__).with_name("queue.py"))
    bench_queue = importlib.util.module_from_spec(spec)
    sys.modules["bench_queue"] = bench_queue
    spec.loader.exec_module(bench_queue)
    if args.person_lookup_or:
        queue_service.other_tenancies = other_tenancies_or  # the view calls queue.other_tenancies
        bench_queue.main(["--url", url, "--out", f"queue-{kind}-person-lookup-or", *rest])
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name, target in KIND_INDEXES.items():
                t0 = time.perf_counter()
                conn.exec_driver_sql(f"CREATE INDEX {name} ON {target}")
                print(f"created {name} on {target}: {time.perf_counter() - t0:.1f} s")
            conn.exec_driver_sql("ANALYZE submission")
        bench_queue.main(["--url", url, "--out", f"queue-{kind}-kind-index", *rest])
    finally:
        with engine.begin() as conn:
            for name in KIND_INDEXES:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        print("dropped " + ", ".join(KIND_INDEXES))
        engine.dispose()


if __name__ == "__main__":
    main()
