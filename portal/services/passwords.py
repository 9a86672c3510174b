"""Password rules and hashing: argon2id, 12-128 characters, no common or guessable passwords."""
from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.models import Address, Beat, Bureau, Station
from portal.services.errors import FieldError

MIN_LENGTH = 12
MAX_LENGTH = 128
_hasher = PasswordHasher()
# zxcvbn's 30,000 most common passwords (no package ships a larger breached list of a sensible size, README).
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# A hash of a random password, verified when the user does not exist so both paths take as long.
DUMMY_HASH = _hasher.hash("dummy-password-for-timing-only")

# What an attacker of this portal tries first: its own words, the police, the demo (its password is in the
# README), in Chinese and in pinyin.
PORTAL_WORDS = ("portal", "police", "demo", "gongan", "jingcha", "jingwu", "paichusuo", "yibiaosanshi",
                "shiyourenkou", "renkou", "shenbao", "fangdong", "landlord", "employer", "officer", "resident",
                "register", "警", "公安", "派出所", "一标三实", "实有", "人口", "申报", "房东", "演示")
# Words that, with a year or a few digits and symbols, make the passwords people are told not to use.
_CALENDAR = ("spring", "summer", "autumn", "fall", "winter", "january", "february", "march", "april", "may",
             "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday",
             "wednesday", "thursday", "friday", "saturday", "sunday", "chuntian", "xiatian", "qiutian", "dongtian")
_PREDICTABLE_WORDS = _COMMON | frozenset(_CALENDAR)
# Digits and symbols people put for letters ("p0l1ce", "$ummer").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
                       "!": "i", "|": "l", "+": "t"})
_LEET_L = str.maketrans({"1": "l", "!": "l"})
_NOT_LETTER = re.compile(r"[^a-z]+")
_TRAILING = re.compile(r"[\W\d_]+$")
# Place names are cut at these generic words; what is left ("湘潭", "雨湖", "韶山") is the name of the place.
_GENERIC_PLACE_WORDS = re.compile(
    r"公安局|派出所|警务区|居委会|委员会|街道|社区|分局|[东西南北中]路|大道|大街|第[一二三四五六七八九十百零〇0-9]+"
    r"|[省市区县镇乡村路街巷道里弄号]|[0-9A-Za-z\s\-_·()（）]+")
MIN_PLACE_CHARS = 2
PLACE_WORDS_SECONDS = 600
MIN_LATIN = 4  # a shorter pinyin ("hu", "yu") or name is part of too many good passwords


def _latin_forms(password: str) -> set[str]:
    """The password's letters, lower-cased, as written and with look-alike digits and symbols read back as
    letters: "Yuhu-P0lice-2026" gives "yuhupolice"."""
    lowered = unicodedata.normalize("NFKC", password).lower()
    forms = {lowered, lowered.translate(_LEET), lowered.translate(_LEET_L).translate(_LEET)}
    return {letters for letters in (_NOT_LETTER.sub("", f) for f in forms) if letters}


def _contains(password: str, latin: set[str], words: Iterable[str]) -> bool:
    """Whether the password holds one of the words: Chinese as written, case aside; latin words (4 letters
    or more) also with digits and symbols in between or for letters ("Yu-hu", "P0lice")."""
    lowered = unicodedata.normalize("NFKC", password).lower()
    for word in words:
        word = unicodedata.normalize("NFKC", word).lower()
        if not word.isascii():
            if word in lowered:
                return True
            continue
        letters = _NOT_LETTER.sub("", word)
        if len(word) >= MIN_LATIN and word in lowered or len(letters) >= MIN_LATIN and any(letters in f
                                                                                         for f in latin):
            return True
    return False


def _predictable(latin: set[str], password: str) -> bool:
    """A common word or a month or season, with only digits and symbols added ("Summer2026!!",
    "$ummer-2026")."""
    lowered = unicodedata.normalize("NFKC", password).lower()
    word = _TRAILING.sub("", lowered)  # "$ummer-2026-!!" -> "$ummer": what is left may use symbols for letters
    candidates = latin | {_NOT_LETTER.sub("", word.translate(table)) for table in (_LEET, _LEET_L)}
    return any(c in _PREDICTABLE_WORDS for c in candidates if c)


def check_new_password(
    password: str, *, user_inputs: tuple[str, ...] = (), places: Iterable[str] = (),
) -> str:
    """Raise FieldError unless the password is long enough and hard to guess, with a code and a message
    for each reason. Never truncates. `user_inputs` are the user's phone, ID number and name; `places` the
    names of the jurisdiction's places (place_words)."""
    if len(password) < MIN_LENGTH:
        raise FieldError("too_short", _l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise FieldError("too_long", _l("Use at most %(n)d characters.", n=MAX_LENGTH))
    latin = _latin_forms(password)
    if password.lower() in _COMMON or password.lower().translate(_LEET) in _COMMON:
        raise FieldError("common", _l("This password is on a list of common passwords; choose another."))
    if _contains(password, latin, PORTAL_WORDS):
        raise FieldError("portal_words", _l("Do not use the name of this portal, of the police or of the demo "
                                            "in your password."))
    personal = personal_words(user_inputs)
    if _contains(password, latin, personal):
        raise FieldError("personal", _l("Do not use your phone number, ID number or name in your password."))
    places = tuple(places)
    if _contains(password, latin, places):
        raise FieldError("place", _l("Do not use the name of a place around here (a city, district, town, road "
                                     "or police station) in your password."))
    if _predictable(latin, password):
        raise FieldError("predictable", _l("A common word or a season with numbers or symbols added is easy to "
                                           "guess. Use a few unrelated words instead."))
    # zxcvbn scores at most 72 characters; a longer password that passed the list checks is long enough.
    if len(password) <= 72 and zxcvbn(password, user_inputs=[*personal, *places[:200]])["score"] < 3:
        raise FieldError("guessable", _l("This password is too easy to guess; add words or characters."))
    return password


def personal_words(user_inputs: Iterable[str]) -> list[str]:
    """The user's phone, ID number and name, and the name in pinyin ("张三" -> "zhangsan")."""
    words = [i for i in user_inputs if i]
    for value in list(words):
        if not value.isascii():
            words.append(to_pinyin(value))
    return [w for w in words if w]


@lru_cache(maxsize=4096)
def to_pinyin(text: str) -> str:
    """Toneless pinyin of the Chinese characters in text, run together. pypinyin, with its phrase dictionary
    of some 50 MB, is loaded the first time a password is checked, not by every process that serves pages."""
    from pypinyin import lazy_pinyin

    return "".join(p for p in lazy_pinyin(text, errors="ignore") if p.isascii()).lower()


def place_pieces(name: str) -> list[str]:
    """The proper names in a place name: "湘潭市公安局雨湖分局" -> ["湘潭", "雨湖"], with their pinyin."""
    pieces = [p for p in _GENERIC_PLACE_WORDS.split(unicodedata.normalize("NFKC", name)) if p]
    out = [p for p in pieces if len(p) >= MIN_PLACE_CHARS]
    return out + [py for py in (to_pinyin(p) for p in out) if len(py) >= MIN_LATIN]


def place_words(session: Session) -> tuple[str, ...]:
    """The names of the places of the jurisdiction in the database: bureaus, stations, beats, and the
    divisions, towns and roads of the addresses (each distinct name once), in Chinese and in pinyin."""
    words: dict[str, None] = {}
    for name in session.scalars(union(select(Bureau.name), select(Station.name), select(Beat.name))):
        words.update(dict.fromkeys(place_pieces(name or "")))
    words.update(dict.fromkeys(_address_place_words(session)))
    return tuple(words)


_address_words: dict[tuple, tuple[float, tuple[str, ...]]] = {}


def _address_place_words(session: Session) -> tuple[str, ...]:
    """The addresses' distinct division, town and road names read every address (over a second for 600,000
    on SQLite, bench/README.md), so they are kept per process until addresses are added or removed (the
    lowest and highest id, two index look-ups, tell) or PLACE_WORDS_SECONDS have passed (a renamed road)."""
    key = (str(session.get_bind().engine.url), session.scalar(select(func.min(Address.id))),
           session.scalar(select(func.max(Address.id))))  # apart: SQLite reads min and max together by a scan
    kept = _address_words.get(key)
    if kept is not None and time.monotonic() - kept[0] < PLACE_WORDS_SECONDS:
        return kept[1]
    names = session.scalars(union(select(Address.division_name), select(Address.township), select(Address.road)))
    words = tuple(dict.fromkeys(piece for name in names for piece in place_pieces(name or "")))
    _address_words.clear()
    _address_words[key] = (time.monotonic(), words)
    return words


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
