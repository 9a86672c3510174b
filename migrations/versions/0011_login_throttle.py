"""Growing delays instead of a lock: an account's failures wait until throttled_until (was locked_until), the
time of the last failure tells recent attacks apart, and failures are counted per source address too.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # RENAME COLUMN is the same statement on both databases (SQLite 3.25+) and, unlike a batch copy of the
    # table, leaves the rows that refer to user_account alone.
    op.execute("ALTER TABLE user_account RENAME COLUMN locked_until TO throttled_until")
    op.add_column("user_account", sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_user_account_last_failed_at"), "user_account", ["last_failed_at"], unique=False)
    op.create_table(
        "login_source",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_login_source")),
    )
    op.create_index(op.f("ix_login_source_last_failed_at"), "login_source", ["last_failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_source_last_failed_at"), table_name="login_source")
    op.drop_table("login_source")
    op.drop_index(op.f("ix_user_account_last_failed_at"), table_name="user_account")
    op.drop_column("user_account", "last_failed_at")
    op.execute("ALTER TABLE user_account RENAME COLUMN throttled_until TO locked_until")
