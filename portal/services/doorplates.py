"""QR door plates: which addresses of a beat or a building get one, and A4 sheets of them to cut out."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from fontTools.ttLib import TTCollection, TTLibError
from fpdf import FPDF
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.models import Address, AddressLevel, AddressStatus, Beat
from portal.models.address import TEXT_COLUMNS, address_text
from portal.services import addresses, audit
from portal.services.errors import FieldError, ValidationFailed

#: Plates are fixed to Chinese doors: their captions are in Chinese whatever the operator's language.
PLATE_LOCALE = "zh_Hans_CN"

# An A4 portrait sheet holds 2 x 5 plates of 90 x 54 mm, centred, each in a thin grey frame, with crop
# marks in the margins on every cutting line.
PAGE_W, PAGE_H = 210.0, 297.0
COLS, ROWS = 2, 5
PLATE_W, PLATE_H = 90.0, 54.0
LEFT = (PAGE_W - COLS * PLATE_W) / 2
TOP = (PAGE_H - ROWS * PLATE_H) / 2
PAD = 5.0  # inside each plate
QR_SIZE = 30.0  # the symbol without its quiet zone; PAD and the text gap keep 4 modules clear around it
TEXT_W = PLATE_W - 2 * PAD - QR_SIZE - 5.0
ADDRESS_SIZES = (11, 10, 9, 8)  # points: the largest that fits the address in ADDRESS_LINES lines
ADDRESS_LINES = 5
CODE_SIZE = 24


@dataclass(frozen=True)
class Plate:
    code: str
    text: str  # the standard address, in standard order
    url: str  # what the QR code holds: the door-plate page, <base>/a/<code>


def door_plate_url(base_url: str, code: str) -> str:
    """The URL behind a plate's QR code; the same path as the public.door_plate view."""
    return f"{base_url.rstrip('/')}/a/{code}"


# --- which addresses get a plate -----------------------------------------------------------------

def _rooms_of(building) -> tuple[Any, Any]:
    """Rooms of a building in use (a retired or merged address gets no new plate): the same door and building,
    compared by their normalised keys as search does."""
    room = aliased(Address)
    return room, and_(room.level == AddressLevel.room, room.status == AddressStatus.active,
                      room.division_code == building.division_code,
                      room.township == building.township, room.road == building.road,
                      room.door_key == building.door_key, room.community == building.community,
                      room.building_key == building.building_key)


def _beat_condition(beat_id: int):
    """Every room of the beat, and every building of the beat that has no rooms in the register."""
    _room, of_building = _rooms_of(Address)
    return and_(Address.beat_id == beat_id, Address.status == AddressStatus.active,
                or_(Address.level == AddressLevel.room,
                    and_(Address.level == AddressLevel.building, ~exists().where(of_building))))


def plates_for_beat(session: Session, beat_code: str, *, base_url: str, limit: int) -> list[Plate]:
    beat = session.scalar(select(Beat).where(Beat.code == (beat_code or "").strip()))
    if beat is None:
        raise ValidationFailed([FieldError("unknown_beat", _l("There is no beat with the code %(code)s.",
                                                              code=beat_code), "beat")])
    condition = _beat_condition(beat.id)
    _check_count(session.scalar(select(func.count()).select_from(Address).where(condition)), limit)
    return _load(session, Address, condition, base_url)


def plates_for_building(session: Session, address_code: str, *, base_url: str, limit: int) -> list[Plate]:
    """The rooms of a building; a building without rooms in the register gets its own plate."""
    building = addresses.by_code(session, address_code or "")
    if building is None:
        raise ValidationFailed([FieldError("unknown_address", _l("There is no standard address with the code "
                                                                 "%(code)s.", code=address_code), "building")])
    if building.level != AddressLevel.building:
        raise ValidationFailed([FieldError("not_a_building", _l(
            "The address %(code)s is not a building: give the code of a building to print its rooms' plates "
            "(this one is %(address)s).", code=building.code, address=building.text), "building")])
    return plates_of_building(session, building, base_url=base_url, limit=limit)


def plates_of_building(session: Session, building: Address, *, base_url: str, limit: int,
                       beat_ids: Sequence[int] | None = None) -> list[Plate]:
    """The rooms in use of the building that ``building`` (any address of it: the building, a unit, a room) is
    in; a building without rooms in the register gets its own plate (that of ``building``). With ``beat_ids``
    (a clerk's bureau), only the rooms of those beats: another bureau's rooms written alike are not theirs."""
    room, condition = _rooms_of(building)
    if beat_ids is not None:
        condition = and_(condition, room.beat_id.in_(list(beat_ids)))
    count = session.scalar(select(func.count()).select_from(room).where(condition))
    if not count:
        return [Plate(building.code, building.text, door_plate_url(base_url, building.code))]
    _check_count(count, limit)
    return _load(session, room, condition, base_url)


def record_print(session: Session, actor, plates: Sequence[Plate], *, object_type: str, object_id: object) -> None:
    """The audit row of a run of door plates printed (how many, and the first and last code)."""
    detail = f"plates={len(plates)}"
    if plates:
        detail += f" first={plates[0].code} last={plates[-1].code}"
    audit.record(session, "doorplates.print", actor, object_type=object_type, object_id=object_id, detail=detail)


def _check_count(count: int, limit: int) -> None:
    if count == 0:
        raise ValidationFailed([FieldError("no_addresses", _l("This beat has no rooms or buildings in the "
                                                              "register: there is nothing to print."))])
    if count > limit:
        raise ValidationFailed([FieldError("too_many", _l(
            "This would print %(count)s plates, more than %(limit)s at once. Print one building at a time "
            "(--building), or raise MAX_DOOR_PLATES.", count=format(count, ","), limit=format(limit, ",")))])


def _load(session: Session, entity, condition, base_url: str) -> list[Plate]:
    columns = [getattr(entity, c) for c in TEXT_COLUMNS]
    order = addresses.standard_order(entity)
    rows = session.execute(select(entity.code, *columns).where(condition).order_by(*order))
    return [Plate(row.code, address_text(row), door_plate_url(base_url, row.code)) for row in rows]


# --- the sheet -------------------------------------------------------------------------------------

CAPTION = _l("Standard address")
HINT = _l("Scan to register this house or report your tenants")


def font_missing(font: str) -> ValidationFailed:
    return ValidationFailed([FieldError("font_missing", _l(
        "The door-plate font %(path)s cannot be read: install Debian's fonts-noto-cjk (scripts/ensure-chromium "
        "does), or set DOORPLATE_FONT to a TrueType or OpenType font with Chinese characters.", path=font))])


@lru_cache(maxsize=4)
def _face_index(font: str) -> int:
    """The Simplified Chinese face of a font collection (Noto Sans CJK holds JP, KR, SC, TC, HK...)."""
    if not font.lower().endswith((".ttc", ".otc")):
        return 0
    with TTCollection(font, lazy=True) as collection:
        families = [f["name"].getDebugName(1) or "" for f in collection.fonts]
    for wanted in (lambda n: n.endswith(" SC") and "Mono" not in n, lambda n: "SC" in n or "CN" in n):
        for index, family in enumerate(families):
            if wanted(family):
                return index
    return 0


def _document(font: str) -> FPDF:
    try:
        index = _face_index(font)
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.add_font("plate", "", font, collection_font_number=index)
    except (OSError, TTLibError, ValueError, KeyError) as error:
        raise font_missing(font) from error
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("portal doorplates")
    return pdf


def render_pdf(plates: Sequence[Plate], font: str) -> bytes:
    """A4 sheets of door plates, COLS x ROWS a page, in the order given."""
    pdf = _document(font)
    with force_locale(PLATE_LOCALE):
        caption, hint = str(CAPTION), str(HINT)
    per_page = COLS * ROWS
    for n, plate in enumerate(plates):
        slot = n % per_page
        if slot == 0:
            pdf.add_page()
            _crop_marks(pdf)
        row, col = divmod(slot, COLS)
        _plate(pdf, LEFT + col * PLATE_W, TOP + row * PLATE_H, plate, caption, hint)
    return bytes(pdf.output())


def _crop_marks(pdf: FPDF) -> None:
    """Short black lines in the margins on the line of every cut, clear of the plates."""
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    right, bottom = LEFT + COLS * PLATE_W, TOP + ROWS * PLATE_H
    gap, length = 2.0, 6.0
    for i in range(COLS + 1):
        x = LEFT + i * PLATE_W
        pdf.line(x, TOP - gap - length, x, TOP - gap)
        pdf.line(x, bottom + gap, x, bottom + gap + length)
    for j in range(ROWS + 1):
        y = TOP + j * PLATE_H
        pdf.line(LEFT - gap - length, y, LEFT - gap, y)
        pdf.line(right + gap, y, right + gap + length, y)


def _qr_image(url: str):
    """The QR code as a 1-bit image, one pixel a module, no quiet zone (the layout keeps it clear).
    A PDF viewer or printer scales it without smoothing, so the modules stay sharp."""
    from PIL import Image

    matrix = segno.make(url, error="m").matrix
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    return Image.frombytes("L", (size, size), pixels).convert("1")


def _plate(pdf: FPDF, x: float, y: float, plate: Plate, caption: str, hint: str) -> None:
    pdf.set_draw_color(170)
    pdf.set_line_width(0.15)
    pdf.rect(x, y, PLATE_W, PLATE_H)
    pdf.image(_qr_image(plate.url), x + PLATE_W - PAD - QR_SIZE, y + PAD, QR_SIZE, QR_SIZE)

    pdf.set_text_color(90)
    pdf.set_font("plate", size=8)
    pdf.set_xy(x + PAD, y + PAD)
    pdf.cell(TEXT_W, 4, caption)

    pdf.set_text_color(0)
    size, lines = _address_lines(pdf, plate.text)
    line_h = size * 0.42
    for i, line in enumerate(lines):
        pdf.set_xy(x + PAD, y + PAD + 6 + i * line_h)
        pdf.cell(TEXT_W, line_h, line)

    pdf.set_font("plate", size=CODE_SIZE)
    pdf.set_char_spacing(1.5)
    pdf.set_xy(x + PAD, y + PAD + QR_SIZE + 4)
    pdf.cell(PLATE_W - 2 * PAD, 9, plate.code, align="C")
    pdf.set_char_spacing(0)

    pdf.set_text_color(90)
    pdf.set_font("plate", size=7)
    pdf.set_xy(x + PAD, y + PLATE_H - 3.5 - 3)
    pdf.cell(PLATE_W - 2 * PAD, 3, hint, align="C")


def _address_lines(pdf: FPDF, text: str) -> tuple[int, list[str]]:
    """The largest of ADDRESS_SIZES at which the address fits in ADDRESS_LINES lines of the text column,
    and its lines: broken between the parts of the address, and inside a part only if it is too long."""
    for size in ADDRESS_SIZES:
        pdf.set_font("plate", size=size)
        lines = _wrap(pdf, text.split(), TEXT_W)
        if len(lines) <= ADDRESS_LINES:
            break
    return size, lines


def _wrap(pdf: FPDF, parts: list[str], width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for part in parts:
        joined = f"{line} {part}" if line else part
        if pdf.get_string_width(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        line = ""
        for char in part:  # a part longer than the column: break it between characters
            if line and pdf.get_string_width(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def write_pdf(plates: Sequence[Plate], output: Path, font: str) -> None:
    """Render, then replace ``output`` in one step: a failure leaves no file, nor half of one."""
    data = render_pdf(plates, font)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".doorplates-", suffix=".pdf", dir=output.parent)
    except OSError as error:
        raise _cannot_write(output, error) from error
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp, output)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _cannot_write(output, error) from error


def _cannot_write(output: Path, error: OSError) -> ValidationFailed:
    return ValidationFailed([FieldError("cannot_write", _l("%(path)s cannot be written: %(reason)s.",
                                                           path=str(output), reason=error.strerror or error),
                                        "output")])

