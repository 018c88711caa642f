"""Uploaded spreadsheets (.xlsx or CSV) read row by row as dicts (the templates and exports we hand out are
registry/core/spreadsheet_files.py)."""
import codecs
import csv
import io
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from registry.core import xlsx_safety

EMPTY = "文件为空"
NOT_A_SPREADSHEET = "文件不是 Excel (.xlsx) 或 CSV 表格"
OLD_XLS = "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV"
ENCRYPTED = "文件设置了打开密码，请在 Excel 中取消密码后重新上传"
WEB_PAGE = "文件是网页或 XML 格式（有些系统导出的 .xls 其实是网页），请在 Excel 中打开后另存为 .xlsx 或 CSV"

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# A password-protected .xlsx is an OLE container too: naming the real cause saves a useless "save as".
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f]")
_SAMPLE_BYTES = 64 * 1024
_DECODE_CHUNK = 256 * 1024
# Titles such as "2025年第一期培训班花名册" often sit above the header; look a few rows down for it.
_HEADER_SEARCH_ROWS = 10
_HEADER_NOISE = re.compile(r"[\s\u200b\ufeff]+")
_REQUIRED_MARK = re.compile(r"^[*＊]+|([*＊]|[（(]必填[)）])+$")

# Beyond max_rows data rows, a sheet may hold this many more (titles, the header, blank rows): every row is
# counted as it streams, blank or not, so that a file of nothing but blank rows cannot keep a reader busy.
BLANK_ROW_ALLOWANCE = 1_000

RawRows = Generator[tuple[int, Sequence[object]], None, None]
RowReader = Callable[[int], RawRows]  # first row number → (row number, cells) from there to the end


class SpreadsheetError(ValueError):
    """The upload as a whole cannot be read; .message says why in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = True


class Sheet:
    """An opened upload whose header row has been checked against the expected columns."""

    def __init__(self, filename: str, columns: list[Column], read: RowReader, header_number: int,
                 positions: dict[str, int], total_rows: int | None, max_rows: int):
        self.filename = filename
        self.columns = columns
        self.total_rows = total_rows
        self.present_keys = frozenset(positions)
        self._read = read
        self._header_number = header_number
        self._slots = [(column.key, positions.get(column.key)) for column in columns]
        self._max_rows = max_rows

    def used_headers(self) -> list[str]:
        """The expected columns the file has, as the template names them."""
        return [column.header for column in self.columns if column.key in self.present_keys]

    def ignored_headers(self) -> list[str]:
        """Header cells that name no expected column: their values are read by nobody, which the dry run says."""
        known = {_normalize_header(name) for column in self.columns for name in (column.header, *column.aliases)}
        rows = self._read(self._header_number)
        try:
            _number, cells = next(rows, (None, []))
        finally:
            rows.close()
        return [str(cell).strip() for cell in cells
                if not _is_blank([cell]) and _normalize_header(cell) not in known]

    def rows(self) -> Generator[tuple[int, dict[str, object]], None, None]:
        """Yield (row number as Excel shows it, {key: value}) for each non-blank row below the header.

        Each call reads the file afresh, so a consumer may validate in one pass and insert in another.
        Values are stripped strings (None when empty) or the datetime/int/float an .xlsx cell holds; every
        column key is present, None when its optional column is absent. A header-only file yields nothing:
        reporting "文件中没有数据行" is the consumer's job. Raises SpreadsheetError past max_rows.
        """
        slots, count = self._slots, 0
        for number, cells in self._read(self._header_number + 1):
            width = len(cells)
            row = {key: _clean(cells[index]) if index is not None and index < width else None
                   for key, index in slots}
            if all(value is None for value in row.values()) and _is_blank(cells):
                continue
            count += 1
            if count > self._max_rows:
                raise SpreadsheetError(f"行数过多：超过 {self._max_rows} 行（第 {number} 行是第 {count} 个数据行）")
            yield number, row


def open_sheet(data: bytes | BinaryIO, filename: str, columns: list[Column],
               max_bytes: int = 20 * 1024 * 1024, max_rows: int = 200_000) -> Sheet:
    """Open an upload, telling .xlsx from CSV by content, and locate the expected columns in its header.

    `data` is the file's bytes or a binary file read from where it stands; a seekable one is read in pieces,
    never whole, however large (each pass over the rows reads it afresh), so it must stay open while the
    sheet is used. Raises SpreadsheetError for an empty ("文件为空"), oversized, unreadable or
    non-spreadsheet file, for a header lacking required columns or repeating one, for more than
    max_rows + BLANK_ROW_ALLOWANCE rows counting blank ones (here or while reading), and for an .xlsx that
    would unpack to more than openpyxl can read in little memory (registry.core.xlsx_safety). The header is
    the first non-blank row naming a known column. The filename is only kept for the record: an extension
    proves nothing about content.
    """
    upload = _Upload.of(data, max_bytes)
    if upload.size > max_bytes:
        limit = f"{max_bytes / 2**20:.2f}".rstrip("0").rstrip(".")
        raise SpreadsheetError(f"文件过大：{upload.size} 字节，上限 {limit} MB")
    if all(piece.isspace() for piece in upload.pieces()):  # True for no pieces at all
        raise SpreadsheetError(EMPTY)
    row_cap = max_rows + BLANK_ROW_ALLOWANCE
    too_many_rows = f"行数过多：表格超过 {row_cap} 行（空行也计算在内；数据行最多 {max_rows} 行）"
    head = upload.head(_SAMPLE_BYTES)
    if head.startswith(_XLSX_MAGIC):
        read, line_count = _xlsx_reader(upload, row_cap, too_many_rows)
    else:
        read, line_count = _csv_reader(upload, head)
    read = _row_capped(read, row_cap, too_many_rows)
    header_number, positions = _find_header(read(1), columns)
    total_rows = None if line_count is None else max(line_count - header_number, 0)
    # A formatted-but-empty column makes Excel claim a million rows: no use as a progress total.
    if total_rows is not None and total_rows > max_rows:
        total_rows = None
    return Sheet(filename, columns, read, header_number, positions, total_rows, max_rows)


class _Upload:
    """The uploaded file from where it stood when given: its size, and passes over it that do not disturb
    one another (the header search, the row passes and openpyxl's zip reader each keep their own place)."""

    def __init__(self, file: BinaryIO, start: int, size: int):
        self.file, self.start, self.size = file, start, size

    @classmethod
    def of(cls, data: bytes | BinaryIO, max_bytes: int) -> "_Upload":
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            return cls(io.BytesIO(raw), 0, len(raw))  # BytesIO shares the bytes: no copy
        if not data.seekable():  # read one byte past the limit, not the whole of a huge upload
            raw = data.read(max_bytes + 1)
            return cls(io.BytesIO(raw), 0, len(raw))
        start = data.tell()
        return cls(data, start, data.seek(0, io.SEEK_END) - start)

    def open(self) -> BinaryIO:
        """A fresh pass from the file's first byte."""
        return io.BufferedReader(_Pass(self), buffer_size=_DECODE_CHUNK)

    def head(self, count: int) -> bytes:
        self.file.seek(self.start)
        return self.file.read(min(count, self.size))

    def pieces(self, size: int = _DECODE_CHUNK) -> Iterator[bytes]:
        with self.open() as stream:
            while piece := stream.read(size):
                yield piece


class _Pass(io.RawIOBase):
    def __init__(self, upload: _Upload):
        super().__init__()
        self.upload, self.position = upload, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.upload.size}[whence]
        self.position = max(base + offset, 0)
        return self.position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.upload.size - self.position)
        if wanted <= 0:
            return 0
        self.upload.file.seek(self.upload.start + self.position)
        data = self.upload.file.read(wanted)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)


def _row_capped(read: RowReader, row_cap: int, message: str) -> RowReader:
    """Stop at the row cap counting every row as it streams, blank or absent ones too (a row number past
    the cap means openpyxl was about to hand out every empty row above it)."""
    def capped(first_row: int) -> RawRows:
        rows = read(first_row)
        try:
            for number, cells in rows:
                if number > row_cap:
                    raise SpreadsheetError(message)
                yield number, cells
        finally:
            rows.close()

    return capped


def _xlsx_reader(upload: _Upload, row_cap: int, too_many_rows: str) -> tuple[RowReader, int | None]:
    try:
        xlsx_safety.check_workbook(upload.open(), xlsx_safety.Limits(row_cap, too_many_rows))
    except xlsx_safety.UnsafeWorkbook as unsafe:
        raise SpreadsheetError(unsafe.message) from None
    try:
        worksheet = load_workbook(upload.open(), read_only=True, data_only=True).worksheets[0]
    except MemoryError:
        raise
    except Exception as error:  # openpyxl fails on a foreign or damaged zip with many exception types
        raise SpreadsheetError(NOT_A_SPREADSHEET) from error
    # Some generators write a <dimension> of just "A1"; without a reset openpyxl would stop reading there.
    max_row = worksheet.max_row if (worksheet.max_row or 0) > 1 else None
    worksheet.reset_dimensions()

    def read(first_row: int) -> RawRows:
        number = first_row - 1
        try:
            cells_by_row = worksheet.iter_rows(min_row=first_row, values_only=True)
            for number, cells in enumerate(cells_by_row, first_row):
                yield number, cells
        except MemoryError:
            raise
        except Exception as error:  # a damaged sheet part surfaces only while parsing
            raise SpreadsheetError(f"Excel 文件已损坏，读到第 {number + 1} 行时出错") from error

    return read, max_row


def _csv_reader(upload: _Upload, head: bytes) -> tuple[RowReader, int]:
    encoding = _text_encoding(upload, head)
    sample = head.decode(encoding, errors="ignore")
    if _CONTROL_CHARACTERS.search(sample):
        raise SpreadsheetError(NOT_A_SPREADSHEET)
    if sample.lstrip().startswith("<"):
        raise SpreadsheetError(WEB_PAGE)
    first_line = next((line for line in sample.splitlines() if line.strip(", \t")), "")
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","

    def read(first_row: int) -> RawRows:
        text = io.TextIOWrapper(upload.open(), encoding=encoding, newline="")
        number = 0
        try:
            for number, cells in enumerate(csv.reader(text, delimiter=delimiter), 1):
                if number >= first_row:
                    yield number, cells
        except csv.Error as error:
            raise SpreadsheetError(f"CSV 文件第 {number + 1} 行格式有误，请用 Excel 打开后重新保存") from error
        finally:
            text.close()

    newline = b"\n"
    if encoding == "utf-16":
        newline = b"\n\x00" if head.startswith(codecs.BOM_UTF16_LE) else b"\x00\n"
    # The pieces are of even length, so a UTF-16 newline never straddles two of them.
    lines, last = 0, b""
    for piece in upload.pieces():
        lines += piece.count(newline)
        last = piece
    return read, lines + (not last.endswith(newline))


def _text_encoding(upload: _Upload, head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — what Excel on Chinese Windows saves — else not text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode 文本"
        return "utf-16"
    if head.startswith(_OLE_MAGIC):
        raise SpreadsheetError(ENCRYPTED if _holds(upload, _ENCRYPTED_STREAM) else OLD_XLS)
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise SpreadsheetError(NOT_A_SPREADSHEET)
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(upload, encoding):
            return encoding
    raise SpreadsheetError(NOT_A_SPREADSHEET)


def _holds(upload: _Upload, marker: bytes) -> bool:
    tail = b""
    for piece in upload.pieces():
        if marker in tail + piece:
            return True
        tail = piece[-(len(marker) - 1):]
    return False


def _decodes(upload: _Upload, encoding: str) -> bool:
    # Decoding in pieces and dropping the text checks the whole file without holding it all as str.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for piece in upload.pieces():
            decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _find_header(rows: RawRows, columns: list[Column]) -> tuple[int, dict[str, int]]:
    names = {_normalize_header(name): column
             for column in columns for name in (column.header, *column.aliases)}
    candidates = ((number, cells) for number, cells in rows if not _is_blank(cells))
    first = None
    try:
        for number, cells in islice(candidates, _HEADER_SEARCH_ROWS):
            first = first or (number, cells)
            if any(_normalize_header(cell) in names for cell in cells):
                return number, _locate_columns(cells, columns, names)
    finally:
        rows.close()
    if first is None:
        raise SpreadsheetError(EMPTY)
    # No row names a known column: judge the first one, which is what the user takes for the header.
    return first[0], _locate_columns(first[1], columns, names)


def _locate_columns(cells: Sequence[object], columns: list[Column],
                    names: dict[str, Column]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = names.get(_normalize_header(cell))
        if column is None:
            continue
        if column.key in positions:
            first, second = get_column_letter(positions[column.key] + 1), get_column_letter(index + 1)
            raise SpreadsheetError(f"列“{column.header}”重复：第 {first} 列和第 {second} 列，请只保留一列")
        positions[column.key] = index
    missing = [column.header for column in columns if column.required and column.key not in positions]
    if missing:
        raise SpreadsheetError(f"缺少列：{'、'.join(missing)}（请使用模板中的列名）")
    return positions


def _normalize_header(value: object) -> str:
    return "" if value is None else _REQUIRED_MARK.sub("", _HEADER_NOISE.sub("", str(value)))


def _clean(value: object) -> object:
    return (value.strip() or None) if isinstance(value, str) else value


def _is_blank(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


_SEPARATED_DATE = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
                             r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_CHINESE_DATE = re.compile(r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})")
# Excel counts days from 1899-12-30 (its phantom 1900-02-29 moves the epoch a day back); the bounds keep
# ordinary numbers such as a score or a year from passing for dates.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_MIN, _EXCEL_SERIAL_MAX = 20000, 80000


def parse_date(value: object) -> date:
    """A date from an .xlsx cell or a spelling people type; ValueError with a Chinese message otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError("日期不能为空")
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if is_number or (text.isdigit() and len(text) == 5):
        serial = float(value)
        if _EXCEL_SERIAL_MIN <= serial <= _EXCEL_SERIAL_MAX:  # False for NaN too
            return _EXCEL_EPOCH + timedelta(days=int(serial))
    for pattern in (_SEPARATED_DATE, _CHINESE_DATE, _COMPACT_DATE):
        if match := pattern.fullmatch(text):
            year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"日期不存在：{year:04d}-{month:02d}-{day:02d}") from None
    raise ValueError(f"日期格式无法识别：{text}，请使用 2025-03-05、2025/3/5 或 2025年3月5日")
