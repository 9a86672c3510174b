"""Place names for the first keystrokes of a search: the table of township, road and community names of active
addresses with their counts, kept by triggers on `address`, and an index per kind of name in search's order.

A query of one or two characters ("东方", "df") begins a place name; search finds the names here and reads their
addresses' first page from the indexes (services/place_names.py) instead of reading and sorting every address
whose text has a word beginning so (bench/README.md, "Address search that understands people"). The triggers
keep the table right whatever writes addresses: the ORM, the import's Core statements, COPY, other migrations. A
later migration that copies `address` on SQLite (Alembic's batch mode) drops them and must make them again, as it
would 0009's.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

KINDS = ("township", "road", "community")

# The number of key columns filled: portal.models.address.filled_keys, word for word (an index holds an expression
# only as it is written).
FILLED_KEYS = "(" + " + ".join(f"CASE WHEN {c} <> '' THEN 1 ELSE 0 END"
                               for c in ("door_key", "building_key", "unit_key", "room_key")) + ")"
ORDER = ("division_code", "township", "road", "length(door_key)", "door_key", "community", "length(building_key)",
         "building_key", "length(unit_key)", "unit_key")


def _index_ddl(kind: str) -> str:
    columns = ", ".join((kind, FILLED_KEYS, *(c for c in ORDER if c != kind)))
    return f"CREATE INDEX ix_address_{kind}_order ON address ({columns})"


def _names_of(row: str) -> str:
    """The place_name rows of an address (`old` or `new`): a condition on place_name."""
    return " OR ".join(f"(kind = '{kind}' AND name = {row}.{kind})" for kind in KINDS)


POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION place_name_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'active' THEN
        UPDATE place_name SET addresses = addresses - 1 WHERE {_names_of('OLD')};
        DELETE FROM place_name WHERE addresses <= 0 AND ({_names_of('OLD')});
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'active' THEN
        INSERT INTO place_name (kind, name, addresses)
        SELECT v.kind, v.name, 1
          FROM (VALUES ('township', NEW.township), ('road', NEW.road), ('community', NEW.community)) AS v (kind, name)
         WHERE v.name <> ''
        ON CONFLICT (kind, name) DO UPDATE SET addresses = place_name.addresses + 1;
    END IF;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER place_name_insert_delete AFTER INSERT OR DELETE ON address "
    "FOR EACH ROW EXECUTE FUNCTION place_name_count()",
    "CREATE TRIGGER place_name_update AFTER UPDATE OF township, road, community, status ON address FOR EACH ROW "
    "WHEN (OLD.township IS DISTINCT FROM NEW.township OR OLD.road IS DISTINCT FROM NEW.road "
    "OR OLD.community IS DISTINCT FROM NEW.community OR OLD.status IS DISTINCT FROM NEW.status) "
    "EXECUTE FUNCTION place_name_count()",
)


def _sqlite_add(row: str, only_if: str = "") -> str:
    return " ".join(
        f"INSERT INTO place_name (kind, name, addresses) SELECT '{kind}', {row}.{kind}, 1 "
        f"WHERE {only_if}{row}.{kind} <> '' ON CONFLICT (kind, name) DO UPDATE SET addresses = addresses + 1;"
        for kind in KINDS)


def _sqlite_remove(row: str, only_if: str = "") -> str:
    return (f"UPDATE place_name SET addresses = addresses - 1 WHERE {only_if}({_names_of(row)}); "
            f"DELETE FROM place_name WHERE addresses <= 0 AND ({_names_of(row)});")


SQLITE_TRIGGERS = (
    "CREATE TRIGGER place_name_insert AFTER INSERT ON address WHEN new.status = 'active' BEGIN "
    f"{_sqlite_add('new')} END",
    "CREATE TRIGGER place_name_delete AFTER DELETE ON address WHEN old.status = 'active' BEGIN "
    f"{_sqlite_remove('old')} END",
    "CREATE TRIGGER place_name_update AFTER UPDATE OF township, road, community, status ON address "
    "WHEN old.township IS NOT new.township OR old.road IS NOT new.road OR old.community IS NOT new.community "
    "OR old.status IS NOT new.status BEGIN "
    + _sqlite_remove("old", only_if="old.status = 'active' AND ") + " "
    + _sqlite_add("new", only_if="new.status = 'active' AND ") + " END",
)


def upgrade() -> None:
    op.create_table(
        "place_name",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("addresses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", name=op.f("pk_place_name")),
    )
    for kind in KINDS:
        op.execute(f"INSERT INTO place_name (kind, name, addresses) SELECT '{kind}', {kind}, count(*) FROM address "
                   f"WHERE status = 'active' AND {kind} <> '' GROUP BY {kind}")
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    for kind in KINDS:
        op.execute(_index_ddl(kind))


def downgrade() -> None:
    for kind in KINDS:
        op.drop_index(f"ix_address_{kind}_order", table_name="address")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER place_name_update ON address")
        op.execute("DROP TRIGGER place_name_insert_delete ON address")
        op.execute("DROP FUNCTION place_name_count()")
    else:
        for trigger in ("place_name_insert", "place_name_delete", "place_name_update"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("place_name")
