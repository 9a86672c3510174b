"""Half-finished journeys, kept on the server (never in the cookie: they hold personal data)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.fieldcrypt import new_row_key, sealed
from portal.models.base import Base, UTCDateTime, utcnow


class Draft(Base):
    __tablename__ = "draft"

    # The key is also the one-time form key of the submission the draft becomes.
    key: Mapped[str] = mapped_column(String(43), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    data_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the answers so far, sealed (fieldcrypt.py)
    data = sealed("data_sealed", kind=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
