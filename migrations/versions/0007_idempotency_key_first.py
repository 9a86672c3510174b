"""The idempotency key's unique index leads with the key: (key, token_id), not (token_id, key).

The API's token lookup on PostgreSQL also reads the stored answer to the request's key, joined on the
token it finds (tokens.authenticate_and_read_claim). A cached generic plan made while the table was new
and never analysed looked the key up through the index by its second column alone, a scan of the whole
index on every request (bench/README.md). Led by the key, any plan finds it directly; lookups by both
columns are as fast as before.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_constraint("uq_idempotency_record_token_id_key", type_="unique")
        batch.create_unique_constraint("uq_idempotency_record_key_token_id", ["key", "token_id"])


def downgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch:
        batch.drop_constraint("uq_idempotency_record_key_token_id", type_="unique")
        batch.create_unique_constraint("uq_idempotency_record_token_id_key", ["token_id", "key"])
