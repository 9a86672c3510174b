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

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# Both are FunctionElements written by the compiler extension (its documented way to make a construct of one's
# own): their one argument is their cache key, and each dialect renders it as it needs.


class NotFromIndex(FunctionElement):
    """`column`, which SQLite is not to look up by an index (the statement walks another one)."""

    inherit_cache = True

    def __init__(self, column: ColumnElement) -> None:
        super().__init__(column)
        self.type = column.type  # compared as the column is (its bind processing, its operators)


@compiles(NotFromIndex)
def _as_is(element: NotFromIndex, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(NotFromIndex, "sqlite")
def _unary_plus(element: NotFromIndex, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def not_from_index(column: ColumnElement) -> NotFromIndex:
    return NotFromIndex(column)


class Rarely(FunctionElement):
    """`condition`, which only a few rows meet: SQLite's unlikely(condition). Left without a Boolean type, so
    that SQLAlchemy writes it as it is in a WHERE (a Boolean function would get "= 1" after it on SQLite, which
    hides the condition from the planner)."""

    inherit_cache = True


@compiles(Rarely)
def _condition_as_is(element: Rarely, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(Rarely, "sqlite")
def _unlikely(element: Rarely, compiler, **kw) -> str:
    return f"unlikely({compiler.process(element.clauses, **kw)})"


def rarely(condition: ColumnElement) -> Rarely:
    return Rarely(condition)
