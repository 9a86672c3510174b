"""The data keys that encrypt personal data, each wrapped under a master key of the key file (fieldcrypt.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow


class DataKey(Base):
    __tablename__ = "data_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    master_id: Mapped[str] = mapped_column(String(16))  # which master key of the key file wrapped it
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
