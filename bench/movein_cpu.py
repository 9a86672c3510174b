"""CPU per API move-in in one process (issue 13): the bench's seed, move-ins through the Flask test client.

    .venv/bin/python bench/movein_cpu.py --db sqlite
    .venv/bin/python bench/movein_cpu.py --db postgresql --url postgresql:///bench_api_speed
    .venv/bin/python bench/movein_cpu.py --db sqlite --profile bench/out/movein.prof    # and cProfile them
    .venv/bin/python bench/movein_cpu.py --db postgresql --url ... --storage redis://127.0.0.1:6379

Where bench/api_load.py measures throughput under gunicorn and wrk (and so the machine's drift and the other
tenants of its two cores), this measures what one move-in costs the worker, which is what the throughput
target needs of it: it seeds a fresh database exactly as api_load.py does (the demo district, 16 landlords
with a token and 128 houses each), makes the portal app as api_load.py serves it (per-token rate limits out of
the way), and sends --count move-ins of one new person each with an Idempotency-Key of its own, spread over the
tokens and houses, through the test client. It reports `time.process_time` per move-in (best and median of
--rounds rounds; on SQLite that includes SQLite itself and its triggers, on PostgreSQL only the worker's
side), the time spent inside the database driver's execute (the statements' own cost), and the SQL
statements, commits and flushes per request, counted by event listeners. Every answer must be a 201.

To compare two checkouts while the machine's load drifts (it moves a round by a third here), run one process
from each at the same time, taking turns round by round through a file; on PostgreSQL the second reuses the
first's seed (and must share its instance/ keys) and numbers its people from --first:

    echo A > /tmp/turn
    (cd before && python bench/movein_cpu.py --db sqlite --turn /tmp/turn:A:B) &
    (cd after && python bench/movein_cpu.py --db sqlite --turn /tmp/turn:B:A)

--no-triggers drops the row triggers of migrations 0025-0027 first (SQLite) or disables them (PostgreSQL):
for analysis only, to see what they cost.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

import api_load  # noqa: E402
from bench_common import OUT  # noqa: E402
from stdnum.cn import ric  # noqa: E402


def resident_id(n: int) -> str:
    """A valid resident ID number of a person of its own (as api_load.py's wrk script makes them)."""
    birth = date(1950, 1, 1) + timedelta(days=n // 1000)
    body = f"430302{birth:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18 digits


def drop_triggers(url: str) -> int:
    """Drop (SQLite) or disable (PostgreSQL) every row trigger: analysis only."""
    from sqlalchemy import text

    from portal.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            names = list(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            for name in names:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            names = list(conn.execute(text(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers")).scalars())
            for name in names:
                conn.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
    engine.dispose()
    return len(names)


class Counts:
    """SQL statements, commits and time inside the driver's execute, while `on`."""

    def __init__(self, engine, session) -> None:
        from sqlalchemy import event

        self.on = False
        self.statements: Counter[str] = Counter()
        self.commits = self.flushes = 0
        self.execute_seconds = 0.0

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info["movein_t0"] = time.process_time()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            if self.on:
                self.execute_seconds += time.process_time() - conn.info["movein_t0"]
                self.statements[" ".join(statement.split())[:int(os.environ.get("MOVEIN_SQL_WIDTH", "110"))]] += 1

        @event.listens_for(engine, "commit")
        def _commit(conn):
            if self.on:
                self.commits += 1

        @event.listens_for(session, "after_flush")  # the app's session factory only (this script's process)
        def _flush(_session, _context):
            if self.on:
                self.flushes += 1


def take_turn(turn: str | None) -> None:
    if turn:
        path, me, _ = turn.split(":")
        while Path(path).read_text().strip() != me:
            time.sleep(0.02)


def pass_turn(turn: str | None) -> None:
    if turn:
        path, _, following = turn.split(":")
        Path(path).write_text(following)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--url", help="PostgreSQL URL of a database named bench* (emptied; default that of "
                                      "api_load.py, postgresql:///bench_api)")
    parser.add_argument("--count", type=int, default=300, help="move-ins a round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, best and median reported (default 3)")
    parser.add_argument("--storage", default="memory://", help="RATELIMIT_STORAGE_URI (default memory://)")
    parser.add_argument("--profile", help="cProfile one more round into this file (pstats)")
    parser.add_argument("--statements", action="store_true", help="list the statements of one request")
    parser.add_argument("--no-triggers", action="store_true", help="drop/disable the row triggers first")
    parser.add_argument("--turn", help="FILE:ME:NEXT: before each round wait until FILE reads ME, then write NEXT")
    parser.add_argument("--seed-file", help="the tokens and houses of the seed: written after seeding, or, when "
                                            "it exists, read and the database used as it is")
    parser.add_argument("--first", type=int, default=1, help="number of the first person and key (default 1)")
    args = parser.parse_args()
    if not 1 <= args.count <= 5000 or not 1 <= args.rounds <= 10:
        sys.exit("bounded: --count 1 to 5000, --rounds 1 to 10")

    if args.seed_file and Path(args.seed_file).exists():
        url, agencies = json.loads(Path(args.seed_file).read_text())
    else:
        url = api_load.fresh_database(args.db, args.url)
        agencies = api_load.seed(url)
        if args.seed_file:
            Path(args.seed_file).write_text(json.dumps([url, agencies]))
    if args.no_triggers:
        print(f"row triggers dropped/disabled on {drop_triggers(url)} objects")

    os.environ.setdefault("PORTAL_ENV", "development")
    from portal import create_app
    from portal.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
                      "API_RATE_LIMIT": api_load.RATE_LIMIT, "API_ACCOUNT_RATE_LIMIT": api_load.RATE_LIMIT,
                      "RATELIMIT_STORAGE_URI": args.storage})
    counts = Counts(db.engine, db.session)
    client = app.test_client()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    serial = iter(range(args.first, args.first + 10**6))

    def move_in() -> None:
        n = next(serial)
        token, houses = agencies[n % len(agencies)]
        house = houses[(n // len(agencies)) % len(houses)]
        response = client.post(f"/api/v1/houses/{house}/move-ins", json={
            "move_in_date": today,
            "occupants": [{"id_type": "resident_id", "id_number": resident_id(n), "name": "压测租客",
                           "relation": "main_tenant"}]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"cpu-{n}"})
        if response.status_code != 201:
            sys.exit(f"move-in {n}: {response.status_code} {response.get_data(as_text=True)[:500]}")

    for _ in range(20):  # warm-up: first requests compile statements and fill caches
        move_in()
    per_round, per_execute = [], []
    for _ in range(args.rounds):
        take_turn(args.turn)
        counts.statements.clear()
        counts.commits, counts.flushes, counts.execute_seconds, counts.on = 0, 0, 0.0, True
        start = time.process_time()
        for _ in range(args.count):
            move_in()
        per_round.append((time.process_time() - start) * 1000 / args.count)
        counts.on = False
        per_execute.append(counts.execute_seconds * 1000 / args.count)
        pass_turn(args.turn)
    statements = sum(counts.statements.values()) / args.count
    print(f"{args.db}, rate-limit storage {args.storage}{', no triggers' if args.no_triggers else ''}: "
          f"{args.count} move-ins x {args.rounds} rounds")
    print(f"CPU per move-in: best {min(per_round):.2f} ms, median {statistics.median(per_round):.2f} ms "
          f"(rounds: {' '.join(f'{r:.2f}' for r in per_round)}); in the driver's execute "
          f"{statistics.median(per_execute):.2f} ms")
    print(f"per request: {statements:.1f} SQL statements, {counts.commits / args.count:.1f} commits, "
          f"{counts.flushes / args.count:.1f} flushes that wrote")
    if args.statements:
        for statement, seen in counts.statements.most_common():
            print(f"  {seen / args.count:4.1f}  {statement}")
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not the waits for fsync
        profiler.enable()
        for _ in range(args.count):
            move_in()
        profiler.disable()
        OUT.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(args.profile)
        print(f"profile of {args.count} more move-ins: {args.profile}")


if __name__ == "__main__":
    main()
