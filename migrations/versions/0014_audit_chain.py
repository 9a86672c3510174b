"""The audit chain: a chain value on each audit row (services/audit_chain.py), given to the rows there are,
in id order.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    from portal.models import AuditEvent
    from portal.services import audit_chain

    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
    table, key, connection = AuditEvent.__table__, audit_chain.current_key(), op.get_bind()
    columns = [table.c[f] for f in audit_chain.FIELDS]
    last, previous = -1, audit_chain.GENESIS
    while True:
        rows = connection.execute(sa.select(*columns).where(table.c.id > last).order_by(table.c.id)
                                  .limit(BATCH)).mappings().all()
        for row in rows:
            previous = audit_chain.link(key, previous, row)
            connection.execute(sa.update(table).where(table.c.id == row["id"]).values(chain=previous))
        if len(rows) < BATCH:
            break
        last = rows[-1]["id"]
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.alter_column("chain", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("chain")
