"""Reading uploaded staff lists: types by content, encodings, limits, hostile files (issue 4, items 2, 7, 9;
SECURITY.md "Input and files"). Every case parses a real file from tests/fixtures/staff/."""
from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from datetime import date
from pathlib import Path

import pytest

from portal.services import spreadsheets, staff_import
from portal.services.spreadsheets import FileRejected, read_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"
HEADER_ZH = ["姓名", "性别", "身份证号码", "手机号码", "岗位", "入职日期"]
ZHANG, LI, WANG = "430302199001011239", "430302198512314560", "11010519491231002X"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(name: str, **kw):
    kw.setdefault("max_rows", 50_000)
    kw.setdefault("is_header", staff_import._looks_like_header)
    return read_table(fixture(name), name, **kw)


def rejected(name: str, **kw) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        read(name, **kw)
    assert str(info.value.message)  # always a message for people
    return info.value


# --- types by content -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "code"), [
    ("empty.csv", "empty_file"),
    ("empty.xlsx", "empty_file"),
    ("renamed_png.xlsx", "unsupported_type"),  # PNG bytes named .xlsx
    ("not_a_workbook.xlsx", "unsupported_type"),  # a ZIP without xl/workbook.xml
    ("legacy.xlsx", "unsupported_type"),  # an old .xls (OLE with a Workbook stream) named .xlsx
    ("web_page.xls", "unsupported_type"),  # an HTML table named .xls
    ("encrypted.xlsx", "encrypted"),  # OLE container with EncryptionInfo/EncryptedPackage
    ("macros.xlsx", "macros"),  # xl/vbaProject.bin inside, renamed from .xlsm
    ("corrupt.xlsx", "corrupt"),  # truncated
    ("zip_lying_size.xlsx", "corrupt"),  # an entry inflates beyond its declared size
    ("doctype.xlsx", "corrupt"),  # a DTD with entities in the sheet XML
    ("zip_bomb.xlsx", "zip_bomb"),  # 150 MB of zeros in 150 KB
    ("zip_bomb_ratio.xlsx", "zip_bomb"),  # 8 MB in 8 KB: ratio over 100
    ("zip_bomb_entries.xlsx", "zip_bomb"),  # 1,007 entries
    ("shared_string_bomb.xlsx", "zip_bomb"),  # one 30,000-character string in 5,000 cells
    ("far_cell.xlsx", "too_large"),  # a cell at XFD1000: the reader would allocate 16 million cells
    ("no_header.csv", "no_header"),
])
def test_unusable_files_are_refused_with_their_own_code(name, code):
    assert rejected(name).code == code


def test_an_ole_container_is_reported_as_password_protected():
    error = rejected("encrypted.xlsx")
    assert "password" in str(error.message)
    assert fixture("encrypted.xlsx")[:4] == b"\xd0\xcf\x11\xe0"


def test_other_ole_documents_are_not_called_encrypted():
    from tests.fixtures.staff import make_fixtures

    word = make_fixtures._cfb({"WordDocument": b"\xec\xa5" + bytes(100)})
    with pytest.raises(FileRejected) as info:
        read_table(word, "a.xlsx", max_rows=5)
    assert info.value.code == "unsupported_type"


def test_the_type_comes_from_the_content_not_the_name():
    header, rows = read_table(fixture("valid.xlsx"), "staff.csv", max_rows=10)
    assert header == HEADER_ZH and len(rows) == 5
    header, rows = read_table(fixture("gb18030.csv"), "staff.xlsx", max_rows=10)
    assert header == HEADER_ZH and len(rows) == 3


def test_a_macro_workbook_is_refused_before_it_is_parsed(monkeypatch):
    import python_calamine

    def must_not_open(*_a, **_k):
        raise AssertionError("the reader was called")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", must_not_open)
    for name in ("macros.xlsx", "zip_bomb.xlsx", "shared_string_bomb.xlsx", "far_cell.xlsx", "doctype.xlsx"):
        with pytest.raises(FileRejected):
            read(name)


# --- zip-bomb limits, one by one --------------------------------------------------------------------

def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def _valid_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(fixture("valid.xlsx"))) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_entry_count_limit():
    parts = _valid_parts()
    assert spreadsheets.check_xlsx(_zip(parts), max_entries=len(parts))
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(_zip(parts), max_entries=len(parts) - 1)
    assert info.value.code == "zip_bomb"


def test_declared_total_size_limit():
    parts = _valid_parts()
    total = sum(len(v) for v in parts.values())
    assert spreadsheets.check_xlsx(_zip(parts), max_total=total)
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(_zip(parts), max_total=total - 1)
    assert info.value.code == "zip_bomb"


def test_ratio_limit_applies_to_entries_of_a_megabyte_or_more():
    random_mb = random.Random(1).randbytes(1024 * 1024)  # incompressible: ratio about 1
    assert spreadsheets.check_xlsx(_zip({**_valid_parts(), "xl/media/a.bin": random_mb}))
    zeros = _zip({**_valid_parts(), "xl/media/a.bin": bytes(2 * 1024 * 1024)})  # ratio about 1000
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(zeros)
    assert info.value.code == "zip_bomb"
    assert spreadsheets.check_xlsx(zeros, max_ratio=2000)
    # One bomb entry hidden among incompressible ones: the archive as a whole has a ratio under 2.
    hidden = _zip({**_valid_parts(), "xl/media/a.bin": random.Random(2).randbytes(4 * 1024 * 1024),
                   "xl/media/b.bin": bytes(2 * 1024 * 1024)})
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(hidden)
    assert info.value.code == "zip_bomb"


def test_xlsm_content_without_the_vba_part_name_is_still_refused_for_macro_sheets():
    parts = {**_valid_parts(), "xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"}
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(_zip(parts))
    assert info.value.code == "macros"


def test_duplicate_entry_names_are_refused():
    parts = _valid_parts()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in parts.items():
            z.writestr(name, data)
        z.writestr("xl/worksheets/sheet1.xml", parts["xl/worksheets/sheet1.xml"])
    with pytest.raises(FileRejected) as info:
        spreadsheets.check_xlsx(out.getvalue())
    assert info.value.code == "corrupt"


def test_hidden_first_sheet_is_skipped_for_the_first_visible_one():
    parts = _valid_parts()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/>',
        b'<sheet name="Hidden" sheetId="2" state="hidden" r:id="rId9"/>'
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>')
    hidden = parts["xl/worksheets/sheet1.xml"].replace("张三".encode(), "隐藏".encode())
    parts["xl/worksheets/sheet2.xml"] = hidden
    header, rows = read_table(_zip(parts), "x.xlsx", max_rows=10)
    assert rows[0][1][0] == "张三"


# --- where the reader would put cells ---------------------------------------------------------------

def test_sheet_extent_with_plain_references():
    xml = b'<sheetData><row r="1"><c r="A1"/><c r="F1" t="s"><v>0</v></c></row><row r="7"><c r="B7"/></row>'
    assert spreadsheets.sheet_extent(xml) == (7, 6)


def test_sheet_extent_follows_cells_and_rows_without_references():
    xml = (b'<x:sheetData><x:row r="3"><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>'
           b"<x:row><x:c/><x:c/><x:c/></x:row></x:sheetData>")
    assert spreadsheets.sheet_extent(xml) == (4, 3)


def test_sheet_extent_refuses_references_it_cannot_read_plainly():
    xml = b'<row r="1"><c r="&#90;&#90;1000000"><v>1</v></c><c><v>2</v></c></row>'
    with pytest.raises(FileRejected) as info:
        spreadsheets.sheet_extent(xml)
    assert info.value.code == "corrupt"


def test_shared_string_expansion_counts_every_reference():
    sst = b"<sst>" + b"<si><t>" + b"x" * 1000 + b"</t></si><si><t>y</t></si></sst>"
    lengths = spreadsheets._shared_string_lengths(sst)
    assert len(lengths) == 2 and lengths[0] >= 1000
    sheet = b"".join(b'<c r="A%d" t="s"><v>0</v></c>' % i for i in range(1, 101))
    assert spreadsheets.shared_string_expansion(sheet, [lengths]) >= 100 * 1000
    # Cells with a formula before the value cannot be told apart cheaply: they count at the longest string.
    odd = b'<c r="A1" t="s"><f>X</f><v>1</v></c>' * 10
    assert spreadsheets.shared_string_expansion(odd, [lengths], limit=0) >= 10 * 1000
    plain = b'<c r="A1" t="s"><v>1</v></c>' * 10
    assert spreadsheets.shared_string_expansion(plain, [lengths], limit=0) < 1000


# --- encodings and layouts --------------------------------------------------------------------------

def test_gb18030_csv_as_chinese_excel_saves_it():
    data = fixture("gb18030.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header, rows = read("gb18030.csv")
    assert header == HEADER_ZH
    # 䶮 is four bytes in GB18030
    assert rows[1] == (3, ["李䶮", "女", LI, "13912345678", "收银员", "2024年3月5日"])


def test_utf8_with_bom():
    assert fixture("utf8_bom.csv").startswith(codecs.BOM_UTF8)
    header, rows = read("utf8_bom.csv")
    assert header[0] == "ID number"  # no BOM left on the first header
    assert rows[0][1][1] == "赵六"


def test_utf8_without_bom_and_utf16_unicode_text():
    header, rows = read("utf8.csv")
    assert header[2] == "姓名" and len(rows) == 4
    header, rows = read("utf16.txt")
    assert header == HEADER_ZH and rows[0][1][2] == ZHANG


def test_utf8_is_tried_before_gb18030():
    text = "姓名,身份证号码\r\n张三," + ZHANG + "\r\n"
    assert read_table(text.encode("utf-8"), "a.csv", max_rows=5)[1][0][1][0] == "张三"
    assert read_table(text.encode("gb18030"), "a.csv", max_rows=5)[1][0][1][0] == "张三"


def test_excel_sep_hint_and_semicolons():
    data = ("sep=;\r\n姓名;身份证号码\r\n张三;" + ZHANG + "\r\n").encode()
    header, rows = read_table(data, "a.csv", max_rows=5)
    assert header == ["姓名", "身份证号码"] and rows == [(2, ["张三", ZHANG])]


def test_blank_rows_are_skipped_and_row_numbers_are_the_sheet_rows():
    header, rows = read("blank_rows.xlsx")
    assert header == HEADER_ZH  # the title in row 1 is not the header
    assert [n for n, _ in rows] == [4, 7, 8]
    header, rows = read("blank_rows.csv")
    assert [n for n, _ in rows] == [3, 7, 9]


def test_cells_come_back_typed_from_xlsx():
    _, rows = read("numeric_ids.xlsx")
    assert isinstance(rows[0][1][2], float) and rows[0][1][2] == pytest.approx(4.30302199001011e17)
    assert rows[0][1][5] == date(2024, 3, 5)
    _, rows = read("bad_dates.xlsx")
    assert rows[0][1][5] == 45356  # a number cell stays a number


# --- limits -----------------------------------------------------------------------------------------

def test_size_limit():
    data = fixture("valid.xlsx")
    assert read_table(data, "a.xlsx", max_rows=10, max_bytes=len(data))
    with pytest.raises(FileRejected) as info:
        read_table(data, "a.xlsx", max_rows=10, max_bytes=len(data) - 1)
    assert info.value.code == "too_large"


def test_row_limit_counts_data_rows_only():
    assert len(read("valid.xlsx", max_rows=5)[1]) == 5
    with pytest.raises(FileRejected) as info:
        read("valid.xlsx", max_rows=4)
    assert info.value.code == "too_many_rows"
    assert "4" in str(info.value.message)
    assert len(read("blank_rows.csv", max_rows=3)[1]) == 3  # five blank lines do not count


def test_a_csv_of_nothing_but_newlines_is_stopped():
    with pytest.raises(FileRejected) as info:
        read_table(b"\n" * 200_000, "a.csv", max_rows=1000)
    assert info.value.code == "too_many_rows"


def test_too_many_columns():
    with pytest.raises(FileRejected) as info:
        read_table(("姓名," * 300 + "x\n").encode(), "a.csv", max_rows=5)
    assert info.value.code == "too_large"


# --- fuzzing: nothing but FileRejected, ever --------------------------------------------------------

def _mutations(rng: random.Random, data: bytes, n: int):
    for _ in range(n):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            pos = rng.randrange(len(b))
            if kind < 0.5:
                b[pos] = rng.randrange(256)
            elif kind < 0.75:
                del b[pos:pos + rng.randint(1, 64)]
            else:
                b[pos:pos] = rng.randbytes(rng.randint(1, 64))
        yield bytes(b)


def _inner_mutations(rng: random.Random, n: int):
    """Valid ZIPs whose XML parts are damaged: reaches the spreadsheet reader itself."""
    parts = _valid_parts()
    names = sorted(parts)
    for _ in range(n):
        changed = dict(parts)
        name = rng.choice(names)
        data = bytearray(changed[name])
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[pos] = rng.choice(b'<>/"=0123456789ABZrstvc ')
            elif choice < 0.7:
                del data[pos:pos + rng.randint(1, 20)]
            else:
                data[pos:pos] = rng.choice([b'<c r="XFD9">', b"<v>9999999</v>", b't="s"', b"</row>", b"<row>",
                                            b"&#0;", b"\xff\xfe", b'<c t="d"><v>x</v></c>'])
        changed[name] = bytes(data)
        yield _zip(changed)


def test_fuzz_read_table_and_preview_raise_only_file_rejected(db_session, district):
    from tests.unit.test_staff_import_rows import make_unit

    unit = make_unit(db_session, district)
    rng = random.Random(20260404)
    samples: list[bytes] = [rng.randbytes(rng.randint(0, 2048)) for _ in range(150)]
    samples += [b"PK\x03\x04" + rng.randbytes(200) for _ in range(30)]
    samples += [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(600) for _ in range(20)]
    for seed_file in ("valid.xlsx", "gb18030.csv", "utf8_bom.csv", "numeric_ids.xlsx"):
        samples += list(_mutations(rng, fixture(seed_file), 60))
    samples += list(_inner_mutations(rng, 250))
    outcomes = {"ok": 0, "rejected": 0}
    for data in samples:
        try:
            read_table(data, "upload.xlsx", max_rows=1000)
            outcomes["ok"] += 1
        except FileRejected as error:
            assert error.code in spreadsheets.MESSAGES
            outcomes["rejected"] += 1
        try:
            pv = staff_import.preview(db_session, unit, data, "upload.xlsx", max_rows=1000)
            staff_import.error_csv(pv)
        except FileRejected:
            pass
    assert outcomes["ok"] > 0 and outcomes["rejected"] > 0  # the fuzzing reached both sides


# --- writing ----------------------------------------------------------------------------------------

RUNNABLE = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\n=1+1", "|calc", "＝1", " =1+1",
            "  @SUM(A1)", "\u3000=1", "\xa0+1", " |calc", " \tx", " \n=1"]


@pytest.mark.parametrize("value", RUNNABLE)
def test_csv_cells_that_could_run_as_formulas_are_neutralised(value):
    out = spreadsheets.write_csv([[value, "ok"]])
    assert out.startswith(codecs.BOM_UTF8)
    (cells,) = list(csv.reader(io.StringIO(out[3:].decode("utf-8"), newline="")))
    assert cells == ["'" + value, "ok"]
    assert out[3:].decode("utf-8").startswith('"\'')  # every cell quoted, as OWASP advises


@pytest.mark.parametrize("value", ["张三", "a=1", "a|b", "1-2", " a", "", "12"])
def test_csv_cells_that_cannot_run_are_kept(value):
    (cells,) = list(csv.reader(io.StringIO(spreadsheets.write_csv([[value]])[3:].decode("utf-8"), newline="")))
    assert cells == [value]


def test_written_xlsx_reads_back_with_types_and_text_columns():
    data = spreadsheets.write_xlsx([["a", "b", "c"], ["x", 1.5, date(2024, 3, 5)], ["=1+1", None, None]],
                                   text_columns=[0], date_columns=[2])
    header, rows = read_table(data, "a.xlsx", max_rows=5)
    assert header == ["a", "b", "c"]
    assert rows == [(2, ["x", 1.5, date(2024, 3, 5)]), (3, ["=1+1", "", ""])]  # a string, never a formula
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert '<col min="1" max="1"' in sheet and 'style="1"' in sheet
    assert styles.count("<xf ") >= 3 and 'numFmtId="49"' in styles  # style 1 of cellXfs is Text ('@')
    assert "<f>" not in sheet
