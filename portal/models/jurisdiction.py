"""The jurisdiction tree: Bureau > Station > Beat."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base


class Bureau(Base):
    __tablename__ = "bureau"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    stations: Mapped[list[Station]] = relationship(back_populates="bureau", order_by="Station.code")


class Station(Base):
    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    bureau: Mapped[Bureau] = relationship(back_populates="stations")
    beats: Mapped[list[Beat]] = relationship(back_populates="station", order_by="Beat.code")


class Beat(Base):
    __tablename__ = "beat"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    station: Mapped[Station] = relationship(back_populates="beats")
