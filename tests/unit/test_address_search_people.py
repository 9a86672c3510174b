"""Address search understands how people write an address: 13-4-402, 十三栋四单元, pinyin, the first
keystrokes of a name; and it pages its results with their count (issue 16, item 5)."""
from __future__ import annotations

import pytest

from portal.services import address_norm, addresses
from tests.unit.test_addresses import register  # noqa: F401  (the fixture)


@pytest.mark.parametrize("text, digits", [
    ("十三栋四单元402室", "13栋4单元402室"), ("二十一栋", "21栋"), ("一百零二号", "102号"), ("四零二室", "402室"),
    ("4单元四零二", "4单元402"), ("两栋", "2栋"), ("5栋二楼", "5栋2楼"), ("万达广场三号楼", "万达广场3号楼"),
    # Names stay as written.
    ("一品花园", "一品花园"), ("万达广场", "万达广场"), ("三门峡路", "三门峡路"), ("五一路", "五一路"),
    ("统一楼", "统一楼"), ("一品楼三单元", "一品楼3单元"),
])
def test_arabic_numerals_only_where_a_number_counts(text, digits):
    assert address_norm.arabic_numerals(text) == digits


@pytest.mark.parametrize("raw, key", [("十三栋", "13"), ("第十三栋", "13"), ("4门", "4"), ("四单元", "4"),
                                      ("四零二室", "402"), ("88之1号", "88-1"), ("88号之1", "88-1"),
                                      ("８８－１号", "88-1")])
def test_keys_read_numerals_gates_and_zhi(raw, key):
    assert address_norm.normalise_key(raw) == key


def test_pinyin_keys():
    assert address_norm.pinyin_keys("银海花园") == ("YHHY", "YINHAIHUAYUAN")
    assert address_norm.pinyin_keys("重庆路") == ("CQL", "CHONGQINGLU")
    assert address_norm.pinyin_keys("A1") == ("", "")


@pytest.mark.parametrize("query", ["13-4-402", "银海花园 13-4-402", "13栋4单元402", "十三栋四单元402室",
                                   "银海花园十三栋四单元四零二", "13幢4门402室", "yhhy 13-4-402",
                                   "yinhaihuayuan 13栋 4单元 402", "YinHai 13-4-402"])
def test_one_room_however_it_is_written(db_session, register, query):  # noqa: F811
    assert addresses.search(db_session, query)[0] is register[(13, 4, "402")]


def test_first_keystrokes_of_a_name(db_session, register):  # noqa: F811
    found = addresses.search(db_session, "银海", limit=100)
    assert found and all(a.community == "银海花园" for a in found)
    assert addresses.search(db_session, "银海", limit=1) == [register["plate"]]  # the door plate first
    assert {a.road for a in addresses.search(db_session, "yh", limit=100)} == {"韶山中路"}  # 银海花园's
    assert {a.road for a in addresses.search(db_session, "ss", limit=100)} == {"韶山中路"}  # SSZL
    assert addresses.search(db_session, "海花") == []  # two characters inside a name are not its start


def test_search_page_counts_and_pages(db_session, register):  # noqa: F811
    everything = addresses.search(db_session, "银海花园", limit=100)
    first = addresses.search_page(db_session, "银海花园", size=10)
    assert (first.total, first.more, first.offset) == (len(everything), False, 0)
    assert first.items == everything[:10] and first.previous_offset is None and first.next_offset == 10
    pages, offset = [], 0
    while offset is not None:
        page = addresses.search_page(db_session, "银海花园", offset=offset, size=10)
        pages.extend(page.items)
        offset = page.next_offset
    assert pages == everything
    assert addresses.search_page(db_session, "不存在的路名").total == 0


def test_count_is_capped(db_session, register, monkeypatch):  # noqa: F811
    monkeypatch.setattr(addresses, "COUNT_CAP", 5)
    page = addresses.search_page(db_session, "银海花园", size=3)
    assert (page.total, page.more, len(page.items), page.next_offset) == (5, True, 3, 3)
    last = addresses.search_page(db_session, "银海花园", offset=3, size=3)
    assert len(last.items) == 2 and last.next_offset is None
