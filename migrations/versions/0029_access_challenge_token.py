"""The person's view of who read their record: the cookie names a challenge by a random token, kept as its hash
(access_challenge.token_hash), no longer by the row's sequential id.

Challenges made before have no token and can no longer be passed: they live for minutes (the purge deletes them
after a day), so a person at most asks for a new code.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("access_challenge", sa.Column("token_hash", sa.LargeBinary(length=32), nullable=True))
    op.create_index("ix_access_challenge_token", "access_challenge", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_access_challenge_token", table_name="access_challenge")
    op.drop_column("access_challenge", "token_hash")
