"""Which data key protects how many values, and re-sealing values under the newest key (`flask keys`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, inspect, literal_column, select, update
from sqlalchemy.orm import Session

from portal import fieldcrypt

BATCH = 500


@dataclass(frozen=True)
class Column:
    model: type
    name: str

    @property
    def label(self) -> str:
        return f"{self.model.__tablename__}.{self.name}"

    @property
    def stored(self):
        return getattr(self.model, getattr(self.model, self.name).stored)


def sealed_columns() -> list[Column]:
    import portal.models  # noqa: F401 - every model declared, so every sealed attribute registered

    return [Column(model, name) for model, name in fieldcrypt.SEALED]


def _key_of(stored):
    # The data key's id in a sealed value (fieldcrypt: format, key id, ...); the positions written out, not
    # bound, so that PostgreSQL sees one expression in the SELECT and the GROUP BY.
    return func.substr(stored, literal_column("2"), literal_column("4"))


def status(session: Session) -> dict[str, dict[int, int]]:
    """For each sealed column, how many values each data key protects."""
    out = {}
    for column in sealed_columns():
        rows = session.execute(select(_key_of(column.stored), func.count()).where(column.stored.is_not(None))
                               .group_by(_key_of(column.stored))).all()
        out[column.label] = {int.from_bytes(bytes(key), "big"): n for key, n in rows}
    return out


def add_key(session: Session) -> int:
    """A new data key, which encrypts from now on in this process (and in the others within
    fieldcrypt.CURRENT_KEY_SECONDS of its commit). The caller commits it at once."""
    return fieldcrypt.current().add_data_key(session.connection())


def reseal_batch(session: Session, column: Column, key_id: int) -> int:
    """Seal again, under data key `key_id`, up to BATCH values of `column` that another key protects;
    how many. Each batch is its own transaction (the caller commits), so a run killed half-way loses
    nothing and the next run goes on where it stopped. A value is written back only where it is still the
    one read (a request that changed it meanwhile sealed its own under the newest key): the rotation never
    puts back an old value."""
    table, attribute = column.model.__table__, getattr(column.model, column.name)
    stored, (pk,) = table.c[attribute.stored], inspect(column.model).primary_key
    newest = key_id.to_bytes(4, "big")
    connection = session.connection()
    rows = session.execute(select(pk, table.c.row_key, stored).where(stored.is_not(None), _key_of(stored) != newest)
                           .order_by(pk).limit(BATCH)).all()
    for key, row_key, old in rows:
        value = attribute.open_stored(connection, row_key, old)
        session.execute(update(table).where(pk == key, stored == old)
                        .values(**attribute.columns_for(connection, row_key, value)))
    return len(rows)


def verify(session: Session, column: Column, *, batch: int = BATCH) -> tuple[int, list[tuple]]:
    """Open every value of `column`: how many open, and (primary key, why) of those that do not: tampered,
    moved from another row, or sealed under a key that is not available (at most 100 are named)."""
    table, attribute = column.model.__table__, getattr(column.model, column.name)
    stored, (pk,) = table.c[attribute.stored], inspect(column.model).primary_key
    connection, opened, failed, last = session.connection(), 0, [], None
    while rows := session.execute(select(pk, table.c.row_key, stored).where(
            stored.is_not(None), *([pk > last] if last is not None else [])).order_by(pk).limit(batch)).all():
        for key, row_key, value in rows:
            try:
                attribute.open_stored(connection, row_key, value)
                opened += 1
            except (fieldcrypt.Tampered, fieldcrypt.MissingKey) as err:
                if len(failed) < 100:
                    failed.append((key, str(err) or type(err).__name__))
        last = rows[-1][0]
    return opened, failed
