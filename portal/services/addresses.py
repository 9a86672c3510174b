"""The standard-address register (标准地址): codes, search and CSV import.

Plain functions over a SQLAlchemy session; nothing here knows about a Flask request.

* An address is identified by its natural key (division code, township, road, door number, community,
  building, unit, room) and by a short public ``code`` printed as a QR code on the door plate. A code is
  derived from a hash of the natural key (``make_code``) unless the register supplies its own.
* ``fill_derived`` keeps the normalised key columns (``13栋`` -> ``13``) and ``search_text`` that search
  filters on.
* ``import_csv`` validates a whole file, reports every bad row and imports the good ones in one
  transaction; importing the same file twice changes nothing.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session
from stdnum import numdb

from portal.models import Address, AddressLevel, AddressStatus, Beat, Bureau, Station
from portal.models.address import TEXT_COLUMNS, address_text, filled_keys
from portal.services import audit, place_names
from portal.services.address_norm import arabic_numerals, compact, normalise_key, pinyin_keys
from portal.services.errors import FieldError, StateConflict

# --------------------------------------------------------------------------------------------------
# Normalisation and codes
# --------------------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(r"  +")

#: Crockford base32: digits and upper-case letters without I, L, O and U.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
CODE_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{6,16}", re.ASCII)
# What people misread on a printed plate, mapped back as Crockford's decoding rules say.
_CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_PERSON = b"portal.address"  # blake2b personalisation: these hashes are for nothing else
_CODE_VERSION = "v1"


def clean(value: str | None) -> str:
    """NFKC, trimmed, inner runs of whitespace reduced to one space: the form in which components are
    stored, compared and hashed."""
    if not value:
        return ""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def make_code(division_code: str, township: str, road: str, door_no: str, community: str, building: str,
              unit: str, room: str) -> str:
    """The public code of an address that the register gives none: 10 Crockford base32 characters from a
    blake2b hash of the cleaned natural key. The same address always gets the same code, on any machine
    and in any import order, and neighbouring doors get unrelated codes."""
    parts = (division_code, township, road, door_no, community, building, unit, room)
    return _code_of_clean([clean(p) for p in parts])


def _code_of_clean(natural_key: Sequence[str]) -> str:
    key = "\x1f".join([_CODE_VERSION, *natural_key])
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=_CODE_PERSON).digest()
    number = int.from_bytes(digest, "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, 32)
        chars.append(CODE_ALPHABET[rest])
    return "".join(reversed(chars))


def normalise_code(raw: str | None) -> str | None:
    """A code as a person may type or scan it ("abcd-efgh 12", full-width, O for 0) in stored form, or
    None when it cannot be a code."""
    if not isinstance(raw, str):
        return None
    value = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw)).upper().translate(_CODE_LOOKALIKES)
    return value if CODE_SHAPE.fullmatch(value) else None


def level_of(building: str, unit: str, room: str) -> AddressLevel:
    """A room if a room is given, else a building if a building is given, else the door plate.
    (A unit without a room belongs to its building: there is no unit level.)"""
    if clean(room):
        return AddressLevel.room
    if clean(building):
        return AddressLevel.building
    return AddressLevel.door_plate


def _search_text(division_name: str, township: str, road: str, door_no: str, community: str, building: str,
                 unit: str, room: str) -> str:
    """The whole address without spaces, then, each after a space, the township, road and community and the
    pinyin initials and full pinyin of the road and community: "...银海花园13栋4单元402 云塘街道 韶山中路 银海花园
    SSZL SHAOSHANZHONGLU YHHY YINHAIHUAYUAN". A piece of the query may occur anywhere in it; a piece of one
    or two characters must begin one of the words after a space (search_statement), which the trigram
    indexes find as the three characters " 银海"."""
    words = [compact("".join((division_name, township, road, door_no, community, building, unit, room)))]
    for name in (township, road, community):
        words.append(compact(name))
    for name in (road, community):
        words.extend(pinyin_keys(name))
    unique = list(dict.fromkeys(w for w in words if w))
    return " ".join(unique)[:400]


def _derived(division_name: str, township: str, road: str, door_no: str, community: str, building: str,
             unit: str, room: str) -> dict[str, Any]:
    return {
        "level": level_of(building, unit, room),
        "door_key": normalise_key(door_no)[:20],
        "building_key": normalise_key(building)[:20],
        "unit_key": normalise_key(unit)[:20],
        "room_key": normalise_key(room)[:20],
        "search_text": _search_text(division_name, township, road, door_no, community, building, unit, room),
    }


def fill_derived(address: Address) -> Address:
    """Set ``level``, the ``*_key`` columns and ``search_text`` from the components."""
    for name, value in _derived(address.division_name or "", address.township or "", address.road or "",
                                address.door_no or "", address.community or "", address.building or "",
                                address.unit or "", address.room or "").items():
        setattr(address, name, value)
    return address


def by_code(session: Session, code: str) -> Address | None:
    """The address with this public code; case, spaces, hyphens, full-width characters and the
    look-alikes O/I/L do not matter. None for anything that is not a known code. The code of an address merged
    into another is an alias: it finds the address it was merged into (a merge re-points every alias of the
    merged address too, so there is one step to follow)."""
    value = normalise_code(code)
    if value is None:
        return None
    found = session.scalar(select(Address).where(Address.code == value))
    if found is not None and found.status == AddressStatus.merged and found.replaced_by_id is not None:
        return session.get(Address, found.replaced_by_id)
    return found


def not_reportable(address: Address) -> FieldError | None:
    """Why no new report may be made on this address (retired, or merged: its code leads elsewhere), or None."""
    if address.status == AddressStatus.active:
        return None
    replacement = address.replaced_by
    if replacement is not None:
        return FieldError("address_retired", _l(
            "%(address)s is no longer a standard address: report on %(replacement)s (code %(code)s) instead.",
            address=address.text, replacement=replacement.text, code=replacement.code))
    return FieldError("address_retired", _l("%(address)s is no longer a standard address (it was retired): new "
                                            "reports on it are not accepted.", address=address.text))


def ensure_reportable(address: Address, field_name: str | None = None) -> None:
    """Raise StateConflict (what is recorded stands in the way: the API's 409), at the field, when new reports on
    this address are refused (not_reportable)."""
    error = not_reportable(address)
    if error is not None:
        raise StateConflict([error.at(field_name) if field_name else error])


# --------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------

_MAX_QUERY = 200
_MAX_TOKENS = 12
_SUFFIX_FIELD = {"号楼": "building", "栋": "building", "幢": "building", "座": "building", "单元": "unit",
                 "门": "unit", "室": "room", "房": "room", "号": "door"}
_QUERY_TOKEN = re.compile(
    r"(?P<num>[0-9A-Z]+(?:-[0-9A-Z]+)*)(?:\s*(?P<suf>号楼|单元|栋|幢|座|门|室|房|号))?"
    r"|(?P<text>[^\W0-9A-Z_]+)"
)
# "13-4-402" (and "13-4-402室"): building, unit and room, as people write a flat's number.
_DASHED_ROOM = re.compile(r"([0-9]+[A-Z]?)-([0-9]+)-([0-9]+[A-Z]?)", re.ASCII)
#: A piece of text shorter than this must begin a word of the search text: no trigram covers it.
SHORT_PIECE = 3
# Text runs are cut after administrative suffixes so that each level may be typed apart or together.
_ADMIN_SUFFIXES = ("街道", "省", "市", "区", "县", "镇", "乡")  # a piece ending so names an administrative area
_ADMIN_SPLIT = re.compile("|".join(f"(?<={suffix})" for suffix in _ADMIN_SUFFIXES))
_KEY_COLUMNS = {"door": Address.door_key, "building": Address.building_key, "unit": Address.unit_key,
                "room": Address.room_key}


@dataclass
class ParsedQuery:
    """What a free-text address query asks for."""

    text: list[str] = field(default_factory=list)  # pieces that must occur in search_text
    keys: dict[str, list[str]] = field(default_factory=dict)  # door/building/unit/room -> keys
    # Numbers without a suffix: any key, or else, when typed glued to text ("第17路", "建设路2段"),
    # that literal text.
    bare: list[tuple[str, str]] = field(default_factory=list)  # (key, literal or "")

    @property
    def empty(self) -> bool:
        return not (self.text or self.bare or any(self.keys.values()))


def parse_query(text: str) -> ParsedQuery:
    """Split a query like "雨湖区韶山中路88号 银海花园１３栋4单元402" into text pieces and keys."""
    query = ParsedQuery()
    if not isinstance(text, str):
        return query
    value = text[: _MAX_QUERY * 2].encode("utf-8", "replace").decode("utf-8")
    value = arabic_numerals(unicodedata.normalize("NFKC", value).upper()[:_MAX_QUERY].replace("之", "-"))
    # [kind, value, start, end]; kind is "text", "bare" or a key field; adjacent text is joined.
    items: list[list[Any]] = []
    for m in _QUERY_TOKEN.finditer(value):
        if len(items) >= _MAX_TOKENS:
            break
        num, suffix = m.group("num"), m.group("suf")
        dashed = _DASHED_ROOM.fullmatch(num) if num and suffix in (None, "室", "房") else None
        if dashed:
            for kind, key in zip(("building", "unit", "room"), dashed.groups(), strict=True):
                items.append([kind, normalise_key(key), m.start(), m.end()])
        elif num and suffix:
            items.append([_SUFFIX_FIELD[suffix], normalise_key(num), m.start(), m.end()])
        elif num and any(c.isdigit() for c in num):
            items.append(["bare", num, m.start(), m.end()])
        elif items and items[-1][0] == "text" and items[-1][3] == m.start():
            items[-1][1] += m.group()
            items[-1][3] = m.end()
        else:
            items.append(["text", m.group(), m.start(), m.end()])
    for i, (kind, token, start, end) in enumerate(items):
        if kind == "text":
            query.text.extend(p for p in _ADMIN_SPLIT.split(token) if p)
        elif kind == "bare":
            prev, nxt = items[i - 1] if i > 0 else None, items[i + 1] if i + 1 < len(items) else None
            before = prev[1] if prev and prev[0] == "text" and prev[3] == start else ""
            after = nxt[1] if nxt and nxt[0] == "text" and nxt[2] == end else ""
            query.bare.append((normalise_key(token), before + token + after if before or after else ""))
        else:
            query.keys.setdefault(kind, []).append(token)
    return query


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# SQLite's trigram index of address.search_text (FTS5, migration 0009): rowid is the address id.
_ADDRESS_TEXT = sql_table("address_text", sql_column("rowid"), sql_column("search_text"))
_LIKE_SPECIALS = frozenset("%_\\")


def _contains(piece: str, *, through_fts: bool = False) -> ColumnElement[bool]:
    """The address text contains this piece; with through_fts, found through SQLite's FTS5 trigram index.

    The pattern is written into the statement, not sent as a parameter, so that PostgreSQL plans each
    search for its own pattern: with a parameter, a statement run often is prepared and planned once for
    any pattern, and that plan reads the whole trigram index for a piece of two characters, which no
    trigram can narrow (370 ms for 600,000 addresses, bench/README.md). The value is quoted by the dialect,
    as SQLAlchemy does for any literal_execute parameter."""
    def literal(value: str):
        return bindparam("pattern", value, unique=True, literal_execute=True)

    if through_fts:  # FTS5 uses its index for a LIKE without ESCAPE only: see _fts_piece
        return Address.id.in_(select(_ADDRESS_TEXT.c.rowid)
                              .where(_ADDRESS_TEXT.c.search_text.like(literal(f"%{piece}%"))))
    return Address.search_text.like(literal(f"%{_escape_like(piece)}%"), escape="\\")


def _begins_word(pieces: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """One of these short pieces begins a word of the search text after its first (a township, road,
    community or their pinyin: _search_text), as the first keystrokes of a name do. " 银海" is a trigram, so
    both indexes find it: pg_trgm as the start of a word, FTS5 as any three characters."""
    def literal(value: str):
        return bindparam("pattern", value, unique=True, literal_execute=True)

    usable = sorted({p for p in pieces if not _LIKE_SPECIALS & set(p)})
    if not usable:
        return false()
    if dialect != "sqlite":
        return or_(*(Address.search_text.like(literal(f"% {p}%")) for p in usable))
    # FTS5 finds no row at all for a pattern without three characters in a row (" 东"): a piece of one character
    # is compared with the text itself.
    lookups = [select(_ADDRESS_TEXT.c.rowid).where(_ADDRESS_TEXT.c.search_text.like(literal(f"% {p}%")))
               for p in usable if len(p) > 1]
    found = [Address.search_text.like(literal(f"% {p}%")) for p in usable if len(p) == 1]
    if lookups:
        found.append(Address.id.in_(lookups[0] if len(lookups) == 1 else union(*lookups)))
    return or_(*found)


def _fts_piece(query: ParsedQuery, dialect: str) -> str | None:
    """The one piece of text SQLite looks up in its trigram index (migration 0009), if any: the longest of
    three characters or more that names no administrative area. SQLite cannot tell how many addresses a
    piece finds, and reads all of them before anything else: "湖南省" or "雨湖区" find a whole district (two
    seconds for a full address when every piece went through the index), a community or road name a few
    thousand. The other pieces are checked on the addresses found. A door or room number is found faster
    through its own index, so a query naming one reads none. PostgreSQL weighs each piece itself."""
    if dialect != "sqlite" or "door" in query.keys or "room" in query.keys:
        return None
    candidates = [piece for piece in query.text
                  if len(piece) >= 3 and not piece.endswith(_ADMIN_SUFFIXES) and not _LIKE_SPECIALS & set(piece)]
    return max(candidates, key=len, default=None)


def _named(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    return column.in_(sorted(set(values))) if values else false()


#: A search counts its results up to this many; beyond, it says "more than" (counting every match of a short
#: query would read a large part of the city) and pages go no further: the query needs another word.
COUNT_CAP = 1000
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SearchPage:
    """One page of search results: ``total`` results in all (at most COUNT_CAP; ``more`` when there are
    more than that), ``offset`` of the first one here."""

    items: list[Address]
    total: int
    more: bool
    offset: int
    size: int

    @property
    def next_offset(self) -> int | None:
        after = self.offset + len(self.items)
        return after if len(self.items) == self.size and after < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.size) if self.offset > 0 else None


def page_offset(args: Any, size: int = PAGE_SIZE) -> int:
    """The offset of the result page that a web page's ``page`` argument (1, 2, ...) asks for; the first page
    for anything else."""
    value = str(args.get("page", "1"))
    number = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 1
    return (max(1, number) - 1) * size


def search(session: Session, text: str, *, limit: int = PAGE_SIZE, beat_ids: Iterable[int] | None = None
           ) -> list[Address]:
    """Addresses matching a free-text query, best first.

    Numbers with a suffix are matched against their key column (栋/幢/号楼/座 building, 单元/门 unit,
    室/房 room, 号 door), a bare number against any of them (or, typed inside a name as in
    "建设路2段", against that text), "13-4-402" as building, unit and room, and every other piece of text
    must occur in the address; Chinese numerals that count something are digits ("十三栋" = "13栋"), and the
    pinyin of a road or community finds it ("yhhy", "yinhaihuayuan" for 银海花园). When every piece of text
    is shorter than three characters, one of them must begin the name of a township, road or community (or
    its pinyin): the first keystrokes of a name.

    The best match is the address whose own level is named by the query (a room number finds the
    room, "韶山中路 88号" the door plate before its buildings), then the one with fewer components the
    query did not name, then address order. ``beat_ids`` restricts the result to those
    beats (an empty list finds nothing); None means no restriction. Never raises on any string.
    """
    stmt = search_statement(text, session.get_bind().dialect.name, limit=limit, beat_ids=beat_ids)
    if stmt is None:
        return []
    begun = first_keystrokes(session, text, beat_ids)
    if begun is not None:
        first = begun.page(TEXT_ORDER, 0, max(1, min(int(limit), COUNT_CAP)))
        return [] if first is None else list(session.scalars(first))
    return list(session.scalars(stmt))


def search_page(session: Session, text: str, *, offset: int = 0, size: int = PAGE_SIZE,
                beat_ids: Iterable[int] | None = None) -> SearchPage:
    """A page of search() results from ``offset`` (0 to COUNT_CAP), with their count: see COUNT_CAP."""
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    offset = max(0, min(int(offset), COUNT_CAP))
    dialect = session.get_bind().dialect.name
    stmt = search_statement(text, dialect, limit=min(size, COUNT_CAP - offset), beat_ids=beat_ids)
    if stmt is None or offset >= COUNT_CAP:
        return SearchPage([], 0, False, offset, size)
    begun = first_keystrokes(session, text, beat_ids)
    if begun is not None:
        first = begun.page(TEXT_ORDER, offset, min(size, COUNT_CAP - offset))
        items = [] if first is None else list(session.scalars(first))
    else:
        items = list(session.scalars(stmt.offset(offset)))
    if len(items) < size and (items or offset == 0):
        found = offset + len(items)  # the last page: no need to count
    elif begun is not None:
        found = begun.count(session, COUNT_CAP + 1)
    else:
        matching = stmt.with_only_columns(Address.id).order_by(None).offset(None).limit(COUNT_CAP + 1)
        found = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    return SearchPage(items, min(found, COUNT_CAP), found > COUNT_CAP, offset, size)


def first_keystrokes(session: Session, text: str, beat_ids: Iterable[int] | None) -> place_names.Begun | None:
    """For a query that is only the first keystrokes of a place name (one piece of text shorter than SHORT_PIECE,
    no numbers), the names it begins (services/place_names.py): their addresses are the query's, read in order
    from the names' indexes. None for any other query, which search_statement answers."""
    query = parse_query(text)
    if query.bare or any(query.keys.values()) or len(query.text) != 1 or len(query.text[0]) >= SHORT_PIECE:
        return None
    conditions: list[ColumnElement[bool]] = [Address.status == AddressStatus.active]
    if beat_ids is not None:
        conditions.append(Address.beat_id.in_(sorted({int(b) for b in beat_ids})))
    return place_names.begun(session, query.text[0], conditions, scoped=beat_ids is not None)


def search_statement(text: str, dialect: str, *, limit: int = 20, beat_ids: Iterable[int] | None = None
                     ) -> Select | None:
    """The query search() runs on a database of this dialect ("sqlite", "postgresql"), or None when nothing
    can match."""
    query = parse_query(text)
    if query.empty:
        return None
    # Retired and merged addresses are history: nobody reports on them, so search does not offer them.
    conditions: list[ColumnElement[bool]] = [Address.status == AddressStatus.active]
    if beat_ids is not None:
        ids = sorted({int(b) for b in beat_ids})
        if not ids:
            return None
        conditions.append(Address.beat_id.in_(ids))
    through_fts = _fts_piece(query, dialect)
    short = bool(query.text) and all(len(piece) < SHORT_PIECE for piece in query.text)
    if short:
        conditions.append(_begins_word(query.text, dialect))
    for piece in query.text:
        if not (short and len(query.text) == 1):  # one piece that begins a word occurs in the text
            conditions.append(_contains(piece, through_fts=piece == through_fts))
    for name, values in query.keys.items():
        for value in set(values):
            conditions.append(_KEY_COLUMNS[name] == value)
    for value, literal in set(query.bare):
        alternatives = [column == value for column in _KEY_COLUMNS.values()]
        if literal:
            alternatives.append(_contains(literal))
        conditions.append(or_(*alternatives))

    bare = [value for value, _literal in query.bare]
    named = {name: [*query.keys.get(name, []), *bare] for name in _KEY_COLUMNS}
    own_level_named = case(
        (and_(Address.level == AddressLevel.room, _named(Address.room_key, named["room"])), 0),
        (and_(Address.level == AddressLevel.building, _named(Address.building_key, named["building"])), 0),
        (and_(Address.level == AddressLevel.door_plate, _named(Address.door_key, named["door"])), 0),
        else_=1,
    )
    extras = sum(
        (case((and_(column != "", ~_named(column, named[name])), 1), else_=0)
         for name, column in _KEY_COLUMNS.items()),
        start=0,
    )
    return (
        select(Address)
        .where(*conditions)
        .order_by(own_level_named, extras, *standard_order())
        .limit(max(1, min(int(limit), COUNT_CAP)))
    )


def standard_order(a: Any = Address) -> list[Any]:
    """Standard order, with numeric keys in number order (2栋 before 13栋: shorter first).
    ``a`` is Address or an alias of it."""
    return [a.division_code, a.township, a.road, func.length(a.door_key), a.door_key, a.community,
            func.length(a.building_key), a.building_key, func.length(a.unit_key), a.unit_key,
            func.length(a.room_key), a.room_key, a.id]


#: search_statement's order for a query of text alone (no numbers), whose first term is then the same for every address
#: and whose second is the number of key columns filled: here that number as the place-name indexes hold it
#: (models.address.filled_keys).
TEXT_ORDER = (filled_keys(), *standard_order())


# --------------------------------------------------------------------------------------------------
# CSV import
# --------------------------------------------------------------------------------------------------

#: The columns of an address CSV file, in the order the demo file uses; any order is accepted.
COLUMNS = ("bureau_code", "bureau_name", "station_code", "station_name", "beat_code", "beat_name",
           "division_code", "division_name", "township", "road", "door_no", "community", "building", "unit",
           "room", "code")
OPTIONAL_COLUMNS = ("code",)
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)
NATURAL_KEY = ("division_code", "township", "road", "door_no", "community", "building", "unit", "room")
_REQUIRED_VALUES = ("bureau_code", "bureau_name", "station_code", "station_name", "beat_code", "beat_name",
                    "division_code", "road", "door_no")
MAX_FIELD = 60
# Database column widths below the general limit of 60 characters.
_MAX_LEN = {"door_no": 20, "building": 20, "unit": 20, "room": 20, "code": 16, "bureau_code": 32,
            "station_code": 32, "beat_code": 32}
_DIVISION_CODE = re.compile(r"[0-9]{6}", re.ASCII)
_CHUNK = 200


@dataclass(frozen=True)
class RowError:
    """One problem in one row: ``row`` is the line number in the file (the header is row 1), ``column``
    the CSV column (empty when the problem is the row as a whole)."""

    row: int
    column: str
    code: str
    message: object  # a lazy string


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    key_ok: bool = True  # the natural-key columns are valid
    tree_ok: bool = True  # the bureau/station/beat columns are valid
    code: str = ""  # the code this row will have
    natural_key: tuple[str, ...] = ()
    existing: Any = None  # the row (id, code, *NATURAL_KEY, *_UPDATABLE, status) of this address in the database

    def fail(self, column: str, code: str, message: object) -> None:
        self.errors.append(RowError(self.line, column, code, message))
        if column in NATURAL_KEY:
            self.key_ok = False
        if column.startswith(("bureau_", "station_", "beat_")):
            self.tree_ok = False

    @property
    def deepest_column(self) -> str:
        for column in ("room", "unit", "building", "community", "door_no"):
            if self.values[column]:
                return column
        return "road"


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return None


def _records(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, fields) per CSV record; fields None when the record cannot be parsed."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            if reader.line_num == previous:  # no progress: give up rather than loop
                yield previous + 1, None
                return
            yield previous + 1, None
            previous = reader.line_num
            continue
        yield previous + 1, fields
        previous = reader.line_num


def _clean_field(value: str) -> tuple[str, str | None]:
    """(cleaned value, error code or None) of one CSV field."""
    if "\x00" in value:
        return "", "nul_byte"
    # NFKC turns full-width and no-break spaces into plain ones; whatever is still not printable
    # (line breaks inside a quoted field, tabs, zero-width and bidi marks) has no place in an address.
    value = unicodedata.normalize("NFKC", value).strip()
    if not value.isprintable():
        return "", "control_char"
    return _SPACES.sub(" ", value), None


# A file repeats its bureau, roads and communities on every row; only short values are worth keeping.
_clean_short_field = functools.lru_cache(maxsize=65536)(_clean_field)


def _check_fields(row: _Row, raw: dict[str, str]) -> None:
    _clean_values(row, raw)
    _check_required(row)
    _check_shapes(row)


def _clean_values(row: _Row, raw: dict[str, str]) -> None:
    """Every cell, cleaned into row.values: a NUL byte, a control character or an overlong cell is an error."""
    for column, value in raw.items():
        if not value:
            value, error = "", None
        else:
            value, error = (_clean_short_field if len(value) <= 2 * MAX_FIELD else _clean_field)(value)
        limit = _MAX_LEN.get(column, MAX_FIELD)
        if error == "nul_byte":
            row.fail(column, error, _l("Contains a NUL byte."))
        elif error:
            row.fail(column, error, _l("Contains a control or invisible character."))
        elif len(value) > limit:
            row.fail(column, "too_long", _l("Longer than %(max)d characters.", max=limit))
            value = ""
        row.values[column] = value


def _check_required(row: _Row) -> None:
    """The required cells, a division code of 6 digits, and a building for a unit or a room."""
    values = row.values
    for column in _REQUIRED_VALUES:
        if not values[column] and not any(e.column == column for e in row.errors):
            row.fail(column, "required", _l("Required."))
    if values["division_code"] and not _DIVISION_CODE.fullmatch(values["division_code"]):
        row.fail("division_code", "division_code", _l("A division code is exactly 6 digits."))
    elif values["division_code"] and not division_known(values["division_code"]):
        row.fail("division_code", "division_unknown",
                 _l("%(code)s is not a division code of GB/T 2260.", code=values["division_code"]))
    if not values["building"] and not any(e.column == "building" for e in row.errors):
        for column in ("unit", "room"):
            if values[column]:
                row.fail(column, "needs_building", _l("A unit or room needs a building."))


@functools.lru_cache(maxsize=4096)
def division_known(code: str) -> bool:
    """Whether a 6-digit code is a county-level division of GB/T 2260, now or in the past (python-stdnum's
    table of them, the one that reads the region of an ID number)."""
    parts = numdb.get("cn/loc").info(code)
    return len(parts) == 2 and bool(parts[1][1])


def check_address(raw: dict[str, str]) -> tuple[dict[str, str], list[RowError]]:
    """The import's own checks of one row's cells (cleaning, required cells, a GB/T 2260 division, the shapes),
    for a form that adds or edits one address: the cleaned values, and the errors by column."""
    row = _Row(0, {})
    _check_fields(row, {c: str(raw.get(c) or "") for c in COLUMNS})
    return row.values, row.errors


def _check_shapes(row: _Row) -> None:
    values = row.values
    if values["code"]:
        code = values["code"].upper()
        if CODE_SHAPE.fullmatch(code):
            values["code"] = code
        else:
            row.fail("code", "code_format",
                     _l("A code has 6 to 16 characters: digits and letters other than I, L, O and U."))


def _parse(text: str, report: ImportReport) -> list[_Row]:
    records = _records(text)
    header: list[str] | None = None
    for line, fields in records:
        if fields is None:
            report.errors.append(RowError(line, "", "csv", _l("This row is not valid CSV.")))
            return []
        if any(f.strip() for f in fields):
            header = [f.strip().lstrip("\ufeff").strip() for f in fields]
            break
    if header is None:
        report.errors.append(RowError(1, "", "no_header", _l("The file is empty: the first row must name the "
                                                              "columns.")))
        return []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        report.errors.append(RowError(1, ", ".join(missing), "missing_columns",
                                      _l("Missing columns: %(columns)s.", columns=", ".join(missing))))
        return []
    twice = sorted({c for c in header if c in COLUMNS and header.count(c) > 1})
    if twice:
        report.errors.append(RowError(1, ", ".join(twice), "duplicate_columns",
                                      _l("Columns named twice: %(columns)s.", columns=", ".join(twice))))
        return []
    positions = {c: header.index(c) for c in COLUMNS if c in header}

    rows: list[_Row] = []
    for line, fields in records:
        if fields is None:
            report.errors.append(RowError(line, "", "csv", _l("This row is not valid CSV.")))
            continue
        if not any(f.strip() for f in fields):
            continue  # blank lines, as spreadsheets leave at the end
        row = _Row(line, {})
        if any(f.strip() for f in fields[len(header):]):
            row.fail("", "extra_fields", _l("This row has more fields than the header."))
        raw = {c: (fields[i] if i < len(fields) else "") for c, i in positions.items()}
        raw.setdefault("code", "")
        _check_fields(row, raw)
        row.natural_key = tuple(row.values[c] for c in NATURAL_KEY)
        rows.append(row)
    return rows


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_UPDATABLE = ("division_name", "beat_id", "level", "door_key", "building_key", "unit_key", "room_key",
              "search_text")
# Plain table columns: rows come back as tuples, without the ORM's per-row work.
_EXISTING_COLUMNS = tuple(Address.__table__.c[c] for c in ("id", "code", *NATURAL_KEY, *_UPDATABLE, "status"))
_UPDATABLE_AT = tuple((10 + i, c) for i, c in enumerate(_UPDATABLE))  # their places in _EXISTING_COLUMNS


def _existing_by_key(session: Session, keys: set[tuple[str, ...]]) -> dict[tuple[str, ...], Any]:
    """Addresses already in the register with these natural keys: one query per road and up to
    ``_CHUNK`` door numbers, which the unique index (division, township, road, door, ...) answers."""
    doors_by_road: dict[tuple[str, ...], set[str]] = {}
    for key in keys:
        doors_by_road.setdefault(key[:3], set()).add(key[3])
    division, township, road, door_no = _EXISTING_COLUMNS[2:6]
    found: dict[tuple[str, ...], Any] = {}
    for (division_code, township_name, road_name), doors in sorted(doors_by_road.items()):
        for chunk in _chunks(sorted(doors)):
            stmt = select(*_EXISTING_COLUMNS).where(division == division_code, township == township_name,
                                                    road == road_name, door_no.in_(chunk))
            for r in session.execute(stmt):
                key = tuple(r[2:10])  # the NATURAL_KEY columns of _EXISTING_COLUMNS
                if key in keys:
                    found[key] = r
    return found


def _check_tree(session: Session, rows: list[_Row]) -> dict[str, dict[str, Any]]:
    """Check that every code of the jurisdiction tree has one name and one parent across the file and
    that the file moves nothing that the register already places elsewhere. Returns the wanted tree."""
    wanted = _tree_of_file(rows)
    existing = _tree_in_register(session, wanted)
    _check_not_moved(rows, existing)
    return {"wanted": wanted, "existing": existing}


_TREE_LEVELS = (("bureau", Bureau, None), ("station", Station, "bureau"), ("beat", Beat, "station"))


def _tree_of_file(rows: list[_Row]) -> dict[str, dict[str, Any]]:
    """Each code's name, parent and first row in the file; a later row that differs is an error."""
    wanted: dict[str, dict[str, Any]] = {"bureau": {}, "station": {}, "beat": {}}
    for row in rows:
        if not row.tree_ok:
            continue
        for level, _model, parent in _TREE_LEVELS:
            code = row.values[f"{level}_code"]
            mine = (row.values[f"{level}_name"], row.values[f"{parent}_code"] if parent else None, row.line)
            first = wanted[level].setdefault(code, mine)
            if first is mine:
                continue
            if first[0] != mine[0]:
                row.fail(f"{level}_name", "inconsistent",
                         _l("Row %(row)d gives %(code)s another name.", row=first[2], code=code))
            if first[1] != mine[1]:
                row.fail(f"{parent}_code", "inconsistent",
                         _l("Row %(row)d places %(code)s elsewhere.", row=first[2], code=code))
    return wanted


def _tree_in_register(session: Session, wanted: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The register's own bureaus, stations and beats of the codes the file names."""
    existing: dict[str, dict[str, Any]] = {}
    for level, model, _parent in _TREE_LEVELS:
        codes = sorted(wanted[level])
        existing[level] = {}
        for chunk in _chunks(codes):
            for obj in session.scalars(select(model).where(model.code.in_(chunk))):
                existing[level][obj.code] = obj
    return existing


def _check_not_moved(rows: list[_Row], existing: dict[str, dict[str, Any]]) -> None:
    """The register's own tree: a file may rename, never move."""
    parent_of = {"station": lambda s: s.bureau.code, "beat": lambda b: b.station.code}
    for row in rows:
        if not row.tree_ok:
            continue
        for level, _model, parent in _TREE_LEVELS[1:]:
            obj = existing[level].get(row.values[f"{level}_code"])
            if obj is not None and parent_of[level](obj) != row.values[f"{parent}_code"]:
                row.fail(f"{parent}_code", "moved",
                         _l("%(code)s belongs to %(parent)s in the register; an import does not move it.",
                            code=obj.code, parent=parent_of[level](obj)))


def _write_tree(session: Session, rows: list[_Row], tree: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Create and rename what the valid rows need; returns beat code -> beat id."""
    existing = tree["existing"]
    needed = {level: {r.values[f"{level}_code"]: r for r in rows} for level in ("bureau", "station", "beat")}
    objs: dict[str, dict[str, Any]] = {"bureau": {}, "station": {}, "beat": {}}
    for level, model, parent in (("bureau", Bureau, None), ("station", Station, "bureau"),
                                 ("beat", Beat, "station")):
        for code, row in needed[level].items():
            name = row.values[f"{level}_name"]
            obj = existing[level].get(code)
            if obj is None:
                obj = model(code=code, name=name)
                if parent:
                    setattr(obj, parent, objs[parent][row.values[f"{parent}_code"]])
                session.add(obj)
            elif obj.name != name:
                obj.name = name
            objs[level][code] = obj
    session.flush()
    return {code: beat.id for code, beat in objs["beat"].items()}


def _read(stream: IO[bytes], report: ImportReport) -> list[_Row]:
    """The rows of the file, each with the errors of its own cells; a file that cannot be read is one error."""
    data = stream.read()
    text = data if isinstance(data, str) else _decode(data)
    if text is None:
        report.errors.append(RowError(1, "", "encoding", _l("The file is neither UTF-8 nor GB18030 text.")))
        return []
    return _parse(text, report)


def import_csv(session: Session, stream: IO[bytes], *, actor: audit.Actor = audit.SYSTEM,
               bureau_code: str | None = None, audit_each: bool = True) -> ImportReport:
    """Import standard addresses from a CSV file (columns: ``COLUMNS``; ``code`` optional).

    Every row is checked before anything is written; rows with errors are reported and skipped, the
    others are created, updated (beat, division name) or left unchanged, with the bureaus, stations and
    beats they name, in the caller's transaction (the caller commits). An address keeps its code: a blank code
    keeps the one it has, a different code is an error. With ``bureau_code`` (a clerk's import through the web),
    a row of another bureau is an error. Every address created or changed gets its own audit row with what it was
    and became (its history), besides the import's own, whether the file came through the web or
    `flask addresses import`; only a benchmark's bulk set-up passes ``audit_each=False``.
    """
    report = ImportReport()
    rows = _read(stream, report)
    if rows:
        tree = _check_rows(session, rows, bureau_code)
        for row in rows:
            report.errors.extend(row.errors)
        valid = [r for r in rows if not r.errors]
        if valid:
            beat_ids = _write_tree(session, valid, tree)
            _write_addresses(session, valid, beat_ids, report, actor if audit_each else None)
    report.errors.sort(key=lambda e: e.row)
    detail = (f"created={report.created} updated={report.updated} unchanged={report.unchanged} "
              f"rows_with_errors={len({e.row for e in report.errors})}")
    audit.record(session, "address.import", actor, object_type="address",
                 outcome="success" if not report.errors else "partial", detail=detail)
    return report


@dataclass
class PreviewRow:
    """One row of a file as an import would take it: ``change`` is "new", "changed", "unchanged" or "error"."""

    line: int
    text: str
    code: str
    change: str
    errors: list[RowError]


def preview_csv(session: Session, stream: IO[bytes], *, bureau_code: str | None = None
                ) -> tuple[list[PreviewRow], list[RowError]]:
    """What import_csv would do with each row of the file, writing nothing: the rows, and the errors of the file
    as a whole (no header, not text). The same checks as the import, in the same order."""
    report = ImportReport()
    rows = _read(stream, report)
    if not rows:
        return [], report.errors
    beat_ids = _beat_ids(_check_rows(session, rows, bureau_code))
    out = []
    for row in rows:
        change = "error" if row.errors else _change_of(row, _address_values(row, beat_ids))
        out.append(PreviewRow(row.line, address_text(_Values(row.values)), row.code, change, row.errors))
    return out, report.errors


class _Values:
    """A row's cells as attributes, for address_text."""

    def __init__(self, values: dict[str, str]) -> None:
        self.__dict__.update({c: values.get(c, "") for c in TEXT_COLUMNS})


def _beat_ids(tree: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The ids of the beats the file names that the register has already."""
    return {code: beat.id for code, beat in tree["existing"]["beat"].items()}


def _check_rows(session: Session, rows: list[_Row], bureau_code: str | None) -> dict[str, dict[str, Any]]:
    """Every check of the import that needs the whole file or the register; the rows collect their errors."""
    _check_duplicate_addresses(rows)
    keyed = [r for r in rows if r.key_ok]
    _assign_codes(session, keyed)
    _check_codes_unique(session, keyed)
    tree = _check_tree(session, rows)
    if bureau_code is not None:
        _check_bureau(session, rows, bureau_code)
        _check_tree_as_it_is(rows, tree["existing"])
    _check_not_retired(rows, _beat_ids(tree))
    return tree


def _check_bureau(session: Session, rows: list[_Row], bureau_code: str) -> None:
    """A clerk's import: every row in the clerk's bureau, and no address taken from another bureau."""
    beat_bureau = dict(session.execute(select(Beat.id, Bureau.code).join(Station, Beat.station_id == Station.id)
                                       .join(Bureau, Station.bureau_id == Bureau.id)).all())
    for row in rows:
        if row.values["bureau_code"] != bureau_code and not any(e.column == "bureau_code" for e in row.errors):
            row.fail("bureau_code", "other_bureau",
                     _l("This row is for bureau %(code)s: you keep the addresses of bureau %(mine)s only.",
                        code=row.values["bureau_code"], mine=bureau_code))
        elif row.existing is not None and beat_bureau.get(row.existing.beat_id) != bureau_code:
            row.fail(row.deepest_column, "other_bureau_address",
                     _l("This address belongs to another bureau."))


def _check_tree_as_it_is(rows: list[_Row], existing: dict[str, dict[str, Any]]) -> None:
    """A clerk's import: the bureau, stations and beats as the register has them. Creating and renaming them is
    the administrator's (audited as jurisdiction.*), never a side effect of a clerk's address file."""
    for row in rows:
        if not row.tree_ok:  # another bureau, a code given two names...: said already
            continue
        for level, _model, _parent in _TREE_LEVELS:
            obj = existing[level].get(row.values[f"{level}_code"])
            if obj is None or obj.name != row.values[f"{level}_name"]:
                row.fail(f"{level}_code" if obj is None else f"{level}_name", "tree_not_yours", _l(
                    "An administrator creates and renames bureaus, police stations and beats: give %(code)s as the "
                    "register has it (%(name)s), or ask an administrator.", code=row.values[f"{level}_code"],
                    name=obj.name if obj is not None else "—"))
                break


def _check_not_retired(rows: list[_Row], beat_ids: dict[str, int]) -> None:
    """A retired or merged address stays as it was left: a row may name it only unchanged."""
    for row in rows:
        existing = row.existing
        if existing is None or row.errors or existing.status == AddressStatus.active:
            continue
        if _change_of(row, _address_values(row, beat_ids)) != "unchanged":
            row.fail(row.deepest_column, "address_not_active",
                     _l("This address is retired or merged into another: an import does not change it."))


def _check_duplicate_addresses(rows: list[_Row]) -> None:
    """The same address twice in the file."""
    first_by_key: dict[tuple[str, ...], int] = {}
    for row in rows:
        if not row.key_ok:
            continue
        first = first_by_key.setdefault(row.natural_key, row.line)
        if first != row.line:
            row.key_ok = False
            row.fail(row.deepest_column, "duplicate_address",
                     _l("The same address as row %(row)d.", row=first))


def _assign_codes(session: Session, keyed: list[_Row]) -> None:
    """An address in the register keeps its code; a new one takes the file's code or one made from it."""
    existing = _existing_by_key(session, {r.natural_key for r in keyed})
    for row in keyed:
        row.existing = existing.get(row.natural_key)
        given = row.values["code"]
        if row.existing is not None:
            if given and given != row.existing.code:
                row.fail("code", "code_changed",
                         _l("This address has the code %(code)s; a code on a door plate never changes.",
                            code=row.existing.code))
            row.code = row.existing.code
        else:
            row.code = given or _code_of_clean(row.natural_key)


def _check_codes_unique(session: Session, keyed: list[_Row]) -> None:
    """The same code twice in the file, or a code that another address in the register has."""
    first_by_code: dict[str, int] = {}
    for row in keyed:
        if row.code and not any(e.column == "code" for e in row.errors):
            first = first_by_code.setdefault(row.code, row.line)
            if first != row.line:
                row.fail("code", "duplicate_code", _l("The same code as row %(row)d.", row=first))
    new_codes = sorted({r.code for r in keyed if r.existing is None and r.code})
    taken: dict[str, str] = {}
    for chunk in _chunks(new_codes, 500):
        for a in session.scalars(select(Address).where(Address.code.in_(chunk))):
            taken[a.code] = a.text
    for row in keyed:
        if row.existing is None and row.code in taken:
            row.fail("code", "code_taken", _l("The code %(code)s belongs to another address: %(address)s.",
                                              code=row.code, address=taken[row.code]))


def _address_values(row: _Row, beat_ids: dict[str, int]) -> dict[str, Any]:
    """The columns an address of this row has; beat_id None for a beat the import has still to make."""
    v = row.values
    values: dict[str, Any] = {c: v[c] for c in NATURAL_KEY}
    values.update(division_name=v["division_name"], beat_id=beat_ids.get(v["beat_code"]))
    values.update(_derived(v["division_name"], *(v[c] for c in NATURAL_KEY[1:])))
    return values


def _change_of(row: _Row, values: dict[str, Any]) -> str:
    if row.existing is None:
        return "new"
    if any(row.existing[i] != values[c] for i, c in _UPDATABLE_AT):
        return "changed"
    return "unchanged"


def _write_addresses(session: Session, valid: list[_Row], beat_ids: dict[str, int], report: ImportReport,
                     actor: audit.Actor | None = None) -> None:
    """Insert the new addresses and update the changed ones, in chunks; count the unchanged. With an actor,
    each address created or changed gets an audit row of its own."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changed: list[tuple[_Row, dict[str, Any]]] = []
    for row in valid:
        values = _address_values(row, beat_ids)
        change = _change_of(row, values)
        if change == "new":
            inserts.append({"code": row.code, **values})
        elif change == "changed":
            updates.append({"id": row.existing.id, **{c: values[c] for c in _UPDATABLE}})
        else:
            report.unchanged += 1
        if change != "unchanged":
            changed.append((row, values))
    # With RETURNING, SQLAlchemy sends each chunk as one INSERT of many rows ("insertmanyvalues"), so the
    # summaries' statement triggers on PostgreSQL (migration 0028) count a chunk at once, not row by row.
    table = Address.__table__
    ids: dict[str, int] = {}
    for chunk in _chunks(inserts, 1000):
        ids.update((code, id_) for id_, code in session.execute(insert(table).returning(table.c.id, table.c.code),
                                                                list(chunk)))
    for chunk in _chunks(updates, 1000):
        session.execute(update(Address), list(chunk))
    report.created, report.updated = len(inserts), len(updates)
    if actor is not None:
        _audit_rows(session, changed, actor, ids)


def _audit_rows(session: Session, changed: list[tuple[_Row, dict[str, Any]]], actor: audit.Actor,
                ids: dict[str, int]) -> None:
    for row, values in changed:
        after = {c: values[c] for c in ("division_name", *NATURAL_KEY, "beat_id")}
        if row.existing is None:
            audit.record(session, "address.create", actor, object_type="address", object_id=ids.get(row.code),
                         detail=change_detail(None, after, via="import"))
        else:
            before = {c: row.existing[2 + i] for i, c in enumerate(NATURAL_KEY)}
            before.update(division_name=row.existing.division_name, beat_id=row.existing.beat_id)
            audit.record(session, "address.edit", actor, object_type="address", object_id=row.existing.id,
                         detail=change_detail(before, after, via="import"))


def change_detail(before: dict[str, Any] | None, after: dict[str, Any] | None, **extra: Any) -> str:
    """An audit row's detail for a change of an address: what it was and what it became, as JSON."""
    return json.dumps({"before": before, "after": after, **extra}, ensure_ascii=False, sort_keys=True,
                      default=str)
