"""Personal data sealed (fieldcrypt.py): persons' ID numbers, names, phones and birth dates; the names and
phones each reporter declared on a tenancy or employment; submissions' payloads; the legal representative's
ID number of a unit; users' ID numbers; stored API answers; drafts. Exact lookups go through blind indexes
(a person by ID type and number, which is also the uniqueness; the officers' search by whole name and by
phone), and a person's birth year stays in the clear for the age rules.

Every plaintext value is sealed in place, in batches by primary key, and its column dropped: after this
migration the database holds none (tests/integration/test_sealed_personal_data.py reads the raw files).
Run it with the key file the portal will use (PORTAL_KEYS_FILE, or instance/keys.json in development).

Revision ID: 0018
Revises: 0017
"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BATCH = 500

# table: (primary key, has a row_key already, [(column, kind, blind index column or None, nullable)])
SEALED = {
    "person": ("id", False, [("id_number", "str", "id_index", False), ("name", "str", "name_index", False),
                             ("phone", "str", "phone_index", True), ("birth_date", "date", None, True)]),
    "tenancy": ("id", False, [("declared_name", "str", None, False), ("declared_phone", "str", None, True)]),
    "employment": ("id", False, [("declared_name", "str", None, False), ("declared_phone", "str", None, True)]),
    "submission": ("id", False, [("payload", "json", None, False)]),
    "unit": ("id", False, [("legal_rep_id_number", "str", None, False)]),
    "user_account": ("id", True, [("id_number", "str", None, True)]),
    "idempotency_record": ("id", False, [("response_body", "str", None, False)]),
    "draft": ("key", False, [("data", "json", None, False)]),
}
PURGED = ("person", "tenancy", "employment", "submission")
# The plaintext columns as they were, for the downgrade.
PLAIN = {("person", "id_number"): sa.String(32), ("person", "name"): sa.String(60),
         ("person", "phone"): sa.String(20), ("person", "birth_date"): sa.Date(),
         ("tenancy", "declared_name"): sa.String(60), ("tenancy", "declared_phone"): sa.String(20),
         ("employment", "declared_name"): sa.String(60), ("employment", "declared_phone"): sa.String(20),
         ("submission", "payload"): sa.JSON(), ("unit", "legal_rep_id_number"): sa.String(18),
         ("user_account", "id_number"): sa.String(18), ("idempotency_record", "response_body"): sa.Text(),
         ("draft", "data"): sa.JSON()}


def _text(kind: str, value) -> str:
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "json":  # SQLite gives the stored text, PostgreSQL the parsed value
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _rows(connection, table: str, pk: str, columns: list[str], last):
    where = "" if last is None else f"WHERE {pk} > :last "
    return connection.execute(sa.text(f"SELECT {pk}, {', '.join(columns)} FROM {table} {where}"  # noqa: S608
                                      f"ORDER BY {pk} LIMIT {BATCH}"), {"last": last}).all()


def _seal_table(connection, keyring, fieldcrypt, table: str) -> None:
    pk, has_row_key, columns = SEALED[table]
    names = [c for c, *_ in columns] + (["row_key"] if has_row_key else [])
    last = None
    while rows := _rows(connection, table, pk, names, last):
        for row in rows:
            row_key = row.row_key if has_row_key else fieldcrypt.new_row_key()
            values = {"pk": row[0], "row_key": row_key}
            for column, kind, index, _nullable in columns:
                plain = getattr(row, column)
                text = None if plain is None else _text(kind, plain)
                values[f"{column}_sealed"] = None if text is None else keyring.seal(
                    connection, text, fieldcrypt.context(table, column, row_key))
                if index:
                    values[index] = None if text is None else keyring.blind_index(
                        f"{table}.{column}", fieldcrypt.normalise(text))
                if kind == "date":
                    values["birth_year"] = None if text is None else int(text[:4])
            sets = ", ".join(f"{k} = :{k}" for k in values if k != "pk")
            connection.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {pk} = :pk"), values)  # noqa: S608
        last = rows[-1][0]


def upgrade() -> None:
    from portal import fieldcrypt

    for table, (_pk, has_row_key, columns) in SEALED.items():
        with op.batch_alter_table(table) as batch_op:
            if not has_row_key:
                batch_op.add_column(sa.Column("row_key", sa.LargeBinary(length=16), nullable=True))
            for column, kind, index, _nullable in columns:
                batch_op.add_column(sa.Column(f"{column}_sealed", sa.LargeBinary(), nullable=True))
                if index:
                    batch_op.add_column(sa.Column(index, sa.LargeBinary(length=32), nullable=True))
                if kind == "date":
                    batch_op.add_column(sa.Column("birth_year", sa.SmallInteger(), nullable=True))
    connection, keyring = op.get_bind(), fieldcrypt.current()
    for table in SEALED:
        _seal_table(connection, keyring, fieldcrypt, table)
    for table in PURGED:  # when retention anonymised the row (services/retention.py)
        op.add_column(table, sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_person_phone", table_name="person")
    op.drop_index("ix_person_name", table_name="person")
    for table, (_pk, _has_row_key, columns) in SEALED.items():
        with op.batch_alter_table(table) as batch_op:
            if table == "person":
                batch_op.drop_constraint("uq_person_id_type_id_number", type_="unique")
            batch_op.alter_column("row_key", existing_type=sa.LargeBinary(length=16), nullable=False)
            for column, _kind, index, nullable in columns:
                batch_op.drop_column(column)
                if not nullable:
                    batch_op.alter_column(f"{column}_sealed", existing_type=sa.LargeBinary(), nullable=False)
                    if index:
                        batch_op.alter_column(index, existing_type=sa.LargeBinary(length=32), nullable=False)
            if table == "person":
                batch_op.create_unique_constraint("uq_person_id_type_id_index", ["id_type", "id_index"])
                batch_op.create_index("ix_person_name_index", ["name_index"])
                batch_op.create_index("ix_person_phone_index", ["phone_index"])


def _open_table(connection, keyring, fieldcrypt, table: str) -> None:
    pk, _has_row_key, columns = SEALED[table]
    last = None
    while rows := _rows(connection, table, pk, ["row_key"] + [f"{c}_sealed" for c, *_ in columns], last):
        for row in rows:
            values = {"pk": row[0]}
            for column, kind, _index, _nullable in columns:
                stored = getattr(row, f"{column}_sealed")
                text = None if stored is None else keyring.open(
                    connection, stored, fieldcrypt.context(table, column, row.row_key))
                values[column] = date.fromisoformat(text) if kind == "date" and text else text
            sets = ", ".join(f"{k} = :{k}" for k in values if k != "pk")
            connection.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {pk} = :pk"), values)  # noqa: S608
        last = rows[-1][0]


def downgrade() -> None:
    from portal import fieldcrypt

    for table in PURGED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("purged_at")
    for table, (_pk, _has_row_key, columns) in SEALED.items():
        with op.batch_alter_table(table) as batch_op:
            if table == "person":
                batch_op.drop_index("ix_person_phone_index")
                batch_op.drop_index("ix_person_name_index")
                batch_op.drop_constraint("uq_person_id_type_id_index", type_="unique")
            for column, _kind, _index, _nullable in columns:
                batch_op.add_column(sa.Column(column, PLAIN[(table, column)], nullable=True))
    connection, keyring = op.get_bind(), fieldcrypt.current()
    for table in SEALED:
        _open_table(connection, keyring, fieldcrypt, table)
    for table, (_pk, has_row_key, columns) in SEALED.items():
        with op.batch_alter_table(table) as batch_op:
            for column, kind, index, nullable in columns:
                batch_op.drop_column(f"{column}_sealed")
                if index:
                    batch_op.drop_column(index)
                if kind == "date":
                    batch_op.drop_column("birth_year")
                if not nullable:
                    batch_op.alter_column(column, existing_type=PLAIN[(table, column)], nullable=False)
            if not has_row_key:
                batch_op.drop_column("row_key")
            if table == "person":
                batch_op.create_unique_constraint("uq_person_id_type_id_number", ["id_type", "id_number"])
    op.create_index("ix_person_name", "person", ["name"])
    op.create_index("ix_person_phone", "person", ["phone"])
