"""Which data key protects how many values, and re-sealing values under the newest key (`flask keys`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, inspect, literal_column, select
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
    nothing and the next run goes on where it stopped."""
    stored = column.stored
    newest = key_id.to_bytes(4, "big")
    objects = session.scalars(select(column.model).where(stored.is_not(None), _key_of(stored) != newest)
                              .order_by(*inspect(column.model).primary_key).limit(BATCH)).all()
    for obj in objects:
        setattr(obj, column.name, getattr(obj, column.name))  # opened under its key, sealed under the newest
    session.flush()
    return len(objects)
