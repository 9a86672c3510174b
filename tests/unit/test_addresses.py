"""Standard addresses: key normalisation, public codes, lookup by code and free-text search."""
from __future__ import annotations

import re

import pytest

from portal.models import Address, AddressLevel, Beat, Bureau, Station
from portal.services import addresses

CROCKFORD = re.compile(r"[0-9A-HJKMNP-TV-Z]{10}")


@pytest.mark.parametrize(("raw", "key"), [
    ("13栋", "13"), ("13幢", "13"), ("13号楼", "13"), ("13座", "13"), ("１３栋", "13"), (" 13 栋 ", "13"),
    ("4单元", "4"), ("402室", "402"), ("402房", "402"), ("402", "402"), ("88号", "88"), ("88-1号", "88-1"),
    ("b座", "B"), ("", ""), ("栋", "栋"),
])
def test_normalise_key(raw, key):
    assert addresses.normalise_key(raw) == key


ROOM = ("430302", "云塘街道", "韶山中路", "88号", "银海花园", "13栋", "4单元", "402")


def test_make_code_is_pinned_so_printed_door_plates_stay_valid():
    # A change of algorithm would orphan every QR code already on a door: this value must never change.
    assert addresses.make_code(*ROOM) == "9QR8DV5TM9"


def test_make_code_ignores_width_and_stray_whitespace():
    assert addresses.make_code("430302", " 云塘街道", "韶山中路 ", "８８号", "银海花园", "13栋", "4单元",
                               "４０２") == addresses.make_code(*ROOM)


def test_make_code_unique_short_and_not_sequential():
    rooms = [(*ROOM[:5], f"{b}栋", f"{u}单元", f"{f}0{r}")
             for b in range(1, 21) for u in range(1, 5) for f in range(1, 12) for r in range(1, 5)]
    codes = [addresses.make_code(*room) for room in rooms]
    assert len(set(codes)) == len(codes) == 3520
    assert all(CROCKFORD.fullmatch(c) for c in codes)
    # Neighbouring rooms get unrelated codes: no shared prefixes, first characters spread over the alphabet.
    assert sum(a[:3] == b[:3] for a, b in zip(codes, codes[1:], strict=False)) < 5
    assert len({c[0] for c in codes[:200]}) >= 25
    assert codes != sorted(codes)


def test_level_of():
    assert addresses.level_of("", "", "") == AddressLevel.door_plate
    assert addresses.level_of("13栋", "", "") == AddressLevel.building
    assert addresses.level_of("13栋", "4单元", "") == AddressLevel.building
    assert addresses.level_of("13栋", "4单元", "402") == AddressLevel.room


def test_fill_derived():
    a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township="云塘街道",
                road="韶山中路", door_no="８８号", community="银海花园", building="13 栋", unit="4单元",
                room="402室")
    addresses.fill_derived(a)
    assert a.level == AddressLevel.room
    assert (a.door_key, a.building_key, a.unit_key, a.room_key) == ("88", "13", "4", "402")
    assert a.search_text == ("湖南省湘潭市雨湖区云塘街道韶山中路88号银海花园13栋4单元402室 云塘街道 韶山中路 银海花园 "
                             "SSZL SHAOSHANZHONGLU YHHY YINHAIHUAYUAN")


# --- lookups over a small register -----------------------------------------------------------------

def _add(session, beat: Beat, road: str, door_no: str, community: str = "", building: str = "",
         unit: str = "", room: str = "", township: str = "云塘街道") -> Address:
    a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township=township, road=road,
                door_no=door_no, community=community, building=building, unit=unit, room=room,
                beat_id=beat.id)
    a.code = addresses.make_code(a.division_code, township, road, door_no, community, building, unit, room)
    addresses.fill_derived(a)
    session.add(a)
    return a


@pytest.fixture
def register(db_session):
    bureau = Bureau(code="U-B", name="测试分局")
    station = Station(code="U-S", name="测试派出所", bureau=bureau)
    beat_a, beat_b = Beat(code="U-A", name="甲警务区", station=station), Beat(code="U-B", name="乙警务区",
                                                                             station=station)
    db_session.add_all([bureau, station, beat_a, beat_b])
    db_session.flush()
    made = {}
    # Rooms first and buildings in reverse so that insertion order cannot pass for ranking.
    for b in (13, 12, 2):
        for u in (4, 3):
            for r in ("402", "401", "302"):
                made[(b, u, r)] = _add(db_session, beat_a, "韶山中路", "88号", "银海花园", f"{b}栋",
                                       f"{u}单元", r)
    for b in (13, 12, 2):
        made[b] = _add(db_session, beat_a, "韶山中路", "88号", "银海花园", f"{b}栋")
    made["plate"] = _add(db_session, beat_a, "韶山中路", "88号", "银海花园")
    made["shop"] = _add(db_session, beat_a, "韶山中路", "402号")
    made["shop_block"] = _add(db_session, beat_a, "韶山中路", "402号", "", "1栋")
    made["numbered_road"] = _add(db_session, beat_b, "建设路2段", "3号", township="城正街街道")
    made["other_road"] = _add(db_session, beat_b, "人民路", "88号", township="城正街街道")
    made["other_room"] = _add(db_session, beat_b, "人民路", "88号", "", "13栋", "4单元", "402",
                              township="城正街街道")
    db_session.commit()
    made["beats"] = (beat_a, beat_b)
    return made


def test_by_code_is_forgiving_about_how_it_is_typed(db_session, register):
    room = register[(13, 4, "402")]
    code = room.code
    assert addresses.by_code(db_session, code) is room
    spaced = f" {code[:4].lower()} {code[4:]} "
    assert addresses.by_code(db_session, spaced) is room
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert addresses.by_code(db_session, full_width) is room
    assert addresses.by_code(db_session, code[:5] + "-" + code[5:]) is room


@pytest.mark.parametrize("garbage", ["", " ", "\x00", "' OR 1=1 --", "%", "9QR8DV5TM" + "X" * 500, "\ud800",
                                     "ZZZZZZZZZZ", None])
def test_by_code_unknown_or_garbage_is_none(db_session, register, garbage):
    assert addresses.by_code(db_session, garbage) is None


@pytest.mark.parametrize("query", [
    "银海花园 13栋 4单元 402", "银海花园13栋4单元402", "银海花园 １３栋 ４单元 ４０２",
    "韶山中路88号银海花园13幢4单元402室", "银海花园13号楼4单元402房", "云塘街道 13栋 4单元 402",
])
def test_search_finds_the_room_first(db_session, register, query):
    results = addresses.search(db_session, query)
    assert results[0] is register[(13, 4, "402")]
    assert register["other_room"] not in results


def test_search_door_plate_first_then_its_buildings_in_number_order(db_session, register):
    results = addresses.search(db_session, "雨湖区 韶山中路 88号", limit=50)
    assert results[0] is register["plate"]
    assert results[1:4] == [register[2], register[12], register[13]]
    assert all(a.level == AddressLevel.room for a in results[4:])
    assert register["other_road"] not in results
    assert len(results) == 1 + 3 + 18


def test_search_bare_number_prefers_the_address_it_names(db_session, register):
    results = addresses.search(db_session, "402", limit=50)
    # The door plate 402号 and the rooms 402 are themselves "402"; the building behind door 402号 has
    # fewer components but is not what was named, so it comes last; rooms 401 do not match at all.
    assert results[0] is register["shop"]
    assert [a.room for a in results[1:8]] == ["402"] * 7
    assert results[8:] == [register["shop_block"]]


def test_search_building_query_puts_the_building_first(db_session, register):
    results = addresses.search(db_session, "银海花园 12栋")
    assert results[0] is register[12]
    assert all(a.building == "12栋" for a in results)


def test_search_respects_limit_and_text_pieces(db_session, register):
    assert len(addresses.search(db_session, "银海花园", limit=5)) == 5
    assert addresses.search(db_session, "银海花园", limit=1) == [register["plate"]]
    assert addresses.search(db_session, "湖南省湘潭市雨湖区城正街街道人民路") == [register["other_road"],
                                                                          register["other_room"]]
    assert addresses.search(db_session, "金湖湾") == []


def test_search_within_beats(db_session, register):
    beat_a, beat_b = register["beats"]
    assert addresses.search(db_session, "13栋 4单元 402", beat_ids=[beat_b.id]) == [register["other_room"]]
    assert register["other_room"] not in addresses.search(db_session, "13栋 4单元 402", beat_ids=[beat_a.id])
    assert addresses.search(db_session, "13栋 4单元 402", beat_ids=[]) == []


@pytest.mark.parametrize("garbage", [
    "", "   ", "\x00", "%", "_", "%%%___", "\\", "'; DROP TABLE address; --", "\ud800\udfff", "🏠" * 1000,
    "a" * 100_000, "1" * 5000, "栋单元室号", "--", "\u202e88号", "号楼号楼号楼", "SELECT * FROM address",
    "\r\n\t", "0x00", "ＮＵＬＬ",
])
def test_search_never_raises(db_session, register, garbage):
    results = addresses.search(db_session, garbage)
    assert isinstance(results, list)
    if garbage.strip(" \x00%_\\-\r\n\t") == "":
        assert results == []


def test_search_wildcards_are_not_wildcards(db_session, register):
    assert addresses.search(db_session, "%") == []
    assert addresses.search(db_session, "_") == []
    assert addresses.search(db_session, "7%") == []  # "7" names no key; "%" is not "anything"


@pytest.mark.parametrize("query", ["建设路2段3号", "建设路2段 3号", "城正街街道建设路2段"])
def test_search_numbers_inside_names(db_session, register, query):
    # "2" is no key of this address: it is part of the road's name.
    assert addresses.search(db_session, query)[0] is register["numbered_road"]


def test_parse_query():
    q = addresses.parse_query("雨湖区韶山中路88号 银海花园１３栋4单元402 建设路2段")
    assert q.text == ["雨湖区", "韶山中路", "银海花园", "建设路", "段"]
    assert q.keys == {"door": ["88"], "building": ["13"], "unit": ["4"]}
    assert q.bare == [("402", ""), ("2", "建设路2段")]
