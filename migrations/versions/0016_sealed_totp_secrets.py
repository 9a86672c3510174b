"""Data keys (fieldcrypt.py) and the staff's TOTP secrets encrypted under them, bound to their row.

The first data key is made here, wrapped under the key file's current master key (PORTAL_KEYS_FILE, or
instance/keys.json in development): run this migration with the key file the portal will use.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 500


def _users(connection, columns, last: int):
    return connection.execute(sa.text(f"SELECT id, {columns} FROM user_account WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                              {"last": last}).all()


def upgrade() -> None:
    from portal import fieldcrypt

    op.create_table(
        "data_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_key")),
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("row_key", sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column("totp_secret_sealed", sa.LargeBinary(), nullable=True))

    connection, keyring = op.get_bind(), fieldcrypt.current()
    keyring.add_data_key(connection)
    last = 0
    while rows := _users(connection, "totp_secret", last):
        for user_id, secret in rows:
            row_key = fieldcrypt.new_row_key()
            sealed = None if secret is None else keyring.seal(
                connection, secret, fieldcrypt.context("user_account", "totp_secret", row_key))
            connection.execute(sa.text("UPDATE user_account SET row_key = :rk, totp_secret_sealed = :s WHERE id = :id"),
                               {"rk": row_key, "s": sealed, "id": user_id})
        last = rows[-1][0]
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("row_key", existing_type=sa.LargeBinary(length=16), nullable=False)
        batch_op.drop_column("totp_secret")


def downgrade() -> None:
    from portal import fieldcrypt

    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    connection, keyring = op.get_bind(), fieldcrypt.current()
    last = 0
    while rows := _users(connection, "row_key, totp_secret_sealed", last):
        for user_id, row_key, sealed in rows:
            if sealed is not None:
                secret = keyring.open(connection, sealed, fieldcrypt.context("user_account", "totp_secret", row_key))
                connection.execute(sa.text("UPDATE user_account SET totp_secret = :s WHERE id = :id"),
                                   {"s": secret, "id": user_id})
        last = rows[-1][0]
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("totp_secret_sealed")
        batch_op.drop_column("row_key")
    op.drop_table("data_key")
