"""A person's own view of who read their record (services/record_access.py): one row per person each time an
officer saw their full record, a full ID number of a report that named them, or a full export that included
them; and the one-time codes that open that view."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.audit import AuditEvent
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.jurisdiction import Bureau, Station


class RecordAccess(Base):
    """Who read one person's record: when, from which station, why, and (not shown to the person) the audit
    row that says which officer. `hold_requested_at`: the officer marked the act as part of an investigation,
    a request only (the row stays shown); `hold_until`: an auditor approved it, hidden from the person until
    then (four eyes: nobody holds back their own act alone)."""

    __tablename__ = "record_access"
    __table_args__ = (
        Index("ix_record_access_person", "person_id", "at"),
        Index("ix_record_access_event", "audit_event_id"),
        Index("ix_record_access_hold", "hold_until"),
        Index("ix_record_access_hold_request", "hold_requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"))
    kind: Mapped[str] = mapped_column(String(16))  # record_access.KINDS
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"))  # for bureau staff with no station
    reason: Mapped[str | None] = mapped_column(String(24))
    hold_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    station: Mapped[Station | None] = relationship()
    bureau: Mapped[Bureau | None] = relationship()
    # A relationship, so that a flush writes the audit row before the rows that name it (audit.record adds
    # its row unflushed): a bare foreign key does not order the INSERTs of one flush.
    audit_event: Mapped[AuditEvent] = relationship()


class AccessChallenge(Base):
    """One request for a code: made whether or not the number is on the register (`person_id` None), so that
    the page answers the same either way. The code is kept as a keyed hash, never in the clear; the browser's
    cookie holds a random token, kept here as its SHA-256 only (`token_hash`), never the row's id."""

    __tablename__ = "access_challenge"
    __table_args__ = (
        Index("ix_access_challenge_document", "id_index", "created_at"),
        Index("ix_access_challenge_source", "source", "created_at"),
        Index("ix_access_challenge_created", "created_at"),
        Index("ix_access_challenge_token", "token_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    id_index: Mapped[bytes] = mapped_column(LargeBinary(32))  # blind index of the document, for its rate limit
    source: Mapped[str | None] = mapped_column(String(64))  # throttle.source_key of the address that asked
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
