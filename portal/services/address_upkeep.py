"""The address clerk's upkeep of a bureau's standard addresses: the tree, adding, correcting and retiring an
address, and its history.

Scoping: a clerk keeps the addresses of one bureau (``clerk_bureau``); an address of another bureau does not
exist for them (NotFound). The components are checked by the import's own rules (addresses.check_address), so
that the CLI import, the web import and these forms accept and refuse the same things. Every change is audited
with what the address was and became (addresses.change_detail) and shown in its history. Services add and
flush; the view commits. Merging is in address_merge.py.
"""
from __future__ import annotations

import io
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from portal.files import private_folder
from portal.models import (
    Address,
    AddressLevel,
    AddressStatus,
    AuditEvent,
    Beat,
    Bureau,
    House,
    Station,
    Unit,
    User,
)
from portal.models.base import utcnow
from portal.services import address_duplicates, addresses, audit
from portal.services.errors import FieldError, NotFound, ValidationFailed
from portal.services.register import Page, decode_cursor, encode_cursor

PAGE_SIZE = 50
COMPONENTS = ("division_code", "division_name", "township", "road", "door_no", "community", "building", "unit",
              "room")
#: What a clerk adds: each kind names which components it has.
KINDS = ("door_plate", "building", "unit", "room")


# --- scope --------------------------------------------------------------------------------------------------

def clerk_bureau(session: Session, clerk: User) -> Bureau | None:
    """The bureau whose addresses a clerk keeps: their own, or that of the station or beat they were given."""
    if clerk.bureau_id is not None:
        return session.get(Bureau, clerk.bureau_id)
    station_id = clerk.station_id
    if station_id is None and clerk.beat_id is not None:
        station_id = session.scalar(select(Beat.station_id).where(Beat.id == clerk.beat_id))
    if station_id is None:
        return None
    return session.scalar(select(Bureau).join(Station, Station.bureau_id == Bureau.id).where(Station.id == station_id))


def beats_of(session: Session, clerk: User) -> list[Beat]:
    bureau = clerk_bureau(session, clerk)
    if bureau is None:
        return []
    return list(session.scalars(select(Beat).join(Station, Beat.station_id == Station.id)
                                .where(Station.bureau_id == bureau.id).order_by(Beat.code)))


def _beat_ids(session: Session, clerk: User) -> list[int]:
    return [b.id for b in beats_of(session, clerk)] or [0]


def address(session: Session, clerk: User, address_id: int) -> Address:
    """An address of the clerk's bureau; any other does not exist for them."""
    found = session.scalar(select(Address).where(Address.id == address_id,
                                                 Address.beat_id.in_(_beat_ids(session, clerk))))
    if found is None:
        raise NotFound()
    return found


def address_by_code(session: Session, clerk: User, code: str) -> Address | None:
    """An address of the clerk's bureau by its code exactly as stored (merged ones included), or None."""
    value = addresses.normalise_code(code)
    if value is None:
        return None
    return session.scalar(select(Address).where(Address.code == value,
                                                Address.beat_id.in_(_beat_ids(session, clerk))))


# --- the tree: road > door plate > building > unit > room ------------------------------------------------------

ROAD = (Address.division_code, Address.township, Address.road)


@dataclass
class Node:
    """One place of the tree: ``anchor_id`` an address of it (the link to its page), ``label`` its name,
    ``count`` its addresses, ``address`` the address that is the place itself when there is one."""

    anchor_id: int
    label: str
    count: int
    address: Address | None = None
    community: str = ""  # of a building


def _grouped(session: Session, clerk: User, where: tuple, group: tuple, key: tuple, shape: tuple,
             cursor: str | None, size: int) -> tuple[list, str | None]:
    """Keyset page of the groups of `group` (ordered by `key`, a tuple of SQL expressions of the group)."""
    after = decode_cursor(cursor, shape)
    query = (select(*key, *group, func.min(Address.id), func.count())
             .where(Address.beat_id.in_(_beat_ids(session, clerk)), *where).group_by(*group))
    if after is not None:
        query = query.having(tuple_(*key) > tuple_(*after))
    found = list(session.execute(query.order_by(*key).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    last = tuple(found[-1][: len(key)]) if more and found else None
    return found, encode_cursor(last) if last is not None else None


def roads(session: Session, clerk: User, cursor: str | None = None, *, size: int = PAGE_SIZE) -> Page:
    """The roads of the bureau, in standard order."""
    found, nxt = _grouped(session, clerk, (), ROAD, ROAD, (str, str, str), cursor, size)
    return Page([Node(r[6], " ".join(p for p in (r[1], r[2]) if p), r[7]) for r in found], nxt)


def _same(anchor: Address, columns: tuple) -> tuple:
    return tuple(c == getattr(anchor, c.key) for c in columns)


def _itself(session: Session, rows: list[Node], where: tuple, level: AddressLevel, column) -> None:
    """Put on each node the address that is the place itself (a door plate, a building), if there is one."""
    labels = {n.label for n in rows}
    if not labels:
        return
    found = session.scalars(select(Address).where(*where, Address.level == level, column.in_(labels)))
    own = {getattr(a, column.key): a for a in found}
    for node in rows:
        node.address = own.get(node.label)


def doors(session: Session, clerk: User, road: Address, cursor: str | None = None, *,
          size: int = PAGE_SIZE) -> Page:
    """The door numbers of a road, in number order (2号 before 13号)."""
    where = _same(road, ROAD)
    key = (func.length(Address.door_key), Address.door_key, Address.door_no)
    found, nxt = _grouped(session, clerk, where, (Address.door_key, Address.door_no), key, (int, str, str),
                          cursor, size)
    rows = [Node(r[5], r[2], r[6]) for r in found]
    _itself(session, rows, where + (Address.beat_id.in_(_beat_ids(session, clerk)), Address.building == ""),
            AddressLevel.door_plate, Address.door_no)
    return Page(rows, nxt)


DOOR = (*ROAD, Address.door_no)


def buildings(session: Session, clerk: User, door: Address, cursor: str | None = None, *,
              size: int = PAGE_SIZE) -> Page:
    """The buildings at a door plate (the door plate itself under an empty name), by community and number."""
    where = _same(door, DOOR) + (Address.beat_id.in_(_beat_ids(session, clerk)),)
    key = (Address.community, func.length(Address.building_key), Address.building_key, Address.building)
    found, nxt = _grouped(session, clerk, where, (Address.community, Address.building_key, Address.building), key,
                          (str, int, str, str), cursor, size)
    rows = [Node(r[7], r[3], r[8], community=r[0]) for r in found]
    for node in rows:
        node.address = session.scalar(select(Address).where(*where, Address.community == node.community,
                                                            Address.building == node.label, Address.unit == "",
                                                            Address.room == ""))
    return Page(rows, nxt)


BUILDING = (*DOOR, Address.community, Address.building)


def units(session: Session, clerk: User, building: Address, cursor: str | None = None, *,
          size: int = PAGE_SIZE) -> Page:
    """The units of a building (rooms without a unit under an empty name), in number order."""
    where = _same(building, BUILDING) + (Address.building != "", Address.beat_id.in_(_beat_ids(session, clerk)))
    key = (func.length(Address.unit_key), Address.unit_key, Address.unit)
    found, nxt = _grouped(session, clerk, where, (Address.unit_key, Address.unit), key, (int, str, str), cursor, size)
    rows = [Node(r[5], r[2], r[6]) for r in found]
    for node in rows:
        node.address = session.scalar(select(Address).where(*where, Address.unit == node.label, Address.room == ""))
    return Page(rows, nxt)


def rooms(session: Session, clerk: User, unit: Address, cursor: str | None = None, *,
          size: int = PAGE_SIZE) -> Page:
    """The rooms of one unit of a building (of the anchor's building and unit), in number order."""
    after = decode_cursor(cursor, (int, str, int))
    key = (func.length(Address.room_key), Address.room_key, Address.id)
    query = select(*key, Address).where(*_same(unit, BUILDING), Address.unit == unit.unit, Address.room != "",
                                        Address.beat_id.in_(_beat_ids(session, clerk)))
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after))
    found = list(session.execute(query.order_by(*key).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    return Page([r[3] for r in found], encode_cursor(tuple(found[-1][:3])) if more and found else None)


# --- one address ----------------------------------------------------------------------------------------------

@dataclass
class AddressView:
    address: Address
    houses: int
    units: int
    aliases: list[Address]


def view(session: Session, clerk: User, address_id: int) -> AddressView:
    a = address(session, clerk, address_id)
    houses = session.scalar(select(func.count()).select_from(House).where(House.address_id == a.id)) or 0
    n_units = session.scalar(select(func.count()).select_from(Unit).where(Unit.address_id == a.id)) or 0
    aliases = list(session.scalars(select(Address).where(Address.replaced_by_id == a.id,
                                                         Address.status == AddressStatus.merged)
                                   .order_by(Address.id)))
    return AddressView(a, houses, n_units, aliases)


def kind_of(a: Address) -> str:
    """What a clerk calls the address: a door plate, a building, a unit (a building's unit without a room), a room."""
    if a.level == AddressLevel.building and a.unit:
        return "unit"
    return str(a.level)


def components(a: Address) -> dict[str, str]:
    return {c: getattr(a, c) or "" for c in COMPONENTS}


_KIND_FIELDS = {"door_plate": (), "building": ("building",), "unit": ("building", "unit"),
                "room": ("building", "room")}


def _check_kind(kind: str, values: dict[str, str]) -> list[FieldError]:
    """A door plate has no building, unit or room; a building no unit or room; a unit no room; a room a room."""
    errors = []
    needed = _KIND_FIELDS[kind]
    for name in ("building", "unit", "room"):
        if name in needed and not values[name]:
            errors.append(FieldError("required", _l("Required."), name))
        elif name not in needed and values[name] and not (kind == "room" and name == "unit"):
            errors.append(FieldError("not_this_kind", _l("Leave this empty for this kind of address."), name))
    return errors


def _checked(beat: Beat, kind: str, raw: dict[str, Any]) -> dict[str, str]:
    """The components as the import cleans and checks them, for a new or corrected address in this beat."""
    cells = {c: str(raw.get(c) or "") for c in COMPONENTS}
    station, bureau = beat.station, beat.station.bureau
    cells.update(bureau_code=bureau.code, bureau_name=bureau.name, station_code=station.code,
                 station_name=station.name, beat_code=beat.code, beat_name=beat.name, code="")
    values, row_errors = addresses.check_address(cells)
    errors = [FieldError(e.code, e.message, e.column or None) for e in row_errors]
    if not any(e.field in ("building", "unit", "room") for e in errors):
        errors += _check_kind(kind, values)
    if errors:
        raise ValidationFailed(errors)
    return {c: values[c] for c in COMPONENTS}


def _natural_key(values: dict[str, str]) -> tuple[str, ...]:
    return tuple(values[c] for c in addresses.NATURAL_KEY)


def _ensure_unique(session: Session, clerk: User, values: dict[str, str], itself: int | None) -> None:
    """No two addresses alike: not the same components, nor the same written another way (13栋 and 十三幢).
    The register is one, so another bureau's address refuses too, but unnamed: it does not exist for the clerk."""
    same = session.scalar(select(Address).where(
        *(getattr(Address, c) == values[c] for c in addresses.NATURAL_KEY), Address.id != (itself or 0)))
    if same is None:
        probe = addresses.fill_derived(Address(**values))
        near = session.scalars(select(Address).where(
            Address.division_code == values["division_code"], Address.door_key == probe.door_key,
            Address.building_key == probe.building_key, Address.unit_key == probe.unit_key,
            Address.room_key == probe.room_key, Address.id != (itself or 0)))
        same = next((a for a in near if address_duplicates.score(probe, a) == (1.0, "same")), None)
    if same is not None and same.beat_id not in _beat_ids(session, clerk):
        raise ValidationFailed([FieldError("address_exists", _l(
            "This address is on the register already, kept by another bureau: ask the register's "
            "administrator."), "road")])
    if same is not None:
        raise ValidationFailed([FieldError("address_exists", _l(
            "This is the address %(address)s (code %(code)s) already: two addresses may not be the same.",
            address=same.text, code=same.code), "road")])


def _beat_of(session: Session, clerk: User, beat_id: object) -> Beat:
    beats = {b.id: b for b in beats_of(session, clerk)}
    try:
        return beats[int(str(beat_id))]
    except (KeyError, ValueError):
        raise ValidationFailed([FieldError("beat", _l("Choose a beat of your bureau."), "beat_id")]) from None


def add(session: Session, clerk: User, kind: str, beat_id: object, raw: dict[str, Any], actor: audit.Actor
        ) -> Address:
    """A new address of this kind in a beat of the clerk's bureau, with its code made from its components."""
    if kind not in KINDS:
        raise ValidationFailed([FieldError("kind", _l("Choose what you are adding."), "kind")])
    beat = _beat_of(session, clerk, beat_id)
    values = _checked(beat, kind, raw)
    _ensure_unique(session, clerk, values, None)
    code = addresses.make_code(*_natural_key(values))
    if session.scalar(select(Address.id).where(Address.code == code)) is not None:  # a hash that met another
        raise ValidationFailed([FieldError("code_taken", _l("This address cannot be given a code: ask the "
                                                            "register's administrator."), "road")])
    a = addresses.fill_derived(Address(code=code, beat_id=beat.id, **values))
    session.add(a)
    session.flush()
    audit.record(session, "address.create", actor, object_type="address", object_id=a.id,
                 detail=addresses.change_detail(None, {**components(a), "beat_id": a.beat_id}))
    return a


def _ensure_active(a: Address, field: str | None = None) -> None:
    if a.status != AddressStatus.active:
        raise ValidationFailed([FieldError("address_not_active", _l(
            "This address is retired or merged into another: it is kept as it was."), field)])


def edit(session: Session, clerk: User, address_id: int, raw: dict[str, Any], actor: audit.Actor) -> Address:
    """Correct the components of an address; its code and beat never change, nor what kind of address it is."""
    a = address(session, clerk, address_id)
    _ensure_active(a)
    values = _checked(a.beat, kind_of(a), raw)
    before = components(a)
    if values == before:
        return a
    _ensure_unique(session, clerk, values, a.id)
    for name, value in values.items():
        setattr(a, name, value)
    addresses.fill_derived(a)
    session.flush()
    audit.record(session, "address.edit", actor, object_type="address", object_id=a.id,
                 detail=addresses.change_detail(before, values))
    return a


def retire(session: Session, clerk: User, address_id: int, replacement_code: str | None, actor: audit.Actor
           ) -> Address:
    """Retire an address (demolished, renumbered): it stays, readable, and new reports on it are refused, naming
    the address that replaced it when one is given (an active address of the bureau, not itself)."""
    a = address(session, clerk, address_id)
    _ensure_active(a)
    replacement = None
    if (replacement_code or "").strip():
        replacement = address_by_code(session, clerk, replacement_code or "")
        if replacement is None:
            raise ValidationFailed([FieldError("unknown_address", _l(
                "There is no address of your bureau with this code."), "replacement")])
        if replacement.id == a.id:
            raise ValidationFailed([FieldError("itself", _l("An address cannot replace itself."), "replacement")])
        _ensure_active(replacement, "replacement")
    a.status, a.retired_at, a.replaced_by = AddressStatus.retired, utcnow(), replacement
    session.flush()
    audit.record(session, "address.retire", actor, object_type="address", object_id=a.id,
                 detail=addresses.change_detail({"status": "active"}, {
                     "status": "retired", "replaced_by": replacement.code if replacement else None}))
    return a


# --- history --------------------------------------------------------------------------------------------------

@dataclass
class HistoryRow:
    at: datetime
    action: str
    who: str
    changes: list[tuple[str, Any, Any]]  # (what, before, after)
    note: dict[str, Any]


def _changes(detail: str | None) -> tuple[list[tuple[str, Any, Any]], dict[str, Any]]:
    try:
        data = json.loads(detail or "")
    except ValueError:
        return [], {}
    if not isinstance(data, dict):
        return [], {}
    before, after = data.pop("before", None) or {}, data.pop("after", None) or {}
    names = list(dict.fromkeys([*after, *before]))
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)], data


def history(session: Session, clerk: User, address_id: int, cursor: str | None = None, *,
            size: int = PAGE_SIZE) -> tuple[Address, Page]:
    """Every audited change of an address, newest first (keyset on the audit row's id)."""
    a = address(session, clerk, address_id)
    after = decode_cursor(cursor, (int,))
    query = (select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
             .where(AuditEvent.object_type == "address", AuditEvent.object_id == str(a.id)))
    if after is not None:
        query = query.where(AuditEvent.id < after[0])
    found = list(session.execute(query.order_by(AuditEvent.id.desc()).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    rows = []
    for event, name in found:
        changes, note = _changes(event.detail)
        rows.append(HistoryRow(event.at, event.action, name or "", changes, note))
    return a, Page(rows, encode_cursor((found[-1][0].id,)) if more and found else None)


# --- the web import: a preview of every row, then the import of the same file --------------------------------

#: The most rows one file sent through the web may have; larger files go through `flask addresses import`.
MAX_WEB_ROWS = 5000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)


def _bureau_code(session: Session, clerk: User) -> str:
    bureau = clerk_bureau(session, clerk)
    if bureau is None:
        raise NotFound()
    return bureau.code


def preview_import(session: Session, clerk: User, data: bytes
                   ) -> tuple[list[addresses.PreviewRow], list[addresses.RowError]]:
    """What importing the file would do to each row, for the clerk's bureau; nothing is written."""
    bureau_code = _bureau_code(session, clerk)
    if data.count(b"\n") > MAX_WEB_ROWS + 1:
        return [], [addresses.RowError(1, "", "too_many_rows", _l(
            "The file has more than %(n)d rows: split it, or ask for it to be imported with “flask addresses "
            "import”.", n=MAX_WEB_ROWS))]
    return addresses.preview_csv(session, io.BytesIO(data), bureau_code=bureau_code)


def run_import(session: Session, clerk: User, data: bytes, actor: audit.Actor) -> addresses.ImportReport:
    """Import the file as previewed (checked again: the register may have changed), each change audited."""
    rows, problems = preview_import(session, clerk, data)
    if problems:
        report = addresses.ImportReport()
        report.errors = problems
        return report
    return addresses.import_csv(session, io.BytesIO(data), actor=actor, bureau_code=_bureau_code(session, clerk))


def keep_file(directory: Path, data: bytes) -> str:
    """Keep an uploaded file between its preview and its import; the token names it."""
    private_folder(directory)
    token = secrets.token_urlsafe(24)
    path = directory / f"{token}.csv"
    path.write_bytes(data)
    path.chmod(0o600)
    return token


def kept_file(directory: Path, token: str | None) -> bytes | None:
    if not token or not _TOKEN.fullmatch(token):
        return None
    path = directory / f"{token}.csv"
    return path.read_bytes() if path.is_file() else None


def forget_file(directory: Path, token: str | None) -> None:
    if token and _TOKEN.fullmatch(token):
        (directory / f"{token}.csv").unlink(missing_ok=True)
