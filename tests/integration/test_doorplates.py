"""flask doorplates: A4 sheets of QR door plates, read back as a person would (the page images' QR codes,
the text), and every bad input refused with a message and nothing written."""
from __future__ import annotations

import re

import pypdfium2
import pytest
import zxingcpp
from flask import url_for
from sqlalchemy import select

from portal.config import DOORPLATE_FONT
from portal.models import AuditEvent
from portal.services import doorplates
from portal.services.errors import ValidationFailed
from tests.factories import make_address

MM = 72 / 25.4  # PDF points per millimetre
DPI = 150


@pytest.fixture
def cli(app, db_session):
    return app.test_cli_runner()


@pytest.fixture
def estate(db_session, district):
    """One beat with a building of 12 rooms (2 pages: 10 plates a page), a building without rooms, a door
    plate, and a room in another beat; plus a building with a long address."""
    beat, other = district.beats[1], district.beats[3]
    rooms = [make_address(db_session, beat, community="翠竹苑", building="3栋", unit=f"{u}单元", room=room)
             for u in (1, 2) for room in ("101", "102", "201", "202", "1001", "1002")]
    building = make_address(db_session, beat, community="翠竹苑", building="3栋")
    bare = make_address(db_session, beat, community="翠竹苑", building="12栋")
    long = make_address(db_session, beat, road="建设北路东段辅路", door_no="1188号",
                        community="湘江风光带滨江壹号国际社区二期", building="A座")
    door = make_address(db_session, beat, community="翠竹苑")
    elsewhere = make_address(db_session, other, road="人民路", door_no="7号", building="1栋", room="101")
    db_session.commit()
    return {"beat": beat, "rooms": rooms, "building": building, "bare": bare, "long": long, "door": door,
            "elsewhere": elsewhere}


def read_sheet(path) -> list[list[tuple[str, str]]]:
    """Per page, per plate slot in reading order: (the text inside the plate, the QR codes decoded there)."""
    pdf = pypdfium2.PdfDocument(str(path))
    pages = []
    for page in pdf:
        image = page.render(scale=DPI / 72).to_pil()
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        text = page.get_textpage()
        slots = []
        for slot in range(doorplates.COLS * doorplates.ROWS):
            row, col = divmod(slot, doorplates.COLS)
            left = doorplates.LEFT + col * doorplates.PLATE_W
            top = doorplates.TOP + row * doorplates.PLATE_H
            inside = [b.text for b in found if _centre_within(b, left, top, DPI)]
            words = text.get_text_bounded(left * MM, (doorplates.PAGE_H - top - doorplates.PLATE_H) * MM,
                                          (left + doorplates.PLATE_W) * MM, (doorplates.PAGE_H - top) * MM)
            slots.append((re.sub(r"\s", "", words), inside))
        pages.append((slots, len(found)))
        text.close()
    pdf.close()
    return pages


def _centre_within(barcode, left_mm: float, top_mm: float, dpi: int) -> bool:
    p = barcode.position
    x = (p.top_left.x + p.bottom_right.x) / 2 * 25.4 / dpi
    y = (p.top_left.y + p.bottom_right.y) / 2 * 25.4 / dpi
    return left_mm < x < left_mm + doorplates.PLATE_W and top_mm < y < top_mm + doorplates.PLATE_H


def assert_plates(path, expected, base_url):
    """Every plate's slot holds its address and code, and exactly one QR code: that address's page."""
    pages = read_sheet(path)
    per_page = doorplates.COLS * doorplates.ROWS
    assert len(pages) == -(-len(expected) // per_page)
    for n, address in enumerate(expected):
        slots, _ = pages[n // per_page]
        words, codes = slots[n % per_page]
        assert re.sub(r"\s", "", address.text) in words, (address.text, words)
        assert address.code in words
        assert codes == [f"{base_url}/a/{address.code}"], (address.text, codes)
    assert sum(count for _, count in pages) == len(expected)  # every QR code on the pages, and no other
    last, _ = pages[-1]
    assert all(not words and not codes for words, codes in last[len(expected) - (len(pages) - 1) * per_page:])


def _rooms_in_order(estate):
    return sorted(estate["rooms"], key=lambda a: (a.unit_key, len(a.room_key), a.room_key))  # 201 < 1001


def test_a_beat_gets_a_plate_for_every_room_and_every_building_without_rooms(app, cli, db_session, estate,
                                                                            tmp_path):
    app.config["PORTAL_BASE_URL"] = "https://portal.example.cn"
    out = tmp_path / "beat.pdf"
    try:
        result = cli.invoke(args=["doorplates", "--beat", estate["beat"].code, "-o", str(out)])
    finally:
        app.config["PORTAL_BASE_URL"] = "http://127.0.0.1:5000"
    assert result.exit_code == 0, result.output
    # Standard order: road (建设北路… before 韶山中路), then building by number (3栋 before 12栋), unit, room.
    expected = [estate["long"], *_rooms_in_order(estate), estate["bare"]]
    got = doorplates.plates_for_beat(db_session, estate["beat"].code, base_url="", limit=100)
    assert [p.code for p in got] == [a.code for a in expected]
    assert_plates(out, expected, "https://portal.example.cn")
    assert "已生成 14 块门牌" in result.output  # how many were written, in the default language
    printed = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).all()
    assert [(e.object_type, e.object_id, e.actor_id) for e in printed] == [("beat", estate["beat"].code, None)]
    assert printed[0].detail == f"plates=14 first={expected[0].code} last={expected[-1].code}"


def test_the_plate_url_is_the_door_plate_page(app, estate):
    with app.test_request_context():
        path = url_for("public.door_plate", code=estate["bare"].code)
    assert doorplates.door_plate_url("http://127.0.0.1:5000/", estate["bare"].code) == "http://127.0.0.1:5000" + path


def test_a_building_gets_its_rooms(cli, db_session, estate, tmp_path):
    out = tmp_path / "building.pdf"
    result = cli.invoke(args=["doorplates", "--building", estate["building"].code.lower(), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert_plates(out, _rooms_in_order(estate), "http://127.0.0.1:5000")
    printed = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).one()
    assert (printed.object_type, printed.detail.split()[0]) == ("address", f"plates={len(_rooms_in_order(estate))}")


def test_a_building_without_rooms_gets_its_own_plate(cli, estate, tmp_path):
    out = tmp_path / "bare.pdf"
    result = cli.invoke(args=["doorplates", "--building", estate["bare"].code, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert_plates(out, [estate["bare"]], "http://127.0.0.1:5000")


def _refused(cli, args, out, *needles):
    result = cli.invoke(args=["doorplates", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, never a traceback
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert not out.exists()
    assert not list(out.parent.glob(".doorplates-*"))
    return result


def test_bad_input_is_refused_in_the_operators_language_and_nothing_is_written(cli, estate, tmp_path):
    out = tmp_path / "plates.pdf"
    o = ["-o", str(out)]
    _refused(cli, ["--beat", "NO-SUCH-BEAT", *o], out, "错误", "NO-SUCH-BEAT")
    _refused(cli, ["--building", "0000000000", *o], out, "没有", "0000000000")
    _refused(cli, ["--building", "not a code!", *o], out, "没有")
    _refused(cli, ["--building", estate["rooms"][0].code, *o], out, "不是楼栋", estate["rooms"][0].code)
    _refused(cli, ["--building", estate["door"].code, *o], out, "不是楼栋")
    _refused(cli, [*o], out, "--beat", "--building")
    _refused(cli, ["--beat", estate["beat"].code, "--building", estate["building"].code, *o], out, "--beat")
    _refused(cli, ["--beat", estate["beat"].code], out, "-o")
    _refused(cli, ["--beat", estate["beat"].code, "-o", str(tmp_path)], out, str(tmp_path))
    missing = tmp_path / "no-such-folder" / "plates.pdf"
    _refused(cli, ["--beat", estate["beat"].code, "-o", str(missing)], missing, "不存在", str(missing.parent))


def test_a_beat_without_rooms_or_buildings_is_refused(cli, district, tmp_path):
    out = tmp_path / "plates.pdf"
    _refused(cli, ["--beat", district.beats[1].code, "-o", str(out)], out, "没有")


def test_a_run_over_the_limit_is_refused_before_anything_is_read_or_written(app, cli, estate, tmp_path):
    out = tmp_path / "plates.pdf"
    assert app.config["MAX_DOOR_PLATES"] == 5000
    app.config["MAX_DOOR_PLATES"] = 13
    try:
        result = _refused(cli, ["--beat", estate["beat"].code, "-o", str(out)], out, "14", "13")
        ok = cli.invoke(args=["doorplates", "--building", estate["building"].code, "-o", str(out)])
    finally:
        app.config["MAX_DOOR_PLATES"] = 5000
    assert "--building" in result.output and ok.exit_code == 0 and out.exists()


def test_100000_plates_are_refused_with_the_default_limit(app, db_session, estate, monkeypatch):
    """The count is checked in SQL before any address is loaded; pretend the beat holds 100,000."""
    calls = []
    real = doorplates._load

    def no_load(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(doorplates, "_load", no_load)
    monkeypatch.setattr(db_session, "scalar", _count_says(db_session.scalar, 100_000))
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        doorplates.plates_for_beat(db_session, estate["beat"].code, base_url="", limit=app.config["MAX_DOOR_PLATES"])
    assert refused.value.errors[0].code == "too_many" and not calls
    assert "100,000" in str(refused.value.errors[0].message)


def _count_says(real_scalar, n):
    def scalar(statement, *args, **kwargs):
        if "count(" in str(statement).lower():
            return n
        return real_scalar(statement, *args, **kwargs)

    return scalar


def test_a_missing_font_is_a_clear_message(app, cli, db_session, estate, tmp_path):
    out = tmp_path / "plates.pdf"
    app.config["DOORPLATE_FONT"] = str(tmp_path / "no-such-font.ttc")
    try:
        _refused(cli, ["--beat", estate["beat"].code, "-o", str(out)], out, "fonts-noto-cjk", "DOORPLATE_FONT")
    finally:
        app.config["DOORPLATE_FONT"] = DOORPLATE_FONT
    # nothing printed, nothing audited
    assert not db_session.scalars(select(AuditEvent).where(AuditEvent.action == "doorplates.print")).all()


def test_a_long_address_is_set_smaller_and_stays_inside_its_plate(app, estate, tmp_path):
    out = tmp_path / "long.pdf"
    plate = doorplates.Plate(estate["long"].code, estate["long"].text, "http://127.0.0.1:5000/a/X")
    with app.app_context():
        doorplates.write_pdf([plate], out, app.config["DOORPLATE_FONT"])
    (slots, found), = read_sheet(out)
    words, codes = slots[0]
    assert re.sub(r"\s", "", estate["long"].text) in words and codes == [plate.url] and found == 1


def test_a_file_that_cannot_be_written_leaves_nothing_behind(app, estate, tmp_path):
    plate = doorplates.Plate(estate["bare"].code, estate["bare"].text, "http://127.0.0.1:5000/a/X")
    target = tmp_path / "gone" / "plates.pdf"
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        doorplates.write_pdf([plate], target, app.config["DOORPLATE_FONT"])
    assert refused.value.errors[0].code == "cannot_write" and not tmp_path.joinpath("gone").exists()
    existing = tmp_path / "plates.pdf"
    existing.write_bytes(b"old")
    doorplates.write_pdf([plate], existing, app.config["DOORPLATE_FONT"])  # replaced whole
    assert existing.read_bytes().startswith(b"%PDF") and not list(tmp_path.glob(".doorplates-*"))
