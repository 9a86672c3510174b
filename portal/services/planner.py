"""Hints to SQLite's query planner, for the few statements measured to need one (bench/README.md).

PostgreSQL plans from its statistics and needs none here. SQLite's statistics (sqlite_stat1) hold only the
average rows per value of an index, and its planner has no costs for a LIMIT, so it sometimes starts from the
wrong index: one that serves a WHERE term when walking another in ORDER BY order would stop after a page, or
none at all for a value that only a few rows hold (level = 'building' among 600,000 rooms averages 300,000).
Its documented remedies (https://sqlite.org/optoverview.html): a unary "+" before a column keeps its term
from using an index; unlikely(X) says that X is rarely true. Elsewhere the hinted term is written as it is,
so that no other planner is misled.
"""
from __future__ import annotations

from sqlalchemy import Boolean
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


class Rarely(ColumnElement):
    """`condition`, which only a few rows meet: SQLite's unlikely(condition)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition itself: SQLAlchemy is not to write "= 1" after it on SQLite
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, condition: ColumnElement) -> None:
        self.condition = condition


@compiles(Rarely)
def _condition_as_is(element: Rarely, compiler, **kw) -> str:
    return compiler.process(element.condition, **kw)


@compiles(Rarely, "sqlite")
def _unlikely(element: Rarely, compiler, **kw) -> str:
    return f"unlikely({compiler.process(element.condition, **kw)})"


def rarely(condition: ColumnElement) -> Rarely:
    return Rarely(condition)
