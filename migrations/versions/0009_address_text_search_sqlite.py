"""Address search on SQLite reads a trigram index of the address text (FTS5) instead of every address.

The counterpart of 0008 for SQLite: an external-content FTS5 table `address_text` with the trigram
tokenizer holds an index of address.search_text (the text itself stays in address); triggers keep it in
step with every insert, update and delete, whoever writes. A piece of the query of three characters or
more is looked up there (addresses._contains); shorter pieces, which no trigram can narrow, read the table.
Nothing changes on PostgreSQL.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATEMENTS = (
    "CREATE VIRTUAL TABLE address_text USING fts5(search_text, content='address', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER address_text_insert AFTER INSERT ON address BEGIN "
    "INSERT INTO address_text (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER address_text_delete AFTER DELETE ON address BEGIN "
    "INSERT INTO address_text (address_text, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER address_text_update AFTER UPDATE OF search_text ON address BEGIN "
    "INSERT INTO address_text (address_text, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO address_text (rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO address_text (address_text) VALUES ('rebuild')",  # the addresses already there
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("address_text_insert", "address_text_delete", "address_text_update"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE address_text")
