"""The register itself: real houses (实有房屋), real population (实有人口) and who lives where."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
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

    # Active: declared or verified, the record stands (a tenancy, an employment, a house, a unit).
    ACTIVE = enum.nonmember(("pending", "verified"))


class IdType(enum.StrEnum):
    resident_id = "resident_id"
    passport = "passport"
    hk_macau_permit = "hk_macau_permit"
    taiwan_permit = "taiwan_permit"
    foreign_permanent_id = "foreign_permanent_id"


class House(Base):
    __tablename__ = "house"
    __table_args__ = (
        UniqueConstraint("address_id", "owner_id"),
        Index("ix_house_address_status", "address_id", "status"),  # coverage: is an address's house verified
    )

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


# A record that stands (declared and waiting for the police, or verified), in SQL: the condition of the
# partial unique indexes that let no race make two tenancies or employments of one person at one place.
STANDING_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in RecordStatus.ACTIVE))


class Person(Base):
    """One real person, keyed by identity document.

    The details are the register's: those of the first report that named the person until an officer
    confirms a report, then those of the latest confirmed report (`details_submission_id` says which). A
    report that is only declared never changes them: what each reporter declared stays on their own
    tenancy or employment and in the submission."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number"),
        # The officers' search (services/register_search.py): a person by whole name, by phone.
        Index("ix_person_name", "name"),
        Index("ix_person_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_type: Mapped[IdType] = mapped_column(str_enum(IdType))
    id_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    # For a passport or permit (declarations.Occupant): ISO 3166-1 alpha-3; a passport's visa and its end.
    nationality: Mapped[str | None] = mapped_column(String(3))
    visa_kind: Mapped[str | None] = mapped_column(String(24))
    visa_expiry: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The confirmed report the details come from; None while no report naming the person is confirmed.
    details_submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))


class Tenancy(Base):
    """A person living in a house from move-in to move-out."""

    __tablename__ = "tenancy"
    __table_args__ = (
        Index("ix_tenancy_person_active", "person_id", "move_out_date"),
        Index("ix_tenancy_house_active", "house_id", "move_out_date"),
        # At most one standing tenancy of a person in a house, whatever races (issue 12).
        Index("uq_tenancy_person_house_active", "person_id", "house_id", unique=True,
              sqlite_where=text(f"move_out_date IS NULL AND {STANDING_SQL}"),
              postgresql_where=text(f"move_out_date IS NULL AND {STANDING_SQL}")),
        # The "leases ended" anomaly list (services/anomalies.py): standing tenancies by lease end.
        Index("ix_tenancy_lease_end_standing", "lease_end_date", "id",
              sqlite_where=text(f"move_out_date IS NULL AND {STANDING_SQL}"),
              postgresql_where=text(f"move_out_date IS NULL AND {STANDING_SQL}")),
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
    # The name and phone as this tenancy's landlord declared them: what the landlord's own pages show.
    declared_name: Mapped[str] = mapped_column(String(60))
    declared_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)

    house: Mapped[House] = relationship()
    person: Mapped[Person] = relationship()
    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id],  # the move-in that declared it
                                                  back_populates="tenancies")
