"""Declarations and the officers' decisions on them. A submission is never overwritten."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fieldcrypt import new_row_key, sealed
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.register import House, Tenancy
from portal.models.user import User


class SubmissionKind(enum.StrEnum):
    house_registration = "house_registration"
    move_in = "move_in"
    move_out = "move_out"
    unit_registration = "unit_registration"
    hire = "hire"
    departure = "departure"


class SubmissionStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"
    site_visit = "site_visit"
    superseded = "superseded"
    withdrawn = "withdrawn"

    # Open: waiting for the police (in a queue, withdrawable, counted as pending by the reporter's pages).
    OPEN = enum.nonmember(("pending", "site_visit"))


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (
        # The officer queues: open items of a beat or a station, oldest first, keyset-paged on
        # (submitted_at, id). One index range per query, so a page costs the same at any depth.
        Index("ix_submission_queue_beat", "beat_id", "is_open", "submitted_at", "id"),
        Index("ix_submission_queue_station", "station_id", "is_open", "submitted_at", "id"),
        # Filtering a queue by kind walks these instead of every open row of the station (bench/README.md).
        Index("ix_submission_queue_beat_kind", "beat_id", "is_open", "kind", "submitted_at", "id"),
        Index("ix_submission_queue_station_kind", "station_id", "is_open", "kind", "submitted_at", "id"),
        # A bureau's own staff see every station: their queue (and its export) walks the open items in order,
        # keeping its beats', instead of sorting every open item of the bureau for each page (bench/README.md).
        Index("ix_submission_queue_open", "is_open", "submitted_at", "id"),
        Index("ix_submission_reporter", "reporter_id", "submitted_at"),
        # The quality rates (services/quality.py): reports filed, and reports decided, by beat and time.
        Index("ix_submission_beat_filed", "beat_id", "submitted_at", "kind", "due_at"),
        Index("ix_submission_beat_decided", "beat_id", "decided_at", "status", "supersedes_id", "submitted_at"),
        # The "silent houses" anomaly list: whether a house has a report since a date, from the index alone.
        Index("ix_submission_house_submitted", "house_id", "submitted_at"),
        # A unit's reports of one kind (the anomaly lists link a unit to its registration among its many hires).
        Index("ix_submission_unit_kind", "unit_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubmissionKind] = mapped_column(Enum(SubmissionKind, native_enum=False, length=24))
    status: Mapped[SubmissionStatus] = mapped_column(Enum(SubmissionStatus, native_enum=False, length=16),
                                                     default=SubmissionStatus.pending)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    beat_id: Mapped[int] = mapped_column(ForeignKey("beat.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)  # pending or site_visit: in the queue
    house_id: Mapped[int | None] = mapped_column(ForeignKey("house.id"), index=True)
    tenancy_id: Mapped[int | None] = mapped_column(ForeignKey("tenancy.id", use_alter=True), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    employment_id: Mapped[int | None] = mapped_column(ForeignKey("employment.id", use_alter=True), index=True)
    staff_import_id: Mapped[int | None] = mapped_column(ForeignKey("staff_import.id"), index=True)
    # What the reporter declared, sealed as one JSON value (fieldcrypt.py): it names people.
    row_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_row_key)
    payload_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    payload = sealed("payload_sealed", kind=dict)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # personal fields removed by retention
    flags: Mapped[list] = mapped_column(JSON, default=list)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    # A one-time key issued with the form: a second POST of the same form finds the first submission.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    house: Mapped[House | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    # The tenancies a move-in declared, in the order of its people (inserted with it).
    tenancies: Mapped[list[Tenancy]] = relationship(foreign_keys="Tenancy.submission_id",
                                                    back_populates="submission", order_by="Tenancy.id")

    __mapper_args__ = {"version_id_col": version}


class Decision(Base):
    """One transition of a submission, by an officer or by its reporter."""

    __tablename__ = "decision"
    # The first officer decision of a report, read without visiting the table (services/quality.py).
    __table_args__ = (Index("ix_decision_submission_status_at", "submission_id", "to_status", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User] = relationship()
