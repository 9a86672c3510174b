"""The bureau's own staff: an officer may be placed at a bureau (every station of it) instead of a station or beat.

The check that an officer has a jurisdiction now accepts a bureau too (services/jurisdiction.beat_ids_for).

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

NAME = "ck_user_account_officer_has_jurisdiction"
BEFORE = "role != 'officer' OR station_id IS NOT NULL OR beat_id IS NOT NULL"
AFTER = BEFORE + " OR bureau_id IS NOT NULL"


def _check(condition: str) -> None:
    # On SQLite the table is copied (batch mode): a check constraint cannot be altered in place.
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f(NAME), type_="check")
        batch.create_check_constraint(op.f(NAME), condition)


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    _check(BEFORE)
