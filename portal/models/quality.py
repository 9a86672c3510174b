"""Summaries that the database keeps up to date itself, by triggers (migration 0026), for the quality rates.

The application never writes these tables: services/quality.py reads them, and tests compare them with a
full recount (quality.recount). Triggers rather than application code, because a house's status and address,
an address's level and beat, and a report's beat are changed in several services (review effects,
re-registration, merges, jurisdiction moves), some by bulk UPDATE statements that no ORM event would see.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
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


class QualityFiled(Base):
    """Timeliness (及时率) counts of a beat's move-in, move-out, hire and departure reports filed on one local
    (Beijing) day: those with a due time, those of them filed by it, those without one. A report counts in
    the beat it is in now (an open item that moves with its place moves its count too)."""

    __tablename__ = "quality_filed"
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    timed: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    untimed: Mapped[int] = mapped_column(Integer)


class QualityOpen(Base):
    """The reports of a beat filed on one local (Beijing) day that are open now (pending or site visit): the
    open items older than 3 days are the whole days before the cut-off's day, plus that day's part counted
    from the reports themselves."""

    __tablename__ = "quality_open"
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    open_items: Mapped[int] = mapped_column(Integer)
