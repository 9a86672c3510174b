"""Summaries that the database keeps up to date itself, by triggers (migration 0026), for the quality rates.

The application never writes these tables: services/quality.py reads them, and tests compare them with a
full recount (quality.recount). Triggers rather than application code, because a house's status and address
and an address's level and beat are changed in several services (review effects, re-registration, merges,
jurisdiction moves), some with bulk UPDATE statements that no ORM event would see.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class QualityAddress(Base):
    """How many verified houses an address has (a row once it has had one). No foreign key: in a bulk load
    a house may come before its address; the address's own trigger then counts it in."""

    __tablename__ = "quality_address"
    address_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    verified_houses: Mapped[int] = mapped_column(Integer)


class QualityCoverage(Base):
    """House coverage (采集率) of a beat as it stands: its room-level addresses, and those of them with at
    least one verified house."""

    __tablename__ = "quality_coverage"
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    room_addresses: Mapped[int] = mapped_column(Integer)
    covered: Mapped[int] = mapped_column(Integer)
