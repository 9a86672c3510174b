"""What the police need of a person whose document says nothing of them (a passport, a Hong Kong, Macau or
Taiwan permit): nationality (ISO 3166-1 alpha-3), and for a passport the visa or residence permit and its end.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("nationality", sa.String(3), nullable=True))
        batch.add_column(sa.Column("visa_kind", sa.String(24), nullable=True))
        batch.add_column(sa.Column("visa_expiry", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("visa_expiry")
        batch.drop_column("visa_kind")
        batch.drop_column("nationality")
