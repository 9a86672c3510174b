"""The register itself: real houses (实有房屋), real population (实有人口) and who lives where."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.address import Address
from portal.models.base import Base, UTCDateTime, str_enum, utcnow
from portal.models.user import User

if TYPE_CHECKING:
    from portal.models.submission import Submission


class HouseUse(enum.StrEnum):
    whole_rental = "whole_rental"
    shared_rental = "shared_rental"
    owner_occupied_rooms = "owner_occupied_rooms"
    vacant = "vacant"
    business = "business"


class RecordStatus(enum.StrEnum):
    """Where a register record stands with the police: declared, verified, or refused."""

    pending = "pending"
    verified = "verified"
    rejected = "rejected"
    superseded = "superseded"
    withdrawn = "withdrawn"
    ended = "ended"


class IdType(enum.StrEnum):
    resident_id = "resident_id"
    passport = "passport"
    hk_macau_permit = "hk_macau_permit"
    taiwan_permit = "taiwan_permit"
    foreign_permanent_id = "foreign_permanent_id"


class House(Base):
    __tablename__ = "house"
    __table_args__ = (UniqueConstraint("address_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id"), index=True)
    use: Mapped[HouseUse] = mapped_column(str_enum(HouseUse))
    max_occupants: Mapped[int] = mapped_column(Integer)
    certificate_no: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    address: Mapped[Address] = relationship()
    owner: Mapped[User] = relationship()


class Person(Base):
    """One real person, keyed by identity document; details are the latest declared."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_type: Mapped[IdType] = mapped_column(str_enum(IdType))
    id_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tenancy(Base):
    """A person living in a house from move-in to move-out."""

    __tablename__ = "tenancy"
    __table_args__ = (
        Index("ix_tenancy_person_active", "person_id", "move_out_date"),
        Index("ix_tenancy_house_active", "house_id", "move_out_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("house.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    move_in_date: Mapped[date] = mapped_column(Date)
    lease_end_date: Mapped[date | None] = mapped_column(Date)
    move_out_date: Mapped[date | None] = mapped_column(Date)
    relation: Mapped[str | None] = mapped_column(String(40))
    occupation: Mapped[str | None] = mapped_column(String(60))
    workplace: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)

    house: Mapped[House] = relationship()
    person: Mapped[Person] = relationship()
    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id])  # the move-in that declared it
