"""Jinja filters and display names shared by every template."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import charts
from portal.models.base import utcnow
from portal.services import attention, declarations, drafts, identity, receipts, values

LOCAL = ZoneInfo("Asia/Shanghai")

USE_NAMES, ID_TYPE_NAMES = declarations.USE_NAMES, declarations.ID_TYPE_NAMES
RELATION_NAMES = declarations.RELATION_NAMES

HOUSE_STATUS_NAMES = {
    "pending": _l("Waiting for the police"),
    "verified": _l("Verified by the police"),
    "rejected": _l("Rejected"),
    "superseded": _l("Replaced by a correction"),
    "withdrawn": _l("Withdrawn"),
    "ended": _l("Moved out"),
}


def localtime(value: datetime | None) -> str:
    """The one way a time is shown to a person: Beijing time (the database keeps UTC)."""
    if value is None:
        return ""
    return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def local_today_stamp() -> str:
    """Today in Beijing as YYYYMMDD: the date in an export's file name."""
    return utcnow().astimezone(LOCAL).strftime("%Y%m%d")


def last_day(due_at: datetime | None) -> str:
    """The last day a report may be made on, in the reader's language (3 December 2026, 2026年12月3日):
    due_at is the start of the next day in Beijing, which "12-04 00:00" would make people misread."""
    day = attention.last_day(due_at)
    return format_date(day, "long") if day else ""


def local_date(value: datetime | None) -> str:
    """The local (Beijing) date of a time, in the reader's language."""
    return format_date(value.astimezone(LOCAL).date(), "long") if value else ""


def format_day(value) -> str:
    """A calendar date (a lease end, a move-in) in the reader's language, kept on one line."""
    return format_date(value, "long") if value else ""


def kept_until(draft) -> str:
    """The last day an untouched draft is kept, in the reader's language."""
    return local_date(drafts.expires_at(draft))


def age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in whole hours, or days and hours: the age of a queue item."""
    if value is None:
        return ""
    hours = max(int(((now or utcnow()) - value).total_seconds() // 3600), 0)
    if hours < 24:
        return _("%(h)d h", h=hours)
    return _("%(d)d d %(h)d h", d=hours // 24, h=hours % 24)


def shown_value(about: declarations.About, value, audience: str = "declarer") -> str:
    """A declared value as a page shows it: a listed value by its name, a nationality by the country's name
    and code, and personal data masked by its kind's rule (identity.masked) unless `audience` is "declarer"
    (the reporter's own check page, before sending: their own typing in full)."""
    if about.personal and audience != "declarer":
        return identity.masked(value, about.personal, audience)
    if about.names is not None:
        return str(about.names.get(value, value))
    if about.input == "country":
        name = values.country_names().get(value)
        return f"{name} ({value})" if name else str(value)
    return str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        receipt=receipts.display, localtime=localtime, mask_id=identity.mask_id, mask_phone=identity.mask_phone,
        percent=charts.percent, hours=charts.hours, age=age, mask_name=identity.mask_name,
        last_day=last_day, local_date=local_date, kept_until=kept_until, uscc=identity.normalise_uscc)
    app.jinja_env.globals.update(use_names=USE_NAMES, id_type_names=ID_TYPE_NAMES, relation_names=RELATION_NAMES,
                             house_status_names=HOUSE_STATUS_NAMES,
                             format_day=format_day, declared=declarations.DECLARATIONS,
                             declared_fields=declarations.fields, declared_shown=declarations.shown,
                             shown_value=shown_value, country_names=values.country_names)
    app.jinja_env.filters.update(masked=identity.masked)
