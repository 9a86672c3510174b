"""Personal API tokens and the idempotency records that make retried POSTs harmless."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fieldcrypt import new_row_key, sealed
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.user import User


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    # Only a SHA-256 of the token is stored; the prefix lets the owner tell tokens apart.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class IdempotencyRecord(Base):
    """The first response to a POST with an Idempotency-Key, replayed for every retry with that key."""

    __tablename__ = "idempotency_record"
    # Led by the key: the API's token lookup finds a key's answer through it in any plan (migration 0007).
    __table_args__ = (UniqueConstraint("key", "token_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)  # stored with the work, in its transaction
    # The answer names people (a move-in's occupants): sealed (fieldcrypt.py).
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    response_body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    response_body = sealed("response_body_sealed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
