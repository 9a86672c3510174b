"""A unit's reports by kind: the anomaly lists link each unit to its registration, which was found among all of
the unit's reports (its hires and departures: a few dozen each) by reading every one of them from the table
(25 ms for a page of 50 units at 1,000,000 persons on PostgreSQL, bench/README.md). The index on unit_id alone
goes: the new one begins with it.

Revision ID: 0031
Revises: 0030
"""
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submission_unit_kind", "submission", ["unit_id", "kind"])
    op.drop_index("ix_submission_unit_id", table_name="submission")


def downgrade() -> None:
    op.create_index("ix_submission_unit_id", "submission", ["unit_id"])
    op.drop_index("ix_submission_unit_kind", table_name="submission")
