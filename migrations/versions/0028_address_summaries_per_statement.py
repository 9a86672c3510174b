"""The summaries that `address` feeds (place names, 0025; the beats' room addresses for coverage, 0026) counted
once per statement on PostgreSQL, from the statement's transition tables, instead of once per row.

An import of addresses of one road and community is one transaction in which every row counted the same few
summary rows again (the township, road and community names; the beat's coverage row). On PostgreSQL each of
those updates leaves a new version of the row that the next one must walk past until the transaction ends, so
the work grew with the square of the rows: 20,000 addresses took 55 s against 23 s without the triggers, a
city's 600,000 by COPY 1,050 s against 10 s (bench/README.md, "The address import and the summary triggers").
A statement trigger adds up the statement's rows and changes each summary row once: an INSERT of 1,000 rows
(the ORM's batches) is one change of each name and beat. What is counted is unchanged: a statement's change is
its old rows' part taken away and its new rows' part added, in one sum per summary row (rows the statement left
as they were add nothing), in key order so that two statements take the rows' locks in one order.

SQLite keeps the row triggers of 0025 and 0026: it changes a row in place (no versions to walk past) and has no
statement triggers.

Revision ID: 0028
Revises: 0027
"""
# ruff: noqa: S608 -- every piece of these statements is a constant of this file; no input reaches them.
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

KINDS = ("township", "road", "community")
ROOM = "'room'"  # AddressLevel.room
EVENTS = {"insert": ("INSERT", [("new_rows", 1)], "REFERENCING NEW TABLE AS new_rows"),
          "delete": ("DELETE", [("old_rows", -1)], "REFERENCING OLD TABLE AS old_rows"),
          "update": ("UPDATE", [("old_rows", -1), ("new_rows", 1)],
                     "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows")}


def _place_names(parts: list[tuple[str, int]]) -> str:
    """Each name's sum of +1 per active address row that names it in the new rows, -1 in the old."""
    named = " UNION ALL ".join(f"SELECT '{kind}' AS kind, {kind} AS name, {sign} AS delta FROM {rows} "
                               f"WHERE status = 'active' AND {kind} <> ''" for rows, sign in parts for kind in KINDS)
    return f"""
    WITH changed AS (SELECT kind, name, sum(delta) AS delta FROM ({named}) AS named GROUP BY kind, name
                     HAVING sum(delta) <> 0)
    INSERT INTO place_name (kind, name, addresses) SELECT kind, name, delta FROM changed ORDER BY kind, name
    ON CONFLICT (kind, name) DO UPDATE SET addresses = place_name.addresses + excluded.addresses;
    DELETE FROM place_name WHERE addresses <= 0;"""


def _coverage(parts: list[tuple[str, int]]) -> str:
    """Each beat's sum of its room-level address rows (+1 new, -1 old) and of those with a verified house."""
    counted = " UNION ALL ".join(
        f"SELECT beat_id, {sign} AS rooms, {sign} * COALESCE((SELECT CASE WHEN verified_houses > 0 THEN 1 ELSE 0 "
        f"END FROM quality_address WHERE address_id = {rows}.id), 0) AS covered FROM {rows} WHERE level = {ROOM}"
        for rows, sign in parts)
    return f"""
    INSERT INTO quality_coverage (beat_id, room_addresses, covered)
    SELECT beat_id, sum(rooms), sum(covered) FROM ({counted}) AS counted GROUP BY beat_id
    HAVING sum(rooms) <> 0 OR sum(covered) <> 0 ORDER BY beat_id
    ON CONFLICT (beat_id) DO UPDATE SET room_addresses = quality_coverage.room_addresses + excluded.room_addresses,
        covered = quality_coverage.covered + excluded.covered;"""


def _function(name: str, body: str) -> str:
    return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN{body}\n    RETURN NULL;\nEND $$"


def _statement_triggers() -> list[str]:
    statements = []
    for event, (verb, parts, referencing) in EVENTS.items():
        gone = "\n    DELETE FROM quality_address WHERE address_id IN (SELECT id FROM old_rows);" \
            if event == "delete" else ""  # after the coverage, which reads it
        for summary, body in (("place_names", _place_names(parts)), ("coverage", _coverage(parts) + gone)):
            function = f"address_{summary}_{event}"
            statements += [_function(function, body),
                           f"CREATE TRIGGER {function} AFTER {verb} ON address {referencing} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"]
    return statements


ROW_TRIGGERS = ("DROP TRIGGER place_name_insert_delete ON address", "DROP TRIGGER place_name_update ON address",
                "DROP TRIGGER quality_address_coverage ON address")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in ROW_TRIGGERS:
        op.execute(statement)
    for statement in _statement_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in EVENTS:
        for summary in ("place_names", "coverage"):
            op.execute(f"DROP TRIGGER address_{summary}_{event} ON address")
            op.execute(f"DROP FUNCTION address_{summary}_{event}()")
    # The row triggers of 0025 and 0026 again, on the functions those migrations made (still there).
    place_names, quality = _revision("0025"), _revision("0026")
    for statement in (*place_names.POSTGRESQL_TRIGGERS[1:], quality.PG_TRIGGERS[1]):
        op.execute(statement)


def _revision(revision: str):
    """An earlier migration's module, through the script directory Alembic is running."""
    from alembic import context

    return context.script.get_revision(revision).module
