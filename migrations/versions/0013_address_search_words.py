"""Address search understands people: the derived columns of every address are computed again.

address.search_text gains, after the whole address, the township, road and community as words of their own
and the pinyin initials and full pinyin of the road and community ("... 韶山中路 银海花园 SSZL SHAOSHANZHONGLU
YHHY YINHAIHUAYUAN"), and the keys read Chinese numerals, 门 and 之 ("十三栋" -> 13, "4门" -> 4, "88之1号" ->
88-1): services.addresses.fill_derived, services.address_norm. The trigram indexes of 0008 (PostgreSQL) and
0009 (SQLite, kept in step by its trigger) take the new text as it is written. Only rows whose derived values
change are written, in batches by id.

Downgrade leaves the values: they are derived, and the search of before finds addresses in them as it did.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 5000
COMPONENTS = ("division_name", "township", "road", "door_no", "community", "building", "unit", "room")
DERIVED = ("door_key", "building_key", "unit_key", "room_key", "search_text")


def upgrade() -> None:
    # The application's own function, so that the migrated rows are exactly what an import writes now.
    from portal.services.addresses import _derived

    bind = op.get_bind()
    address = sa.table("address", sa.column("id"), *(sa.column(c) for c in (*COMPONENTS, *DERIVED)))
    last = 0
    while True:
        rows = bind.execute(sa.select(address).where(address.c.id > last).order_by(address.c.id)
                            .limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        changes = []
        for row in rows:
            derived = _derived(*((getattr(row, c) or "") for c in COMPONENTS))
            if any(getattr(row, c) != derived[c] for c in DERIVED):
                changes.append({"row_id": row.id, **{c: derived[c] for c in DERIVED}})
        if changes:
            bind.execute(address.update().where(address.c.id == sa.bindparam("row_id"))
                         .values({c: sa.bindparam(c) for c in DERIVED}), changes)


def downgrade() -> None:
    pass  # derived values: see the docstring
