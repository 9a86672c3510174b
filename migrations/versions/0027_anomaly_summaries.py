"""Summaries for the anomaly lists, kept by triggers (services/anomaly_summaries.py): per house the living count,
the youngest and eldest living birth year and the last report time; per person the living count; per address
the owners of standing houses there; and the indexes that make each list an index range (bench/README.md, "Anomaly lists").

Columns are added in place (no batch copy on SQLite: the search triggers of 0009 stay as they are), then every
row is back-filled by the triggers' own recount statements, then the triggers are created.

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime
from portal.services import anomaly_summaries

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

INDEXES = (  # (name, table, columns, partial condition or None), as the models declare them
    ("ix_house_beat_house", "house", ["beat_id", "id"], None),
    ("ix_house_anom_over_capacity", "house", ["beat_id", "id"], "anom_living_count > max_occupants"),
    ("ix_house_anom_eldest", "house", ["beat_id", "anom_eldest_birth_year"], None),
    ("ix_person_anom_two_houses", "person", ["id"], "anom_living_count > 1"),
    ("ix_address_level", "address", ["level"], None),
    ("ix_address_anom_claimed_twice", "address", ["id"], "anom_claimant_count > 1"),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect
    op.add_column("house", sa.Column("anom_living_count", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("house", sa.Column("anom_youngest_birth_year", sa.SmallInteger(), nullable=True))
    op.add_column("house", sa.Column("anom_eldest_birth_year", sa.SmallInteger(), nullable=True))
    op.add_column("house", sa.Column("anom_last_report_at", UTCDateTime(), nullable=True))
    op.add_column("person", sa.Column("anom_living_count", sa.Integer(), server_default=sa.text("0"),
                                      nullable=False))
    op.add_column("address", sa.Column("anom_claimant_count", sa.Integer(), server_default=sa.text("0"),
                                       nullable=False))
    for statement in anomaly_summaries.backfill(dialect):
        op.execute(statement)
    for statement in anomaly_summaries.create_triggers(dialect):
        op.execute(statement)
    for name, table, columns, where in INDEXES:
        condition = {} if where is None else {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}
        op.create_index(name, table, columns, **condition)
    if dialect.name == "postgresql":  # the new columns' statistics now, not when autovacuum comes by
        op.execute("ANALYZE house, person, address")


def downgrade() -> None:
    dialect = op.get_bind().dialect
    for name, table, _columns, _where in INDEXES:
        op.drop_index(name, table_name=table)
    for statement in anomaly_summaries.drop_triggers(dialect):
        op.execute(statement)
    op.drop_column("address", "anom_claimant_count")
    op.drop_column("person", "anom_living_count")
    for column in ("anom_last_report_at", "anom_eldest_birth_year", "anom_youngest_birth_year", "anom_living_count"):
        op.drop_column("house", column)
