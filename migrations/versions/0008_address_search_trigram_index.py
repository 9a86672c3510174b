"""Address search on PostgreSQL reads a trigram index (pg_trgm) instead of every address.

A piece of the query of three characters or more ("车站路", "湘江雅居") is matched with LIKE '%piece%'
against address.search_text; without an index that reads all addresses of the city (about 90 ms for
600,000 on the bench machine), with this GIN index of the text's trigrams it reads the few that can match
(bench/README.md, "Address search"). pg_trgm ships with PostgreSQL and is a trusted extension: the role that
migrates needs the CREATE privilege on the database, not superuser. It is installed in the public schema so
that every schema of the database (the test suite gives each run its own) finds the same operator class.
SQLite keeps reading the table: nothing changes there.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.create_index("ix_address_search_text_trgm", "address", ["search_text"], postgresql_using="gin",
                    postgresql_ops={"search_text": "public.gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_address_search_text_trgm", table_name="address")  # the extension stays: others may use it
