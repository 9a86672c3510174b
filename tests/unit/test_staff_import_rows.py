"""Checking the rows of a staff list and comparing it with the roster (issue 4, items 2-4). Every case
parses a real file from tests/fixtures/staff/."""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from pathlib import Path

import pytest
from flask_babel import force_locale
from stdnum.cn import ric

from portal.models import RecordStatus, Unit, UnitType
from portal.services import audit, spreadsheets, staff_import
from portal.services.spreadsheets import FileRejected
from tests import factories

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"
TODAY = date(2026, 6, 1)
ZHANG, LI, WANG = "430302199001011239", "430302198512314560", "11010519491231002X"
ZHAO, CHEN, LIU = "310115199203157897", "44030619880808321X", "51010719950620554X"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_unit(session, district, *, owner=None, name="湘潭市雨湖区安心保安服务有限公司", address=0) -> Unit:
    owner = owner or factories.make_user(session, role="employer")
    place = district.addresses[address]
    unit = Unit(owner_id=owner.id, uscc=f"91430302MA4L{owner.id:06d}", name=name,
                unit_type=UnitType.enterprise, industry="保安服务", address_id=place.id,
                beat_id=place.beat_id, legal_rep_name="张三", legal_rep_id_number=factories.resident_id(),
                contact_name="李四", contact_phone=factories.phone(), status=RecordStatus.pending)
    session.add(unit)
    session.commit()
    return unit


def rid(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture
def unit(db_session, district):
    return make_unit(db_session, district)


def preview(db_session, unit, name: str, **kw) -> staff_import.Preview:
    kw.setdefault("today", TODAY)
    return staff_import.preview(db_session, unit, fixture(name), name, **kw)


def codes(pv) -> dict[int, list[tuple[str | None, str]]]:
    out: dict[int, list] = {}
    for e in pv.errors:
        out.setdefault(e.row, []).append((e.column, e.code))
    return out


def csv_bytes(rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


# --- headers ----------------------------------------------------------------------------------------

def test_chinese_headers_in_another_order_with_aliases_and_unknown_columns(db_session, unit):
    pv = preview(db_session, unit, "utf8.csv")
    assert pv.columns == {"id_number": 1, "name": 2, "phone": 3, "position": 4, "hire_date": 5, "sex": 6}
    assert pv.unknown_columns == ["备注"]  # 序号 is expected and ignored; 备注 is listed
    assert pv.errors == []
    assert [r.id_number for r in pv.valid] == [ZHANG, WANG, CHEN, LIU]


def test_english_headers(db_session, unit):
    pv = preview(db_session, unit, "utf8_bom.csv")
    assert pv.errors == [] and pv.unknown_columns == []
    assert [(r.name, r.sex, r.position) for r in pv.valid] == [("赵六", "M", "Driver"), ("陈七", "M", "Cook"),
                                                               ("刘八", "F", None)]


@pytest.mark.parametrize("header", ["身份证号码", "身份证号", "证件号码", "ID_Number", " id number ",
                                    "身份证号码*", "身份证号码（必填）", "ＩＤ　ＮＵＭＢＥＲ"])
def test_id_header_variants(db_session, unit, header):
    pv = staff_import.preview(db_session, unit, csv_bytes([["姓名", header], ["张三", ZHANG]]), "a.csv",
                              today=TODAY)
    assert pv.columns["id_number"] == 1 and len(pv.valid) == 1


def test_a_second_column_of_the_same_kind_is_listed_not_used(db_session, unit):
    data = csv_bytes([["姓名", "身份证号码", "Full name", "身份证号"], ["张三", ZHANG, "李四", LI]])
    pv = staff_import.preview(db_session, unit, data, "a.csv", today=TODAY)
    assert pv.columns == {"name": 0, "id_number": 1}
    assert pv.unknown_columns == ["Full name", "身份证号"]
    assert [(r.name, r.id_number) for r in pv.valid] == [("张三", ZHANG)]


def test_missing_required_column_is_named(db_session, unit):
    with pytest.raises(FileRejected) as info:
        preview(db_session, unit, "missing_id_column.csv")
    assert info.value.code == "missing_columns"
    assert info.value.params["columns"] == ["id_number"]
    assert "ID number" in str(info.value.message)
    with pytest.raises(FileRejected) as info:
        staff_import.preview(db_session, unit, csv_bytes([["岗位"], ["保安"]]), "a.csv")
    assert "Full name" in str(info.value.message) and "ID number" in str(info.value.message)


def test_header_only_file_has_no_rows(db_session, unit):
    pv = preview(db_session, unit, "header_only.xlsx")
    assert (pv.rows, pv.valid, pv.errors) == (0, [], [])


# --- cells ------------------------------------------------------------------------------------------

def test_gb18030_file_with_dates_in_two_forms(db_session, unit):
    pv = preview(db_session, unit, "gb18030.csv")
    assert pv.errors == []
    assert [(r.name, r.hire_date) for r in pv.valid] == [
        ("张三", date(2024, 3, 5)), ("李䶮", date(2024, 3, 5)), ("王芳", date(2023, 11, 20))]


def test_full_width_digits_lower_case_x_spaces_and_date_cells(db_session, unit):
    pv = preview(db_session, unit, "fullwidth.xlsx")
    assert pv.errors == []
    assert [(r.row, r.name, r.id_number, r.phone, r.hire_date) for r in pv.valid] == [
        (2, "张三", ZHANG, "13812345678", date(2024, 3, 5)),
        (3, "王芳", WANG, None, date(2024, 3, 5)),
        (4, "陈七", CHEN, None, date(2023, 12, 31)),
    ]
    csv_pv = preview(db_session, unit, "utf8.csv")
    assert [r.hire_date for r in csv_pv.valid] == [date(2024, 3, 5)] * 4  # 2024/3/5, -03-05, .3.5, 年月日
    assert csv_pv.valid[0].phone == "13812345678"  # +86 138-1234-5678
    assert csv_pv.valid[2].id_number == CHEN  # "  4403...x  "


def test_numeric_id_cells_are_refused_because_digits_are_lost(db_session, unit):
    pv = preview(db_session, unit, "numeric_ids.xlsx")
    assert codes(pv) == {2: [("id_number", "numeric_id_cell")], 3: [("id_number", "numeric_id_cell")]}
    message = str(pv.errors[0].message)
    assert "lost" in message and "Text" in message
    assert [r.id_number for r in pv.valid] == [WANG]  # the one typed as text is fine
    assert pv.valid[0].row == 4


def test_scientific_notation_and_zero_padded_ids_in_a_csv(db_session, unit):
    pv = preview(db_session, unit, "numeric_ids.csv")
    assert codes(pv) == {2: [("id_number", "numeric_id_cell")],  # 4.30302E+17
                         3: [("id_number", "numeric_id_cell")],  # 430302198512314000: check digit wrong
                         5: [("id_number", "numeric_id_cell")]}  # 4.30302199001011E+17
    assert [r.row for r in pv.valid] == [4]


def test_an_id_ending_in_000_is_accepted_alone_but_not_next_to_damaged_ones(db_session, unit):
    genuine = next(n for n in (f"430302198801{d:02d}1000" for d in range(1, 29))
                   if ric.calc_check_digit(n) == "0")
    damaged = LI[:15] + "000"
    assert ric.calc_check_digit(damaged) != "0"
    alone = staff_import.preview(db_session, unit, csv_bytes([["姓名", "身份证号码"], ["张三", genuine]]),
                                 "a.csv", today=TODAY)
    assert alone.errors == [] and alone.valid[0].id_number == genuine
    together = staff_import.preview(db_session, unit, csv_bytes([["姓名", "身份证号码"], ["张三", genuine],
                                                                 ["李四", damaged]]), "a.csv", today=TODAY)
    assert codes(together) == {2: [("id_number", "numeric_id_cell")], 3: [("id_number", "numeric_id_cell")]}


def test_dates(db_session, unit):
    pv = preview(db_session, unit, "bad_dates.csv")
    assert codes(pv) == {2: [("hire_date", "invalid_date")], 3: [("hire_date", "invalid_date")],
                         4: [("hire_date", "invalid_date")], 5: [("hire_date", "invalid_date")],
                         6: [("hire_date", "future_date")]}
    assert "not a date" in str(next(e for e in pv.errors if e.row == 4).message)  # 45356 in a CSV
    assert [(r.row, r.hire_date) for r in pv.valid] == [(7, date(2024, 2, 29))]
    pv = preview(db_session, unit, "bad_dates.xlsx")
    assert codes(pv) == {2: [("hire_date", "invalid_date")], 4: [("hire_date", "invalid_date")]}
    assert [(r.row, r.hire_date) for r in pv.valid] == [(3, date(2024, 3, 5))]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024/3/5", date(2024, 3, 5)), ("2024-03-05", date(2024, 3, 5)), ("2024.3.5", date(2024, 3, 5)),
    ("2024年3月5日", date(2024, 3, 5)), ("2024年03月05日", date(2024, 3, 5)),
    ("２０２４／３／５", date(2024, 3, 5)),
    ("2024/3/5 0:00", date(2024, 3, 5)), ("2024-03-05 00:00:00", date(2024, 3, 5)),
])
def test_accepted_date_forms(text, expected):
    assert staff_import.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["2024/2/30", "2023-13-01", "45356", "45356.0", "2024-3/5", "24/3/5",
                                  "1899-12-31", "March 5, 2024", "20240305"])
def test_refused_date_forms(text):
    with pytest.raises(staff_import.FieldError) as info:
        staff_import.parse_date(text, today=TODAY)
    assert info.value.code == "invalid_date"


def test_duplicates_are_refused_at_the_later_row_naming_the_earlier(db_session, unit):
    pv = preview(db_session, unit, "duplicates.csv")
    assert codes(pv) == {5: [("id_number", "duplicate_in_file")], 6: [("id_number", "duplicate_in_file")]}
    by_row = {e.row: str(e.message) for e in pv.errors}
    assert "row 2" in by_row[5] and "row 3" in by_row[6]
    assert [r.row for r in pv.valid] == [2, 3, 4]


def test_every_other_row_rule(db_session, unit):
    pv = preview(db_session, unit, "row_errors.csv")
    assert codes(pv) == {
        2: [("sex", "sex_mismatch")],
        3: [("sex", "invalid_sex")],
        4: [("phone", "phone")],
        5: [("id_number", "checksum")],
        6: [("id_number", "legacy_id")],
        7: [("name", "name_chars")],
        8: [("name", "required")],
        9: [("id_number", "required")],
        10: [("id_number", "birth_date")],
        11: [("id_number", "birth_date")],
        12: [("position", "too_long")],
    }
    assert [r.row for r in pv.valid] == [13, 14]
    assert pv.valid[1].region_known is False  # an unknown region is a flag, never an error
    assert (pv.rows, len(pv.valid), pv.invalid) == (13, 2, 11)
    assert {e.header for e in pv.errors if e.column == "id_number"} == {"身份证号码"}


def test_nul_bytes_and_oversize_fields_are_row_errors(db_session, unit):
    pv = preview(db_session, unit, "nul_and_long.csv")
    assert codes(pv) == {2: [("name", "nul_byte")], 3: [("position", "field_too_long")]}
    assert [r.row for r in pv.valid] == [4]


def test_blank_rows_are_not_rows(db_session, unit):
    pv = preview(db_session, unit, "blank_rows.xlsx")
    assert pv.rows == 3 and [r.row for r in pv.valid] == [4, 7]
    assert codes(pv) == {8: [("id_number", "format")]}


def test_rows_with_nothing_to_import_are_blank_rows(db_session, unit):
    rows = [["序号", "姓名", "身份证号码", "备注"], ["1", "张三", ZHANG, ""]]
    rows += [[str(n), "", "", ""] for n in range(2, 101)]  # numbered in advance, never filled in
    rows += [["", "", "", "见附件"]]
    pv = staff_import.preview(db_session, unit, csv_bytes(rows), "a.csv", today=TODAY)
    assert (pv.rows, len(pv.valid), pv.errors) == (1, 1, [])


def test_sex_comes_from_the_id_when_not_given(db_session, unit):
    pv = preview(db_session, unit, "utf8.csv")
    assert [r.sex for r in pv.valid] == ["M", "F", "M", "F"]
    assert pv.valid[0].birth_date == date(1990, 1, 1)


# --- digest -----------------------------------------------------------------------------------------

def test_same_content_in_another_file_has_the_same_digest(db_session, unit):
    rows = [["姓名", "身份证号码", "入职日期"], ["张三", ZHANG, "2024/3/5"], ["李四", LI, ""]]
    a = staff_import.preview(db_session, unit, csv_bytes(rows, "gb18030"), "a.csv", today=TODAY)
    reordered = [["入职日期", "身份证号码", "姓名"], ["", LI.lower(), "李四"],
                 ["2024-03-05", ZHANG, " 张三 "]]
    b = staff_import.preview(db_session, unit, csv_bytes(reordered), "b.csv", today=TODAY)
    xlsx = spreadsheets.write_xlsx([rows[0], ["张三", ZHANG, date(2024, 3, 5)], ["李四", LI, None]])
    c = staff_import.preview(db_session, unit, xlsx, "c.xlsx", today=TODAY)
    assert a.digest == b.digest == c.digest
    d = staff_import.preview(db_session, unit, csv_bytes(rows), "a.csv", today=TODAY, full_list=False)
    assert d.digest != a.digest  # a partial list does different things
    changed = staff_import.preview(db_session, unit, csv_bytes([*rows[:2], ["李四", LI, "2024/1/1"]]),
                                   "a.csv", today=TODAY)
    assert changed.digest != a.digest


# --- error file and templates ----------------------------------------------------------------------

def test_error_csv_has_original_cells_an_error_column_and_no_formulas(db_session, unit):
    data = csv_bytes([["姓名", "身份证号码", "岗位", "备注"],
                      ["=HYPERLINK(\"http://evil\")", "123", "+保安", "@x"],
                      ["张三", ZHANG, "保安", "-ok"], ["李四", "4.30302E+17", "", ""]])
    pv = staff_import.preview(db_session, unit, data, "a.csv", today=TODAY)
    out = staff_import.error_csv(pv)
    assert out.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(out[3:].decode("utf-8"))))
    assert rows[0] == ["Row", "Full name", "ID number", "Position", "备注", "Errors"]
    assert [r[0] for r in rows[1:]] == ["2", "4"]  # only the rows with errors, with their row numbers
    assert rows[1][1:5] == ["'=HYPERLINK(\"http://evil\")", "123", "'+保安", "'@x"]
    assert "ID number: An ID number has 17 digits" in rows[1][5] and "Full name:" in rows[1][5]
    assert rows[2][2] == "4.30302E+17" and "lost" in rows[2][5]
    for row in rows:
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)
    original = list(csv.reader(io.StringIO(staff_import.error_csv(pv, locale_headers=False)[3:].decode())))
    assert original[0] == ["row", "姓名", "身份证号码", "岗位", "备注", "errors"]


def test_the_error_file_can_be_fixed_and_uploaded_again(db_session, unit):
    pv = preview(db_session, unit, "row_errors.csv")
    again = staff_import.preview(db_session, unit, staff_import.error_csv(pv), "errors.csv", today=TODAY)
    assert again.unknown_columns == []  # Row and Errors are expected columns
    assert again.rows == pv.invalid
    assert codes(again).keys() == {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}  # rows of the error file itself


# The columns for people without a resident ID card (issue 18), after the six every list has.
FOREIGN_EN = ["Document type", "Nationality", "Date of birth", "Visa or residence permit", "Visa valid until"]
FOREIGN_ZH = ["证件类型", "国籍", "出生日期", "签证或居留许可", "签证有效期至"]


def test_templates_in_the_current_language_are_recognised(app, db_session, unit):
    for locale in ("en", "zh_Hans_CN"):
        with app.test_request_context(), force_locale(locale):
            headers = staff_import.template_headers()
            assert headers == [str(staff_import.COLUMN_LABELS[c]) for c in staff_import.COLUMNS]
            xlsx, csv_data = staff_import.template_xlsx(), staff_import.template_csv()
            assert csv_data.startswith(codecs.BOM_UTF8)
            for data, name in ((xlsx, "t.xlsx"), (csv_data, "t.csv")):
                header, _rows = spreadsheets.read_table(data, name, max_rows=10)
                assert header == headers
            row = ["张三", "男", ZHANG, "13812345678", "保安", date(2024, 3, 5)]
            filled = spreadsheets.write_xlsx([headers, row])
            pv = staff_import.preview(db_session, unit, filled, "t.xlsx", today=TODAY)
            assert pv.errors == [] and pv.unknown_columns == [] and len(pv.valid) == 1
    with app.test_request_context(), force_locale("en"):
        assert staff_import.template_headers() == ["Full name", "Sex", "ID number", "Mobile phone",
                                                   "Position", "Hire date", *FOREIGN_EN]
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert staff_import.template_headers() == ["姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期",
                                                   *FOREIGN_ZH]
        header, _ = spreadsheets.read_table(staff_import.template_csv(), "模板.csv", max_rows=1)
        assert header == ["姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期", *FOREIGN_ZH]


def test_template_xlsx_formats_the_id_column_as_text():
    import zipfile

    with zipfile.ZipFile(io.BytesIO(staff_import.template_xlsx())) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    id_column = staff_import.COLUMNS.index("id_number") + 1
    assert f'<col min="{id_column}" max="{id_column}" width="22" style="1"' in sheet
    xfs = styles.split("<cellXfs")[1].split("</cellXfs>")[0].split("<xf ")[1:]
    assert 'numFmtId="49"' in xfs[1]  # 49 is the built-in Text format, '@'


# --- the roster -------------------------------------------------------------------------------------

def _commit(db_session, unit, name, **kw):
    pv = preview(db_session, unit, name, **kw)
    return staff_import.commit(db_session, unit, unit.owner, pv, audit.Actor(user=unit.owner))


def test_roster_diff_hires_departures_unchanged(db_session, unit):
    first = preview(db_session, unit, "valid.xlsx")
    assert (len(first.hires), len(first.departures), len(first.unchanged)) == (5, 0, 0)
    _commit(db_session, unit, "valid.xlsx")  # 张三 李四 王芳 赵六 陈七 are now on the roster (pending)
    pv = preview(db_session, unit, "utf8_bom.csv")  # 赵六 陈七 刘八
    assert [r.id_number for r in pv.hires] == [LIU]
    assert [r.id_number for r in pv.unchanged] == [ZHAO, CHEN]
    assert sorted(e.person.id_number for e in pv.departures) == sorted([ZHANG, LI, WANG])
    partial = preview(db_session, unit, "utf8_bom.csv", full_list=False)
    assert partial.departures == [] and [r.id_number for r in partial.hires] == [LIU]


def test_rejected_and_ended_employments_are_not_on_the_roster(db_session, unit):
    _commit(db_session, unit, "valid.xlsx")
    for e in staff_import.roster(db_session, unit):
        if e.person.id_number == ZHANG:
            e.status = RecordStatus.rejected
        if e.person.id_number == LI:
            e.departure_date, e.status = date(2025, 1, 1), RecordStatus.ended
    db_session.commit()
    pv = preview(db_session, unit, "valid.xlsx")
    assert sorted(r.id_number for r in pv.hires) == sorted([ZHANG, LI])
    assert len(pv.unchanged) == 3 and pv.departures == []


def test_people_whose_row_has_errors_are_not_reported_as_departed(db_session, unit):
    _commit(db_session, unit, "valid.xlsx")
    # 张三's ID went numeric (first 15 digits survive), 李四's phone is wrong (ID fine), 王芳's ID is
    # mistyped (the name matches); 赵六 and 陈七 are simply missing.
    data = spreadsheets.write_xlsx([["姓名", "身份证号码", "手机号码"], ["张三", 4.30302199001011e17, None],
                                    ["李四", LI, "12345"], ["王芳", "110105194912310021", None]])
    pv = staff_import.preview(db_session, unit, data, "a.xlsx", today=TODAY)
    assert pv.invalid == 3 and pv.valid == []
    assert sorted(e.person.id_number for e in pv.held_back) == sorted([ZHANG, LI, WANG])
    assert sorted(e.person.id_number for e in pv.departures) == sorted([ZHAO, CHEN])


def test_already_imported_is_reported_in_the_preview(db_session, unit):
    assert preview(db_session, unit, "valid.xlsx").already_imported is None
    imp = _commit(db_session, unit, "valid.xlsx")
    assert preview(db_session, unit, "valid.xlsx").already_imported is imp
    assert preview(db_session, unit, "valid.xlsx", full_list=False).already_imported is None
