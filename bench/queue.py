"""Time the officer's queue and item pages through Flask's test client (issue 3, item 13).

    .venv/bin/python bench/queue.py --url sqlite:///bench/out/bench.sqlite3
    .venv/bin/python bench/queue.py --url postgresql:///bench

Needs a database filled by bench/generate.py. Builds the real app (create_app, CSRF on, rate limits off),
signs in as the station officer of the busiest station through the real login and two-factor pages
(password + TOTP, as tests/browser.FormClient does), then times, REPEAT times after WARMUP requests:

* the queue's first page,
* a page DEPTH pages deep (the "Next page" link followed DEPTH times, then that URL timed),
* item pages: a one-person move-in, the move-in naming the most people and another kind, each REPEAT
  times, and DISTINCT different items from the deep page on, once each (cold rows), by what they hold,
* the queue filters, the beat officer of the busiest beat's queue, and two baselines: a
  primary-key read through the ORM (db.session.get(User, id) in a fresh request-scoped session) and a
  minimal signed-in request (GET /officer/, which loads the user and redirects).

Each request's SQL is recorded (statements, and the time inside cursor.execute; SQLite does part of its
work while rows are fetched, so that column can understate it). Then every SELECT that the timed pages
run is EXPLAINed (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL) and timed
alone (execute and fetch); statements that scan, sort or filter more than 1000 rows of a large table, or
take more than 5 ms, are marked. Results go to bench/out/queue-<database>.json (git-ignored).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()  # before anything imports the standard library's `queue`

import argparse  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import event, func, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import normalise_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Submission, User  # noqa: E402
from tests.browser import FormClient  # noqa: E402

TARGET_MS = 50.0
SLOW_STATEMENT_MS = 5.0
BIG_TABLES = ("submission", "tenancy", "person", "house", "address", "decision", "audit_event")
NEXT_LINK = re.compile(r'href="([^"]*[?&](?:amp;)?after=[^"]*)"')
ITEM_LINK = re.compile(r'href="/officer/items/(\d+)"')


# --- SQL recording --------------------------------------------------------------------------------

@dataclass
class Statement:
    sql: str
    params: object
    ms: float


@dataclass
class Recorder:
    on: bool = False
    current: list[Statement] = field(default_factory=list)
    _t0: float = 0.0

    def install(self, engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            self._t0 = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            if self.on:
                self.current.append(Statement(statement, parameters, (time.perf_counter() - self._t0) * 1000))

    def start(self) -> None:
        self.current, self.on = [], True

    def stop(self) -> list[Statement]:
        self.on = False
        return self.current


# --- timing -------------------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    url: str
    samples_ms: list[float]
    sql_counts: list[int]
    sql_ms: list[float]
    statements: list[Statement]  # of the last timed request
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time per request

    def summary(self) -> dict:
        s = sorted(self.samples_ms)
        p95 = statistics.quantiles(s, n=20, method="inclusive")[18] if len(s) >= 2 else s[0]
        return {"name": self.name, "url": self.url, "n": len(s), "median_ms": statistics.median(s),
                "p95_ms": p95, "min_ms": s[0], "max_ms": s[-1],
                "sql_statements": statistics.median(self.sql_counts) if self.sql_counts else 0,
                "sql_ms_median": statistics.median(self.sql_ms) if self.sql_ms else 0.0,
                "cpu_ms_median": statistics.median(self.cpu_ms) if self.cpu_ms else 0.0}


def timed_get(client, recorder: Recorder, url: str, name: str, repeat: int, warmup: int, status: int = 200
              ) -> Result:
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
    samples, counts, sql_ms, cpu_ms = [], [], [], []
    statements: list[Statement] = []
    for _ in range(repeat):
        recorder.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        response = client.get(url)
        took = (time.perf_counter() - t0) * 1000
        cpu_ms.append((time.process_time() - c0) * 1000)
        statements = recorder.stop()
        assert response.status_code == status, (url, response.status_code)
        samples.append(took)
        counts.append(len(statements))
        sql_ms.append(sum(s.ms for s in statements))
    return Result(name, url, samples, counts, sql_ms, statements, cpu_ms)


def next_url(page_html: str) -> str | None:
    m = NEXT_LINK.search(page_html)
    return html.unescape(m.group(1)) if m else None


def follow(client, url: str, pages: int) -> str:
    """The URL of the page `pages` pages after `url`, by following the "Next page" links."""
    for i in range(pages):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        nxt = next_url(response.get_data(as_text=True))
        if nxt is None:
            raise SystemExit(f"the queue ended after {i + 1} pages; generate more data")
        url = nxt
    return url


def sign_in(app, phone: str) -> FormClient:
    """Through the real login and two-factor pages. A TOTP step is accepted once, so wait for a new step
    if an earlier run used the current one."""
    with app.app_context():
        last = db.session.scalar(select(User.last_totp_step).where(User.phone == phone))
        exists = db.session.scalar(select(func.count()).select_from(User).where(User.phone == phone))
        if not exists:
            raise SystemExit(f"no account {phone}: run bench/generate.py on this database first")
        db.session.remove()
    while last is not None and int(time.time()) // 30 <= last:
        wait = 30 - time.time() % 30 + 0.2
        print(f"  (TOTP step already used: waiting {wait:.0f} s for the next code)", flush=True)
        time.sleep(wait)
    client = FormClient(app.test_client())
    client.sign_in(phone, bench_common.PASSWORD, totp_secret=bench_common.totp_secret(phone))
    response = client.get("/officer/queue")
    assert response.status_code == 200, response.status_code
    return client


# --- baselines -------------------------------------------------------------------------------------

def orm_pk_read(app, recorder: Recorder, user_id: int, repeat: int, warmup: int) -> Result:
    """db.session.get(User, id) in a fresh request-scoped session: pool checkout, BEGIN, one SELECT."""
    samples, counts, sql_ms, cpu_ms = [], [], [], []
    statements: list[Statement] = []
    with app.test_request_context("/"):
        for i in range(warmup + repeat):
            db.session.remove()
            recorder.start()
            c0 = time.process_time()
            t0 = time.perf_counter()
            user = db.session.get(User, user_id)
            took = (time.perf_counter() - t0) * 1000
            cpu = (time.process_time() - c0) * 1000
            statements = recorder.stop()
            assert user is not None
            if i >= warmup:
                samples.append(took)
                cpu_ms.append(cpu)
                counts.append(len(statements))
                sql_ms.append(sum(s.ms for s in statements))
        db.session.remove()
    return Result("baseline: ORM primary-key read (db.session.get(User, id))", "-", samples, counts, sql_ms,
                  statements, cpu_ms)


# --- query plans ------------------------------------------------------------------------------------

def explain(engine, statements: list[Statement]) -> list[dict]:
    out = []
    seen = set()
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for st in statements:
            sql = st.sql.strip()
            if not sql.upper().startswith("SELECT") or sql in seen:
                continue
            seen.add(sql)
            if postgres:
                rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, st.params).all()
                lines = [r[0] for r in rows]
                bad = [ln.strip() for ln in lines
                       if re.search(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b", ln)
                       or re.search(r"\bSort\b(?! Key| Method)", ln) and _pg_rows(ln) > 1000
                       or _removed(ln) > 1000]
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, st.params).all()
                lines = [("  " * _depth(rows, r)) + r[3] for r in rows]
                big = "|".join(BIG_TABLES)
                scans = [r[3] for r in rows if re.match(rf"SCAN ({big})\b", r[3])]
                # A sort is a problem only when its input is a whole large table, not one index range.
                bad = scans + ([r[3] for r in rows if "TEMP B-TREE" in r[3]] if scans else [])
            # Execute and fetch everything (SQLite does most of a scan while rows are fetched).
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                conn.exec_driver_sql(sql, st.params).all()
                runs.append((time.perf_counter() - t0) * 1000)
            full = statistics.median(runs)
            if full > SLOW_STATEMENT_MS:
                bad.append(f"takes {full:.1f} ms (execute and fetch, median of 3)")
            out.append({"sql": sql, "params": _jsonable(st.params), "plan": lines, "suspicious": bad,
                        "ms": round(full, 3)})
        conn.rollback()
    return out


def _removed(line: str) -> int:
    m = re.search(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", line)
    return int(m.group(1)) if m else 0


def _pg_rows(line: str) -> int:
    m = re.search(r"actual time=[^ ]+ rows=(\d+)", line)
    return int(m.group(1)) if m else 0


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def _jsonable(params):
    if isinstance(params, dict):
        return {k: str(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [str(v) for v in params]
    return str(params)


# --- main ---------------------------------------------------------------------------------------------

def environment(engine) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os
    import sqlite3

    with engine.connect() as conn:
        server = conn.exec_driver_sql("SELECT version()").scalar() if engine.dialect.name == "postgresql" \
            else f"SQLite {sqlite3.sqlite_version}"
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "database": server,
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--depth", type=int, default=50, help="pages deep for the deep-page measurement")
    p.add_argument("--distinct", type=int, default=50, help="different item pages, timed once each")
    p.add_argument("--no-explain", action="store_true")
    p.add_argument("--out", default=None,
                   help="name of the results file in bench/out (default: queue-<database>)")
    args = p.parse_args(argv)
    url = normalise_url(args.url)
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": True})
    recorder = Recorder()
    recorder.install(db.engine)
    env = environment(db.engine)
    with app.app_context():
        open_total = db.session.scalar(select(func.count()).select_from(Submission).where(Submission.is_open))
        total = db.session.scalar(select(func.count()).select_from(Submission))
        officer = db.session.scalar(select(User).where(User.phone == bench_common.STATION_OFFICER_PHONE))
        officer_id = officer.id if officer else None
        db.session.remove()
    print(f"database: {bench_common.describe_url(url)} ({env['database'].split(' on ')[0]})")
    print(f"machine: {env['cores']} cores, {env['cpu']}; Python {env['python']}; "
          f"load average {' '.join(f'{x:.2f}' for x in env['load_average'])}")
    print(f"submissions: {total:,}, open: {open_total:,}; "
          f"repeat {args.repeat} after {args.warmup} warm-up requests")

    results: list[Result] = []

    def report(r: Result) -> None:
        s = r.summary()
        print(f"  {r.name:<46} median {s['median_ms']:7.2f} ms  p95 {s['p95_ms']:7.2f} ms  "
              f"({s['sql_statements']:.0f} SQL, {s['sql_ms_median']:.2f} ms in SQL, "
              f"CPU {s['cpu_ms_median']:.1f} ms)", flush=True)

    def run(client, name: str, url_: str, status: int = 200) -> Result:
        r = timed_get(client, recorder, url_, name, args.repeat, args.warmup, status)
        results.append(r)
        report(r)
        return r

    print("\nstation officer of the busiest station")
    station = sign_in(app, bench_common.STATION_OFFICER_PHONE)
    run(station, "queue: first page", "/officer/queue")
    deep_url = follow(station, "/officer/queue", args.depth)
    deep = run(station, f"queue: page {args.depth + 1} ({args.depth} pages deep)", deep_url)
    # Items from the deep page on: what an officer opens. What an item page costs depends on the kind and
    # on how many people a move-in names, so both a one-person and a many-person move-in are timed.
    ids, url_ = [], deep_url
    while len(ids) < max(args.distinct, 100) and url_:
        page_html = station.get(url_).get_data(as_text=True)
        ids += [int(i) for i in ITEM_LINK.findall(page_html)]
        url_ = next_url(page_html)
    with app.app_context():
        rows = db.session.execute(select(Submission.id, Submission.kind, Submission.payload)
                                  .where(Submission.id.in_(ids))).all()
        people = {i: (str(k), len(p.get("occupants") or ())) for i, k, p in rows}
        db.session.remove()
    single = next(i for i in ids if people[i] == ("move_in", 1))
    many = max((i for i in ids if people[i][0] == "move_in"), key=lambda i: people[i][1])
    run(station, "item page: move-in, 1 person", f"/officer/items/{single}")
    run(station, f"item page: move-in, {people[many][1]} people", f"/officer/items/{many}")
    other = next((i for i in ids if people[i][0] != "move_in"), None)
    if other is not None:
        run(station, f"item page: {people[other][0].replace('_', ' ')}", f"/officer/items/{other}")
    # Different items, once each (rows not yet in any cache), reported by what they hold.
    groups: dict[str, list[tuple[float, int, float, float]]] = {}
    for i in ids[:args.distinct]:
        recorder.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        response = station.get(f"/officer/items/{i}")
        took = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
        st = recorder.stop()
        assert response.status_code == 200
        sub_kind, n = people[i]
        group = ("other kinds" if sub_kind != "move_in" else
                 "move-in, 1 person" if n == 1 else "move-in, 2+ people")
        for g in ("all", group):
            groups.setdefault(g, []).append((took, len(st), sum(x.ms for x in st), cpu))
    for g in ("all", "move-in, 1 person", "move-in, 2+ people", "other kinds"):
        if g in groups:
            took, counts, sql_ms, cpu_ms = (list(x) for x in zip(*groups[g], strict=True))
            results.append(Result(f"distinct items, once each: {g} ({len(took)})", "/officer/items/<id>",
                                  took, counts, sql_ms, [], cpu_ms))
            report(results[-1])

    print("\nqueue filters (station officer)")
    for label, query in (("filter: flagged only", "flagged=y"), ("filter: late only", "late=y"),
                         ("filter: kind move-out (4% of items)", "kind=move_out"),
                         ("filter: kind hire (no item of this kind)", "kind=hire")):
        run(station, label, f"/officer/queue?{query}")

    print("\nbeat officer of the busiest beat")
    beat = sign_in(app, bench_common.BEAT_OFFICER_PHONE)
    run(beat, "beat queue: first page", "/officer/queue")
    try:
        beat_deep = follow(beat, "/officer/queue", args.depth)
        run(beat, f"beat queue: page {args.depth + 1}", beat_deep)
    except SystemExit as short:
        print(f"  beat queue: {short}")

    print("\nbaselines")
    results.append(orm_pk_read(app, recorder, officer_id, args.repeat * 4, args.warmup))
    report(results[-1])
    run(station, "baseline: GET /officer/ (signed in, 302)", "/officer/", status=302)

    summaries = [r.summary() for r in results]
    print(f"\nsummary (target: median < {TARGET_MS:.0f} ms for the queue's first page, a deep page and an "
          "item page)")
    print(f"  {'page':<58}{'median':>10}{'p95':>10}{'SQL':>6}{'SQL ms':>9}{'CPU ms':>9}")
    for s in summaries:
        print(f"  {s['name']:<58}{s['median_ms']:>8.2f}ms{s['p95_ms']:>8.2f}ms{s['sql_statements']:>6.0f}"
              f"{s['sql_ms_median']:>9.2f}{s['cpu_ms_median']:>9.2f}")
    targets = [s for s in summaries if s["name"].startswith(("queue: ", "item page", "distinct items"))]
    missed = [s["name"] for s in targets if s["median_ms"] >= TARGET_MS]
    print("  targets: " + ("all met" if not missed else "MISSED: " + ", ".join(missed)))

    plans = {}
    if not args.no_explain:
        print("\nquery plans of every SELECT of the timed pages"
              + (" (EXPLAIN QUERY PLAN)" if kind == "sqlite" else " (EXPLAIN (ANALYZE, BUFFERS))"))
        by_name = {r.name: r for r in results}
        wanted = [("queue: first page", by_name["queue: first page"]), ("queue: deep page", deep)] + \
                 [(r.name, r) for r in results if r.name.startswith(("item page", "filter:", "beat queue"))]
        for label, r in wanted:
            plans[label] = explain(db.engine, r.statements)
            print(f"\n=== {label}: {r.url}")
            for pl in plans[label]:
                flag = "  <-- SCANS/SORTS/FILTERS MANY ROWS OR SLOW" if pl["suspicious"] else ""
                print(f"--- [{pl['ms']:.2f} ms] {_short(pl['sql'])}{flag}")
                print(f"    params: {pl['params']}")
                for line in pl["plan"]:
                    print("    " + line)
        suspicious = {label: [pl for pl in v if pl["suspicious"]] for label, v in plans.items()}
        found = {k: v for k, v in suspicious.items() if v}
        print("\nstatements that scan, sort or filter more than 1000 rows of a large table, or took more "
              f"than {SLOW_STATEMENT_MS:.0f} ms: " + ("none" if not found else ""))
        for label, v in found.items():
            for pl in v:
                print(f"  {label}: {_short(pl['sql'])}: {pl['suspicious']}")

    bench_common.OUT.mkdir(parents=True, exist_ok=True)
    out = bench_common.OUT / f"{args.out or 'queue-' + kind}.json"
    env["load_average_after"] = __import__("os").getloadavg()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in env['load_average_after'])}")
    out.write_text(json.dumps({"environment": env, "url": bench_common.describe_url(url),
                               "repeat": args.repeat, "warmup": args.warmup, "depth": args.depth,
                               "results": summaries,
                               "samples": {r.name: r.samples_ms for r in results}, "plans": plans},
                              indent=1, ensure_ascii=False, default=str))
    print(f"\nwritten: {out.relative_to(bench_common.ROOT)}")


def _short(sql: str, n: int = 160) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= n else one[:n] + " ..."


if __name__ == "__main__":
    main()
