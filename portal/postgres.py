"""PostgreSQL connection safety: no personal data in error messages, idle pooled connections tested."""
from __future__ import annotations

import time

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError


def primary_message_only(context) -> None:
    """Keep only PostgreSQL's primary message in a database error: its DETAIL line quotes the failing row
    (names, birth dates), which would reach a log. The detail stays readable in the exception's `diag`."""
    err = context.original_exception
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary or err.args == (primary,):
        return
    err.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:  # its message was built from the full text
        wrapped.args = (f"({type(err).__module__}.{type(err).__name__}) {primary}",)


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection idle for a while before use, and replace it if the server has gone: the
    "custom pessimistic ping" of SQLAlchemy's pooling docs (pool_pre_ping would cost a round trip each time)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn, record, _proxy) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or back in use within moments
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            if engine.dialect.is_disconnect(err, dbapi_conn, None):
                raise DisconnectionError() from err  # the pool discards it and connects again
            raise
