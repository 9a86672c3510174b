"""Text messages kept by the development outbox (services/messages.py): the phone and the text sealed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.fieldcrypt import new_row_key, sealed
from portal.models.base import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))  # what the message is for, e.g. "record_access.code"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    phone_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    phone = sealed("phone_sealed")
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    text = sealed("text_sealed")
