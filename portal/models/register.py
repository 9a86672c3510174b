"""The register itself: real houses (实有房屋), real population (实有人口) and who lives where."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fieldcrypt import new_row_key, sealed
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
        # The anomaly lists (services/anomalies.py), each beat an index range in id order: every house, the
        # houses over capacity, the houses by their eldest occupant's birth year.
        Index("ix_house_beat_house", "beat_id", "id"),
        Index("ix_house_anom_over_capacity", "beat_id", "id", sqlite_where=text("anom_living_count > max_occupants"),
              postgresql_where=text("anom_living_count > max_occupants")),
        Index("ix_house_anom_eldest", "beat_id", "anom_eldest_birth_year"),
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
    # Summaries for the anomaly lists, kept by database triggers (services/anomaly_summaries.py), never written
    # by the application: who lives here now (residence.living), the youngest and eldest birth year among them
    # (an unknown one counts as 0), and the time of the newest report on the house.
    anom_living_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    anom_youngest_birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    anom_eldest_birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    anom_last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

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
    tenancy or employment and in the submission.

    The ID number, name, phone and birth date are sealed (fieldcrypt.py): the database holds ciphertext,
    and blind indexes for the exact lookups (a person by ID, uniqueness, the officers' search by whole name
    or phone). `birth_year` stays in the clear for the age rules (services/anomalies.py)."""

    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("id_type", "id_index"),
        # The officers' search (services/register_search.py): a person by whole name, by phone.
        Index("ix_person_name_index", "name_index"),
        Index("ix_person_phone_index", "phone_index"),
        # The "two houses" anomaly list (services/anomalies.py): the people living in two houses or more.
        Index("ix_person_anom_two_houses", "id", sqlite_where=text("anom_living_count > 1"),
              postgresql_where=text("anom_living_count > 1")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_type: Mapped[IdType] = mapped_column(str_enum(IdType))
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    id_number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    id_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    name_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    id_number = sealed("id_number_sealed", index="id_index")
    name = sealed("name_sealed", index="name_index")
    phone = sealed("phone_sealed", index="phone_index")
    birth_date = sealed("birth_date_sealed", kind=date, derive={"birth_year": lambda d: d.year})
    # When retention anonymised the person (services/retention.py): nothing personal is left.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For a passport or permit (declarations.Occupant): ISO 3166-1 alpha-3; a passport's visa and its end.
    nationality: Mapped[str | None] = mapped_column(String(3))
    visa_kind: Mapped[str | None] = mapped_column(String(24))
    visa_expiry: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The confirmed report the details come from; None while no report naming the person is confirmed.
    details_submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    # The houses the person lives in now (residence.living), kept by database triggers for the anomaly lists
    # (services/anomaly_summaries.py), never written by the application.
    anom_living_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


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
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    declared_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    declared_phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    declared_name = sealed("declared_name_sealed")
    declared_phone = sealed("declared_phone_sealed")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # anonymised by retention
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)

    house: Mapped[House] = relationship()
    person: Mapped[Person] = relationship()
    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id],  # the move-in that declared it
                                                  back_populates="tenancies")
