"""The queue of a bureau's own staff (every station): an index of open items in filing order.

Without it each page of 1,000 sorted every open item of the bureau (146 ms for 100,000 open items, so 7 s of
a 50,000-row export went on sorting: bench/README.md).

Revision ID: 0024
Revises: 0023
"""
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submission_queue_open", "submission", ["is_open", "submitted_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_submission_queue_open", table_name="submission")
