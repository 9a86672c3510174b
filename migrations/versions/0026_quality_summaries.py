"""The quality rates' summaries, kept up to date by database triggers and back-filled here (models/quality.py).

Counting coverage probed every room-level address of the scope on each view of the quality page, and
timeliness read every report filed in the period (bench/README.md, "Quality rates"). Three tables:

* quality_address: per address, how many verified houses it has;
* quality_coverage: per beat, its room-level addresses and those with a verified house (coverage does not
  depend on the period);
* quality_filed: per beat and local (Beijing) day, the move-in, move-out, hire and departure reports filed:
  with a due time, by it, without one (a period is whole local days, so any period is a sum of its days);
* quality_open: per beat and local day of filing, the reports open now (pending or site visit).

Triggers on `house` (insert, delete, update of status or address_id), `address` (insert, delete, update of
level or beat_id) and `submission` (insert, delete, update of kind, beat_id, submitted_at, due_at or is_open) keep them,
on SQLite and PostgreSQL, whoever writes: the ORM, a bulk UPDATE (jurisdiction moves), COPY. A row's change
is its old values' part taken away and its new values' part added. An address counts as covered when its
counter goes from 0 to 1 and stops when it goes back to 0: counters, not an EXISTS over the other houses,
because on PostgreSQL an AFTER ROW trigger sees the whole statement's result, and two transactions verifying
two houses of one address cannot see each other's; an increment waits for the other's row lock and then counts
on from its committed value. The same statements serve both databases (SQLite's one trigger per case, with its
condition, for PostgreSQL's IF); only the local day is written in each database's words.

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

from portal.services import quality_summaries
from portal.services.quality_summaries import ROOM, TIMED, VERIFIED, counts, day

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _house_out(row: str) -> list[str]:
    """Take away what a verified house row counted."""
    return [
        f"UPDATE quality_address SET verified_houses = verified_houses - 1 WHERE address_id = {row}.address_id",
        f"UPDATE quality_coverage SET covered = covered - 1 "
        f"WHERE beat_id = (SELECT beat_id FROM address WHERE id = {row}.address_id AND level = {ROOM}) "
        f"AND (SELECT verified_houses FROM quality_address WHERE address_id = {row}.address_id) = 0",
    ]


def _house_in(row: str) -> list[str]:
    """Count a verified house row in."""
    return [
        f"INSERT INTO quality_address (address_id, verified_houses) VALUES ({row}.address_id, 1) "
        f"ON CONFLICT (address_id) DO UPDATE SET verified_houses = quality_address.verified_houses + 1",
        f"UPDATE quality_coverage SET covered = covered + 1 "
        f"WHERE beat_id = (SELECT beat_id FROM address WHERE id = {row}.address_id AND level = {ROOM}) "
        f"AND (SELECT verified_houses FROM quality_address WHERE address_id = {row}.address_id) = 1",
    ]


def _covered(row: str) -> str:
    return (f"COALESCE((SELECT CASE WHEN verified_houses > 0 THEN 1 ELSE 0 END FROM quality_address "
            f"WHERE address_id = {row}.id), 0)")


def _address_out(row: str) -> list[str]:
    """Take away what a room-level address row counted in its beat."""
    return [f"UPDATE quality_coverage SET room_addresses = room_addresses - 1, covered = covered - {_covered(row)} "
            f"WHERE beat_id = {row}.beat_id"]


def _address_in(row: str) -> list[str]:
    """Count a room-level address row in its beat (with its verified houses, should it have any already)."""
    return [f"INSERT INTO quality_coverage (beat_id, room_addresses, covered) VALUES ({row}.beat_id, 1, "
            f"{_covered(row)}) ON CONFLICT (beat_id) DO UPDATE SET "
            f"room_addresses = quality_coverage.room_addresses + 1, covered = quality_coverage.covered + excluded.covered"]


def _filed_out(dialect: str, row: str) -> list[str]:
    timed, on_time, untimed = counts(row)
    return [f"UPDATE quality_filed SET timed = timed - {timed}, on_time = on_time - {on_time}, "
            f"untimed = untimed - {untimed} WHERE beat_id = {row}.beat_id AND day = {day(dialect, row)}"]


def _filed_in(dialect: str, row: str) -> list[str]:
    timed, on_time, untimed = counts(row)
    return [f"INSERT INTO quality_filed (beat_id, day, timed, on_time, untimed) VALUES ({row}.beat_id, "
            f"{day(dialect, row)}, {timed}, {on_time}, {untimed}) ON CONFLICT (beat_id, day) DO UPDATE SET "
            f"timed = quality_filed.timed + excluded.timed, on_time = quality_filed.on_time + excluded.on_time, "
            f"untimed = quality_filed.untimed + excluded.untimed"]


def _open_out(dialect: str, row: str) -> list[str]:
    return [f"UPDATE quality_open SET open_items = open_items - 1 "
            f"WHERE beat_id = {row}.beat_id AND day = {day(dialect, row)}"]


def _open_in(dialect: str, row: str) -> list[str]:
    return [f"INSERT INTO quality_open (beat_id, day, open_items) VALUES ({row}.beat_id, {day(dialect, row)}, 1) "
            f"ON CONFLICT (beat_id, day) DO UPDATE SET open_items = quality_open.open_items + 1"]


OPEN_CHANGED = ("old.is_open IS NOT new.is_open OR old.beat_id IS NOT new.beat_id OR "
                "old.submitted_at IS NOT new.submitted_at")
OPEN_COLUMNS = "is_open, beat_id, submitted_at"
SUBMISSION_CHANGED = ("old.kind IS NOT new.kind OR old.beat_id IS NOT new.beat_id OR "
                      "old.submitted_at IS NOT new.submitted_at OR old.due_at IS NOT new.due_at")
SUBMISSION_COLUMNS = "kind, beat_id, submitted_at, due_at"

HOUSE_CHANGED = "old.status IS NOT new.status OR old.address_id IS NOT new.address_id"
ADDRESS_CHANGED = "old.level IS NOT new.level OR old.beat_id IS NOT new.beat_id"

# SQLite: one trigger per case, each with its condition (SQLite has no IF). Two triggers on one update see
# each other's work, in either order, and give the same sums.
SQLITE_TRIGGERS = {
    "quality_house_insert": ("AFTER INSERT ON house", f"new.status = {VERIFIED}", _house_in("new")),
    "quality_house_delete": ("AFTER DELETE ON house", f"old.status = {VERIFIED}", _house_out("old")),
    "quality_house_update_out": ("AFTER UPDATE OF status, address_id ON house",
                                 f"old.status = {VERIFIED} AND ({HOUSE_CHANGED})", _house_out("old")),
    "quality_house_update_in": ("AFTER UPDATE OF status, address_id ON house",
                                f"new.status = {VERIFIED} AND ({HOUSE_CHANGED})", _house_in("new")),
    "quality_address_insert": ("AFTER INSERT ON address", f"new.level = {ROOM}", _address_in("new")),
    # One trigger, so that the counter row goes only after it was read.
    "quality_address_delete": ("AFTER DELETE ON address", "1",
                               [f"{_address_out('old')[0]} AND old.level = {ROOM}",
                                "DELETE FROM quality_address WHERE address_id = old.id"]),
    "quality_address_update_out": ("AFTER UPDATE OF level, beat_id ON address",
                                   f"old.level = {ROOM} AND ({ADDRESS_CHANGED})", _address_out("old")),
    "quality_address_update_in": ("AFTER UPDATE OF level, beat_id ON address",
                                  f"new.level = {ROOM} AND ({ADDRESS_CHANGED})", _address_in("new")),
    "quality_submission_insert": ("AFTER INSERT ON submission", f"new.kind IN {TIMED}", _filed_in("sqlite", "new")),
    "quality_submission_delete": ("AFTER DELETE ON submission", f"old.kind IN {TIMED}",
                                  _filed_out("sqlite", "old")),
    "quality_submission_update_out": (f"AFTER UPDATE OF {SUBMISSION_COLUMNS} ON submission",
                                      f"old.kind IN {TIMED} AND ({SUBMISSION_CHANGED})", _filed_out("sqlite", "old")),
    "quality_submission_update_in": (f"AFTER UPDATE OF {SUBMISSION_COLUMNS} ON submission",
                                     f"new.kind IN {TIMED} AND ({SUBMISSION_CHANGED})", _filed_in("sqlite", "new")),
    "quality_open_insert": ("AFTER INSERT ON submission", "new.is_open", _open_in("sqlite", "new")),
    "quality_open_delete": ("AFTER DELETE ON submission", "old.is_open", _open_out("sqlite", "old")),
    "quality_open_update_out": (f"AFTER UPDATE OF {OPEN_COLUMNS} ON submission",
                                f"old.is_open AND ({OPEN_CHANGED})", _open_out("sqlite", "old")),
    "quality_open_update_in": (f"AFTER UPDATE OF {OPEN_COLUMNS} ON submission",
                               f"new.is_open AND ({OPEN_CHANGED})", _open_in("sqlite", "new")),
}


def _body(statements: list[str]) -> str:
    return " ".join(f"{s};" for s in statements)


PG_HOUSE = f"""
CREATE FUNCTION quality_house_coverage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({HOUSE_CHANGED.replace("IS NOT", "IS DISTINCT FROM")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF old.status = {VERIFIED} THEN {_body(_house_out("old"))} END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF new.status = {VERIFIED} THEN {_body(_house_in("new"))} END IF;
    END IF;
    RETURN NULL;
END $$
"""

PG_ADDRESS = f"""
CREATE FUNCTION quality_address_coverage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({ADDRESS_CHANGED.replace("IS NOT", "IS DISTINCT FROM")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF old.level = {ROOM} THEN {_body(_address_out("old"))} END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM quality_address WHERE address_id = old.id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF new.level = {ROOM} THEN {_body(_address_in("new"))} END IF;
    END IF;
    RETURN NULL;
END $$
"""

PG_SUBMISSION = f"""
CREATE FUNCTION quality_submission_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({SUBMISSION_CHANGED.replace("IS NOT", "IS DISTINCT FROM")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF old.kind IN {TIMED} THEN {_body(_filed_out("postgresql", "old"))} END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF new.kind IN {TIMED} THEN {_body(_filed_in("postgresql", "new"))} END IF;
    END IF;
    RETURN NULL;
END $$
"""

PG_OPEN = f"""
CREATE FUNCTION quality_submission_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({OPEN_CHANGED.replace("IS NOT", "IS DISTINCT FROM")}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF old.is_open THEN {_body(_open_out("postgresql", "old"))} END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF new.is_open THEN {_body(_open_in("postgresql", "new"))} END IF;
    END IF;
    RETURN NULL;
END $$
"""

PG_TRIGGERS = (
    "CREATE TRIGGER quality_house_coverage AFTER INSERT OR DELETE OR UPDATE OF status, address_id ON house "
    "FOR EACH ROW EXECUTE FUNCTION quality_house_coverage()",
    "CREATE TRIGGER quality_address_coverage AFTER INSERT OR DELETE OR UPDATE OF level, beat_id ON address "
    "FOR EACH ROW EXECUTE FUNCTION quality_address_coverage()",
    f"CREATE TRIGGER quality_submission_filed AFTER INSERT OR DELETE OR UPDATE OF {SUBMISSION_COLUMNS} "
    "ON submission FOR EACH ROW EXECUTE FUNCTION quality_submission_filed()",
    f"CREATE TRIGGER quality_submission_open AFTER INSERT OR DELETE OR UPDATE OF {OPEN_COLUMNS} "
    "ON submission FOR EACH ROW EXECUTE FUNCTION quality_submission_open()",
)

def upgrade() -> None:
    op.create_table(
        "quality_address",
        sa.Column("address_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("verified_houses", sa.Integer(), nullable=False),
    )
    op.create_table(
        "quality_coverage",
        sa.Column("beat_id", sa.Integer(), sa.ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("room_addresses", sa.Integer(), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
    )
    op.create_table(
        "quality_filed",
        sa.Column("beat_id", sa.Integer(), sa.ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("untimed", sa.Integer(), nullable=False),
    )
    op.create_table(
        "quality_open",
        sa.Column("beat_id", sa.Integer(), sa.ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("open_items", sa.Integer(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, (event, when, statements) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW WHEN {when} BEGIN {_body(statements)} END")
    else:
        for function in (PG_HOUSE, PG_ADDRESS, PG_SUBMISSION, PG_OPEN):
            op.execute(function)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    quality_summaries.refill(op.get_bind())  # the rows there now, counted once


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER quality_house_coverage ON house")
        op.execute("DROP TRIGGER quality_address_coverage ON address")
        op.execute("DROP TRIGGER quality_submission_filed ON submission")
        op.execute("DROP TRIGGER quality_submission_open ON submission")
        for function in ("quality_house_coverage", "quality_address_coverage", "quality_submission_filed",
                         "quality_submission_open"):
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("quality_open")
    op.drop_table("quality_filed")
    op.drop_table("quality_coverage")
    op.drop_table("quality_address")
