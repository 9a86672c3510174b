"""Staff lists uploaded by employers: read, check every row, compare with the roster, then commit.

``preview`` writes nothing: it reads the file (XLSX or CSV, see ``spreadsheets``), checks every row,
and compares the valid rows with the unit's current roster (employments pending or verified, not yet
ended). ``commit`` then files, in one transaction, a hire submission (with a pending Employment) for
every new person and a departure submission for every person on the roster who is not in a full list.
The same content committed twice in a row changes nothing the second time.

Excel damages staff lists in known ways, and each has its own message: an 18-digit ID number stored as
a number has lost its last digits (4.30302E+17, or 430302199001011000 in a CSV); a CSV saved by Chinese
Excel is GB18030; dates come as 2024/3/5, 2024-03-05, 2024.3.5, 2024年3月5日 or real date cells (an
Excel serial number in a CSV is not a date); input methods type full-width digits (NFKC fixes them).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, any_, bindparam, select
from sqlalchemy.orm import Session, contains_eager
from stdnum.cn import ric

from portal.models import (
    Beat,
    Employment,
    IdType,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Unit,
    User,
)
from portal.models.base import utcnow
from portal.services import addresses, audit, bulk, declarations, flags, identity, receipts, spreadsheets
from portal.services import values as check_values
from portal.services.errors import FieldError, ValidationFailed
from portal.services.spreadsheets import MAX_BYTES, FileRejected, cell_text

__all__ = ["COLUMNS", "COLUMN_LABELS", "FileRejected", "Preview", "RowError", "StaffRow", "commit",
           "error_csv", "needs_confirmation", "preview", "read_table", "template_csv", "template_xlsx"]

read_table = spreadsheets.read_table

MAX_FIELD = 200  # characters in any cell of a known column
MAX_POSITION = 60  # Employment.position
# A full list that would report more than FEW_DEPARTURES people, or more than DEPARTURE_SHARE of the roster, as
# having left asks for an explicit confirmation first: a list uploaded as "complete" that was not (the rows
# with errors fixed and sent alone) must not report everyone else as gone.
FEW_DEPARTURES = 3
DEPARTURE_SHARE = 0.2
_CHUNK = 500  # ids per IN (...) query

# The columns of a staff list: the fields of a hire's declaration that have one (services/declarations.py).
COLUMNS = declarations.staff_columns(declarations.Hire)
REQUIRED = ("name", "id_number")
COLUMN_LABELS = {name: about.staff_label for name, about in declarations.fields(declarations.Hire)
                 if about.staff_column}
# Header names people use, in Chinese and English; matched after NFKC, trimming and lower-casing.
ALIASES = {name: about.staff_aliases for name, about in declarations.fields(declarations.Hire)
           if about.staff_column}
_ROW_LABEL = _l("Row")
_ERRORS_LABEL = _l("Errors")
# Columns that are expected and carry nothing to import: a running number, and what error_csv adds.
_IGNORED = ("序号", "编号", "行号", "原行号", "错误", "错误说明", "错误原因", "no", "no.", "#", "row",
            "errors", "error")

_MESSAGES = {
    "numeric_id_cell": _l("Excel stored this ID number as a number, so its last digits are already lost. "
                          "Format the ID column as Text (select the column, Format Cells, Text), type the "
                          "numbers again in full and upload the file again."),
    "duplicate_in_file": "",  # built with the earlier row number
    "invalid_date": _l("Enter a real date, like 2024-03-05, 2024/3/5 or 2024年3月5日."),
    "serial_date": _l("This is a number, not a date. Format the column as a date in Excel, or type the date "
                      "like 2024-03-05."),
    "future_date": _l("The hire date cannot be in the future."),
    "invalid_sex": _l("Enter 男 or 女 (or M or F)."),
    "sex_mismatch": _l("The sex does not match the ID number."),
    "nul_byte": _l("This cell contains a NUL character. Remove it and upload the file again."),
    "field_too_long": _l("This cell has more than %(n)d characters.", n=MAX_FIELD),
    "position_too_long": _l("Use at most %(n)d characters.", n=MAX_POSITION),
    "invalid_chars": _l("Remove the invisible or control characters."),
    "id_type": _l("Enter the ID number as text."),
}
_ID_TYPE_CHOICE = _l("Enter the document type as 身份证, 护照, 港澳通行证, 台湾通行证 or "
                     "外国人永久居留身份证 (or leave it empty for a resident ID card).")
_VISA_KIND_CHOICE = _l("Enter the visa or residence permit as the hire form lists it (for example "
                       "Z 字签证（工作）), by its letter (Z) or by its code (visa_z, residence_work).")


@dataclass
class RowError:
    row: int  # the spreadsheet row number; the header is row 1
    column: str | None  # one of COLUMNS, or None when the error is not about a known column
    code: str
    message: object  # a lazy string, rendered in the reader's language
    header: str | None = None  # the column's header as written in the file

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "header": self.header, "code": self.code,
                "message": _rendered(self.message) or self.code}


@dataclass
class StaffRow:
    row: int
    name: str
    sex: str | None  # "M" or "F"; from the ID number when the file has no sex
    id_number: str
    phone: str | None
    position: str | None
    hire_date: date | None
    birth_date: date | None = None
    region_known: bool = True
    # A person without a resident ID card (issue 18): their document, nationality and a passport's visa.
    id_type: str = IdType.resident_id.value
    nationality: str | None = None
    visa_kind: str | None = None
    visa_expiry: date | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Who the row names: the document's type and number."""
        return self.id_type, self.id_number


@dataclass
class Preview:
    filename: str
    full_list: bool
    rows: int  # non-blank data rows
    valid: list[StaffRow]
    errors: list[RowError]
    unknown_columns: list[str]
    hires: list[StaffRow]
    departures: list[Employment]
    unchanged: list[StaffRow]
    digest: str
    already_imported: StaffImport | None
    header: list[str] = field(default_factory=list)  # as in the file
    columns: dict[str, int] = field(default_factory=dict)  # known column -> index in header
    error_cells: dict[int, list] = field(default_factory=dict)  # row number -> original cells
    # On the roster, not among the valid rows, but possibly one of the rows with errors (same ID, same
    # first 15 digits of a damaged ID, or same name): not reported as departed.
    held_back: list[Employment] = field(default_factory=list)
    # In the file and on the roster, but their departure is already waiting for the police: the list does
    # not take it back (a report stands until its reporter withdraws it), so they are neither unchanged
    # nor hired again.
    departure_pending: list[StaffRow] = field(default_factory=list)
    _error_keys: tuple = ((), (), ())  # (ids, id prefixes, names) of the rows with errors
    unit_id: int | None = None  # the unit it was compared with; commit refuses another
    # A known ID number under another name than on the roster: neither unchanged nor sent, but shown to be
    # checked (a mistyped ID number can hit a colleague's). Pairs of the row and the roster's employment.
    renamed: list[tuple[StaffRow, Employment]] = field(default_factory=list)
    roster_size: int = 0  # people on the roster when it was compared

    @property
    def departures_need_confirmation(self) -> bool:
        return needs_confirmation(len(self.departures), self.roster_size)

    def row_name(self, number: int) -> str:
        """The name typed in a row with errors, as far as it is readable text: shown beside the row number."""
        index = self.columns.get("name")
        cells = self.error_cells.get(number, [])
        if index is None or index >= len(cells):
            return ""
        text = "".join(c for c in _text(cells[index]) if unicodedata.category(c) not in ("Cc", "Cf"))
        return text[:40]

    @property
    def invalid(self) -> int:
        return len({e.row for e in self.errors})

    def errors_by_row(self) -> dict[int, list[RowError]]:
        out: dict[int, list[RowError]] = {}
        for e in self.errors:
            out.setdefault(e.row, []).append(e)
        return out


# --- headers ---------------------------------------------------------------------------------------

_PARENTHETICAL = re.compile(r"\s*(\(.*\)|\[.*\]|【.*】)\s*$")


def header_key(text: object) -> str:
    value = unicodedata.normalize("NFKC", cell_text(text)).strip().lower().replace("_", " ")
    value = value.strip("*").strip()
    value = _PARENTHETICAL.sub("", value)  # 姓名（必填）, Hire date (YYYY-MM-DD)
    return " ".join(value.split()).strip("*: ")


def _rendered(label: object) -> str | None:
    """A lazy label in the current language, or None where no language can be chosen (no request)."""
    try:
        return str(label)
    except RuntimeError:
        return None


def _alias_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column, names in ALIASES.items():
        for name in names:
            mapping[header_key(name)] = column
    for column, label in COLUMN_LABELS.items():  # the template's headers in the current language
        text = _rendered(label)
        if text:
            mapping.setdefault(header_key(text), column)
    return mapping


def _ignored() -> set[str]:
    labels = (_rendered(_ROW_LABEL), _rendered(_ERRORS_LABEL))
    return {header_key(n) for n in _IGNORED} | {header_key(t) for t in labels if t}


def map_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Known column -> index (the first of two alike wins), and the headers not recognised."""
    aliases, ignored = _alias_map(), _ignored()
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, text in enumerate(header):
        key = header_key(text)
        if not key or key in ignored:
            continue
        column = aliases.get(key)
        if column is None or column in columns:
            unknown.append(text)
        else:
            columns[column] = index
    return columns, unknown


def _looks_like_header(cells: list) -> bool:
    aliases = _alias_map()
    found = {aliases.get(header_key(c)) for c in cells}
    return "id_number" in found or "name" in found


class _Joined:
    """Column labels joined when the message is rendered, so they appear in the reader's language."""

    def __init__(self, labels: Iterable[object]) -> None:
        self.labels = list(labels)

    def __str__(self) -> str:
        return "、".join(str(label) for label in self.labels)


# --- cells -----------------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E[+]?[0-9]+", re.I)
_DECIMAL_ID = re.compile(r"[0-9]{15,18}\.[0-9]*")
_ZEROED = re.compile(r"[0-9]{15}000")
# 2024/3/5, 2024-03-05, 2024.3.5 (one separator throughout), optionally with the time Excel adds
_DATE_SEP = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})"
                       r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
_DATE_CN = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日?")
_SPACES = re.compile(r"\s+")
_SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F", "男性": "M", "女性": "F"}


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", cell_text(value)).strip()


def _id_text(value: str) -> str:
    text = _SPACES.sub("", value)
    if text[:1] in ("'", "`"):  # a leading quote typed to force text in Excel or in a CSV
        text = text[1:]
    return text.upper()


def _zeroed_and_wrong(text: str) -> bool:
    """18 digits ending in 000 whose check digit is wrong: what a number-formatted ID column leaves."""
    return bool(_ZEROED.fullmatch(text)) and ric.calc_check_digit(text) != text[17]


def _numeric_id(value: object, text: str, damaged_column: bool) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    if _SCIENTIFIC.fullmatch(text) or _DECIMAL_ID.fullmatch(text):
        return True
    # A CSV written from a number-formatted column keeps 15 significant digits and pads with 000. A real
    # number can end in 000 too (about one in 1,100), so only a wrong check digit, or other such rows in
    # the same file, give the damage away.
    return bool(_ZEROED.fullmatch(text)) and (damaged_column or _zeroed_and_wrong(text))


def parse_date(value: object, *, today: date) -> date:
    """A hire date from a date cell or from text in one of the accepted forms; raises FieldError."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raise FieldError("invalid_date", _MESSAGES["serial_date"])
    elif isinstance(value, time | timedelta | bool):
        raise FieldError("invalid_date", _MESSAGES["invalid_date"])
    else:
        text = _text(value)
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            raise FieldError("invalid_date", _MESSAGES["serial_date"])
        match = _DATE_SEP.fullmatch(text)
        parts = (match.group(1), match.group(3), match.group(4)) if match else None
        if parts is None:
            cn = _DATE_CN.fullmatch(text)
            parts = cn.groups() if cn else None
        if parts is None:
            raise FieldError("invalid_date", _MESSAGES["invalid_date"])
        try:
            day = date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            raise FieldError("invalid_date", _MESSAGES["invalid_date"]) from None
    if day.year < 1900:
        raise FieldError("invalid_date", _MESSAGES["invalid_date"])
    if day > today:
        raise FieldError("future_date", _MESSAGES["future_date"])
    return day


def _free_text(value: str, limit: int) -> str | None:
    if not value:
        return None
    if len(value) > limit:
        raise FieldError("too_long", _MESSAGES["position_too_long"])
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise FieldError("invalid_chars", _MESSAGES["invalid_chars"])
    return value


def _phone_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cell_text(value)


# --- rows ------------------------------------------------------------------------------------------

@dataclass
class _Checked:
    row: StaffRow | None
    errors: list[RowError]
    id_number: str | None  # a valid ID number, even when another cell of the row is wrong
    id_prefix: str | None  # the 15 digits that survive in a damaged (numeric) ID
    name: str | None


@dataclass
class _RowErrors:
    """The errors of one row, each told with the header of its column as the file spells it."""
    number: int
    columns: dict[str, int]
    header: list[str]
    errors: list[RowError] = field(default_factory=list)

    def fail(self, column: str | None, code: str, message: object, index: int | None = None) -> None:
        if index is None and column is not None:
            index = self.columns.get(column)
        head = self.header[index] if index is not None and index < len(self.header) else None
        self.errors.append(RowError(self.number, column, code, message, head))

    def failed_columns(self) -> set[str | None]:
        return {e.column for e in self.errors}


def check_row(number: int, cells: list, columns: dict[str, int], header: list[str], *, today: date,
              damaged_column: bool = False) -> _Checked:
    """Check one row of a staff list: its cells first, then each column in the order of the form."""
    errs = _RowErrors(number, columns, header)
    raw = _readable_cells(cells, errs)
    bad = errs.failed_columns()
    id_type = _check_id_type(raw.get("id_type"), errs) if "id_type" not in bad else None
    rid, id_number, id_prefix = None, None, None
    if "id_number" not in bad and id_type == IdType.resident_id:
        rid, id_number, id_prefix = _check_id_cell(raw.get("id_number"), errs, today=today,
                                                   damaged_column=damaged_column)
    elif "id_number" not in bad and id_type is not None:
        id_number = _check_document(raw.get("id_number"), id_type, errs)
    values: dict[str, object] = {}
    for column, check in _COLUMN_CHECKS.items():
        if column not in bad:
            values[column] = check(raw.get(column), errs, rid=rid, today=today)
    if id_type not in (None, IdType.resident_id):
        values.update(_check_foreign(raw, values, errs, id_type=id_type, today=today))
    name = values.get("name")
    if errs.errors or id_number is None or name is None:
        return _Checked(None, errs.errors, id_number, id_prefix, name or _text(raw.get("name")) or None)
    row = StaffRow(row=number, name=name, sex=values.get("sex") or (rid.sex if rid else None), id_number=id_number,
                   phone=values.get("phone"), position=values.get("position"), hire_date=values.get("hire_date"),
                   birth_date=rid.birth_date if rid else values.get("birth_date"),
                   region_known=rid.region_known if rid else True, id_type=str(id_type),
                   nationality=values.get("nationality"), visa_kind=values.get("visa_kind"),
                   visa_expiry=values.get("visa_expiry"))
    return _Checked(row, [], id_number, None, name)


def _check_id_type(value: object, errs: _RowErrors) -> IdType | None:
    """The document of a row: a resident ID card when the column is absent or empty."""
    text = _text(value).casefold()
    if not text:
        return IdType.resident_id
    for code, words in declarations.DOCUMENT_WORDS.items():
        labels = (code, *words, _rendered(declarations.ID_TYPE_NAMES[code]) or code)
        if text in (w.casefold() for w in labels):
            return IdType(code)
    errs.fail("id_type", "invalid_choice", _ID_TYPE_CHOICE)
    return None


def _check_document(value: object, id_type: IdType, errs: _RowErrors) -> str | None:
    """The number of a passport or permit, in the form its document has (declarations.DOC_PATTERNS)."""
    number = _id_text(_text(value))
    if not number:
        errs.fail("id_number", "required", _l("Enter the document number."))
        return None
    if not declarations.DOC_PATTERNS[id_type].fullmatch(number):
        errs.fail("id_number", "format", _l("This does not look like a number of this type of document."))
        return None
    return number


def _check_foreign(raw: dict, values: dict, errs: _RowErrors, *, id_type: IdType, today: date) -> dict:
    """What a row of someone without a resident ID card must say: nationality, sex, birth date, and for a
    passport the visa or residence permit and its end (the move-in's rules, services/declarations.py)."""
    out: dict[str, object] = {}
    try:
        out["nationality"] = check_values.country(_l("Choose the nationality."))(_text(raw.get("nationality")),
                                                                                 None)
    except FieldError as err:
        errs.fail("nationality", err.code, err.message)
    if values.get("sex") is None and "sex" not in errs.failed_columns():
        errs.fail("sex", "required", _MESSAGES["invalid_sex"])
    out["birth_date"] = _foreign_date(raw.get("birth_date"), "birth_date", errs, today=today,
                                      missing=_l("Enter the date of birth."))
    if id_type == IdType.passport:
        out["visa_kind"] = _check_visa_kind(raw.get("visa_kind"), errs)
        expiry = _foreign_date(raw.get("visa_expiry"), "visa_expiry", errs, today=None,
                               missing=_l("Enter the date the visa or residence permit ends."))
        if expiry and out["birth_date"] and expiry < out["birth_date"]:
            errs.fail("visa_expiry", "before_birth", _l("The visa cannot end before the date of birth."))
        out["visa_expiry"] = expiry
    return out


def _foreign_date(value: object, column: str, errs: _RowErrors, *, today: date | None, missing) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errs.fail(column, "required", missing)
        return None
    try:
        return parse_date(value, today=today or date.max)
    except FieldError as err:
        message = _l("This date cannot be in the future.") if err.code == "future_date" else err.message
        errs.fail(column, err.code, message)
        return None


def _check_visa_kind(value: object, errs: _RowErrors) -> str | None:
    """A visa kind by its code, its name in the reader's language, or its letter (Z, Z字, Z字签证)."""
    text = _text(value).casefold().replace(" ", "")
    letter = text.removesuffix("签证").removesuffix("字").removesuffix("visa")
    for code, label in declarations.VISA_KIND_NAMES.items():
        short = code.removeprefix("visa_") if code.startswith("visa_") and len(code) == 6 else None
        if text and (text in (code, (_rendered(label) or code).casefold().replace(" ", "")) or letter == short):
            return code
    errs.fail("visa_kind", "invalid_choice" if text else "required", _VISA_KIND_CHOICE)
    return None


def _readable_cells(cells: list, errs: _RowErrors) -> dict[str, object]:
    """The cells of the known columns; a NUL byte (in any column) or an overlong cell is an error instead."""
    known = {i: c for c, i in errs.columns.items()}
    raw: dict[str, object] = {}
    for index, value in enumerate(cells):
        column = known.get(index)
        if isinstance(value, str) and "\x00" in value:
            errs.fail(column, "nul_byte", _MESSAGES["nul_byte"], index)
            continue
        if column is None:
            continue
        if isinstance(value, str) and len(value) > MAX_FIELD:
            errs.fail(column, "field_too_long", _MESSAGES["field_too_long"], index)
            continue
        raw[column] = value
    return raw


def _check_id_cell(value: object, errs: _RowErrors, *, today: date, damaged_column: bool
                   ) -> tuple[identity.ResidentId | None, str | None, str | None]:
    """The resident ID, its number when valid, and the digits that survive in a numeric (damaged) cell."""
    text = _id_text(_text(value))
    if isinstance(value, bool | date | time | timedelta):
        errs.fail("id_number", "format", _MESSAGES["id_type"])
        return None, None, None
    if _numeric_id(value, text, damaged_column):
        errs.fail("id_number", "numeric_id_cell", _MESSAGES["numeric_id_cell"])
        return None, None, _surviving_digits(value, text)
    try:
        rid = identity.check_resident_id(text, today=today)
    except FieldError as err:
        errs.fail("id_number", err.code, err.message)
        return None, None, None
    return rid, rid.number, None


def _check_name(value: object, errs: _RowErrors, **_context) -> str | None:
    try:
        return identity.check_name(cell_text(value))
    except FieldError as err:
        errs.fail("name", err.code, err.message)
        return None


def _check_sex(value: object, errs: _RowErrors, *, rid: identity.ResidentId | None, **_context) -> str | None:
    """An optional sex; when given, it must agree with the one the ID number encodes."""
    text = _text(value).lower()
    if not text:
        return None
    sex = _SEX.get(text)
    if sex is None:
        errs.fail("sex", "invalid_sex", _MESSAGES["invalid_sex"])
    elif rid is not None and sex != rid.sex:
        errs.fail("sex", "sex_mismatch", _MESSAGES["sex_mismatch"])
    return sex


def _check_phone(value: object, errs: _RowErrors, **_context) -> str | None:
    text = _phone_text(value).strip()
    if not text:
        return None
    try:
        return identity.check_mobile(text)
    except FieldError as err:
        errs.fail("phone", err.code, err.message)
        return None


def _check_position(value: object, errs: _RowErrors, **_context) -> str | None:
    try:
        return _free_text(_text(value), MAX_POSITION)
    except FieldError as err:
        errs.fail("position", err.code, err.message)
        return None


def _check_hire_date(value: object, errs: _RowErrors, *, today: date, **_context) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_date(value, today=today)
    except FieldError as err:
        errs.fail("hire_date", err.code, err.message)
        return None


# The columns after the ID number, in the order their errors are told.
_COLUMN_CHECKS = {"name": _check_name, "sex": _check_sex, "phone": _check_phone, "position": _check_position,
                  "hire_date": _check_hire_date}


def _surviving_digits(value: object, text: str) -> str | None:
    """The first 15 digits of an ID that went through a number format: all that is left of it."""
    if isinstance(value, int | float) or _SCIENTIFIC.fullmatch(text):
        try:
            number = float(value) if isinstance(value, int | float) else float(text)
            prefix = str(round(number / 1000))
        except (TypeError, ValueError, OverflowError):
            return None
        return prefix if len(prefix) == 15 else None
    digits = text.split(".", 1)[0]
    return digits[:15] if len(digits) >= 15 and digits.isdigit() else None


def _damaged_column(rows: list[tuple[int, list]], index: int | None) -> bool:
    """Evidence that the ID column went through a number format: a row whose ID ends in 000 and fails
    its check digit. Then every ID ending in 000 in the file is suspect, however its check digit falls."""
    if index is None:
        return False
    for _number, cells in rows:
        if index < len(cells) and isinstance(cells[index], str):
            text = _id_text(_text(cells[index]))
            if _zeroed_and_wrong(text):
                return True
    return False


# --- preview ---------------------------------------------------------------------------------------

def preview(session: Session, unit: Unit, data: bytes, filename: str, *, full_list: bool = True,
            max_rows: int = 50_000, today: date | None = None, max_bytes: int = MAX_BYTES) -> Preview:
    """Read and check a staff list and compare it with the unit's roster. Writes nothing.

    Raises FileRejected when the file as a whole cannot be used; row problems are in ``errors``.
    """
    today = today or _local_today()
    header, columns, unknown, rows = _read_staff_table(data, filename, max_rows=max_rows, max_bytes=max_bytes)
    damaged = _damaged_column(rows, columns.get("id_number"))
    valid: list[StaffRow] = []
    errors: list[RowError] = []
    error_cells: dict[int, list] = {}
    seen: dict[str, int] = {}
    error_ids: set[str] = set()
    error_prefixes: set[str] = set()
    error_names: set[str] = set()
    for number, cells in rows:
        checked = check_row(number, cells, columns, header, today=today, damaged_column=damaged)
        row_errors = checked.errors
        if checked.id_number is not None:
            first = seen.setdefault(checked.id_number, number)
            if first != number:
                duplicate = RowError(number, "id_number", "duplicate_in_file",
                                     _l("This ID number is already in row %(row)d.", row=first),
                                     _header_at(header, columns.get("id_number")))
                row_errors = [*row_errors, duplicate]
        if row_errors:
            errors.extend(row_errors)
            error_cells[number] = list(cells)
            if checked.id_number:
                error_ids.add(checked.id_number)
            if checked.id_prefix:
                error_prefixes.add(checked.id_prefix)
            if checked.name:
                error_names.add(checked.name)
        elif checked.row is not None:
            valid.append(checked.row)
    digest = content_digest(valid, full_list)
    diff = _diff(session, unit, valid, full_list, (error_ids, error_prefixes, error_names))
    return Preview(filename=filename, full_list=full_list, rows=len(rows), valid=valid, errors=errors,
                   unknown_columns=unknown, hires=diff.hires, departures=diff.departures,
                   unchanged=diff.unchanged, digest=digest, departure_pending=diff.departure_pending,
                   already_imported=_latest_if_same(session, unit, digest),
                   header=header, columns=columns, error_cells=error_cells, held_back=diff.held_back,
                   _error_keys=(tuple(error_ids), tuple(error_prefixes), tuple(error_names)), unit_id=unit.id,
                   renamed=diff.renamed, roster_size=diff.roster_size)


def _read_staff_table(data: bytes, filename: str, *, max_rows: int, max_bytes: int
                      ) -> tuple[list[str], dict[str, int], list[str], list[tuple[int, list]]]:
    """The header, the columns it maps (and the headers it ignores), and the rows that are not blank; a file
    without the required columns is refused."""
    header, rows = read_table(data, filename, max_rows=max_rows, max_bytes=max_bytes,
                              is_header=_looks_like_header)
    columns, unknown = map_header(header)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FileRejected("missing_columns",
                           _l("The file has no column for: %(columns)s. Name the columns as in the template "
                              "(for example 姓名 and 身份证号码).",
                              columns=_Joined(COLUMN_LABELS[c] for c in missing)),
                           columns=missing)
    # A row with nothing in the columns we import (only a running number, or only a remark) is a blank
    # row too: sheets often come with 序号 filled in far below the last person.
    known = sorted(columns.values())
    rows = [(n, cells) for n, cells in rows
            if not spreadsheets.is_blank(cells[i] for i in known if i < len(cells))]
    return header, columns, unknown, rows


def _header_at(header: list[str], index: int | None) -> str | None:
    return header[index] if index is not None and index < len(header) else None


def _local_today() -> date:
    from portal.services.filing import local_today

    return local_today()


def content_digest(valid: list[StaffRow], full_list: bool) -> str:
    """SHA-256 of the valid rows as normalised, in ID order, and of the full-list choice: the same
    content in another file, another order or another encoding has the same digest."""
    h = hashlib.sha256(b"staff-list/1\n" + (b"full\n" if full_list else b"partial\n"))
    for r in sorted(valid, key=lambda r: (r.id_number, r.id_type)):
        fields = (r.id_number, r.name, r.sex or "", r.phone or "", r.position or "",
                  r.hire_date.isoformat() if r.hire_date else "")
        if r.id_type != IdType.resident_id:  # a resident's row digests as before the other documents came
            fields += (r.id_type, r.nationality or "", r.birth_date.isoformat() if r.birth_date else "",
                       r.visa_kind or "", r.visa_expiry.isoformat() if r.visa_expiry else "")
        h.update("\x1f".join(fields).encode("utf-8") + b"\x1e")
    return h.hexdigest()


def _latest_if_same(session: Session, unit: Unit, digest: str) -> StaffImport | None:
    latest = session.scalar(select(StaffImport).where(StaffImport.unit_id == unit.id)
                            .order_by(StaffImport.id.desc()).limit(1))
    return latest if latest is not None and latest.content_digest == digest else None


@dataclass
class _Diff:
    hires: list[StaffRow]
    departures: list[Employment]
    unchanged: list[StaffRow]
    held_back: list[Employment]
    departure_pending: list[StaffRow]
    renamed: list[tuple[StaffRow, Employment]]
    roster_size: int


def needs_confirmation(departures: int, roster_size: int) -> bool:
    """Whether a full list's departures are too many to send without the employer confirming them."""
    return departures > FEW_DEPARTURES or departures > DEPARTURE_SHARE * roster_size


def departures_unconfirmed(departures: int) -> ValidationFailed:
    return ValidationFailed([FieldError("departures_unconfirmed", _l(
        "This list reports %(n)d people as having left. Check their names and confirm that they have left, "
        "or upload your complete staff list.", n=departures), "confirm_departures")])


def roster(session: Session, unit: Unit) -> list[Employment]:
    """Who works for the unit now, declared (pending) or verified, with their person loaded."""
    return list(session.scalars(
        select(Employment).join(Employment.person).options(contains_eager(Employment.person))
        .where(Employment.unit_id == unit.id, Employment.departure_date.is_(None),
               Employment.status.in_(RecordStatus.ACTIVE))
        .order_by(Employment.id)))


def _diff(session: Session, unit: Unit, valid: list[StaffRow], full_list: bool, error_keys) -> _Diff:
    current = roster(session, unit)
    by_key = {(str(e.person.id_type), e.person.id_number): e for e in current}
    on_roster = {key: e.id for key, e in by_key.items()}
    hires = [r for r in valid if r.key not in on_roster]
    leaving = _departure_reported(session, [on_roster[r.key] for r in valid if r.key in on_roster])
    staying = [r for r in valid if r.key in on_roster and on_roster[r.key] not in leaving]
    renamed = [(r, by_key[r.key]) for r in staying if r.name != by_key[r.key].declared_name]
    unchanged = [r for r in staying if r.name == by_key[r.key].declared_name]
    departure_pending = [r for r in valid if r.key in on_roster and on_roster[r.key] in leaving]
    departures: list[Employment] = []
    held_back: list[Employment] = []
    if full_list:
        in_file = {r.key for r in valid}
        leaving = [e for e in current if (str(e.person.id_type), e.person.id_number) not in in_file]
        reported = _departure_reported(session, [e.id for e in leaving])
        ids, prefixes, names = (set(k) for k in error_keys)
        for e in leaving:
            if e.id in reported:
                continue
            number = e.person.id_number
            if number in ids or number[:15] in prefixes or e.declared_name in names:
                held_back.append(e)
            else:
                departures.append(e)
    return _Diff(hires, departures, unchanged, held_back, departure_pending, renamed, len(current))


def _departure_reported(session: Session, employment_ids: list[int]) -> set[int]:
    """Employments whose departure is already waiting for the police."""
    found: set[int] = set()
    for chunk in _chunks(employment_ids):
        found.update(session.scalars(select(Submission.employment_id).where(
            Submission.kind == SubmissionKind.departure, Submission.status.in_(SubmissionStatus.OPEN),
            Submission.employment_id.in_(chunk))))
    return found


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- commit ----------------------------------------------------------------------------------------

def commit(session: Session, unit: Unit, uploader: User, pv: Preview, actor: audit.Actor, *,
           departures_confirmed: bool = False) -> StaffImport:
    """File the hires and departures of a preview in the caller's transaction, and flush; the caller
    commits (the web view, or the API with its stored response) or, on a failure, rolls back.

    Departures that need a confirmation (``needs_confirmation``, on the roster as it is in the transaction)
    are refused with ValidationFailed (field ``confirm_departures``) unless ``departures_confirmed``.

    The roster is compared again inside the transaction (another upload may have changed it since the
    preview). When the unit's latest import has the same content digest, nothing is created and that
    import is returned. The returned StaffImport has a plain attribute ``created`` (False in that case).
    """
    if pv.unit_id is not None and pv.unit_id != unit.id:
        raise ValueError("this preview was made for another unit")
    addresses.ensure_reportable(unit.address, "file")  # no new staff reported at a retired address
    # One committer per unit at a time: PostgreSQL locks the unit row; SQLite has one writer anyway.
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    earlier = _latest_if_same(session, unit, pv.digest)
    if earlier is not None:
        audit.record(session, "staff_import.commit", actor, user=uploader, object_type="staff_import",
                     object_id=earlier.id, outcome="duplicate", detail="same content as the latest import")
        earlier.created = False
        return earlier
    imp = _commit(session, unit, uploader, pv, actor, departures_confirmed)
    session.flush()
    imp.created = True
    return imp


def _commit(session: Session, unit: Unit, uploader: User, pv: Preview, actor: audit.Actor,
            departures_confirmed: bool) -> StaffImport:
    today = _local_today()
    diff = _diff(session, unit, pv.valid, pv.full_list, pv._error_keys)
    if needs_confirmation(len(diff.departures), diff.roster_size) and not departures_confirmed:
        raise departures_unconfirmed(len(diff.departures))
    beat_id = unit.address.beat_id if unit.address is not None else unit.beat_id
    station_id = session.scalar(select(Beat.station_id).where(Beat.id == beat_id))
    imp = StaffImport(unit_id=unit.id, uploader_id=uploader.id, filename=(pv.filename or "")[:200],
                      content_digest=pv.digest, full_list=pv.full_list, rows=pv.rows, valid=len(pv.valid),
                      invalid=pv.invalid, hires=len(diff.hires), departures=len(diff.departures),
                      unchanged=len(diff.unchanged), errors=[e.as_dict() for e in pv.errors])
    session.add(imp)
    session.flush()
    now = utcnow()
    common = {"status": SubmissionStatus.pending, "reporter_id": uploader.id, "beat_id": beat_id,
              "station_id": station_id, "is_open": True, "unit_id": unit.id, "staff_import_id": imp.id,
              "late": False, "submitted_at": now, "version": 1}
    address = unit.address.text if unit.address is not None else None

    # Set-based writes, never a round trip per row: on SQLite executemany and multi-row INSERT ... RETURNING;
    # on PostgreSQL COPY (a multi-row INSERT of 10,000 rows costs seconds in the driver's query parsing).
    if diff.hires:
        persons, renamed = _persons_for(session, diff.hires)
        elsewhere = employed_elsewhere(session, unit, list(persons.values()))
        codes = receipts.new_receipts(len(diff.hires))
        subs = [hire_submission(r, persons[r.key], elsewhere, unit, address, common, code,
                                 differs=r.key in renamed)
                for r, code in zip(diff.hires, codes, strict=True)]
        sub_ids = bulk.insert_submissions(session, subs)
        # The employment points at the hire that declared it, as a tenancy points at its move-in. The hire
        # is not linked back (Submission.employment_id stays empty): that UPDATE of every new submission
        # cost more than all the inserts together on PostgreSQL; effects.apply finds the employment by
        # Employment.submission_id.
        bulk.insert_rows(session, Employment, [
            {"unit_id": unit.id, "person_id": persons[r.key], "submission_id": sub_ids[code],
             "position": r.position, "hire_date": r.hire_date, "declared_name": r.name, "declared_phone": r.phone,
             "status": RecordStatus.pending}
            for r, code in zip(diff.hires, codes, strict=True)])
    if diff.departures:
        codes = receipts.new_receipts(len(diff.departures))
        bulk.insert_rows(session, Submission,
                     [_departure_submission(e, unit, address, common, today, code)
                      for e, code in zip(diff.departures, codes, strict=True)])
    audit.record(session, "staff_import.commit", actor, user=uploader,
                 object_type="staff_import", object_id=imp.id,
                 detail=f"hires={imp.hires} departures={imp.departures} unchanged={imp.unchanged} "
                        f"invalid={imp.invalid}")
    session.flush()
    return imp


_PERSON_DETAILS = ("name", "sex", "birth_date", "phone", "nationality", "visa_kind", "visa_expiry")


def _person_values(r: StaffRow) -> dict:
    return {"id_type": r.id_type, "id_number": r.id_number, **{name: getattr(r, name) for name in _PERSON_DETAILS}}


def _persons_for(session: Session, rows: list[StaffRow]) -> tuple[dict[tuple, int], set[tuple]]:
    """Person ids by document (StaffRow.key), creating the people not yet in the register; and the documents
    of the people already known under another name (a known person is never changed by a list: the name in
    the list is what this employer declares). Found by blind index (fieldcrypt.py): by document type and the
    number's index; only the new people are sealed. A person another upload created a moment ago is skipped
    by ON CONFLICT DO NOTHING (bulk.insert_new_persons) and found by the lookup."""
    row_of = {(str(r.id_type), Person.id_number.index_of(r.id_number)): r for r in rows}
    known = _known_persons(session, list(row_of))
    renamed = {r.key for k, r in row_of.items() if k in known and known[k][1] != Person.name.index_of(r.name)}
    found = {row_of[k].key: pid for k, (pid, _name) in known.items()}
    new = [r for r in rows if r.key not in found]
    if new:
        now = utcnow()
        created = bulk.insert_new_persons(session, [{**_person_values(r), "created_at": now} for r in new])
        found.update({row_of[(str(t), index)].key: pid for pid, t, index in created})
        raced = [k for k, r in row_of.items() if r.key not in found]
        if raced:
            found.update({row_of[k].key: pid for k, (pid, _name) in _known_persons(session, raced).items()})
    return found, renamed


def _known_persons(session: Session, keys: list[tuple[str, bytes]]) -> dict[tuple, tuple[int, bytes]]:
    """(id, the blind index of the register's name) of the documents (type, blind index of the number) the
    register knows."""
    found: dict[tuple, tuple[int, bytes]] = {}
    by_type: dict[str, list[bytes]] = {}
    for id_type, index in keys:
        by_type.setdefault(id_type, []).append(index)
    for id_type, indexes in by_type.items():
        for chunk in _chunks(indexes):
            for pid, index, name in session.execute(select(Person.id, Person.id_index, Person.name_index).where(
                    Person.id_type == id_type, Person.id_index.in_(chunk))):
                found[(id_type, bytes(index))] = (pid, bytes(name))
    return found


def employed_elsewhere(session: Session, unit: Unit, person_ids: list[int]) -> dict[int, list[int]]:
    """Active employments of these people at other units."""
    out: dict[int, list[int]] = {}
    where = [Employment.unit_id != unit.id, Employment.departure_date.is_(None),
             Employment.status.in_(RecordStatus.ACTIVE)]
    if bulk.on_postgres(session):  # one array parameter instead of thousands of IN parameters
        from sqlalchemy.dialects.postgresql import ARRAY

        ids = bindparam("person_ids", value=person_ids, type_=ARRAY(Integer))
        chunks = [[Employment.person_id == any_(ids)]]
    else:
        chunks = [[Employment.person_id.in_(chunk)] for chunk in _chunks(person_ids)]
    for condition in chunks:
        for pid, other in session.execute(select(Employment.person_id, Employment.unit_id).where(*condition,
                                                                                                  *where)):
            out.setdefault(pid, []).append(other)
    return out


def hire_submission(r: StaffRow, person_id: int, elsewhere: dict[int, list[int]], unit: Unit,
                     address: str | None, common: dict, receipt: str | None, *, differs: bool = False) -> dict:
    """A hire's submission row; `differs`: the register knows the person under another name or phone."""
    found = flags.for_hire(elsewhere.get(person_id, []), r.region_known, differs)
    payload = {"name": r.name, "id_type": r.id_type, "id_number": r.id_number, "sex": r.sex,
               "birth_date": r.birth_date.isoformat() if r.birth_date else None, "phone": r.phone,
               "position": r.position, "hire_date": r.hire_date.isoformat() if r.hire_date else None,
               "row": r.row, "unit_name": unit.name, "address": address}
    if r.id_type != IdType.resident_id:
        payload.update(nationality=r.nationality, visa_kind=r.visa_kind,
                       visa_expiry=r.visa_expiry.isoformat() if r.visa_expiry else None)
    return {**common, "kind": SubmissionKind.hire, "payload": payload, "flags": found, "flagged": bool(found),
            "receipt": receipt}


def _departure_submission(e: Employment, unit: Unit, address: str | None, common: dict, today: date,
                          receipt: str) -> dict:
    person = e.person
    payload = {"name": e.declared_name, "id_type": str(person.id_type), "id_number": person.id_number,
               "employment_id": e.id, "position": e.position,
               "hire_date": e.hire_date.isoformat() if e.hire_date else None,
               # The list says only that the person is gone by the day it was uploaded.
               "departure_date": today.isoformat(), "reason": "not_in_full_list",
               "unit_name": unit.name, "address": address}
    return {**common, "kind": SubmissionKind.departure, "employment_id": e.id, "payload": payload,
            "flags": [], "flagged": False, "receipt": receipt}

def error_csv(pv: Preview, *, locale_headers: bool = True) -> bytes:
    """The rows with errors, their cells as uploaded, and an error column: fix them and upload again.

    UTF-8 with BOM; every cell that a spreadsheet could run as a formula is neutralised. With
    ``locale_headers`` the known columns are named in the current language (the importer recognises
    both), otherwise as in the uploaded file.
    """
    labels = {i: c for c, i in pv.columns.items()}
    header = list(pv.header)
    width = max([len(header), *(len(c) for c in pv.error_cells.values())], default=len(header))
    names = []
    for index in range(width):
        original = header[index] if index < len(header) else ""
        names.append(str(COLUMN_LABELS[labels[index]]) if locale_headers and index in labels else original)
    out = [[str(_ROW_LABEL) if locale_headers else "row", *names,
            str(_ERRORS_LABEL) if locale_headers else "errors"]]
    for number, row_errors in sorted(pv.errors_by_row().items()):
        cells = list(pv.error_cells.get(number, []))
        cells += [None] * (width - len(cells))
        text = "; ".join(_error_text(e) for e in row_errors)
        out.append([number, *cells, text])
    return spreadsheets.write_csv(out)


def _error_text(e: RowError) -> str:
    if e.column in COLUMN_LABELS:
        return f"{COLUMN_LABELS[e.column]}: {e.message}"
    if e.header:
        return f"{e.header}: {e.message}"
    return str(e.message)


def template_headers() -> list[str]:
    return [str(COLUMN_LABELS[c]) for c in COLUMNS]


def template_csv() -> bytes:
    return spreadsheets.write_csv([template_headers()])


def template_xlsx() -> bytes:
    """The header row in the current language; ID number and phone columns formatted as Text ('@') so
    Excel keeps all 18 digits; the hire date column formatted as a date."""
    id_col, phone_col, date_col = (COLUMNS.index(c) for c in ("id_number", "phone", "hire_date"))
    dates = tuple(COLUMNS.index(c) for c in ("hire_date", "birth_date", "visa_expiry"))
    return spreadsheets.write_xlsx([template_headers()], text_columns=(id_col, phone_col),
                                   date_columns=dates,
                                   widths={0: 14, 1: 8, id_col: 22, phone_col: 16, 4: 16, date_col: 14})
