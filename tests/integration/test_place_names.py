"""The first keystrokes of a place name (services/place_names.py, migration 0025): the table of place names equals a
recount of the addresses after every way of changing them, and search answers a short query from it with exactly
the page, order and count that the plain statement gives."""
from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.schema import CreateIndex

from portal.models import Address, AddressStatus, Beat, Bureau, PlaceName, Station
from portal.models.address import filled_keys
from portal.services import address_merge, address_upkeep, addresses, place_names
from portal.services.address_norm import compact, pinyin_keys
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def _recount(session) -> dict[tuple[str, str], int]:
    """What place_name should hold, counted from the addresses: (kind, name) -> active addresses with that name."""
    counts: dict[tuple[str, str], int] = {}
    for kind in ("township", "road", "community"):
        column = getattr(Address, kind)
        for name, n in session.execute(select(column, func.count())
                                       .where(Address.status == AddressStatus.active, column != "")
                                       .group_by(column)):
            counts[(kind, name)] = n
    return counts


def _table(session) -> dict[tuple[str, str], int]:
    return {(kind, name): n for kind, name, n in
            session.execute(select(PlaceName.kind, PlaceName.name, PlaceName.addresses))}


def _add(session, beat: Beat, township: str, road: str, door_no: str, community: str = "", building: str = "",
         unit: str = "", room: str = "") -> Address:
    a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township=township, road=road,
                door_no=door_no, community=community, building=building, unit=unit, room=room, beat_id=beat.id)
    a.code = addresses.make_code(a.division_code, township, road, door_no, community, building, unit, room)
    session.add(addresses.fill_derived(a))
    return a


# Names that share their first characters or their pinyin initials: 东方路, 东风路 and 大丰路 are all DFL; 东方豪庭,
# 东方花园 and 大福苑 begin DF; "东 方新村" is 东方新村 in the search text; DF广场 begins DF itself.
PLACES = [
    ("东湖街道", "东方路", "3号", "东方豪庭"), ("东湖街道", "东方路", "12号", "东方花园"),
    ("东湖街道", "东风路", "7号", "东 方新村"), ("东湖街道", "大丰路", "1号", "大福苑"),
    ("先锋街道", "滴水埠路", "3号", "枫林豪庭"), ("先锋街道", "滴水埠路", "20号", "DF广场"),
    ("先锋街道", "大丰路", "2号", ""), ("大河街道", "人民路", "5号", "东方豪庭"),
]
QUERIES = ["东", "东方", "东风", "东 ", "DF", "df", "D", "大", "大丰", "枫林", "FL", "东湖", "先锋", "XF", "人民",
           "R", "方", "无", "Z"]


@pytest.fixture
def city(db_session):
    """Door plates, buildings, units and rooms of the places above in three beats, some retired or merged."""
    bureau = Bureau(code="P-B", name="测试分局")
    station = Station(code="P-S", name="测试派出所", bureau=bureau)
    beats = [Beat(code=f"P-{i}", name=f"测试警务区{i}", station=station) for i in range(3)]
    db_session.add_all([bureau, station, *beats])
    db_session.flush()
    made = []
    for i, (township, road, door_no, community) in enumerate(PLACES):
        beat = beats[i % 3]
        made.append(_add(db_session, beat, township, road, door_no, community))
        for b in ("13栋", "2栋"):
            made.append(_add(db_session, beat, township, road, door_no, community, b))
            made.append(_add(db_session, beat, township, road, door_no, community, b, "1单元"))
            for room in ("1102", "302", "402"):
                made.append(_add(db_session, beat if room != "402" else beats[(i + 1) % 3], township, road,
                                 door_no, community, b, "1单元" if room != "302" else "", room))
    db_session.flush()
    made[5].status = AddressStatus.retired
    made[17].status, made[17].replaced_by_id = AddressStatus.merged, made[16].id
    made[30].status = AddressStatus.retired
    db_session.commit()
    return beats


def _page(session, text, **kwargs):
    page = addresses.search_page(session, text, **kwargs)
    return [a.id for a in page.items], page.total, page.more, page.offset, page.size, page.next_offset


@pytest.mark.parametrize("cap, few_ids", [(1000, 1000), (9, 1000), (1000, 0)])
def test_a_short_query_gives_what_the_plain_statement_gives(db_session, city, monkeypatch, cap, few_ids):
    monkeypatch.setattr(addresses, "COUNT_CAP", cap)
    monkeypatch.setattr(place_names, "FEW_IDS", few_ids)  # 0: every page chosen by the keys, as a deep page is
    scopes = [None, (city[0].id,), (city[1].id, city[2].id), (999_999,)]
    cases = [(q, scope, offset, size) for q in QUERIES for scope in scopes
             for offset, size in ((0, 20), (0, 3), (3, 3), (7, 5), (8, 1), (0, 100))]
    begun = sum(addresses.first_keystrokes(db_session, q, scope) is not None for q, scope, _o, _s in cases)
    assert begun == len(cases)  # every one of these takes the place names' way
    fast = {case: _page(db_session, case[0], offset=case[2], size=case[3], beat_ids=case[1]) for case in cases}
    first = {(q, scope): [a.id for a in addresses.search(db_session, q, limit=7, beat_ids=scope)]
             for q in QUERIES for scope in scopes}
    monkeypatch.setattr(place_names, "MAX_NAMES", -1)  # now every query takes search_statement's way
    assert all(addresses.first_keystrokes(db_session, q, scope) is None for q, scope, _o, _s in cases)
    assert {case: _page(db_session, case[0], offset=case[2], size=case[3], beat_ids=case[1])
            for case in cases} == fast
    assert {(q, scope): [a.id for a in addresses.search(db_session, q, limit=7, beat_ids=scope)]
            for q in QUERIES for scope in scopes} == first
    assert any(page[1] > 3 for page in fast.values())  # some queries have pages beyond the first
    assert len({page[0][0] for page in fast.values() if page[0]}) > 5  # and different first results


@pytest.mark.parametrize("plain", [False, True])
def test_a_short_query_finds_the_addresses_whose_place_words_it_begins(db_session, city, monkeypatch, plain):
    """Worked out from the components here, not from either statement: one character too (SQLite's trigram index
    finds nothing for " 东", so the plain statement reads the text itself for it), and two pieces of one."""
    if plain:
        monkeypatch.setattr(place_names, "MAX_NAMES", -1)
    active = db_session.scalars(select(Address).where(Address.status == AddressStatus.active,
                                                      Address.beat_id.in_([b.id for b in city]))).all()

    def words(a):
        return {compact(a.township), compact(a.road), compact(a.community), *pinyin_keys(a.road),
                *pinyin_keys(a.community)} - {""}

    for q in [*QUERIES, "东 方", "D F"]:
        pieces = q.split()
        expected = {a.id for a in active if any(w.startswith(p.upper()) for w in words(a) for p in pieces)
                    and all(p.upper() in a.search_text for p in pieces)}
        page = addresses.search_page(db_session, q, size=100)
        assert ({a.id for a in page.items}, page.total) == (expected, len(expected)), q
    assert len({a.id for a in addresses.search_page(db_session, "东", size=100).items}) == 52


def test_the_first_addresses_are_those_with_fewest_numbers_in_standard_order(db_session, city):
    page = addresses.search_page(db_session, "东方", size=4)
    assert [(a.road, a.door_no, a.community, a.building) for a in page.items] == [
        ("东方路", "3号", "东方豪庭", ""), ("东方路", "12号", "东方花园", ""), ("东风路", "7号", "东 方新村", ""),
        ("人民路", "5号", "东方豪庭", "")]  # the door plates, the township of 东湖街道 first (division, township...)


def test_only_the_first_keystrokes_alone_take_the_place_names_way(db_session, city):
    assert addresses.first_keystrokes(db_session, "东方", None) is not None
    for q in ("东方 2栋", "东方豪庭", "df 402", "东方 花园", "402", "dfh"):  # numbers, two pieces, three characters
        assert addresses.first_keystrokes(db_session, q, None) is None


def test_the_table_is_a_recount_after_every_change(db_session, district, monkeypatch):
    table = lambda: _table(db_session)  # noqa: E731
    assert table() == _recount(db_session) and table()[("community", "银海花园")] >= 1
    clerk = factories.make_user(db_session, role="clerk", bureau_id=district.bureau.id)
    actor = factories.as_actor(clerk)
    beat = district.beats[0]
    # The clerk's pages (the ORM): add, correct (a new community, road and township), retire, merge.
    values = {"division_code": "430302", "township": "云塘街道", "road": "枫林路", "door_no": "9号",
              "community": "枫林豪庭", "building": "", "unit": "", "room": ""}
    plate = address_upkeep.add(db_session, clerk, "door_plate", beat.id, values, actor)
    building = address_upkeep.add(db_session, clerk, "building", beat.id, {**values, "building": "1栋"}, actor)
    twin = address_upkeep.add(db_session, clerk, "building", beat.id, {**values, "building": "2栋"}, actor)
    db_session.commit()
    assert table() == _recount(db_session) and table()[("community", "枫林豪庭")] == 3
    address_upkeep.edit(db_session, clerk, plate.id, {**values, "township": "先锋街道", "road": "枫溪路",
                                                      "community": "枫溪花园"}, actor)
    db_session.commit()
    assert table() == _recount(db_session) and ("township", "先锋街道") in table()
    address_upkeep.edit(db_session, clerk, plate.id, {**values, "township": "先锋街道", "road": "枫溪路",
                                                      "community": ""}, actor)  # a community taken away
    db_session.commit()
    assert table() == _recount(db_session) and ("community", "枫溪花园") not in table()
    address_upkeep.retire(db_session, clerk, plate.id, None, actor)
    db_session.commit()
    assert table() == _recount(db_session) and ("road", "枫溪路") not in table()
    address_merge.merge(db_session, clerk, building.id, twin.id, actor)
    db_session.commit()
    assert table() == _recount(db_session) and table()[("community", "枫林豪庭")] == 1
    # The import (Core statements): new addresses, and one changed (its beat).
    rows = [["T-B1", "测试分局", "T-S1", "测试派出所1", "T-S1-1", "测试警务区1-1", "430302", "湖南省湘潭市雨湖区",
             "云塘街道", "韶山中路", "88号", "银海花园", "13栋", "4单元", f"{r}", ""] for r in ("402", "501", "502")]
    rows[0][4], rows[0][5] = "T-S1-2", "测试警务区1-2"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(addresses.COLUMNS)
    writer.writerows(rows)
    report = addresses.import_csv(db_session, io.BytesIO(buffer.getvalue().encode()))
    db_session.commit()
    assert report.ok and table() == _recount(db_session) and table()[("community", "银海花园")] == 3
    # Writes beside the services: a Core update of a name and of a status back to active, and deletes.
    db_session.execute(update(Address).where(Address.community == "银海花园", Address.room == "501")
                       .values(community="银海花园二期"))
    db_session.execute(update(Address).where(Address.id == plate.id).values(status=AddressStatus.active))
    db_session.flush()
    assert table() == _recount(db_session) and table()[("community", "银海花园二期")] == 1
    db_session.execute(delete(Address).where(Address.id.in_([plate.id, *(a.id for a in district.addresses)])))
    db_session.flush()
    assert table() == _recount(db_session)
    assert ("road", "人民路") not in table() and ("road", "枫溪路") not in table()
    kept = table()
    db_session.execute(update(PlaceName).values(addresses=0))  # the bulk loader's count afresh gives it back
    place_names.refill(db_session.connection())
    assert table() == kept == _recount(db_session) != {}


def _migration():
    spec = importlib.util.spec_from_file_location("m0025", ROOT / "migrations" / "versions" / "0025_place_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["township", "road", "community"])
def test_the_migration_makes_the_indexes_of_the_models(db_session, kind):
    """An index of expressions is used only for the expression it holds, word for word, and autogenerate cannot
    compare these (portal.migrate.UNCOMPARED_INDEXES): the migration writes what the models and search write."""
    migration = _migration()
    assert migration.FILLED_KEYS == str(filled_keys())
    index = next(i for i in Address.__table__.indexes if i.name == f"ix_address_{kind}_order")
    dialect = db_session.get_bind().dialect
    assert " ".join(str(CreateIndex(index).compile(dialect=dialect)).split()) == migration._index_ddl(kind)
