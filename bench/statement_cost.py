"""Client CPU of one statement on PostgreSQL, by how it is sent: a compiled Core statement on a SQLAlchemy
connection, the same SQL through exec_driver_sql, and the raw psycopg cursor.

    .venv/bin/python bench/statement_cost.py                       # postgresql:///test
    .venv/bin/python bench/statement_cost.py --url postgresql:///bench_api

What the API's hot path pays per statement besides the round trip (bench/README.md, API throughput). A
select by primary key of a 100-row temporary table, CPU time of this thread (time.thread_time), best of 3
runs of --runs statements each. The server's work and the wait are not counted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

bench_common.fix_sys_path()

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select  # noqa: E402

from portal.db import make_engine  # noqa: E402

SQL = "SELECT id, a, b, c FROM statement_cost WHERE id = %(id)s"


def best_of_three(runs: int, send) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.thread_time()
        for n in range(runs):
            send(n % 100)
        best = min(best, (time.thread_time() - start) / runs)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql:///test")
    parser.add_argument("--runs", type=int, default=3000)
    args = parser.parse_args()
    engine = make_engine(args.url)
    if engine.dialect.name != "postgresql":
        sys.exit("a PostgreSQL URL is needed")
    table = Table("statement_cost", MetaData(), Column("id", Integer, primary_key=True), Column("a", String),
                  Column("b", String), Column("c", Integer), prefixes=["TEMPORARY"])
    statement = select(table).where(table.c.id == bindparam("id"))
    with engine.connect() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"id": n, "a": "x", "b": "y", "c": n} for n in range(100)])
        cursor = conn.connection.driver_connection.cursor()

        def raw(n: int):
            cursor.execute(SQL, {"id": n})
            return cursor.fetchone()

        results = {
            "Core statement, Connection.execute": best_of_three(
                args.runs, lambda n: conn.execute(statement, {"id": n}).first()),
            "exec_driver_sql": best_of_three(args.runs, lambda n: conn.exec_driver_sql(SQL, {"id": n}).first()),
            "psycopg cursor": best_of_three(args.runs, raw),
        }
        conn.rollback()
    engine.dispose()
    for name, micros in results.items():
        print(f"{name:40s} {micros:6.1f} µs CPU per statement")


if __name__ == "__main__":
    main()
