"""Personal data encrypted in the database (SECURITY.md "Data protection"): authenticated encryption of a
value bound to its table, column and row, under data keys that a master key outside the database wraps.

* The key file (PORTAL_KEYS_FILE; in development generated once into instance/keys.json, 0600) holds the
  master keys by id, which one wraps new data keys, the algorithm, and the blind-index key. It never enters
  the database: a copy of the database without it is ciphertext. Losing it loses the data (README).
* Data keys are rows of `data_key`, each wrapped (encrypted) under a master key. The newest one encrypts;
  every one that a value names decrypts. `flask keys rotate` adds one (services/keys.py).
* A sealed value is bytes: format (1 byte), the data key's id (4 bytes), the nonce (12), the ciphertext and
  its tag (16). Its associated data is "table.column" and the row's random `row_key`, so a ciphertext copied
  into another row or column fails authentication instead of decrypting.
* SM4-GCM (GB/T 32907, as GB/T 39786 expects) by default, AES-256-GCM by choice, both through the
  `cryptography` package; the blind index is HMAC-SM3 (HMAC-SHA-256 with AES).
"""
from __future__ import annotations

import base64
import functools
import json
import os
import secrets
import struct
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, func, insert, select

from portal.config import ConfigError
from portal.files import private_file

ALGORITHMS = {"SM4-GCM": (algorithms.SM4, 16, hashes.SM3), "AES-256-GCM": (algorithms.AES, 32, hashes.SHA256)}
DEFAULT_ALGORITHM = "SM4-GCM"
FORMAT = 1
NONCE_BYTES, TAG_BYTES = 12, 16
_HEADER = struct.Struct(">BI")  # format, data key id
ROW_KEY_BYTES = 16
# How long a process keeps using the newest data key it knows before asking the database again, so that a
# key added by `flask keys rotate` is taken up by every process within this time.
CURRENT_KEY_SECONDS = 30.0


class KeyFileError(ConfigError):
    """The key file is missing, unreadable or malformed (a start-up error: the message says which)."""


class MissingKey(Exception):
    """A value names a key this key ring does not hold: never a wrong plaintext, this error."""

    def __init__(self, what: str, key_id) -> None:
        super().__init__(f"{what} {key_id} is not available: the value cannot be decrypted")
        self.key_id = key_id


class Tampered(Exception):
    """A sealed value failed authentication: changed, truncated, or copied from another row or column."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as err:
        raise KeyFileError(f"{what} is not base64") from err


@functools.lru_cache(maxsize=64)
def _aesgcm(key: bytes) -> AESGCM:
    return AESGCM(key)


def encrypt(algorithm: str, key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """nonce + ciphertext + tag under `key`, with `associated` authenticated but not encrypted. AES-256-GCM
    goes through `AESGCM`, the package's one-call AEAD (the same bytes, five times faster per value);
    SM4-GCM has no such class there and goes through `Cipher`."""
    nonce = os.urandom(NONCE_BYTES)
    if algorithm == "AES-256-GCM":
        return nonce + _aesgcm(key).encrypt(nonce, plaintext, associated)
    cipher_class = ALGORITHMS[algorithm][0]
    encryptor = Cipher(cipher_class(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(associated)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + body + encryptor.tag


def decrypt(algorithm: str, key: bytes, sealed: bytes, associated: bytes) -> bytes:
    cipher_class = ALGORITHMS[algorithm][0]
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise Tampered("sealed value too short")
    if algorithm == "AES-256-GCM":
        try:
            return _aesgcm(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
        except InvalidTag:
            raise Tampered("authentication failed") from None
    nonce, body, tag = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(cipher_class(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(associated)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise Tampered("authentication failed") from None


@dataclass(frozen=True)
class KeyFile:
    """What the key file holds."""

    algorithm: str
    masters: dict[str, bytes]
    current_master: str
    index_key: bytes

    @classmethod
    def generate(cls, algorithm: str = DEFAULT_ALGORITHM) -> KeyFile:
        size = ALGORITHMS[algorithm][1]
        return cls(algorithm, {"1": secrets.token_bytes(size)}, "1", secrets.token_bytes(32))

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise KeyFileError(f"key file {path} cannot be read: {err.strerror}") from None
        except ValueError:
            raise KeyFileError(f"key file {path} is not JSON") from None
        try:
            algorithm = data["algorithm"]
            masters = {str(k): _unb64(v, f"master key {k}") for k, v in data["master_keys"].items()}
            keys = cls(algorithm, masters, str(data["current_master"]), _unb64(data["index_key"], "index_key"))
        except (KeyError, TypeError, AttributeError) as err:
            raise KeyFileError(f"key file {path} lacks {err}") from None
        keys.check(path)
        return keys

    def check(self, path) -> None:
        if self.algorithm not in ALGORITHMS:
            raise KeyFileError(f"key file {path}: algorithm must be one of {', '.join(ALGORITHMS)}")
        size = ALGORITHMS[self.algorithm][1]
        if self.current_master not in self.masters:
            raise KeyFileError(f"key file {path}: current_master {self.current_master} is not among master_keys")
        if any(len(key) != size for key in self.masters.values()):
            raise KeyFileError(f"key file {path}: master keys of {self.algorithm} are {size} bytes")
        if len(self.index_key) < 32:
            raise KeyFileError(f"key file {path}: index_key must be at least 32 bytes")

    def write(self, path: Path) -> None:
        """Written 0600 before anything is in it."""
        private_file(path)
        Path(path).write_text(json.dumps({
            "format": FORMAT, "algorithm": self.algorithm, "current_master": self.current_master,
            "master_keys": {k: _b64(v) for k, v in self.masters.items()}, "index_key": _b64(self.index_key),
        }, indent=2) + "\n", encoding="utf-8")


def load_key_file(instance_path: Path, production: bool) -> KeyFile:
    """PORTAL_KEYS_FILE; in development, instance/keys.json, generated on first use; production refuses to
    start without the variable (config.py)."""
    named = os.environ.get("PORTAL_KEYS_FILE")
    if named:
        return KeyFile.read(Path(named))
    if production:
        raise KeyFileError("PORTAL_KEYS_FILE must name the key file when PORTAL_ENV=production")
    path = Path(instance_path) / "keys.json"
    if not path.exists():
        KeyFile.generate(os.environ.get("PORTAL_CIPHER") or DEFAULT_ALGORITHM).write(path)
    return KeyFile.read(path)


def context(table: str, column: str, row_key: bytes) -> bytes:
    """The associated data that binds a value to its place."""
    return f"{table}.{column}\x00".encode("ascii") + row_key


def new_row_key() -> bytes:
    return secrets.token_bytes(ROW_KEY_BYTES)


class KeyRing:
    """The key file and the data keys read from the database, kept for the life of the process (a data key
    never changes once written; only which one is newest does)."""

    def __init__(self, keys: KeyFile) -> None:
        self.keys = keys
        # By engine (a test run has several databases, each with its own data keys), then by key id.
        self._data: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._current: tuple[int, float, object] | None = None  # key id, when read, of which engine
        self._lock = threading.Lock()

    # --- data keys ----------------------------------------------------------------------------------------

    def add_data_key(self, connection: Connection) -> int:
        """Write a new data key, wrapped under the current master key, in the caller's transaction: it encrypts
        from its commit on (every process takes it up within CURRENT_KEY_SECONDS). Commit it at once: values
        sealed under a key whose row is rolled back could never be opened again."""
        from portal.models import DataKey

        algorithm, size = self.keys.algorithm, ALGORITHMS[self.keys.algorithm][1]
        master = self.keys.current_master
        wrapped = encrypt(algorithm, self.keys.masters[master], secrets.token_bytes(size), _wrap_context(algorithm))
        self._current = None  # this process seals under the new key at once
        return connection.execute(insert(DataKey.__table__).values(
            algorithm=algorithm, master_id=master, wrapped=wrapped).returning(DataKey.__table__.c.id)).scalar_one()

    def _data_key(self, connection: Connection, key_id: int) -> tuple[str, bytes]:
        engine = connection.engine
        known = self._data.get(engine, {}).get(key_id)
        if known is not None:
            return known
        from portal.models import DataKey

        row = connection.execute(select(DataKey.algorithm, DataKey.master_id, DataKey.wrapped)
                                 .where(DataKey.id == key_id)).first()
        if row is None:
            raise MissingKey("data key", key_id)
        master = self.keys.masters.get(row.master_id)
        if master is None:
            raise MissingKey("master key", row.master_id)
        try:
            key = decrypt(row.algorithm, master, row.wrapped, _wrap_context(row.algorithm))
        except Tampered:
            raise MissingKey("master key (this key file's, not the one that wrapped data key)", key_id) from None
        with self._lock:
            self._data.setdefault(engine, {})[key_id] = (row.algorithm, key)
        return row.algorithm, key

    def current_key_id(self, connection: Connection) -> int:
        """The newest data key, asked of the database at most every CURRENT_KEY_SECONDS."""
        now, database = time.monotonic(), connection.engine
        if self._current is not None and self._current[2] is database and now - self._current[1] < CURRENT_KEY_SECONDS:
            return self._current[0]
        from portal.models import DataKey

        newest = connection.execute(select(func.max(DataKey.id))).scalar()
        if newest is None:  # migration 0016 makes the first one
            raise MissingKey("data key", "(none: run flask --app portal migrate)")
        self._current = (newest, now, database)
        return newest

    # --- values ------------------------------------------------------------------------------------------

    def seal(self, connection: Connection, plaintext: str, where: bytes) -> bytes:
        return self.seal_bytes(connection, plaintext.encode("utf-8"), where)

    def open(self, connection: Connection, sealed: bytes, where: bytes) -> str:
        return self.open_bytes(connection, sealed, where).decode("utf-8")

    def seal_bytes(self, connection: Connection, plaintext: bytes, where: bytes) -> bytes:
        """Bytes sealed (a file waiting on disk, too): the same format as a sealed value."""
        key_id = self.current_key_id(connection)
        algorithm, key = self._data_key(connection, key_id)
        return _HEADER.pack(FORMAT, key_id) + encrypt(algorithm, key, plaintext, where)

    def open_bytes(self, connection: Connection, sealed: bytes, where: bytes) -> bytes:
        if len(sealed) < _HEADER.size:
            raise Tampered("sealed value too short")
        version, key_id = _HEADER.unpack_from(sealed)
        if version != FORMAT:
            raise Tampered(f"unknown format {version}")
        algorithm, key = self._data_key(connection, key_id)
        return decrypt(algorithm, key, sealed[_HEADER.size:], where)

    @staticmethod
    def key_id_of(sealed: bytes) -> int:
        return _HEADER.unpack_from(sealed)[1]

    def blind_index(self, kind: str, normalised: str) -> bytes:
        """A keyed hash of a normalised value for exact lookups and uniqueness, under the index key (separate
        from the data keys, and not rotated with them: every index would have to be computed again)."""
        mac = hmac.HMAC(self.keys.index_key, ALGORITHMS[self.keys.algorithm][2]())
        mac.update(kind.encode("ascii") + b"\x1f" + normalised.encode("utf-8"))
        return mac.finalize()


def _wrap_context(algorithm: str) -> bytes:
    return f"data_key:{algorithm}".encode("ascii")


# --- the app's key ring, and model attributes kept sealed ---------------------------------------------

_outside_app: KeyRing | None = None


def current() -> KeyRing:
    """The app's key ring; outside an app (alembic run on its own, a migration) the one config would give."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["keyring"]
    global _outside_app
    if _outside_app is None:
        instance = Path(__file__).resolve().parent.parent / "instance"
        _outside_app = KeyRing(load_key_file(instance, os.environ.get("PORTAL_ENV") == "production"))
    return _outside_app


def init_app(app) -> None:
    production = app.config["PORTAL_ENV"] == "production"
    app.extensions["keyring"] = KeyRing(load_key_file(Path(app.instance_path), production))


# Every sealed attribute of every model: (model, attribute name), for `flask keys status|rotate`.
SEALED: list[tuple[type, str]] = []


class sealed:  # noqa: N801 - used like a column declaration
    """A model attribute kept encrypted in the mapped column `stored` (bytes), bound to its table, its name
    and the row's `row_key`. Reading it decrypts (once per stored value: the plaintext is remembered on the
    object); setting it encrypts under the newest data key.

    `kind` is str, date (kept as its ISO text) or dict (kept as JSON). `index` names a column that keeps the
    value's blind index (KeyRing.blind_index of its normalised text) for exact lookups and uniqueness: query
    it with `Model.attr.matches(value)` or `.among(values)`. `derive` maps further columns to what they
    keep of the value in the clear (a person's birth year, for the age rules). In SQL the attribute is not
    a column: comparing it with == raises instead of silently comparing a Python object."""

    KINDS = {str: (str, str), date: (date.isoformat, date.fromisoformat),
             dict: (lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")), json.loads)}

    def __init__(self, stored: str, *, kind: type = str, index: str | None = None,
                 derive: dict[str, Callable] | None = None) -> None:
        self.stored, self.index, self.derive = stored, index, derive or {}
        self.dump, self.load = self.KINDS[kind]

    def __set_name__(self, owner, name: str) -> None:
        self.owner, self.name = owner, name
        self.index_kind = f"{owner.__tablename__}.{name}"  # what the blind index is keyed with
        self.context_prefix = context(owner.__tablename__, name, b"")  # the associated data, before the row key
        SEALED.append((owner, name))

    __hash__ = object.__hash__

    def __eq__(self, other):
        if isinstance(other, sealed):
            return self is other
        raise TypeError(f"{self.owner.__name__}.{self.name} is sealed: use .matches(value) in SQL")

    # --- lookups -------------------------------------------------------------------------------------------

    def index_of(self, value, ring: KeyRing | None = None) -> bytes:
        """The blind index of `value` as this attribute keeps it."""
        return (ring or current()).blind_index(self.index_kind, normalise(self.dump(value)))

    def matches(self, value):
        return getattr(self.owner, self.index) == self.index_of(value)

    def among(self, values):
        return getattr(self.owner, self.index).in_([self.index_of(v) for v in values])

    # --- values ---------------------------------------------------------------------------------------------

    def columns_for(self, connection: Connection, row_key: bytes, value, ring: KeyRing | None = None) -> dict:
        """The stored columns of `value` in the row of `row_key`: the sealed bytes, the blind index and the
        derived columns (for an INSERT or UPDATE written in SQL, and for setting the attribute)."""
        ring = ring or current()
        plain = None if value is None else self.dump(value)
        out = {self.stored: None if plain is None else ring.seal(connection, plain, self.context_prefix + row_key)}
        if self.index:
            out[self.index] = None if plain is None else ring.blind_index(self.index_kind, normalise(plain))
        for column, derive in self.derive.items():
            out[column] = None if value is None else derive(value)
        return out

    def open_stored(self, connection: Connection, row_key: bytes, stored: bytes | None):
        """The value of this attribute read in SQL: its stored bytes in the row of `row_key`."""
        if stored is None:
            return None
        return self.load(current().open(connection, stored, context(self.owner.__tablename__, self.name, row_key)))

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        stored = getattr(obj, self.stored)
        if stored is None:
            return None
        known = obj.__dict__.get("_opened", {}).get(self.name)
        if known is not None and known[0] is stored:
            return known[1]
        with _connection(obj) as connection:
            value = self.load(current().open(connection, stored, self._where(obj)))
        obj.__dict__.setdefault("_opened", {})[self.name] = (stored, value)
        return value

    def __set__(self, obj, value) -> None:
        if obj.row_key is None:
            obj.row_key = new_row_key()
        with _connection(obj) as connection:
            columns = self.columns_for(connection, obj.row_key, value)
        for column, stored in columns.items():
            setattr(obj, column, stored)
        if value is not None:
            obj.__dict__.setdefault("_opened", {})[self.name] = (getattr(obj, self.stored), value)

    def _where(self, obj) -> bytes:
        return context(obj.__tablename__, self.name, obj.row_key)


def sealed_columns(model, connection: Connection, values: dict, row_key: bytes | None = None) -> dict:
    """The row to write in SQL for `values` given by attribute: sealed attributes become their stored
    columns (with the row's `row_key`, new unless given), the others pass through."""
    row_key = new_row_key() if row_key is None else row_key
    out, ring = {"row_key": row_key}, current()
    for name, value in values.items():
        attribute = model.__dict__.get(name)
        if isinstance(attribute, sealed):
            out.update(attribute.columns_for(connection, row_key, value, ring))
        else:
            out[name] = value
    return out


def normalise(text: str) -> str:
    """What a blind index is taken of: compatibility forms folded (full-width digits and letters), case
    folded, runs of white space made one space. Lookups normalise the same way, so "ZHANG  San" finds
    "Zhang San"."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@contextmanager
def _connection(obj) -> Iterator[Connection]:
    """A connection to read the data keys from: the object's session's; for an object not in a session yet (a
    model built with its sealed values as arguments), the app session's if it has begun a transaction already
    (a request's, which may hold SQLite's write lock: a second connection would wait for it), else a short
    one of its own, so as not to begin a transaction in the app's session whose snapshot a later request in
    the same thread would read from."""
    from sqlalchemy.orm import object_session

    from portal.extensions import db

    session = object_session(obj) or (db.session if db.session().in_transaction() else None)
    if session is not None:  # its own, or the app's already begun (a request's: it may hold SQLite's write lock)
        yield session.connection()
        return
    bind = db.session.get_bind()
    if isinstance(bind, Connection):  # a session bound to one connection (the tests' outer transaction)
        yield bind
        return
    with bind.connect() as connection:
        yield connection
