"""Set-based writes of many rows at once: the one measured exception to writing through the ORM session
(STYLE.md, "Simple before fast"). A staff list of 10,000 people writes 10,000 people, hires and employments;
through the ORM that is seconds of flush, and PostgreSQL's driver alone spends seconds parsing 1,000-row
INSERTs (bench/README.md, "Staff-list import"). Here: on SQLite executemany and multi-row INSERT ...
RETURNING, on PostgreSQL COPY, on the session's own connection and inside its transaction.

The rows are what the ORM would write: given by attribute name, their sealed attributes sealed by
fieldcrypt.sealed_columns exactly as the model's descriptors seal them, the defaults the caller's (there is
no ORM default here). tests/integration/test_bulk_writes.py checks that a hire written here and one written
through the ORM (a single hire) are the same rows.
"""
from __future__ import annotations

import enum
import json
import secrets
from collections.abc import Iterable

from sqlalchemy import JSON, insert
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from portal.fieldcrypt import sealed_columns
from portal.models import Person, Submission


def on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def copy(session: Session, table: str, columns: list[str], rows: Iterable[Iterable]) -> None:
    """COPY rows into a table on the session's own connection, inside its transaction."""
    connection = session.connection().connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as out:
        for row in rows:
            out.write_row(row)


def _copy_dicts(session: Session, table, rows: list[dict], *, into: str | None = None) -> None:
    columns = list(rows[0])
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    dumps = json.dumps  # what SQLAlchemy's JSON type writes

    def values(row: dict) -> list:
        out = [v.value if isinstance(v, enum.Enum) else v for v in map(row.__getitem__, columns)]
        for i in as_json:
            out[i] = dumps(out[i])
        return out

    copy(session, into or table.name, columns, map(values, rows))


def stored(session: Session, model, rows: list[dict]) -> list[dict]:
    """The rows as stored: their sealed attributes encrypted, each under a row key of its own."""
    connection = session.connection()
    return [sealed_columns(model, connection, row) for row in rows]


def insert_rows(session: Session, model, rows: list[dict]) -> None:
    if not rows:
        return
    rows, table = stored(session, model, rows), model.__table__
    if on_postgres(session):
        _copy_dicts(session, table, rows)
    else:
        session.execute(insert(table), rows)


def insert_submissions(session: Session, rows: list[dict]) -> dict[str, int]:
    """Insert submissions; their ids by receipt."""
    table, rows = Submission.__table__, stored(session, Submission, rows)
    if not on_postgres(session):
        return {receipt: sid for sid, receipt in session.execute(
            insert(table).returning(table.c.id, table.c.receipt), rows)}
    ids = session.scalars(sql("SELECT nextval(pg_get_serial_sequence('submission', 'id')) "
                               "FROM generate_series(1, :n)"), {"n": len(rows)}).all()
    for row, sid in zip(rows, ids, strict=True):
        row["id"] = sid
    _copy_dicts(session, table, rows)
    return {row["receipt"]: row["id"] for row in rows}


def insert_new_persons(session: Session, people: list[dict]) -> list[tuple[int, str, bytes]]:
    """Insert the people (by attribute) the register does not hold yet; (id, document type, blind index of
    the document number) of those inserted. One another transaction inserted a moment ago is skipped
    (ON CONFLICT DO NOTHING): look it up."""
    rows = stored(session, Person, people)
    table = Person.__table__
    if not on_postgres(session):
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=["id_type", "id_index"])
        return [(pid, str(id_type), bytes(index)) for pid, id_type, index in
                session.execute(stmt.returning(table.c.id, table.c.id_type, table.c.id_index), rows)]
    # COPY into a staging table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING. The staging table's
    # name is ours (random hex), never input, and the columns are the model's: the f-strings are safe.
    staging, columns = f"staff_person_{secrets.token_hex(6)}", list(rows[0])
    names = ", ".join(columns)
    session.execute(sql(f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
                        f"SELECT {names} FROM person WITH NO DATA"))
    _copy_dicts(session, table, rows, into=staging)
    created = session.execute(sql(f"INSERT INTO person ({names}) SELECT {names} FROM {staging} "  # noqa: S608
                                  "ON CONFLICT (id_type, id_index) DO NOTHING RETURNING id, id_type, id_index")).all()
    session.execute(sql(f"DROP TABLE {staging}"))
    return [(pid, str(id_type), bytes(index)) for pid, id_type, index in created]
