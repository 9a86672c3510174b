"""The one rule of who lives in a house now, used by every page, the API, the flags and the checks."""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists

from portal.models import RecordStatus, Submission, SubmissionKind, Tenancy


def standing(house_id=None) -> tuple:
    """Tenancies declared (pending) or verified and not ended: at most one per person and house (the
    database's partial unique index); a move-in of someone standing in the house is refused."""
    where = (Tenancy.move_out_date.is_(None), Tenancy.status.in_(RecordStatus.ACTIVE))
    return where if house_id is None else (Tenancy.house_id == house_id, *where)


def moving_out(tenancy_id=Tenancy.id) -> ColumnElement[bool]:
    """A move-out of the tenancy is waiting for the police: its landlord says the person has left."""
    return exists().where(Submission.kind == SubmissionKind.move_out, Submission.is_open.is_(True),
                          Submission.tenancy_id == tenancy_id)


def living(house_id=None) -> tuple:
    """Who lives there now: standing, and no move-out reported. What landlords, officers and the API are
    shown as a house's occupants, what a house's capacity counts, and where a person lives elsewhere."""
    return (*standing(house_id), ~moving_out())
