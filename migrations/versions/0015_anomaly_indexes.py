"""Indexes for the officers' anomaly lists: a house's reports by time, standing tenancies by lease end.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STANDING = "move_out_date IS NULL AND status IN ('pending', 'verified')"


def upgrade() -> None:
    # "Silent houses": has the house a report since a date, answered from the index alone.
    op.create_index("ix_submission_house_submitted", "submission", ["house_id", "submitted_at"])
    # "Leases ended": standing tenancies in lease-end order, so a page stops after 50 rows of the jurisdiction.
    op.create_index("ix_tenancy_lease_end_standing", "tenancy", ["lease_end_date", "id"],
                    sqlite_where=sa.text(STANDING), postgresql_where=sa.text(STANDING))


def downgrade() -> None:
    op.drop_index("ix_tenancy_lease_end_standing", table_name="tenancy")
    op.drop_index("ix_submission_house_submitted", table_name="submission")
