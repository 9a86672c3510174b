"""Declared details belong to the declaration; one standing tenancy or employment per person and place.

- tenancy and employment get declared_name and declared_phone: the name and phone as their reporter
  declared them (filled from the person for the rows that exist). The person's own details are the
  register's, changed only when an officer confirms a report; person.details_submission_id says which.
- Partial unique indexes allow at most one standing (pending or verified, not ended) tenancy of a person
  in a house and employment of a person at a unit. Duplicates that a race made before this migration are
  kept as history: all but the first of each group become superseded.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STANDING = "IN ('pending', 'verified')"
RECORDS = (  # table, the place it is at, the column that ends it
    ("tenancy", "house_id", "move_out_date"),
    ("employment", "unit_id", "departure_date"),
)


def upgrade() -> None:
    for table, place, end in RECORDS:
        op.add_column(table, sa.Column("declared_name", sa.String(60), nullable=True))
        op.add_column(table, sa.Column("declared_phone", sa.String(20), nullable=True))
        op.execute(f"UPDATE {table} SET declared_name = (SELECT name FROM person WHERE person.id = "  # noqa: S608
                   f"{table}.person_id), declared_phone = (SELECT phone FROM person WHERE person.id = "
                   f"{table}.person_id)")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("declared_name", existing_type=sa.String(60), nullable=False)
        op.execute(f"UPDATE {table} SET status = 'superseded' WHERE {end} IS NULL AND status {STANDING} "  # noqa: S608
                   f"AND id > (SELECT MIN(first.id) FROM {table} first WHERE first.person_id = "
                   f"{table}.person_id AND first.{place} = {table}.{place} AND first.{end} IS NULL "
                   f"AND first.status {STANDING})")
        where = sa.text(f"{end} IS NULL AND status {STANDING}")
        op.create_index(f"uq_{table}_person_{place.removesuffix('_id')}_active", table, ["person_id", place],
                        unique=True, sqlite_where=where, postgresql_where=where)
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("details_submission_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_person_details_submission_id_submission", "submission",
                                 ["details_submission_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint("fk_person_details_submission_id_submission", type_="foreignkey")
        batch.drop_column("details_submission_id")
    for table, place, _end in RECORDS:
        op.drop_index(f"uq_{table}_person_{place.removesuffix('_id')}_active", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("declared_phone")
            batch.drop_column("declared_name")
