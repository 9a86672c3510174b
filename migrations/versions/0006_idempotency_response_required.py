"""An idempotency record is written with its response, in the transaction of the work: both are required.

Records of the earlier two-step scheme that never got their response belonged to requests that died; they
are removed (the submission's form key still stops a duplicate of anything such a request filed).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_record WHERE status_code IS NULL OR response_body IS NULL")
    with op.batch_alter_table("idempotency_record") as batch:
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("response_body", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.alter_column("response_body", existing_type=sa.Text(), nullable=True)
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=True)
