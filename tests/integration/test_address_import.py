"""Importing the standard-address register from CSV files: the demo district, encodings, bad rows."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, event, func, select, update

from portal.models import Address, AddressLevel, AuditEvent, Beat, Bureau, Station
from portal.services import addresses

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo_district.csv"
HEADER = list(addresses.COLUMNS)
TREE = ["430302000000", "湘潭市公安局雨湖分局", "430302510000", "云塘派出所", "430302510001",
        "云塘第一警务区"]


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _counts(session) -> dict[str, int]:
    """Rows per table, so that tests assert on what an import added, whatever was there before."""
    return {m.__name__: _count(session, m) for m in (Address, Bureau, Station, Beat)}


def _added(session, before: dict[str, int]) -> dict[str, int]:
    return {name: n - before[name] for name, n in _counts(session).items()}


def _import(session, path: Path) -> addresses.ImportReport:
    """As the CLI command does: the import in one transaction, committed, or rolled back on a failure."""
    try:
        with path.open("rb") as stream:
            report = addresses.import_csv(session, stream)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _row(road="韶山中路", door_no="88号", community="银海花园", building="", unit="", room="", *,
         division_code="430302", township="云塘街道", code="", tree=TREE) -> list[str]:
    return [*tree, division_code, "湖南省湘潭市雨湖区", township, road, door_no, community, building, unit,
            room, code]


def _write(path: Path, rows: list[list[str]], *, encoding="utf-8", header=HEADER) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _demo_rows() -> list[dict[str, str]]:
    with DEMO.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_demo_file_is_what_the_script_makes(tmp_path):
    out = tmp_path / "demo.csv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_district.py"), str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == DEMO.read_bytes()
    rows = _demo_rows()
    assert list(rows[0]) == HEADER
    assert sum(1 for r in rows if r["room"]) >= 2000
    assert all(r["code"] == "" for r in rows)


def test_import_demo_district(db_session):
    before = _counts(db_session)
    report = _import(db_session, DEMO)
    total = len(_demo_rows())

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (total, 0, 0)
    assert _added(db_session, before) == {"Address": total, "Bureau": 1, "Station": 2, "Beat": 4}
    assert _count(db_session, Address, Address.level == AddressLevel.room,
                  Address.division_code == "430302") >= 2000
    assert db_session.scalar(select(Bureau.name)) == "湘潭市公安局雨湖分局"

    room = db_session.scalar(select(Address).where(Address.road == "韶山中路", Address.door_no == "88号",
                                                   Address.building == "13栋", Address.unit == "4单元",
                                                   Address.room == "402"))
    assert room.code == addresses.make_code("430302", "云塘街道", "韶山中路", "88号", "银海花园", "13栋",
                                            "4单元", "402")
    assert room.search_text == ("湖南省湘潭市雨湖区云塘街道韶山中路88号银海花园13栋4单元402 云塘街道 韶山中路 银海花园 "
                                "SSZL SHAOSHANZHONGLU YHHY YINHAIHUAYUAN")
    assert room.beat.code == "430302510001" and room.beat.station.name == "云塘派出所"
    assert addresses.by_code(db_session, room.code.lower()) is room

    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "address.import")).one()
    assert event.detail.startswith(f"created={total} updated=0 unchanged=0")
    assert event.outcome == "success"


def test_search_over_the_demo_district(db_session):
    _import(db_session, DEMO)
    room = addresses.search(db_session, "银海花园 13栋 4单元 402")[0]
    assert room.text == "湖南省湘潭市雨湖区 云塘街道 韶山中路88号 银海花园 13栋 4单元 402"
    assert addresses.search(db_session, "银海花园13栋4单元402")[0] is room
    assert addresses.search(db_session, "银海花园１３栋４单元４０２")[0] is room

    results = addresses.search(db_session, "雨湖区 韶山中路 88号", limit=30)
    assert (results[0].road, results[0].door_no, results[0].level) == ("韶山中路", "88号",
                                                                       AddressLevel.door_plate)
    assert [a.building for a in results[1:17]] == [f"{n}栋" for n in range(1, 17)]
    assert all(a.level == AddressLevel.room for a in results[17:])

    yuntang_beats = list(db_session.scalars(select(Beat.id).where(Beat.code.like("43030251%"))))
    chengzheng_beats = list(db_session.scalars(select(Beat.id).where(Beat.code.like("43030252%"))))
    assert addresses.search(db_session, "银海花园 13栋 4单元 402", beat_ids=yuntang_beats)[0] is room
    assert addresses.search(db_session, "银海花园 13栋 4单元 402", beat_ids=chengzheng_beats) == []


@pytest.mark.parametrize("text", ["银海%花园", "银海_花园", "银海'花园", "银海\\花园", "银海%(花园", "银海:花园",
                                  "银海'); --花园"])
def test_search_reads_punctuation_as_a_space(db_session, text):
    _import(db_session, DEMO)
    before = _count(db_session, Address)
    found = addresses.search(db_session, text)
    assert found and found == addresses.search(db_session, "银海 花园")
    assert _count(db_session, Address) == before


@pytest.mark.parametrize("piece", ["银海'花园", "银海%花园", "银海\\花园", "%(x)s", ":x",
                                   "'); DELETE FROM address; --"])
def test_a_text_piece_is_quoted_into_the_statement(db_session, piece):
    """search() never hands the condition such a piece (the query parser keeps letters only), but the pattern
    goes into the SQL text as a literal (addresses._contains), so its quoting must hold on its own."""
    _import(db_session, DEMO)
    before = _count(db_session, Address)
    assert db_session.scalars(select(Address).where(addresses._contains(piece))).all() == []
    assert _count(db_session, Address) == before
    assert db_session.scalars(select(Address).where(addresses._contains("银海花园"))).first() is not None


def test_the_pattern_is_in_the_statement_so_each_search_is_planned_for_it(db_session):
    """Sent as a parameter, the pattern would be planned once for all searches of the same shape once the
    driver prepares the statement; a plan made for any pattern reads the whole trigram index for '%枫林%'."""
    sent = []

    def record(_conn, _cursor, statement, parameters, *_args):
        sent.append((statement, parameters))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        addresses.search(db_session, "银海花园 13栋")
    finally:
        event.remove(connection, "before_cursor_execute", record)
    [(statement, parameters)] = sent
    assert "LIKE '%%银海花园%%'" in statement or "LIKE '%银海花园%'" in statement  # % doubled for psycopg
    assert "银海花园" not in str(parameters)
    assert "13" in str(parameters)  # the keys stay parameters


def _plan(connection, text: str) -> str:
    statement = addresses.search_statement(text, connection.dialect.name).compile(
        connection, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN" if connection.dialect.name == "sqlite" else "EXPLAIN"
    return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(f"{explain} {statement}"))


def test_text_pieces_are_looked_up_in_a_trigram_index(db_session):
    """A piece of three characters or more is found through an index of the address text's trigrams, not
    by reading every address: pg_trgm on PostgreSQL (migration 0008), FTS5 on SQLite (0009)."""
    connection = db_session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the test database is too small to need it
        plan = _plan(connection, "银海花园 韶山中路")
        assert "ix_address_search_text_trgm" in plan, plan
        assert "%银海花园%" in plan and "%韶山中路%" in plan, plan
        plan = _plan(connection, "银海")  # two characters: the start of a word, " 银海", is a trigram
        assert "ix_address_search_text_trgm" in plan and "% 银海%" in plan, plan
    else:
        # One piece at most, the longest naming no administrative area; L: FTS5 uses its index for the LIKE.
        plan = _plan(connection, "雨湖区 银海花园 韶山中路")
        assert plan.count("SCAN address_text VIRTUAL TABLE INDEX 0:L") == 1, plan
        # Two characters: the start of a word, " 银海", is a trigram.
        assert "SCAN address_text VIRTUAL TABLE INDEX 0:L" in _plan(connection, "银海")
        assert "address_text" not in _plan(connection, "雨湖区")  # a whole district
        assert "address_text" not in _plan(connection, "韶山中路88号")  # the door number's index is faster


def test_the_trigram_index_follows_every_change_of_an_address(db_session, tmp_path):
    """On SQLite the index is a table of its own, kept in step by triggers: an address added is found, one
    renamed is found by its new name only, one deleted is found no more."""
    _import(db_session, _write(tmp_path / "new.csv", [_row(community="翠湖雅苑", building="9栋", unit="1单元",
                                                           room="101")]))
    [room] = [a for a in addresses.search(db_session, "翠湖雅苑") if a.room == "101"]
    db_session.execute(update(Address).where(Address.community == "翠湖雅苑")
                       .values(search_text=func.replace(Address.search_text, "翠湖雅苑", "金湖雅苑")))
    assert room.id in [a.id for a in addresses.search(db_session, "金湖雅苑 9栋 1单元 101")]
    assert addresses.search(db_session, "翠湖雅苑") == []
    db_session.expunge_all()
    db_session.execute(delete(Address).where(Address.id == room.id))
    assert room.id not in [a.id for a in addresses.search(db_session, "金湖雅苑", limit=200)]


def test_reimport_changes_nothing(db_session):
    first = _import(db_session, DEMO)
    codes = {i: c for i, c in db_session.execute(select(Address.id, Address.code))}
    before = _counts(db_session)
    again = _import(db_session, DEMO)
    assert again.errors == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert {i: c for i, c in db_session.execute(select(Address.id, Address.code))} == codes
    assert _added(db_session, before) == {"Address": 0, "Bureau": 0, "Station": 0, "Beat": 0}
    assert _count(db_session, AuditEvent, AuditEvent.action == "address.import") == 2


def test_reimport_renames_and_moves_addresses_between_beats(db_session, tmp_path):
    _import(db_session, _write(tmp_path / "a.csv", [_row(), _row(building="13栋")]))
    renamed = [*TREE[:5], "云塘一区"]
    other_beat = [*TREE[:4], "430302510002", "云塘第二警务区"]
    report = _import(db_session, _write(tmp_path / "b.csv", [_row(tree=renamed), _row(building="13栋",
                                                                                     tree=other_beat)]))
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert db_session.scalar(select(Beat.name).where(Beat.code == "430302510001")) == "云塘一区"
    block = db_session.scalar(select(Address).where(Address.building == "13栋"))
    assert block.beat.code == "430302510002"


def test_gb18030_file(db_session, tmp_path):
    path = _write(tmp_path / "gbk.csv", [_row(), _row(building="13栋", unit="4单元", room="402"),
                                         _row(road="建设北路", door_no="12号", community="金湖湾小区")],
                  encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the test is only worth it if the file is not UTF-8 too
    report = _import(db_session, path)
    assert report.errors == []
    assert report.created == 3
    assert db_session.scalar(select(Bureau.name)) == "湘潭市公安局雨湖分局"
    assert addresses.search(db_session, "金湖湾小区")[0].road == "建设北路"
    assert addresses.search(db_session, "银海花园 13栋 4单元 402")[0].room == "402"


def test_utf8_file_with_bom(db_session, tmp_path):
    path = _write(tmp_path / "bom.csv", [_row(), _row(building="13栋")], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = _import(db_session, path)
    assert report.errors == []
    assert report.created == 2
    assert db_session.scalar(select(Address.division_code).limit(1)) == "430302"


def test_columns_in_any_order_and_full_width_values(db_session, tmp_path):
    header = list(reversed(HEADER))
    row = list(reversed(_row(building="１３栋", unit="4单元", room="４０２", door_no=" 88号 ")))
    report = _import(db_session, _write(tmp_path / "x.csv", [row], header=header))
    assert report.errors == []
    a = db_session.scalar(select(Address))
    assert (a.door_no, a.building, a.room, a.room_key) == ("88号", "13栋", "402", "402")


def test_malformed_rows_are_reported_and_valid_rows_imported(db_session, tmp_path):
    before = [_row(road="人民路", door_no="1号", code="ABCDEF12")]
    _import(db_session, _write(tmp_path / "before.csv", before))
    rows = [
        _row(),                                                              # 2 ok
        _row(division_code="43030"),                                         # 3
        _row(road=""),                                                       # 4
        _row(building="", unit="4单元"),                                     # 5
        _row(building="1栋", code="ABCDEFIL"),                               # 6 I and L are not code letters
        _row(community="银海\x00花园"),                                      # 7
        _row(township="街" * 61),                                            # 8
        _row(building="1栋", unit="1单元", room="1" * 21),                   # 9
        _row(),                                                              # 10 same as row 2
        _row(building="2栋", code="ZZZZ0001"),                               # 11 ok
        _row(building="3栋", code="zzzz0001"),                               # 12 same code as row 11
        _row(building="4栋", code="ABCDEF12"),                               # 13 code of 人民路1号
        _row(tree=[*TREE[:4], "", "无编码警务区"], building="5栋"),          # 14
        _row(building="6栋", unit="1单元", room="101"),                      # 15 ok
        _row(building="7\n栋", unit="1单元"),                               # 16-17: a quoted line break
        _row(building="8栋", unit="1单元", room="101"),                      # 18 ok: line count kept
        _row(tree=[*TREE[:2], "430302520000", "城正街派出所", *TREE[4:]], building="9栋"),  # 19 other station
        _row(division_code="４３０３０２", building="10栋"),                 # 20 ok: NFKC gives ASCII digits
        _row(division_code="٤٣٠٣٠٢", building="11栋"),                       # 21 Arabic-Indic digits
    ]
    report = _import(db_session, _write(tmp_path / "bad.csv", rows))

    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {
        (3, "division_code", "division_code"),
        (4, "road", "required"),
        (5, "unit", "needs_building"),
        (6, "code", "code_format"),
        (7, "community", "nul_byte"),
        (8, "township", "too_long"),
        (9, "room", "too_long"),
        (10, "community", "duplicate_address"),
        (12, "code", "duplicate_code"),
        (13, "code", "code_taken"),
        (14, "beat_code", "required"),
        (16, "building", "control_char"),
        (19, "station_code", "inconsistent"),
        (21, "division_code", "division_code"),
    }
    by_row = {e.row: e for e in report.errors}
    assert "2" in str(by_row[10].message) and "11" in str(by_row[12].message)
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    imported = set(db_session.scalars(select(Address.building).where(Address.road == "韶山中路")))
    assert imported == {"", "2栋", "6栋", "8栋", "10栋"}
    assert db_session.scalar(select(Address.code).where(Address.building == "2栋")) == "ZZZZ0001"
    assert db_session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "address.import")
                              .order_by(AuditEvent.id)).all()[-1] == "partial"


def test_code_of_an_address_never_changes(db_session, tmp_path):
    _import(db_session, _write(tmp_path / "a.csv", [_row(code="ABCDEF12")]))
    kept = _import(db_session, _write(tmp_path / "b.csv", [_row()]))  # blank: keeps its code
    assert (kept.errors, kept.unchanged) == ([], 1)
    changed = _import(db_session, _write(tmp_path / "c.csv", [_row(code="ABCDEF13")]))
    assert [(e.row, e.column, e.code) for e in changed.errors] == [(2, "code", "code_changed")]
    assert db_session.scalar(select(Address.code)) == "ABCDEF12"


def test_inconsistent_tree_within_the_file(db_session, tmp_path):
    report = _import(db_session, _write(tmp_path / "t.csv", [
        _row(),
        _row(building="1栋", tree=[*TREE[:5], "别的名字"]),
        _row(building="2栋", tree=[*TREE[:2], "430302520000", "城正街派出所", *TREE[4:]]),
    ]))
    assert {(e.row, e.column, e.code) for e in report.errors} == {(3, "beat_name", "inconsistent"),
                                                                   (4, "station_code", "inconsistent")}
    assert report.created == 1


def test_missing_header_column(db_session, tmp_path):
    header = [c for c in HEADER if c not in ("door_no", "beat_code")]
    path = tmp_path / "h.csv"
    path.write_text(",".join(header) + "\n" + ",".join("x" for _ in header) + "\n", encoding="utf-8")
    before = _counts(db_session)
    report = _import(db_session, path)
    assert len(report.errors) == 1
    (error,) = report.errors
    assert (error.row, error.code) == (1, "missing_columns")
    assert "door_no" in error.column and "beat_code" in error.column
    assert "door_no" in str(error.message)
    assert report.created == 0
    assert _added(db_session, before)["Address"] == 0


def test_code_column_may_be_left_out(db_session, tmp_path):
    header = [c for c in HEADER if c != "code"]
    report = _import(db_session, _write(tmp_path / "n.csv", [_row()[:-1]], header=header))
    assert (report.errors, report.created) == ([], 1)


@pytest.mark.parametrize(("content", "code"), [(b"", "no_header"), (b"\r\n\r\n", "no_header"),
                                                (b"\xff\xfe\xff\xfe\x81", "encoding")])
def test_unreadable_files(db_session, tmp_path, content, code):
    path = tmp_path / "u.csv"
    path.write_bytes(content)
    report = _import(db_session, path)
    assert [(e.row, e.code) for e in report.errors] == [(1, code)]


def test_a_failure_while_writing_leaves_nothing_behind(db_session, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(addresses.audit, "record", broken)  # fails after the rows were written
    before = _counts(db_session)
    with pytest.raises(RuntimeError):
        _import(db_session, _write(tmp_path / "a.csv", [_row(), _row(building="13栋")]))
    assert _added(db_session, before) == {"Address": 0, "Bureau": 0, "Station": 0, "Beat": 0}


def test_an_import_does_not_move_a_beat_to_another_station(db_session, tmp_path):
    _import(db_session, _write(tmp_path / "a.csv", [_row()]))
    moved = [*TREE[:2], "430302520000", "城正街派出所", *TREE[4:]]
    report = _import(db_session, _write(tmp_path / "b.csv", [_row(building="1栋", tree=moved)]))
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "station_code", "moved")]
    assert "430302510000" in str(report.errors[0].message)
    assert db_session.scalar(select(Beat).where(Beat.code == TREE[4])).station.code == "430302510000"
    assert _count(db_session, Station) == 1


def test_a_row_the_csv_reader_cannot_read_is_reported_and_the_rest_imported(db_session, tmp_path):
    huge = _row(community="园" * 2000)
    path = _write(tmp_path / "huge.csv", [_row(), huge, _row(building="1栋"), _row(building="2栋")])
    old_limit = csv.field_size_limit(1000)  # process-wide; other modules may have raised it
    try:
        report = _import(db_session, path)
    finally:
        csv.field_size_limit(old_limit)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "", "csv")]
    assert report.created == 3
    assert set(db_session.scalars(select(Address.building))) == {"", "1栋", "2栋"}
