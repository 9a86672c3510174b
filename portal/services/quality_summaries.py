"""The quality summaries (models/quality.py) counted afresh from the rows there, in SQL.

The triggers of migration 0026 keep the summaries up to date row by row; this fills them in one pass: the
migration's back-fill, and bench/generate.py after a bulk load that ran with those triggers off (row by row, a
few hot rows updated a million times in one transaction cost minutes on PostgreSQL). The SQL fragments
here are also the triggers' own, so that both count alike; quality.recount is the reference both are
tested against.
"""
from __future__ import annotations

from sqlalchemy import text

VERIFIED = "'verified'"  # RecordStatus.verified
ROOM = "'room'"  # AddressLevel.room
TIMED = "('move_in', 'move_out', 'hire', 'departure')"  # quality.TIMED_KINDS
# A report's local (Beijing) day, as quality.Period cuts days. Asia/Shanghai has kept UTC+8 without daylight
# saving since 1991.
DAY = {"sqlite": "date({row}.submitted_at, '+8 hours')",
       "postgresql": "CAST(({row}.submitted_at AT TIME ZONE 'Asia/Shanghai') AS DATE)"}
TABLES = ("quality_open", "quality_filed", "quality_coverage", "quality_address")


def day(dialect: str, row: str) -> str:
    return DAY[dialect].format(row=row)


def counts(row: str) -> tuple[str, str, str]:
    """(with a due time, filed by it, without one) of a report row, each 0 or 1: quality._timeliness's tests."""
    return (f"CASE WHEN {row}.due_at IS NOT NULL THEN 1 ELSE 0 END",
            f"CASE WHEN {row}.due_at IS NOT NULL AND {row}.submitted_at <= {row}.due_at THEN 1 ELSE 0 END",
            f"CASE WHEN {row}.due_at IS NULL THEN 1 ELSE 0 END")


def back_fill(dialect: str) -> list[str]:
    """INSERT ... SELECT statements that fill the empty summary tables from the rows there now. Constants of
    this module only go into the text (S608 does not apply: nothing comes from outside)."""
    timed, on_time, untimed = counts("submission")
    filed_on = day(dialect, "submission")
    return [
        f"INSERT INTO quality_address (address_id, verified_houses) "  # noqa: S608
        f"SELECT address_id, count(*) FROM house WHERE status = {VERIFIED} GROUP BY address_id",
        f"INSERT INTO quality_coverage (beat_id, room_addresses, covered) "  # noqa: S608
        f"SELECT a.beat_id, count(*), count(q.address_id) FROM address a "
        f"LEFT JOIN quality_address q ON q.address_id = a.id AND q.verified_houses > 0 "
        f"WHERE a.level = {ROOM} GROUP BY a.beat_id",
        f"INSERT INTO quality_filed (beat_id, day, timed, on_time, untimed) "  # noqa: S608
        f"SELECT beat_id, {filed_on}, sum({timed}), sum({on_time}), sum({untimed}) FROM submission "
        f"WHERE kind IN {TIMED} GROUP BY beat_id, {filed_on}",
        f"INSERT INTO quality_open (beat_id, day, open_items) "  # noqa: S608
        f"SELECT beat_id, {filed_on}, count(*) FROM submission WHERE is_open GROUP BY beat_id, {filed_on}",
    ]


def refill(connection) -> None:
    """Empty the summaries and count them again, on this connection and inside its transaction."""
    for table in TABLES:
        connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our table names)
    for statement in back_fill(connection.dialect.name):
        connection.execute(text(statement))
