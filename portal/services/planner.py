"""Hints to a database's query planner, for the few statements measured to need one (bench/README.md).

PostgreSQL plans from its statistics and needs none here; SQLite's planner, which has no costs for a LIMIT,
sometimes starts from an index that serves a WHERE term when walking another index in ORDER BY order would
stop after a page. SQLite's documented way to keep a term from using an index is the unary "+" before the
column (https://sqlite.org/optoverview.html, "Disqualifying WHERE clause terms using unary-+"); elsewhere
the column is written as it is, so that no other planner is misled.
"""
from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class NotFromIndex(ColumnElement):
    """`column`, which SQLite is not to look up by an index (the statement walks another one)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement) -> None:
        self.column = column
        self.type = column.type


@compiles(NotFromIndex)
def _as_is(element: NotFromIndex, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(NotFromIndex, "sqlite")
def _unary_plus(element: NotFromIndex, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)


def not_from_index(column: ColumnElement) -> NotFromIndex:
    return NotFromIndex(column)
