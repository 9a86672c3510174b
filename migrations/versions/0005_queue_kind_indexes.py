"""Queue indexes that include the kind, for the officer's kind filter.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submission_queue_beat_kind", "submission",
                    ["beat_id", "is_open", "kind", "submitted_at", "id"])
    op.create_index("ix_submission_queue_station_kind", "submission",
                    ["station_id", "is_open", "kind", "submitted_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_submission_queue_station_kind", table_name="submission")
    op.drop_index("ix_submission_queue_beat_kind", table_name="submission")
