"""The standard-address register (标准地址)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, UniqueConstraint, func, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, str_enum, utcnow
from portal.models.jurisdiction import Beat


class AddressLevel(enum.StrEnum):
    door_plate = "door_plate"
    building = "building"
    room = "room"


class AddressStatus(enum.StrEnum):
    """In use; retired (demolished, renumbered: kept for history, no new reports); merged into another address
    (``replaced_by``), whose code it stays an alias of."""

    active = "active"
    retired = "retired"
    merged = "merged"


#: The key columns of an address (normalised door, building, unit and room numbers).
KEY_COLUMNS = ("door_key", "building_key", "unit_key", "room_key")
#: Place names an address has, by kind: the columns whose names (and their pinyin) begin the words of its search
#: text after the first (services.addresses._search_text).
PLACE_KINDS = ("township", "road", "community")


def filled_keys():
    """How many of the key columns are filled: the first term of search's order for a query of text alone. Written
    as one SQL expression without parameters, so that the indexes below hold exactly it and a query that orders by
    it is read from them (a parameter where the index has a constant would not match)."""
    return literal_column("(" + " + ".join(f"CASE WHEN {c} <> '' THEN 1 ELSE 0 END" for c in KEY_COLUMNS) + ")")


def _in_search_order(kind: str, name: str) -> Index:
    """An index of the addresses of each place name of this kind, in search's order for text alone
    (services.place_names) down to the unit: a place's first page is read from it, not sorted from all its
    addresses. Many addresses share all these keys (the rooms of a unit), so PostgreSQL stores each key once."""
    def length(column: str):
        return func.length(literal_column(column))

    order = ["division_code", "township", "road", length("door_key"), "door_key", "community",
             length("building_key"), "building_key", length("unit_key"), "unit_key"]
    return Index(name, kind, filled_keys(), *(c for c in order if c != kind))


class Address(Base):
    """One door: the components in standard order, plus normalised keys that search uses."""

    __tablename__ = "address"
    __table_args__ = (
        UniqueConstraint(
            "division_code", "township", "road", "door_no", "community", "building", "unit", "room",
            name="uq_address_components",
        ),
        Index("ix_address_room_key", "room_key", "building_key"),
        Index("ix_address_door_key", "door_key"),
        # Coverage counts a beat's room addresses and looks up each one's houses: id in the index lets PostgreSQL
        # read it alone (SQLite keeps the rowid in every index anyway).
        Index("ix_address_beat_level", "beat_id", "level", "id"),
        # Whether a building has an address in a jurisdiction (the conflicting-claims list's wide houses), from
        # the index alone (migration 0032).
        Index("ix_address_building_beat", "division_code", "township", "road", "door_no", "community", "building",
              "beat_id"),
        # PostgreSQL finds the addresses whose text contains a piece of three characters or more through
        # this index (pg_trgm) instead of reading every address: migration 0008, bench/README.md.
        Index("ix_address_search_text_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "public.gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        # A query of the first keystrokes of a place name reads its places' addresses in order (migration 0025).
        _in_search_order("township", "ix_address_township_order"),
        _in_search_order("road", "ix_address_road_order"),
        _in_search_order("community", "ix_address_community_order"),
        # The conflicting-claims list (services/anomalies.py): the few building-level addresses, and the
        # addresses that two reporters' standing houses claim.
        Index("ix_address_level", "level"),
        Index("ix_address_anom_claimed_twice", "id", sqlite_where=text("anom_claimant_count > 1"),
              postgresql_where=text("anom_claimant_count > 1")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    division_code: Mapped[str] = mapped_column(String(6))
    division_name: Mapped[str] = mapped_column(String(60), default="")
    township: Mapped[str] = mapped_column(String(60), default="")
    road: Mapped[str] = mapped_column(String(60), default="")
    door_no: Mapped[str] = mapped_column(String(20), default="")
    community: Mapped[str] = mapped_column(String(60), default="")
    building: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20), default="")
    level: Mapped[AddressLevel] = mapped_column(Enum(AddressLevel, native_enum=False, length=16))
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id"), index=True)
    # Normalised forms ("13栋" -> "13") and one searchable text, filled by services.addresses.
    door_key: Mapped[str] = mapped_column(String(20), default="")
    building_key: Mapped[str] = mapped_column(String(20), default="")
    unit_key: Mapped[str] = mapped_column(String(20), default="")
    room_key: Mapped[str] = mapped_column(String(20), default="")
    search_text: Mapped[str] = mapped_column(String(400), default="")
    # The clerk's upkeep (services/address_upkeep.py): a retired or merged address stays, for its history and
    # its code on printed plates; replaced_by names the address to use instead (a merge's survivor).
    status: Mapped[AddressStatus] = mapped_column(str_enum(AddressStatus), default=AddressStatus.active,
                                                  server_default="active")
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How many owners have a standing house (declared or verified) here, kept by database triggers for the
    # anomaly lists (services/anomaly_summaries.py), never written by the application.
    anom_claimant_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    beat: Mapped[Beat] = relationship()
    replaced_by: Mapped[Address | None] = relationship(remote_side=[id])

    @property
    def is_active(self) -> bool:
        return self.status == AddressStatus.active

    @property
    def text(self) -> str:
        """The address in standard order, as printed on a door plate."""
        return address_text(self)


TEXT_COLUMNS = ("division_name", "township", "road", "door_no", "community", "building", "unit", "room")


def address_text(a) -> str:
    """The text of an address, from anything with its TEXT_COLUMNS as attributes (an Address, a Core row)."""
    parts = [a.division_name, a.township, a.road + a.door_no, a.community, a.building, a.unit, a.room]
    return " ".join(p for p in parts if p)


class AddressPairDismissal(Base):
    """A pair of addresses that a clerk said are not the same place: the duplicate finder shows it no more.
    ``first_id`` is the smaller id of the two."""

    __tablename__ = "address_pair_dismissal"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("address.id"))
    second_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlaceName(Base):
    """A township, road or community name that active addresses have, and how many: kept by database triggers on
    ``address`` (migration 0025), so that every way of writing addresses keeps it (the ORM, the import's Core
    statements, COPY). Search finds the places whose words begin a short query here (services.place_names)."""

    __tablename__ = "place_name"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    addresses: Mapped[int] = mapped_column(Integer)
