"""Four eyes on investigation holds (services/record_access.py): an officer's mark on their own full record or
full export is a request (record_access.hold_requested_at), and hides nothing until an auditor approves it
(hold_until). Holds running before this migration were made by the officer alone; they are kept as they are
(the auditors see them on /admin/holds), so that no investigation is disclosed by the upgrade.

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("record_access", sa.Column("hold_requested_at", UTCDateTime(), nullable=True))
    op.create_index("ix_record_access_hold_request", "record_access", ["hold_requested_at"])


def downgrade() -> None:
    # Requests not yet approved held nothing: without the column they are simply gone, the entries stay shown.
    op.drop_index("ix_record_access_hold_request", table_name="record_access")
    op.drop_column("record_access", "hold_requested_at")
