"""The address clerk's upkeep: an address's status (retired, merged) and what replaced it, the pairs a clerk
said are not duplicates, a clerk's bureau, and the index of an address's history in the audit log.

Columns are added in place (no batch copy of `address`: SQLite's search triggers of 0009 stay as they are).

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

# The triggers of migration 0009, as it made them.
SEARCH_TRIGGERS = (
    "CREATE TRIGGER address_text_insert AFTER INSERT ON address BEGIN "
    "INSERT INTO address_text (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER address_text_delete AFTER DELETE ON address BEGIN "
    "INSERT INTO address_text (address_text, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER address_text_update AFTER UPDATE OF search_text ON address BEGIN "
    "INSERT INTO address_text (address_text, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO address_text (rowid, search_text) VALUES (new.id, new.search_text); END",
)

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str, name: str) -> None:
    """A nullable column referring to another table's id, added in place on both databases."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ["id"])


def upgrade() -> None:
    op.add_column("address", sa.Column("status", sa.Enum("active", "retired", "merged", name="addressstatus",
                                                         native_enum=False, length=24),
                                       nullable=False, server_default="active"))
    _add_reference("address", "replaced_by_id", "address", "fk_address_replaced_by_id_address")
    op.add_column("address", sa.Column("retired_at", UTCDateTime(), nullable=True))
    op.create_index("ix_address_replaced_by_id", "address", ["replaced_by_id"])
    _add_reference("user_account", "bureau_id", "bureau", "fk_user_account_bureau_id_bureau")
    op.create_index("ix_user_account_bureau_id", "user_account", ["bureau_id"])
    op.create_table(
        "address_pair_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["first_id"], ["address.id"], name="fk_address_pair_dismissal_first_id_address"),
        sa.ForeignKeyConstraint(["second_id"], ["address.id"], name="fk_address_pair_dismissal_second_id_address"),
        sa.ForeignKeyConstraint(["by_id"], ["user_account.id"], name="fk_address_pair_dismissal_by_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_address_pair_dismissal"),
        sa.UniqueConstraint("first_id", "second_id", name="uq_address_pair_dismissal_first_id_second_id"),
    )
    op.create_index("ix_address_pair_dismissal_second_id", "address_pair_dismissal", ["second_id"])
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_object", table_name="audit_event")
    op.drop_index("ix_address_pair_dismissal_second_id", table_name="address_pair_dismissal")
    op.drop_table("address_pair_dismissal")
    op.drop_index("ix_user_account_bureau_id", table_name="user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("bureau_id")
    op.drop_index("ix_address_replaced_by_id", table_name="address")
    if op.get_bind().dialect.name != "sqlite":
        for column in ("retired_at", "replaced_by_id", "status"):
            op.drop_column("address", column)
        return
    # SQLite drops a column in a foreign key only by copying the table, which takes 0009's search triggers
    # with it: they are made again, and the index rebuilt, after the copy.
    with op.batch_alter_table("address") as batch:
        batch.drop_column("retired_at")
        batch.drop_column("replaced_by_id")
        batch.drop_column("status")
    for statement in SEARCH_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO address_text (address_text) VALUES ('rebuild')")
