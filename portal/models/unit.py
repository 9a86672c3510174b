"""Real units (实有单位), the people they employ, and the staff lists they upload."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fieldcrypt import new_row_key, sealed
from portal.models.address import Address
from portal.models.base import Base, UTCDateTime, str_enum, utcnow
from portal.models.register import STANDING_SQL, Person, RecordStatus
from portal.models.user import User


class UnitType(enum.StrEnum):
    enterprise = "enterprise"
    individual_business = "individual_business"
    public_institution = "public_institution"
    social_organisation = "social_organisation"


class SpecialTrade(enum.StrEnum):
    hotel = "hotel"
    seal_engraving = "seal_engraving"
    locksmith = "locksmith"
    scrap_metal = "scrap_metal"
    pawn = "pawn"
    used_vehicles = "used_vehicles"
    entertainment = "entertainment"


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("owner_id", "uscc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_type: Mapped[UnitType] = mapped_column(str_enum(UnitType))
    industry: Mapped[str] = mapped_column(String(60))
    special_trade: Mapped[SpecialTrade | None] = mapped_column(str_enum(SpecialTrade))
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"))
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id"), index=True)
    legal_rep_name: Mapped[str] = mapped_column(String(60))
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    legal_rep_id_number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    legal_rep_id_number = sealed("legal_rep_id_number_sealed")
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    address: Mapped[Address] = relationship()
    owner: Mapped[User] = relationship()


class StaffImport(Base):
    """One uploaded staff list: what it held, what was wrong, and what it changed."""

    __tablename__ = "staff_import"
    __table_args__ = (Index("ix_staff_import_unit_digest", "unit_id", "content_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the valid rows as normalised, so the same content in another file is recognised.
    content_digest: Mapped[str] = mapped_column(String(64))
    full_list: Mapped[bool] = mapped_column(Boolean, default=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    hires: Mapped[int] = mapped_column(Integer, default=0)
    departures: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship()


class Employment(Base):
    """A person working for a unit from hire to departure."""

    __tablename__ = "employment"
    __table_args__ = (
        Index("ix_employment_unit_active", "unit_id", "departure_date"),
        Index("ix_employment_person_active", "person_id", "departure_date"),
        # At most one standing employment of a person at a unit, whatever races (issue 12).
        Index("uq_employment_person_unit_active", "person_id", "unit_id", unique=True,
              sqlite_where=text(f"departure_date IS NULL AND {STANDING_SQL}"),
              postgresql_where=text(f"departure_date IS NULL AND {STANDING_SQL}")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(60))
    hire_date: Mapped[date | None] = mapped_column(Date)
    departure_date: Mapped[date | None] = mapped_column(Date)
    # The name and phone as the employer declared them: what the employer's own pages show.
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    declared_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    declared_phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    declared_name = sealed("declared_name_sealed")
    declared_phone = sealed("declared_phone_sealed")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # anonymised by retention
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus), default=RecordStatus.pending)

    unit: Mapped[Unit] = relationship()
    person: Mapped[Person] = relationship()
