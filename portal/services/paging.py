"""Keyset pages of a reporter's submissions, newest first, with an opaque cursor."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal.models import Submission, SubmissionKind, SubmissionStatus, User
from portal.services.errors import FieldError, ValidationFailed

PAGE_SIZE = 100


@dataclass(frozen=True)
class Cursor:
    """The last item of a page: the next page starts after it in (submitted_at, id) order, newest first."""

    submitted_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.submitted_at.astimezone(UTC).isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        if value in (None, ""):
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            when, _, ident = raw.partition("|")
            at = datetime.fromisoformat(when)
            number = int(ident)
            if at.tzinfo is None or not 0 < number < 2**31:
                raise ValueError(raw)
            return cls(at.astimezone(UTC), number)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ValidationFailed([FieldError("invalid_cursor",
                                               _l("This cursor is not one that the API gave out."),
                                               "cursor")]) from None


def submissions_page(session: Session, reporter: User, *, status: str | None = None, kind: str | None = None,
                     after: Cursor | None = None, size: int = PAGE_SIZE
                     ) -> tuple[list[Submission], Cursor | None]:
    """One page of the reporter's own submissions (the scoping of reporting.submissions_of), and the cursor
    of the next page or None. In the order the index ix_submission_reporter (reporter_id, submitted_at)
    serves."""
    query = select(Submission).where(Submission.reporter_id == reporter.id)
    if status:
        query = query.where(Submission.status == SubmissionStatus(status))
    if kind:
        query = query.where(Submission.kind == SubmissionKind(kind))
    if after is not None:
        query = query.where(or_(Submission.submitted_at < after.submitted_at,
                                and_(Submission.submitted_at == after.submitted_at,
                                     Submission.id < after.id)))
    rows = list(session.scalars(query.order_by(Submission.submitted_at.desc(), Submission.id.desc())
                                .limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], Cursor(last.submitted_at, last.id)


def encode_offset(offset: int) -> str:
    """The opaque cursor of a page of a ranked list (address search) that starts at this offset."""
    return base64.urlsafe_b64encode(f"o|{int(offset)}".encode()).decode().rstrip("=")


def parse_offset(value: str | None) -> int:
    """The offset of a cursor made by encode_offset (0 for none); 422 for anything the API did not give out."""
    if value in (None, ""):
        return 0
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        kind, _, number = raw.partition("|")
        if kind != "o" or not number.isdigit() or not 0 <= int(number) < 2**31:
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed([FieldError("invalid_cursor", _l("This cursor is not one that the API gave out."),
                                           "cursor")]) from None
