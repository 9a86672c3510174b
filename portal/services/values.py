"""Normalisers and validators of single declared values, named by the declarations (services/declarations.py).

Each takes the value as sent (a form's string, a JSON member) and what was checked before it in the same
declaration (`Context`), and returns the value to keep or raises FieldError (without its field: the caller
puts it at the field it checks)."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.models import IdType
from portal.services import identity
from portal.services.errors import FieldError

Check = Callable[[object, "Context"], object]


@dataclass
class Context:
    """What one declaration's checks share: today, the values checked so far, and what a resident ID
    number says about its holder (set by `document_number`)."""

    today: date
    values: dict = field(default_factory=dict)
    resident: identity.ResidentId | None = None
    session: object = None  # for a check that reads the register (a known address)


class Skip(Exception):  # noqa: N818 - not an error: an earlier field's error says it already
    """The value cannot be checked because a field it depends on is wrong (that field has the error)."""


def blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not unicodedata.normalize("NFKC", raw).strip())


def text(limit: int, *, missing=None) -> Check:
    """Free text: NFKC, trimmed, at most `limit` characters, no control or invisible characters; optional
    unless `missing` (the message when it is left empty)."""
    def check(raw: object, _ctx: Context) -> str | None:
        value = unicodedata.normalize("NFKC", str(raw or "")).strip()
        if not value:
            if missing is not None:
                raise FieldError("required", missing)
            return None
        if len(value) > limit:
            raise FieldError("too_long", _l("Use at most %(n)d characters.", n=limit))
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
            raise FieldError("invalid_chars", _l("Remove the invisible or control characters."))
        return value
    return check


def person_name(missing=None) -> Check:
    def check(raw: object, _ctx: Context) -> str:
        if missing is not None and blank(raw):
            raise FieldError("required", missing)
        return identity.check_name(str(raw or ""))
    return check


def mobile(*, required: bool = False) -> Check:
    def check(raw: object, _ctx: Context) -> str | None:
        if blank(raw) and not required:
            return None
        return identity.check_mobile(str(raw or ""))
    return check


def one_of(names: Mapping, message, *, default: str | None = None, required: bool = False) -> Check:
    """One of the keys of `names`; empty gives `default` (or None, or the message when `required`)."""
    def check(raw: object, _ctx: Context) -> str | None:
        value = str(raw).strip() if isinstance(raw, str) else raw
        if not value:
            if required:
                raise FieldError("invalid_choice", message)
            return default
        if value not in names:
            raise FieldError("invalid_choice", message)
        return str(value)
    return check


def day(*, missing=None, past_only=False, after=None, after_message=None) -> Check:
    """A calendar date, YYYY-MM-DD, from 1900 on; optional unless `missing`; `past_only`: not after today;
    `after`: the name of an earlier date of the declaration that it may not precede."""
    def check(raw: object, ctx: Context) -> date | None:
        if blank(raw):
            if missing is not None:
                raise FieldError("required", missing)
            return None
        value = parse_day(raw)
        if past_only and value > ctx.today:
            raise FieldError("future_date", _l("This date cannot be in the future."))
        earlier = ctx.values.get(after) if after else None
        if earlier is not None and value < earlier:
            raise FieldError("before_birth", after_message)
        return value
    return check


def parse_day(raw: object) -> date:
    if isinstance(raw, date):
        value = raw
    else:
        try:
            value = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise FieldError("invalid_date", _l("Enter a real date, like 2026-03-05.")) from None
    if value.year < 1900:
        raise FieldError("invalid_date", _l("Enter a real date, like 2026-03-05."))
    return value


def whole_number(low: int, high: int, message) -> Check:
    """A whole number from `low` to `high`, as an integer or as the digits of one."""
    def check(raw: object, _ctx: Context) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise FieldError("invalid_number", message) from None
        if not low <= value <= high:
            raise FieldError("invalid_number", message)
        return value
    return check


def certificate(raw: object, _ctx: Context) -> str | None:
    """A property certificate number as printed: letters, digits and the marks certificates carry."""
    value = str(raw or "").strip().upper() or None
    if value and (len(value) > 40 or any(not (c.isalnum() or c in "-()（）号字第 ") for c in value)):
        raise FieldError("format", _l("Enter the certificate number as printed, at most 40 characters."))
    return value


def uscc(raw: object, _ctx: Context) -> str:
    return identity.check_uscc(str(raw or ""))


def resident_id(missing) -> Check:
    """A resident ID number (another person than the one the declaration is about: the number, and what it
    says about its holder, as identity.ResidentId)."""
    def check(raw: object, ctx: Context) -> identity.ResidentId:
        if blank(raw):
            raise FieldError("required", missing)
        return identity.check_resident_id(str(raw), today=ctx.today)
    return check


def known_address(raw: object, ctx: Context):
    """A standard address of the register, by its code."""
    from portal.services import addresses

    address = addresses.by_code(ctx.session, str(raw or ""))
    if address is None:
        raise FieldError("unknown_address", _l("There is no standard address with this code."))
    return address


# --- what depends on the identity document ---------------------------------------------------------

def document_type(names: Mapping) -> Check:
    return one_of(names, _l("Choose the type of identity document."), default=IdType.resident_id.value)


def document_number(patterns: Mapping) -> Check:
    """The number of the document chosen before it; a resident ID number also says sex, birth and region."""
    def check(raw: object, ctx: Context) -> str:
        id_type = ctx.values.get("id_type")
        if id_type is None:
            raise Skip()
        if id_type == IdType.resident_id:
            ctx.resident = identity.check_resident_id(str(raw or ""), today=ctx.today)
            return ctx.resident.number
        number = identity.normalise(str(raw or "")).replace(" ", "")
        if not number:
            raise FieldError("required", _l("Enter the document number."))
        if not patterns[IdType(id_type)].fullmatch(number):
            raise FieldError("format", _l("This does not look like a number of this type of document."))
        return number
    return check


def for_documents(documents: frozenset[str], check: Check, *, from_resident_id: str | None = None) -> Check:
    """Asked only with these documents (ignored with others); with a resident ID number, the value it
    carries (`from_resident_id`: the ResidentId attribute), never what was typed."""
    def run(raw: object, ctx: Context) -> object:
        id_type = ctx.values.get("id_type")
        if id_type == IdType.resident_id and from_resident_id:
            return getattr(ctx.resident, from_resident_id) if ctx.resident else None
        if id_type not in documents:
            return None
        return check(raw, ctx)
    return run


@cache
def alpha3_codes() -> dict[str, str]:
    """ISO 3166-1 alpha-3 -> alpha-2, from pycountry (the iso-codes data Debian keeps)."""
    import pycountry

    return {c.alpha_3: c.alpha_2 for c in pycountry.countries}


def country_names(locale=None) -> dict[str, str]:
    """ISO 3166-1 alpha-3 code -> the country's name in the reader's language (Babel's CLDR territory names),
    in the order of the names."""
    return _names(str(locale or get_locale() or "zh_Hans_CN"))


@cache
def _names(locale: str) -> dict[str, str]:
    from babel import Locale

    territories = Locale.parse(locale).territories
    names = {code: territories.get(two, code) for code, two in alpha3_codes().items()}
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(name)).lower()


def country(missing) -> Check:
    """A nationality: an ISO 3166-1 alpha-3 code, or a country's name in Chinese or English as the list
    offers it (typed or chosen), kept as the code."""
    def check(raw: object, _ctx: Context) -> str:
        value = unicodedata.normalize("NFKC", str(raw or "")).strip()
        if not value:
            raise FieldError("required", missing)
        code = value.upper()
        if code in alpha3_codes():
            return code
        for locale in ("zh_Hans_CN", "en"):
            for known, name in country_names(locale).items():
                if name.casefold() == value.casefold():
                    return known
        raise FieldError("invalid_country", _l("Choose the country from the list (or type its three-letter "
                                               "code, like USA)."))
    return check
