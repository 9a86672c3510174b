"""Which part of the city an officer may see."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Beat, Role, User


def beat_ids_for(session: Session, user: User) -> list[int]:
    """A beat officer sees the beat; a station officer every beat of the station; others nothing."""
    if user.role != Role.officer:
        return []
    if user.beat_id is not None:
        return [user.beat_id]
    if user.station_id is not None:
        return list(session.scalars(select(Beat.id).where(Beat.station_id == user.station_id)))
    return []


def describe(user: User) -> str:
    if user.beat is not None:
        return f"{user.beat.station.name} · {user.beat.name}"
    if user.station is not None:
        return user.station.name
    return ""


def beats_for(session: Session, user: User) -> list[Beat]:
    ids = beat_ids_for(session, user)
    return list(session.scalars(select(Beat).where(Beat.id.in_(ids)).order_by(Beat.code))) if ids else []
