"""One written form for addresses and what people type: shared by search (addresses) and the duplicate
finder (address_duplicates), so that both call "13栋", "十三幢", "１３号楼" and "13座" the same building.

* ``fold`` - NFKC (full-width to half-width), upper-case, no whitespace or punctuation.
* ``arabic_numerals`` - Chinese numerals that count a building, unit, room, door, floor (十三栋, 四单元,
  四零二室, 一百零二号) become digits; other Chinese numerals (一品, 万达, 三门峡, 五一路) stay as written.
* ``normalise_key`` - the key of a door, building, unit or room component: "十三栋" -> "13", "4门" -> "4",
  "88之1号" -> "88-1".
* ``pinyin_keys`` - the initials and the full pinyin of a name (银海花园 -> YHHY, YINHAIHUAYUAN), kept in the
  search text so that the trigram indexes find them.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# Longest first, so that "13号楼" loses "号楼" and not only "楼" or "号".
KEY_SUFFIXES = ("号楼", "单元", "栋", "幢", "座", "门", "室", "房", "号")
# What a number counts in an address, for the numerals before it (层 and 楼 count floors, never a key).
_COUNTED = ("号楼", "单元", "栋", "幢", "座", "门", "室", "号", "层", "楼", "房")
_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千"
_SEPARATORS = r"\s\d\-#,，、/"
# A run of numerals before a counted word that is followed by the end, a number or a separator ("十三栋四单元",
# "三号" convert; "三门峡", 门 then 峡, does not), or a run at the end after a building or unit ("4单元四零二").
_NUMERAL_RUN = re.compile(
    rf"(?P<run>[{_NUMERAL_CHARS}]+)(?=(?P<counted>{'|'.join(_COUNTED)})(?:$|[{_SEPARATORS}{_NUMERAL_CHARS}]))"
    rf"|(?<=[栋幢座元门])(?P<tail>[{_NUMERAL_CHARS}]+)$"
)
# Before 楼 and 层, which also end names (统一楼), numerals convert only after the start, a number or a
# separator: "二楼", "5栋二楼".
_NAME_ENDINGS = ("楼", "层")
_BOUNDARY = re.compile(rf"[{_SEPARATORS}{_NUMERAL_CHARS}栋幢座元门号室]")
_WHITESPACE = re.compile(r"\s+")
# Dashes people type between numbers, after NFKC: hyphen-minus, the Unicode hyphens and dashes, 之.
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−之"})


@functools.lru_cache(maxsize=65536)
def _numeral(run: str) -> str | None:
    # cn2an is a good converter (十三, 二十一, 一百零二, 两, and room numbers read digit by digit: 四零二),
    # and takes half a second to import: only a query or a component with a Chinese numeral pays it.
    import cn2an

    try:
        value = cn2an.cn2an(run, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return str(int(value)) if float(value).is_integer() and value >= 0 else None


def arabic_numerals(text: str) -> str:
    """Chinese numerals before 栋/幢/号楼/座/单元/门/室/号/层/楼 as digits: "十三栋四单元四零二室" ->
    "13栋4单元402室". Every other character stays as it was."""
    if not any(c in _NUMERAL_CHARS for c in text):
        return text

    def digits(match: re.Match) -> str:
        run = match.group("run") or match.group("tail")
        start = match.start()
        if match.group("counted") in _NAME_ENDINGS and start > 0 and not _BOUNDARY.match(text[start - 1]):
            return run
        converted = _numeral(run)
        return converted if converted is not None else run

    return _NUMERAL_RUN.sub(digits, text)


def compact(value: str | None) -> str:
    """NFKC, upper-case, no whitespace: the form in which search text and queries are compared."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def fold(value: str | None) -> str:
    """``compact`` without punctuation and symbols, and with numerals as digits: the form in which two names
    are compared ("银海花园（二期）" = "银海花园二期")."""
    text = arabic_numerals(compact(value))
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSZ" or c == "-")


@functools.lru_cache(maxsize=65536)  # imports normalise the same few hundred components again and again
def normalise_key(component: str) -> str:
    """The searchable key of one component: "１３栋", "13幢", "13号楼", "13座", "十三栋" -> "13"; "4单元",
    "4门", "四单元" -> "4"; "402室", "四零二室" -> "402"; "88号", "88之1号", "88-1号", "88号之1" -> "88"/"88-1".
    Upper-case, no whitespace; a leading 第 goes too."""
    key = arabic_numerals(compact(component).translate(_DASHES)).removeprefix("第")
    key = re.sub(r"号-", "-", key)
    for suffix in KEY_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


@functools.lru_cache(maxsize=16384)  # a city has a few thousand roads and communities
def pinyin_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of the Chinese characters of a name, upper-case: 银海花园 -> ("YHHY",
    "YINHAIHUAYUAN"). Characters that are not Chinese are left out; ("", "") when there are none.
    pypinyin chooses the reading of a character by the words around it (重庆路 CHONGQINGLU)."""
    from pypinyin import Style, lazy_pinyin

    han = "".join(c for c in unicodedata.normalize("NFKC", name or "") if "\u4e00" <= c <= "\u9fff")
    if not han:
        return "", ""
    full = lazy_pinyin(han, style=Style.NORMAL, errors="ignore")
    return "".join(p[0] for p in full if p).upper(), "".join(full).upper()
