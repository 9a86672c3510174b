"""The person's own view of who read their record (services/record_access.py): record_access, access_challenge.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_access",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("audit_event_id", sa.Integer(), sa.ForeignKey("audit_event.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("station_id", sa.Integer(), sa.ForeignKey("station.id"), nullable=True),
        sa.Column("bureau_id", sa.Integer(), sa.ForeignKey("bureau.id"), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("hold_until", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_record_access_person", "record_access", ["person_id", "at"])
    op.create_index("ix_record_access_event", "record_access", ["audit_event_id"])
    op.create_index("ix_record_access_hold", "record_access", ["hold_until"])
    op.create_table(
        "access_challenge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("id_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_access_challenge_document", "access_challenge", ["id_index", "created_at"])
    op.create_index("ix_access_challenge_source", "access_challenge", ["source", "created_at"])
    op.create_index("ix_access_challenge_created", "access_challenge", ["created_at"])


def downgrade() -> None:
    for name in ("ix_access_challenge_created", "ix_access_challenge_source", "ix_access_challenge_document"):
        op.drop_index(name, table_name="access_challenge")
    op.drop_table("access_challenge")
    for name in ("ix_record_access_hold", "ix_record_access_event", "ix_record_access_person"):
        op.drop_index(name, table_name="record_access")
    op.drop_table("record_access")
