"""Indexes for the officers' register search: a person by name, a person by phone.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_person_name", "person", ["name"])
    op.create_index("ix_person_phone", "person", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_person_phone", table_name="person")
    op.drop_index("ix_person_name", table_name="person")
