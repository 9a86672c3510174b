"""Engine and session handling, including the SQLite settings that keep data safe."""
from __future__ import annotations

import contextvars
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from portal import postgres
from portal.files import private_file

# True while the unit of work intends to write: SQLite then begins with BEGIN IMMEDIATE, so that a writer
# waits for the lock up front instead of failing half-way; lock_wait: how long (a CLI waits longer).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
lock_wait: contextvars.ContextVar[float | None] = contextvars.ContextVar("lock_wait", default=None)
IDLE_PING_SECONDS = 5.0  # a pooled PostgreSQL connection idle for longer is tested before use


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual short form."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, busy_timeout_ms: int = 5000, *, idle_ping_seconds: float = IDLE_PING_SECONDS,
                **kwargs) -> Engine:
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)  # parameters are personal data: never in a log
    if not url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        postgres.ping_after_idle(engine, idle_ping_seconds)
        event.listen(engine, "handle_error", postgres.primary_message_only)
        return engine

    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)
    _private_database_files(engine)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # the begin event below issues BEGIN (pysqlite's is unreliable)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")  # replaced or deleted personal data zeroed, not left in free pages
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
    """The SQLite file made 0600 before SQLite makes it, or tightened: its -wal and -shm files get its mode."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite will say that it cannot open the file
    private_file(path)
    for companion in (path.with_name(path.name + extra) for extra in ("-wal", "-shm")):
        if companion.exists():
            private_file(companion)


def _begin_immediate(dbapi_conn, timeout: float, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, polling for the write lock every quarter millisecond at most, for up to the busy
    timeout: SQLite's own busy handler sleeps 1-25 ms, far longer than a 1-2 ms transaction holds it."""
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
    """Mark the enclosed unit of work as a writer (BEGIN IMMEDIATE on SQLite), waiting up to `wait` s."""
    token, wait_token = write_intent.set(True), lock_wait.set(wait)
    try:
        yield
    finally:
        lock_wait.reset(wait_token)
        write_intent.reset(token)


@contextmanager
def reading(session: Session) -> Iterator[None]:
    """Long reads (a staff list checked) in a read transaction of their own, keeping no SQLite writer waiting:
    the owner ends its transaction first; nothing is written inside; the writes after it check again."""
    if (session() if isinstance(session, scoped_session) else session).in_transaction():
        raise RuntimeError("reading() began inside an open transaction: commit or roll it back first")
    token = write_intent.set(False)
    try:
        yield
    finally:
        write_intent.reset(token)
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("reading() is for reads: the block changed objects")
    session.commit()  # ends the read, which wrote nothing (a rollback would expire every object)


def is_lock_wait(err: Exception) -> bool:  # waited longer than the busy timeout or lock_timeout allows
    reason = str(getattr(err, "orig", err)).lower()
    return any(word in reason for word in ("database is locked", "busy", "lock timeout"))
