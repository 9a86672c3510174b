"""The development outbox of text messages (services/messages.py): phone and text sealed.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("row_key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("text_sealed", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_outbox_message_created_at", "outbox_message", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_created_at", table_name="outbox_message")
    op.drop_table("outbox_message")
