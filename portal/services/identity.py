"""Validation of identity data: resident ID numbers, USCC, phone numbers and personal names."""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric, uscc

from portal.services.errors import FieldError

RIC_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
PERMIT_PREFIXES = ("810000", "820000", "830000")  # HK, Macau, Taiwan residence permits
MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
# Letters (any script), the middle dot used in transliterated names, space, apostrophe and hyphen.
NAME_ALLOWED_PUNCT = {"·", " ", "'", "-"}
# What people type between the groups of an ID number (430302 19900101 1234, 430302-19900101-1234): spaces
# and hyphens, after NFKC (which makes the full-width and no-break ones ASCII). Nothing else is dropped: a
# line break or a tab inside a number is a pasting accident, refused as a format error.
ID_SEPARATORS = re.compile(r"[ \-\u2010-\u2015\u2212]+")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "M" or "F"
    region_known: bool

    @property
    def masked(self) -> str:
        return mask_id(self.number)


def mask_id(number: str | None) -> str:
    """430302********1234: region and last four only."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str | None) -> str:
    """张*, 欧阳**: the first character only, as lists show a person (the item page shows the whole name)."""
    if not name:
        return ""
    return name[0] + "*" * min(len(name) - 1, 3)


def mask_address(text: str | None) -> str:
    """湖南省湘潭市雨湖区****: the division (the first nine characters at most), never the road, building or room."""
    if not text:
        return ""
    return text[: min(9, len(text) // 2)] + "****"


# One masking rule per kind of personal value (declarations.About.personal), for every page and the API,
# by who reads it: a list (anyone's), an officer's item page, or the reporter's own report once sent (the
# check page before sending shows the reporter's own typing in full, unmasked). "contact_phone" is a unit's
# security contact: a business contact that officers call, so in full to them, masked for everyone else
# (README, "Masking").
MASKS = {"id_number": mask_id, "phone": mask_phone, "contact_phone": mask_phone, "name": mask_name,
         "address": mask_address}
IN_FULL = {"list": frozenset(), "officer": frozenset({"name", "address", "contact_phone"}),
           "reporter": frozenset({"name", "address"})}


def masked(value: object, kind: str | None, audience: str = "list") -> str:
    """The value as `audience` sees it: masked by the rule of its kind unless that audience sees it whole."""
    if value is None:
        return ""
    if kind not in MASKS or kind in IN_FULL[audience]:
        return str(value)
    return MASKS[kind](str(value))


def normalise(raw: str | None) -> str:
    """NFKC (full-width digits become ASCII), strip, upper-case."""
    return unicodedata.normalize("NFKC", raw or "").strip().upper()


def normalise_resident_id(raw: str | None) -> str:
    """An ID number as typed, in the one form it is checked and kept in: NFKC, strip, upper-case
    (`normalise`), then the spaces and hyphens between its groups taken out."""
    return ID_SEPARATORS.sub("", normalise(raw))


def check_resident_id(raw: str | None, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number; raises FieldError.

    The region code never decides validity: a number keeps the region code in force when it was
    first issued, which may postdate the birth date (SECURITY.md). An unknown region is a flag.
    """
    today = today or date.today()
    number = normalise_resident_id(raw)
    if not number:
        raise FieldError("required", _l("Enter the ID number."))
    if len(number) == 15 and number.isdigit():
        raise FieldError("legacy_id", _l("15-digit ID numbers are no longer accepted; enter the 18-character number."))
    if not RIC_SHAPE.fullmatch(number):
        raise FieldError("format", _l("An ID number has 17 digits followed by a digit or X."))
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise FieldError("birth_date", _l("The birth date inside this ID number does not exist.")) from None
    if birth.year < 1900 or birth > today:
        raise FieldError("birth_date", _l("The birth date inside this ID number is not plausible."))
    if ric.calc_check_digit(number) != number[17]:  # stdnum expects the check character included
        raise FieldError("checksum", _l("This ID number is not valid: check for a mistyped digit."))
    return ResidentId(
        number=number,
        birth_date=birth,
        sex="M" if int(number[16]) % 2 else "F",
        region_known=region_known(number[:6]),
    )


@functools.lru_cache(maxsize=4096)
def region_known(code: str) -> bool:
    """Whether a 6-digit division code ever existed (stdnum ships the GB/T 2260 history)."""
    if code in PERMIT_PREFIXES:
        return True
    results = numdb.get("cn/loc").info(code)
    return any(props for _part, props in results)


def normalise_uscc(raw: str | None) -> str:
    """A unified social credit code as it is checked and shown: upper case, no spaces or hyphens."""
    return ID_SEPARATORS.sub("", normalise(raw))


def check_uscc(raw: str | None) -> str:
    value = normalise_uscc(raw)
    if not value:
        raise FieldError("required", _l("Enter the unified social credit code."))
    try:
        return uscc.validate(value)
    except Exception:  # stdnum raises a bare ValueError on some input, ValidationError on the rest
        raise FieldError("checksum", _l("This unified social credit code is not valid.")) from None


def check_mobile(raw: str | None) -> str:
    value = unicodedata.normalize("NFKC", raw or "").strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not value:
        raise FieldError("required", _l("Enter a mobile phone number."))
    if not MOBILE.fullmatch(value):
        raise FieldError("phone", _l("Enter a mainland China mobile number of 11 digits, like 13812345678."))
    return value


def check_name(raw: str | None) -> str:
    value = unicodedata.normalize("NFKC", raw or "").strip()
    value = re.sub(r" {2,}", " ", value)
    if not value:
        raise FieldError("required", _l("Enter the name."))
    if len(value) > 60:
        raise FieldError("too_long", _l("A name can have at most 60 characters."))
    for ch in value:
        if ch in NAME_ALLOWED_PUNCT:
            continue
        cat = unicodedata.category(ch)
        if not cat.startswith("L") and cat not in ("Mn", "Mc"):
            raise FieldError("name_chars", _l("A name can contain only letters, ·, spaces, apostrophes and hyphens."))
    return value
