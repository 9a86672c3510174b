"""Engine and session handling, including the SQLite settings that keep data safe."""
from __future__ import annotations

import contextvars
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Table, bindparam, create_engine, event, insert, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from portal.files import private_file

# True while the current unit of work intends to write: SQLite then starts the transaction with
# BEGIN IMMEDIATE so that a writer waits for the lock up front instead of failing half-way.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
# How long such a writer waits for SQLite's lock, when not the engine's busy timeout (a CLI command waits
# longer than a request: nobody is looking at a page).
lock_wait: contextvars.ContextVar[float | None] = contextvars.ContextVar("lock_wait", default=None)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual short form."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# A pooled PostgreSQL connection idle for longer than this is tested before use (see _ping_after_idle).
IDLE_PING_SECONDS = 5.0


def make_engine(url: str, busy_timeout_ms: int = 5000, *, idle_ping_seconds: float = IDLE_PING_SECONDS,
                **kwargs) -> Engine:
    url = normalise_url(url)
    # A statement's parameters are personal data (ID numbers, names, birth dates): never in an error message,
    # so never in a log or a traceback.
    kwargs.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _ping_after_idle(engine, idle_ping_seconds)
        event.listen(engine, "handle_error", _primary_message_only)
        return engine

    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)
    _private_database_files(engine)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        # Let SQLAlchemy's begin event below issue BEGIN itself (pysqlite's own is unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Deleted and overwritten content is zeroed, not left in free pages: personal data that was replaced
        # (a plaintext value sealed by a migration, a purged record) is gone from the file.
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if write_intent.get():
            _begin_immediate(conn.connection.driver_connection, lock_wait.get() or busy_timeout_ms / 1000,
                             busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _private_database_files(engine: Engine) -> None:
    """The SQLite file made 0600 before SQLite makes it (with the umask's mode, 0644 as a rule), and tightened
    if it was there already: SQLite gives its -wal and -shm files the mode of the database file."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite will say that it cannot open the file, at the first connection as before
    private_file(path)
    for extra in ("-wal", "-shm"):
        companion = path.with_name(path.name + extra)
        if companion.exists():
            private_file(companion)


def _primary_message_only(context) -> None:
    """Keep only PostgreSQL's primary message in a database error: its DETAIL line quotes the row or key
    that failed ("Failing row contains (..., name, birth date, ...)"), which would reach a log or traceback.
    The detail stays readable in the exception's `diag`."""
    err = context.original_exception
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary or err.args == (primary,):
        return
    err.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:  # its message was built from the full text; built again from the primary one
        wrapped.args = (f"({type(err).__module__}.{type(err).__name__}) {primary}",)


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use when it has been idle a while, and replace it if the server has
    gone (a restart, a dropped idle connection).

    SQLAlchemy's pool_pre_ping tests at every check-out: a round trip per request that a busy server's
    connections, in use every few milliseconds, do not need. This is its pessimistic check, made only after
    idle_seconds (the "custom pessimistic ping" of SQLAlchemy's pooling docs)."""

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


def _begin_immediate(dbapi_conn, timeout: float, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in steps of at most a quarter of a millisecond.

    SQLite's own busy handler sleeps 1, 2, 5, 10, ... 25 ms between attempts, so a writer queued behind a
    transaction of 1-2 ms usually sleeps far longer than the lock stays taken; under load most of the time
    goes to sleeping. Here the wait polls instead (an attempt on a taken lock fails at once and costs a
    few microseconds), for at most the busy timeout, after which it fails as SQLite would. Steps of 1 ms
    still left the lock free for half a millisecond at each hand-over: API move-ins went from 0.053 to
    0.060-0.068 of the hello-world rate with 0.25 ms (bench/README.md)."""
    deadline = time.monotonic() + timeout
    delay = 0.0001
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                if not is_lock_wait(err) or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, err) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.00025)
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


class Database:
    """Holds the engine and a request-scoped session; the test suite rebinds it to one connection."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(lambda _exc: self.session.remove())

    @property
    def is_sqlite(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "sqlite"


@contextmanager
def writing(wait: float | None = None) -> Iterator[None]:
    """Mark the enclosed unit of work as a writer (BEGIN IMMEDIATE on SQLite), waiting up to `wait` seconds
    for the lock (default: the busy timeout)."""
    token, wait_token = write_intent.set(True), lock_wait.set(wait)
    try:
        yield
    finally:
        lock_wait.reset(wait_token)
        write_intent.reset(token)


@contextmanager
def reading(session: Session) -> Iterator[None]:
    """Run the enclosed reads (a long check, such as a staff list parsed and checked against the roster) in a
    transaction of their own that takes no write lock, so that on SQLite no other writer waits for them.
    What the request did before ends first; the writes after the block begin a transaction of their own
    (BEGIN IMMEDIATE in a POST), and must check again inside it whatever they rely on."""
    session.commit()
    token = write_intent.set(False)
    try:
        yield
    finally:
        write_intent.reset(token)
    session.commit()  # nothing was written: this ends the read transaction before the writes begin


def is_lock_wait(err: Exception) -> bool:
    """A write that waited for a lock longer than allowed (SQLite busy timeout, PostgreSQL lock_timeout):
    the request may simply be sent again."""
    reason = str(getattr(err, "orig", err)).lower()
    return any(word in reason for word in ("database is locked", "busy", "lock timeout"))


_inserts: dict = {}
_columns_of: dict = {}


def _columns(mapper) -> list:
    """(attribute key, Column) of each mapped column, worked out once per mapper."""
    columns = _columns_of.get(mapper)
    if columns is None:
        columns = _columns_of[mapper] = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]
    return columns


def _python_default(column):
    """The value a column gets when an INSERT leaves it out, if Python decides it (else `_FROM_DATABASE`)."""
    default = column.default
    if column.primary_key or column.server_default is not None or (default is not None and default.is_sequence):
        return _FROM_DATABASE
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


_FROM_DATABASE = object()


def insert_persistent(session: Session, obj, children: Children | None = None) -> list:
    """INSERT a new ORM object with one Core statement and put it in the session as if it had been loaded:
    no unit-of-work bookkeeping. The columns the object left unset get their Python defaults here, sent
    with the INSERT, and only what the database decides (the primary key) comes back with RETURNING.

    `children` are rows of another table that point to the new one (a move-in's tenancies); they are
    inserted with it and their ids returned in the order given. On PostgreSQL the object and its children
    are one statement (the object's INSERT a data-modifying WITH clause of theirs), on SQLite two: a
    round trip and a statement's work saved on every report (bench/README.md).

    For the hot inserts of a report, where the unit of work cost more than the database.
    The object must carry no relationship values, only columns."""
    mapper = sa_inspect(type(obj))
    state = sa_inspect(obj)
    values, returned = {}, []
    for key, column in _columns(mapper):
        value = state.dict[key] if key in state.dict else _python_default(column)
        if value is _FROM_DATABASE:
            returned.append((key, column))
        else:
            state.dict[key] = values[column.key] = value
    connection = session.connection()
    rows = children.rows if children else []
    only_the_key = [c for _, c in returned] == list(mapper.local_table.primary_key)
    if rows and only_the_key and connection.dialect.name == "postgresql":
        (key, _pk), = returned
        state.dict[key], child_ids = _insert_together(connection, mapper.local_table, values, children)
    else:
        statement_key = (mapper, frozenset(values))
        statement = _inserts.get(statement_key)
        if statement is None:
            statement = _inserts[statement_key] = insert(mapper.local_table).returning(*(c for _, c in returned))
        row = connection.execute(statement, values).one()._mapping
        state.dict.update((key, row[column]) for key, column in returned)
        parent_id = state.dict[mapper.get_property_by_column(mapper.primary_key[0]).key]
        child_ids = list(connection.execute(_child_insert(children.table), [
            {**child, children.parent_key: parent_id} for child in rows]).scalars()) if rows else []
    make_transient_to_detached(obj)
    session.add(obj)
    session.info.setdefault(_INSERTED, []).append(obj)
    return child_ids


@dataclass(frozen=True)
class Children:
    """Rows of `table` (column values, all rows with the same columns) whose `parent_key` column is to hold
    the id of the object inserted with them."""

    table: Table
    parent_key: str
    rows: list[dict]


_child_inserts: dict = {}
_parent_with_children: dict = {}


def _child_insert(table: Table):
    statement = _child_inserts.get(table)
    if statement is None:
        statement = _child_inserts[table] = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return statement


def _insert_together(connection, parent: Table, values: dict, children: Children) -> tuple[int, list[int]]:
    """The parent row and its children in one statement (PostgreSQL): the parent's id, the children's ids."""
    params = {f"p_{name}": value for name, value in values.items()}
    params.update((f"c{n}_{name}", value) for n, row in enumerate(children.rows) for name, value in row.items())
    rows = connection.execute(_with_children(parent, frozenset(values), children), params).all()
    return rows[0][1], sorted(row[0] for row in rows)  # in the order of the rows: see _with_children


def _with_children(parent: Table, keys: frozenset, children: Children):
    """WITH p AS (INSERT INTO parent ... RETURNING id) INSERT INTO child (parent_key, ...) SELECT p.id, ...
    FROM p UNION ALL SELECT p.id, ... RETURNING child.id, child.parent_key; built once per shape.

    Each child row is a SELECT of its own, in order: PostgreSQL appends UNION ALL branches in order and
    draws the ids from the sequence in that order, so sorted ids are in the order of the rows."""
    table, child_keys = children.table, tuple(children.rows[0])
    shape = (parent, keys, table, children.parent_key, child_keys, len(children.rows))
    statement = _parent_with_children.get(shape)
    if statement is None:
        (pk,) = parent.primary_key
        made = insert(parent).values({k: bindparam(f"p_{k}", type_=parent.c[k].type) for k in keys}).returning(pk)
        made = made.cte("parent")
        rows = [select(made.c[pk.key], *(bindparam(f"c{n}_{k}", type_=table.c[k].type) for k in child_keys))
                for n in range(len(children.rows))]
        statement = (insert(table).from_select([children.parent_key, *child_keys], union_all(*rows))
                     .returning(table.c.id, table.c[children.parent_key]).add_cte(made))
        _parent_with_children[shape] = statement
    return statement


def as_loaded(session: Session, model, row):
    """The ORM object of a row read with a Core statement (its mapping keyed by Column), as if the ORM had
    loaded it: the one already in the session, or a new one put there without another query. Columns the
    row leaves out are not loaded: read, they are fetched then, as a deferred column is."""
    mapper = sa_inspect(model)
    key = mapper.identity_key_from_primary_key([row[c] for c in mapper.primary_key])
    existing = session.identity_map.get(key)
    if existing is not None:  # what it has not loaded (or has expired) is taken from the row
        loaded = sa_inspect(existing).dict
        for name, column in _columns(mapper):
            if name not in loaded and column in row:
                set_committed_value(existing, name, row[column])
        return existing
    obj = mapper.class_manager.new_instance()
    _attach(session, mapper, obj, row)
    return obj


def _attach(session: Session, mapper, obj, row) -> None:
    """Fill the object's state directly (no attribute events: nothing here is a change), then make it a
    detached object with its identity and put it in the session."""
    sa_inspect(obj).dict.update((key, row[column]) for key, column in _columns(mapper) if column in row)
    make_transient_to_detached(obj)
    session.add(obj)


# The session takes such an object for one loaded from the database, so a rollback would only expire it:
# it is removed from the session instead, as an object the unit of work had inserted would be.
_INSERTED = "inserted_persistent"


# What a savepoint's rollback takes back: the rows queued and objects inserted since it began. The
# lengths of both lists when each savepoint began, by savepoint.
_SAVEPOINT_MARKS = "savepoint_marks"


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINT_MARKS, {})
        marks[transaction] = (len(session.info.get(_AT_COMMIT, ())), len(session.info.get(_INSERTED, ())))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_inserts(session: Session, previous) -> None:
    queued_before, inserted_before = 0, 0
    if previous.nested:  # a savepoint: what was there before it stays
        queued_before, inserted_before = session.info.get(_SAVEPOINT_MARKS, {}).get(previous, (0, 0))
    del session.info.get(_AT_COMMIT, [])[queued_before:]
    inserted = session.info.get(_INSERTED, [])
    for obj in inserted[inserted_before:]:
        if obj in session:
            session.expunge(obj)
    del inserted[inserted_before:]


@event.listens_for(Session, "after_commit")
def _keep_committed_inserts(session: Session) -> None:
    session.info.pop(_INSERTED, None)


# --- rows written with the commit --------------------------------------------------------------------

_AT_COMMIT = "insert_at_commit"


def insert_at_commit(session: Session, table: Table, values: dict) -> None:
    """Insert a row that nothing reads back in its own transaction (an audit row, a stored API response)
    when that transaction commits, together with the other such rows: on PostgreSQL all of them in one
    statement, each INSERT a data-modifying WITH clause of the last (PostgreSQL runs every one of them,
    whether or not the last reads it); on SQLite one after the other. One statement instead of one per
    row: each saves a round trip and the statement's work in both processes (bench/README.md).

    The row is written, or fails, with the commit: a constraint it breaks is raised by session.commit().
    It belongs to the transaction that is open (or begun) now, and goes if that one is rolled back."""
    if isinstance(session, scoped_session):
        session = session()  # the request's Session, whose events write the rows
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_AT_COMMIT, []).append((table, values))


# By table, what completes its queued rows just before they are written, with the connection that writes
# them: the audit chain's ids and chain values (services/audit_chain.py).
_stamps: dict = {}


def stamp_at_commit(table: Table, stamp) -> None:
    """Call stamp(connection, rows) on the rows of `table` queued by insert_at_commit, when they are written
    and before they are: the values it sets (or changes) are written."""
    _stamps[table] = stamp


@event.listens_for(Session, "before_commit")
def _insert_queued_rows(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: the rows wait for the outer transaction's commit
    queued = session.info.pop(_AT_COMMIT, None)
    if not queued:
        return
    with writing():
        connection = session.connection()
        for table, stamp in _stamps.items():
            rows = [values for t, values in queued if t is table]
            if rows:
                stamp(connection, rows)
        if connection.dialect.name == "postgresql" and len(queued) > 1:
            shape = tuple((table, tuple(values)) for table, values in queued)
            params = {f"q{n}_{key}": value for n, (_t, values) in enumerate(queued) for key, value in values.items()}
            connection.execute(_combined_insert(shape), params)
        else:
            for table, values in queued:
                connection.execute(_single_insert(table), values)


@event.listens_for(Session, "after_transaction_end")
def _forget_queued_rows(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AT_COMMIT, None)  # written by the commit, or rolled back with the rest
        session.info.pop(_SAVEPOINT_MARKS, None)  # kept until here: a savepoint ends before its rollback event


_single_inserts: dict = {}
_combined_inserts: dict = {}


def _single_insert(table: Table):
    statement = _single_inserts.get(table)
    if statement is None:
        statement = _single_inserts[table] = insert(table).inline()  # inline(): no id read back
    return statement


def _combined_insert(shape: tuple):
    """WITH q0 AS (INSERT ...), q1 AS (INSERT ...) INSERT ...: one INSERT per (table, columns) of `shape`,
    its parameters named q<n>_<column>; built once per shape."""
    statement = _combined_inserts.get(shape)
    if statement is None:
        parts = [insert(table).values({key: bindparam(f"q{n}_{key}", type_=table.c[key].type) for key in keys})
                 for n, (table, keys) in enumerate(shape)]
        statement = parts[-1].add_cte(*(part.cte(f"q{n}") for n, part in enumerate(parts[:-1])))
        _combined_inserts[shape] = statement
    return statement
