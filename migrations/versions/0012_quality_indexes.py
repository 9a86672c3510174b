"""Indexes for the quality rates: reports filed and decided by beat and time, first decisions, coverage.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_submission_beat_filed", "submission", ["beat_id", "submitted_at", "kind", "due_at"]),
    ("ix_submission_beat_decided", "submission", ["beat_id", "decided_at", "status", "supersedes_id", "submitted_at"]),
    ("ix_decision_submission_status_at", "decision", ["submission_id", "to_status", "at"]),
    ("ix_address_beat_level", "address", ["beat_id", "level", "id"]),
    ("ix_house_address_status", "house", ["address_id", "status"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
