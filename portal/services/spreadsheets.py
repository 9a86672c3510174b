"""Reading uploaded spreadsheets (XLSX and CSV) without trusting them, and writing plain ones.

The type of an upload is decided by its content, never by its name (SECURITY.md "Input and files"):

* a ZIP is an XLSX only if it holds ``xl/workbook.xml`` and no macros; before any XML parser sees it,
  the archive is checked against zip-bomb limits (entry count, declared total size, compression ratio),
  every entry is decompressed once with its size capped at the declared size and its CRC checked, XML
  parts with a DTD are refused, and the chosen sheet is scanned for the two expansions that would make
  the reader allocate without bound: a cell placed far away (the reader allocates the whole rectangle up
  to the last cell) and shared strings referenced many times (each reference becomes a copy);
* an OLE/CFB container is a password-protected (encrypted) OOXML workbook, or an old .xls;
* other known binary formats are refused; anything else is read as CSV text, decoded as UTF-8 (with or
  without BOM), then UTF-16 when it starts with a UTF-16 BOM, then GB18030.

XLSX files are read with python-calamine (measured about 15 times faster than openpyxl read-only on a
10,000-row staff list, see bench/README.md). Nothing is written to disk, so there are no temp files.

``read_table`` never raises anything but ``FileRejected`` for any input (a fuzz test holds it to that).
"""
from __future__ import annotations

import codecs
import csv
import io
import logging
import posixpath
import re
import traceback
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_BYTES = 10 * MB  # the default upload limit (MAX_UPLOAD_MB)
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL = 100 * MB  # declared uncompressed size of all entries together
ZIP_MAX_RATIO = 100  # uncompressed / compressed, for the archive and for any entry of 1 MB or more
ZIP_RATIO_MIN_ENTRY = 1 * MB
SHARED_STRING_MAX_EXPANSION = 64 * MB  # text the reader would copy out of the shared-string table
MAX_CELLS = 3_000_000  # rows x columns of the rectangle the reader allocates for a sheet
MAX_COLUMNS = 256  # CSV; an XLSX sheet is bounded by MAX_CELLS
HEADER_SEARCH_ROWS = 20  # a title or notes above the header row are allowed, this many non-blank rows deep
_CHUNK = 1 * MB

MESSAGES = {
    "empty_file": _l("The file is empty."),
    "unsupported_type": _l("This is not an Excel workbook (.xlsx) or a CSV file. Save the list as an Excel "
                           "Workbook (.xlsx) or as CSV (UTF-8) and upload it again."),
    "too_large": _l("The file is larger than %(mb)d MB. Split the list into smaller files.",
                    mb=MAX_BYTES // MB),
    "too_many_rows": _l("The file has too many rows. Split the list into smaller files."),
    "corrupt": _l("The workbook is damaged and cannot be read. Open it in Excel, save it again as an Excel "
                  "Workbook (.xlsx) and upload it again."),
    "encrypted": _l("The workbook is protected with a password, so it cannot be read. Remove the password in "
                    "Excel (File > Info > Protect Workbook > Encrypt with Password), save it and upload it "
                    "again."),
    "macros": _l("The workbook contains macros, which are not accepted. Save it as an Excel Workbook "
                 "(.xlsx), not as a macro-enabled workbook, and upload it again."),
    "zip_bomb": _l("The workbook would expand to far more data than a staff list can hold, so it was not "
                   "opened. Copy the list into a new workbook, save it as .xlsx and upload it again."),
    "no_header": _l("The file has no header row. Put the column names in the first row, as in the template."),
    "missing_columns": _l("Required columns are missing."),
}
_XLS_MESSAGE = _l("Old Excel 97-2003 workbooks (.xls) are not accepted. Open the file in Excel and save it "
                  "as an Excel Workbook (.xlsx).")
_XLSB_MESSAGE = _l("Excel binary workbooks (.xlsb) are not accepted. Open the file in Excel and save it as "
                   "an Excel Workbook (.xlsx).")
_TEXT_MESSAGE = _l("The file could not be read as text in UTF-8 or GB18030. Save the list as an Excel "
                   "Workbook (.xlsx) or as CSV (UTF-8) and upload it again.")
_WEB_PAGE_MESSAGE = _l("This file is a web page or XML document, not a workbook. Open it in Excel and save "
                       "it as an Excel Workbook (.xlsx).")
_WIDE_MESSAGE = _l("The sheet reaches far beyond the list (there are cells far to the right of it or far "
                   "below it). Copy the list into a new workbook, save it as .xlsx and upload it again.")


class FileRejected(Exception):
    """The whole file is refused: a stable code for machines and a translatable message for people."""

    def __init__(self, code: str, message: object = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        self.params = params

    def __repr__(self) -> str:
        return f"FileRejected({self.code!r})"


Row = tuple[int, list]  # (spreadsheet row number, header = 1; the cells of that row)


# --- reading ---------------------------------------------------------------------------------------

def read_table(data: bytes, filename: str, *, max_rows: int, max_bytes: int = MAX_BYTES,
               is_header: Callable[[list], bool] | None = None) -> tuple[list[str], list[Row]]:
    """The header and the non-blank data rows of the first visible sheet (XLSX) or of a CSV file.

    Row numbers are those the user sees in Excel (the header is row 1 when it is the first row). Blank
    rows are skipped and not counted. The header is the first non-blank row, or, when ``is_header`` is
    given, the first of the first few non-blank rows it accepts (a title above the header is allowed).
    ``filename`` is used for nothing but messages: the type comes from the content. Raises FileRejected.
    """
    del filename  # the content decides; kept in the signature for callers and future messages
    if not data:
        raise FileRejected("empty_file")
    if len(data) > max_bytes:
        raise FileRejected("too_large", _l("The file is larger than %(mb)d MB. Split the list into smaller "
                                           "files.", mb=max(1, max_bytes // MB)))
    max_lines = max_rows * 2 + 1000  # blank rows are not counted, but they are not free either
    kind = sniff(data)
    try:
        if kind == "zip":
            grid = _xlsx_rows(data, max_lines)
        elif kind == "cfb":
            raise _cfb_rejection(data)
        elif kind == "binary":
            raise FileRejected("unsupported_type")
        else:
            grid = _csv_rows(data, max_lines)
        return _split_header(grid, max_rows, is_header)
    except FileRejected:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise FileRejected("too_large") from None
    except BaseException as exc:  # noqa: BLE001 - a Rust panic in the reader is a BaseException
        # Nothing may escape as a 500. Log the kind and place only: messages may quote cell contents.
        frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f"{Path(frame[0].filename).name}:{frame[0].lineno}" if frame else "?"
        log.warning("spreadsheet refused as corrupt after %s at %s", type(exc).__name__, where)
        raise FileRejected("corrupt") from None


def is_blank(cells: Iterable) -> bool:
    for value in cells:
        if value is None:
            continue
        if isinstance(value, str):
            if value.strip():
                return False
            continue
        return False
    return True


def _split_header(grid: Iterator[Row], max_rows: int, is_header) -> tuple[list[str], list[Row]]:
    header_row: Row | None = None
    candidates: list[Row] = []
    for number, cells in grid:
        if is_blank(cells):
            continue
        candidates.append((number, cells))
        if is_header is None or is_header(cells):
            header_row = (number, cells)
            break
        if len(candidates) >= HEADER_SEARCH_ROWS:
            break
    if header_row is None:
        if not candidates:
            raise FileRejected("no_header")
        header_row = candidates[0]  # nothing looked like a header: the caller says which columns lack
        pending = candidates[1:]
    else:
        pending = []
    header = [cell_text(c).strip() for c in header_row[1]]
    while header and not header[-1]:
        header.pop()
    rows: list[Row] = []
    for number, cells in _chain(pending, grid):
        if is_blank(cells):
            continue
        rows.append((number, cells))
        if len(rows) > max_rows:
            raise FileRejected("too_many_rows", _l("The file has more than %(n)d rows. Split the list into "
                                                   "smaller files.", n=max_rows))
    return header, rows


def _chain(first: list[Row], rest: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from rest


def cell_text(value: object) -> str:
    """A cell as the text a user would see: numbers without a needless .0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --- what is it? -----------------------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
    b"\x7fELF", b"MZ", b"II*\x00", b"MM\x00*", b"RIFF", b"OggS", b"ID3", b"\x00\x00\x01\x00", b"wOFF",
    b"\xca\xfe\xba\xbe", b"SQLite format 3", b"BM", b"\x00asm",
)


def sniff(data: bytes) -> str:
    """'zip', 'cfb', 'binary' or 'text', from the first bytes."""
    if data.startswith(_ZIP_MAGIC):
        return "zip"
    if data.startswith(_CFB_MAGIC):
        return "cfb"
    if data.startswith(_BINARY_MAGIC):
        return "binary"
    return "text"


def _cfb_rejection(data: bytes) -> FileRejected:
    """An OLE compound file: an encrypted OOXML workbook carries EncryptionInfo/EncryptedPackage streams;
    an old .xls carries a Workbook (or Book) stream. Directory entry names are UTF-16LE."""
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage") or has("EncryptionInfo"):
        return FileRejected("encrypted")
    if has("Workbook") or has("Book\x00"):
        return FileRejected("unsupported_type", _XLS_MESSAGE)
    if has("WordDocument") or has("PowerPoint Document"):
        return FileRejected("unsupported_type")
    return FileRejected("encrypted")  # an OLE container we cannot name: Office's encrypted form is the norm


# --- XLSX ------------------------------------------------------------------------------------------

_MACRO_PARTS = re.compile(r"(^|/)vbaproject\.bin$|^xl/(macrosheets|dialogsheets)/|(^|/)vbadata\.xml$")
_DTD = (b"<!doctype", b"<!entity")
_NS_PREFIX = rb"(?:[A-Za-z_][\w.\-]*:)?"
_C_TAG = re.compile(rb"<" + _NS_PREFIX + rb"c[\s/>]")
_C_REF = re.compile(rb"<" + _NS_PREFIX + rb"c\s[^>]*?\br\s*=\s*[\"']([A-Za-z]{1,3})([0-9]{1,7})[\"']")
# Excel's own form, <c r="B7" ...>, found fast; any cell it misses sends the scan down the general path.
_C_REF_PLAIN = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_OR_C = re.compile(rb"<" + _NS_PREFIX + rb"(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(["'])(.*?)\1""", re.S)
_PLAIN_REF = re.compile(rb"([A-Za-z]{0,3})([0-9]{0,7})")
_S_CELL = re.compile(rb"<" + _NS_PREFIX + rb"c\s[^>]*?\bt\s*=\s*[\"']s[\"'][^>]*>")
_S_CELL_VALUE = re.compile(rb"<" + _NS_PREFIX + rb"c\s[^>]*?\bt\s*=\s*[\"']s[\"'][^>]*>\s*<" + _NS_PREFIX
                           + rb"v>\s*([0-9]{1,9})\s*<")
_SI_START = re.compile(rb"<" + _NS_PREFIX + rb"si[\s/>]")


def _xlsx_rows(data: bytes, max_lines: int) -> Iterator[Row]:
    sheet_name = check_xlsx(data, max_lines=max_lines)
    import python_calamine  # imported here: only XLSX uploads need it

    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
        grid = sheet.to_python(skip_empty_area=False)  # padded from A1, so index + 1 is the row number
    finally:
        workbook.close()
    return ((index + 1, cells) for index, cells in enumerate(grid))


def check_xlsx(data: bytes, *, max_lines: int = 2 * 50_000 + 1000, max_entries: int = ZIP_MAX_ENTRIES,
               max_total: int = ZIP_MAX_TOTAL, max_ratio: float = ZIP_MAX_RATIO,
               max_expansion: int = SHARED_STRING_MAX_EXPANSION, max_cells: int = MAX_CELLS) -> str:
    """Everything checked before a spreadsheet parser sees the file. Returns the name of the sheet to
    read (the first visible worksheet); raises FileRejected."""
    archive, infos = _open_zip(data)
    _check_entries(infos, max_entries=max_entries, max_total=max_total, max_ratio=max_ratio)
    _check_workbook_kind([i.filename for i in infos])
    parts = _verified_parts(archive, infos)
    sheet_name, sheet_path, strings_paths = _first_sheet(parts)
    sheet_xml = parts.get(sheet_path)
    if sheet_xml is None:
        raise FileRejected("corrupt")
    rows, columns = sheet_extent(sheet_xml)
    if rows > max_lines:
        raise FileRejected("too_many_rows")
    if columns > 16384 or rows * columns > max_cells:
        raise FileRejected("too_large", _WIDE_MESSAGE)
    lengths = [_shared_string_lengths(parts[p]) for p in strings_paths if p in parts]
    if shared_string_expansion(sheet_xml, lengths, limit=max_expansion) > max_expansion:
        raise FileRejected("zip_bomb")
    return sheet_name


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        return archive, archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, IndexError, KeyError):
        raise FileRejected("corrupt") from None


def _check_entries(infos: list[zipfile.ZipInfo], *, max_entries: int, max_total: int, max_ratio: float) -> None:
    """The archive's directory, before anything is decompressed: its entries, their names and their sizes."""
    if len(infos) > max_entries:
        raise FileRejected("zip_bomb")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise FileRejected("corrupt")  # two entries of one name: readers would disagree on which is real
    if any(i.flag_bits & 0x1 for i in infos):
        raise FileRejected("encrypted")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > max_total:
        raise FileRejected("zip_bomb")
    if total > max_ratio * max(packed, 1) and total >= ZIP_RATIO_MIN_ENTRY:
        raise FileRejected("zip_bomb")
    for info in infos:
        if info.file_size >= ZIP_RATIO_MIN_ENTRY and info.file_size > max_ratio * max(info.compress_size, 1):
            raise FileRejected("zip_bomb")


def _check_workbook_kind(names: list[str]) -> None:
    """An XLSX workbook (not XLSB, not another zip) without macros."""
    present = set(names)
    if "xl/workbook.xml" not in present:
        if "xl/workbook.bin" in present:
            raise FileRejected("unsupported_type", _XLSB_MESSAGE)
        raise FileRejected("unsupported_type")
    if any(_MACRO_PARTS.search(n.lower()) for n in names):
        raise FileRejected("macros")


def _verified_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Decompress every entry once: the output is capped at the declared size and the CRC is checked, so
    a header that lies about sizes is caught here. Keeps the XML parts the checks need."""
    keep: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        lower = name.lower()
        is_xml = lower.endswith((".xml", ".rels", ".vml"))
        wanted = is_xml and (lower.startswith("xl/worksheets/") or lower.endswith("sharedstrings.xml")
                             or name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"))
        buffer = bytearray() if wanted else None
        tail = b""
        try:
            with archive.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    if is_xml:
                        window = (tail + chunk).lower()
                        if any(marker in window for marker in _DTD):
                            raise FileRejected("corrupt")  # no OOXML part has a DTD; entity tricks live there
                        tail = chunk[-16:]
                    if buffer is not None:
                        buffer += chunk
        except FileRejected:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError,
                RuntimeError, KeyError):
            raise FileRejected("corrupt") from None
        if buffer is not None:
            head = bytes(buffer[:128])
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
                raise FileRejected("corrupt")  # UTF-16 XML: no spreadsheet writer we accept makes it
            keep[name] = bytes(buffer)
    return keep


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_sheet(parts: dict[str, bytes]) -> tuple[str, str, list[str]]:
    """(sheet name, sheet part, shared-string parts) of the first visible worksheet."""
    from defusedxml import ElementTree as SafeET  # refuses DTDs, entities and external references

    try:
        workbook = SafeET.fromstring(parts["xl/workbook.xml"])
        rels_xml = parts.get("xl/_rels/workbook.xml.rels")
        rels = SafeET.fromstring(rels_xml) if rels_xml else None
    except Exception:  # noqa: BLE001 - defusedxml and expat raise several kinds; all mean "damaged"
        raise FileRejected("corrupt") from None
    targets: dict[str, tuple[str, str]] = {}
    strings_paths = {n for n in parts if n.lower().endswith("sharedstrings.xml")}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join("xl", target))
        kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
        targets[rel.get("Id") or ""] = (kind, path)
        if kind == "sharedStrings":
            strings_paths.add(path)
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet":
            continue
        if (sheet.get("state") or "visible") != "visible":
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
        kind, path = targets.get(rid or "", ("", ""))
        if kind == "worksheet" and path in parts:
            return sheet.get("name") or "", path, sorted(strings_paths)
    raise FileRejected("corrupt")  # no visible worksheet that the package really contains


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """An upper bound of (last row, last column) of the cells in a sheet, as the reader will place them.

    Fast path: every cell carries a plain A1 reference (as Excel writes them). Otherwise cells are placed
    as the format says (a cell without a reference follows the previous one; a row without one follows
    the previous row), and a reference that is not plain A1 text (entities, say) is refused as damaged.
    """
    ends = (b" ", b">", b"/", b"\t", b"\n", b"\r")
    if any(b":c" + end in xml for end in ends):  # namespace-prefixed cells (<x:c>): the general pattern
        tags = len(_C_TAG.findall(xml))
        refs = _C_REF.findall(xml)
    else:
        tags = sum(xml.count(b"<c" + end) for end in ends)
        refs = _C_REF_PLAIN.findall(xml)
    if len(refs) == tags:
        if not refs:
            return 0, 0
        rows = max(map(int, {r for _, r in refs}))
        columns = max(_column_number(c) for c in {c for c, _ in refs})
        return rows, columns
    row = column = max_row = max_column = 0
    for match in _ROW_OR_C.finditer(xml):
        kind, attrs = match.group(1), match.group(2)
        ref = _R_ATTR.search(attrs)
        value = ref.group(2) if ref else None
        if value is not None:
            plain = _PLAIN_REF.fullmatch(value.strip())
            if plain is None:
                raise FileRejected("corrupt")
        if kind == b"row":
            row = int(plain.group(2)) if value is not None and plain.group(2) else row + 1
            column = 0
        else:
            if value is not None and plain.group(1):
                column = _column_number(plain.group(1))
                if plain.group(2):
                    max_row = max(max_row, int(plain.group(2)))
            else:
                column += 1
        max_row = max(max_row, row)
        max_column = max(max_column, column)
    return max_row, max_column


def _shared_string_lengths(xml: bytes) -> list[int]:
    """Bytes from each <si> to the next: at least the length of its text once decoded."""
    starts = [m.start() for m in _SI_START.finditer(xml)]
    if not starts:
        return []
    ends = starts[1:] + [len(xml)]
    return [e - s for s, e in zip(starts, ends, strict=True)]


def shared_string_expansion(sheet_xml: bytes, tables: list[list[int]], *,
                            limit: int = SHARED_STRING_MAX_EXPANSION) -> int:
    """An upper bound of the text the reader copies out of the shared-string table for this sheet."""
    tables = [t for t in tables if t]
    if not tables:
        return 0
    longest = max(max(t) for t in tables)
    values = sheet_xml.count(b"<v") + sheet_xml.count(b":v")  # every reference needs a <v>: a cheap bound
    if values * longest <= limit:
        return values * longest
    references = len(_S_CELL.findall(sheet_xml))
    size = max(len(t) for t in tables)
    per_index = tables[0] if len(tables) == 1 else [max(t[i] if i < len(t) else 0 for t in tables)
                                                     for i in range(size)]
    simple = _S_CELL_VALUE.findall(sheet_xml)
    total = sum(per_index[int(i)] if int(i) < size else 0 for i in simple)
    return total + (references - len(simple)) * longest  # cells of another shape count at the maximum


# --- CSV -------------------------------------------------------------------------------------------

csv.field_size_limit(max(csv.field_size_limit(), 64 * MB))  # a field is never larger than the file


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then UTF-16 with a BOM, then GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            raise FileRejected("unsupported_type", _TEXT_MESSAGE) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileRejected("unsupported_type", _TEXT_MESSAGE) from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected("unsupported_type", _TEXT_MESSAGE)


_SEP_LINE = re.compile(r"sep=(.)\r?\n?")
_MARKUP = ("<!doctype", "<html", "<?xml", "<table", "<head", "<body", "<meta")


def _csv_rows(data: bytes, max_lines: int) -> Iterator[Row]:
    text = decode_text(data)
    start = text.lstrip()[:16].lower()
    if start.startswith(_MARKUP):
        raise FileRejected("unsupported_type", _WEB_PAGE_MESSAGE)
    first_line = text.split("\n", 1)[0]
    sep = _SEP_LINE.fullmatch(first_line.strip("\r") + "\n")
    if sep:  # Excel's "sep=;" hint line: not a row, Excel does not show it
        delimiter = sep.group(1)
        text = text[len(first_line) + 1:]
        first_line = text.split("\n", 1)[0]
    else:
        counts = {d: first_line.count(d) for d in (",", "\t", ";")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        if counts[delimiter] == 0:
            delimiter = ","
    return _csv_records(text, delimiter, max_lines)


def _csv_records(text: str, delimiter: str, max_lines: int) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            if number > max_lines:
                raise FileRejected("too_many_rows")
            while cells and not cells[-1].strip():
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise FileRejected("too_large", _WIDE_MESSAGE)
            yield number, cells
    except csv.Error:
        raise FileRejected("corrupt") from None


# --- writing ---------------------------------------------------------------------------------------

# OWASP's CSV injection guidance: a cell a spreadsheet may run starts with = + - @ TAB CR or LF, or | (DDE),
# also after leading spaces (Excel and LibreOffice skip them); their full-width forms as well (an IME's).
_RUNNABLE = re.compile("[^\\S\t\r\n]*[=+\\-@\t\r\n|＝＋－＠｜]")


def neutralise(value: object) -> str:
    """A cell as text that no spreadsheet will run as a formula (CSV injection): prefix a quote."""
    text = cell_text(value).replace("\x00", "\ufffd")
    if _RUNNABLE.match(text):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with BOM (so Excel reads Chinese correctly), CRLF, every cell neutralised and quoted (OWASP)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = date(1899, 12, 30)
_STYLE_TEXT, _STYLE_DATE, _STYLE_HEADER, _STYLE_HEADER_TEXT = 1, 2, 3, 4
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def write_xlsx(rows: Iterable[Iterable[object]], *, sheet_name: str = "Sheet1",
               text_columns: Iterable[int] = (), date_columns: Iterable[int] = (),
               widths: dict[int, float] | None = None,
               header: bool = True) -> bytes:
    """A minimal, Excel-compatible workbook of one sheet.

    Strings are stored as shared strings (never formulas), numbers as numbers, dates as date cells.
    ``text_columns`` get the Text number format ('@') for the whole column, so what a user types there
    later (an 18-digit ID number) stays text. The first row is bold when ``header``.
    """
    text_columns, date_columns = set(text_columns), set(date_columns)
    strings: dict[str, int] = {}
    body, last_column = _sheet_rows(rows, strings, text_columns, date_columns, header)
    cols = _columns_xml(text_columns, date_columns, widths or {})
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES_XML,
        "_rels/.rels": _PACKAGE_RELS_XML,
        "xl/workbook.xml": _workbook_xml(sheet_name),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS_XML,
        "xl/styles.xml": _STYLES_XML,
        "xl/worksheets/sheet1.xml": _sheet_xml(body, last_column, cols),
        "xl/sharedStrings.xml": _shared_strings_xml(strings),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, xml in parts.items():  # a fixed timestamp: the same rows give the same bytes
            archive.writestr(zipfile.ZipInfo(part, date_time=(1980, 1, 1, 0, 0, 0)), xml.encode("utf-8"),
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cell_style(c: int, r: int, header: bool, text_columns: set[int], date_columns: set[int]) -> int:
    if header and r == 1:
        return _STYLE_HEADER_TEXT if c in text_columns else _STYLE_HEADER
    return _STYLE_TEXT if c in text_columns else (_STYLE_DATE if c in date_columns else 0)


def _sheet_rows(rows: Iterable[Iterable[object]], strings: dict[str, int], text_columns: set[int],
                date_columns: set[int], header: bool) -> tuple[list[str], int]:
    """The <row> elements, and the last column that holds a value; strings go into ``strings``."""
    body: list[str] = []
    last_column = 0
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            last_column = max(last_column, c)
            style = _cell_style(c, r, header, text_columns, date_columns)
            cells.append(_cell_xml(f"{column_letter(c)}{r}", value, style, strings))
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    return body, last_column


def _cell_xml(ref: str, value: object, style: int, strings: dict[str, int]) -> str:
    attr = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{attr}><v>{_number(value)}</v></c>'
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        serial = (day - _EPOCH).days
        if isinstance(value, datetime):
            serial += (value - datetime.combine(day, time())) / timedelta(days=1)
        return f'<c r="{ref}" s="{style or _STYLE_DATE}"><v>{serial}</v></c>'
    text = _XML_BAD.sub("\ufffd", str(value))
    index = strings.setdefault(text, len(strings))
    return f'<c r="{ref}"{attr} t="s"><v>{index}</v></c>'


def _columns_xml(text_columns: set[int], date_columns: set[int], widths: dict[int, float]) -> str:
    columns = []
    for c in sorted(text_columns | date_columns | set(widths)):
        style = _STYLE_TEXT if c in text_columns else (_STYLE_DATE if c in date_columns else 0)
        width = widths.get(c, 14)
        style_attr = f' style="{style}"' if style else ""
        columns.append(f'<col min="{c + 1}" max="{c + 1}" width="{width}"{style_attr} customWidth="1"/>')
    return f"<cols>{''.join(columns)}</cols>" if columns else ""


def _sheet_xml(body: list[str], last_column: int, cols: str) -> str:
    dimension = f"A1:{column_letter(last_column)}{max(len(body), 1)}"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS_MAIN}" '
            f'xmlns:r="{_NS_REL}"><dimension ref="{dimension}"/>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{cols}'
            f'<sheetData>{"".join(body)}</sheetData></worksheet>')


def _workbook_xml(sheet_name: str) -> str:
    name = escape(_XML_BAD.sub("", sheet_name)[:31] or "Sheet1", {'"': "&quot;"})
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS_MAIN}" '
            f'xmlns:r="{_NS_REL}"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
            '</workbook>')


def _shared_strings_xml(strings: dict[str, int]) -> str:
    shared = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{_NS_MAIN}" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>')


# The parts of the package that do not depend on the rows.
_CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
    '</Types>')
_PACKAGE_RELS_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK_RELS_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    '</Relationships>')
_STYLES_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text.upper() if "e" in text else text
