"""Whether openpyxl can read an uploaded .xlsx in little memory, found out before it is let near the file.

An .xlsx is a zip, and a zip part may unpack to a thousand times its size. openpyxl's read-only mode
keeps every row and shared string it has parsed (as an element, emptied but still attached) until the
part ends, builds each row whole before handing it out, and holds the other parts whole. So:
1. the zip directory is checked first: it states each part's unpacked size (zipfile never unpacks a part
   past it) and so its compression ratio;
2. then every XML part is walked once with expat, in small pieces and holding nothing, counting what
   openpyxl would keep: rows, shared strings, other elements, the size of each row.
The first limit exceeded stops the walk. Real workbooks stay far below every limit.
"""
import pyexpat
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

MAX_PARTS = 1_000
SHEET_BYTES = 256 * 2**20  # a 200,000-row sheet of inline text (openpyxl's way of writing) is about 100 MB
SHARED_STRINGS_BYTES = 64 * 2**20
OTHER_PART_BYTES = 16 * 2**20  # styles, workbook, relationships: kilobytes in real files
TOTAL_BYTES = 512 * 2**20
MAX_RATIO = 100  # real sheets unpack to 5–20 times their size, bombs to 400–1,000 times
RATIO_FROM_BYTES = 2**20  # a smaller part's ratio proves nothing and costs nothing
STRINGS_PER_ROW = 5  # a roster has about 4 distinct texts a row (ID number, name, phone number, a date)
RECORD_BYTES = 2**20  # one row or shared string: Excel holds at most 32,767 characters in a cell
ELEMENTS_OUTSIDE_RECORDS = 250_000  # column widths, merged cells, cell formats (Excel allows 64,000)
MAX_DEPTH = 64
TOKEN_BYTES = 2**20  # one tag, which expat buffers whole before reporting it
_READ_BYTES = 64 * 1024
_SHEET_PART = re.compile(r"xl/(worksheets|chartsheets|dialogsheets|macrosheets)/[^/]+\.xml", re.IGNORECASE)
_SHARED_STRINGS_PART = re.compile(r"xl/sharedStrings\.xml", re.IGNORECASE)
# What a part starts with when it is XML, text or binary: pictures and the like are never parsed.
_XML_LEAD = b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"


class UnsafeWorkbook(ValueError):
    """The workbook exceeds a limit; .message says which, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    rows: int  # rows counted in any sheet, blank ones too
    too_many_rows: str  # the message when there are more

    @property
    def strings(self) -> int:
        return STRINGS_PER_ROW * self.rows


def check_workbook(source: BinaryIO, limits: Limits) -> None:
    """Raise UnsafeWorkbook unless openpyxl can open `source` (a zip) and read it within the limits.

    A zip that is not one is left for openpyxl to refuse.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return
    with archive:
        parts = archive.infolist()
        _check_directory(parts)
        for part in parts:
            _scan(archive, part, limits)


def _check_directory(parts: list[zipfile.ZipInfo]) -> None:
    if len(parts) > MAX_PARTS:
        raise UnsafeWorkbook(f"Excel 文件内部的文件过多：{len(parts)} 个（上限 {MAX_PARTS} 个）")
    for part in parts:
        # zipfile unpacks deflate in bounded pieces, but a bzip2 or LZMA part in whole slices.
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeWorkbook(f"Excel 文件的压缩方式不受支持（{part.filename}），"
                                 "请在 Excel 中另存为 .xlsx 后重新上传")
        limit = _byte_limit(part.filename)
        if part.file_size > limit:
            raise UnsafeWorkbook(f"Excel 文件解压后过大：{part.filename} 解压后 {_megabytes(part.file_size)} MB，"
                                 f"上限 {_megabytes(limit)} MB")
        ratio = part.file_size // max(part.compress_size, 1)
        if part.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise UnsafeWorkbook(f"Excel 文件压缩比异常：{part.filename} 解压后是压缩时的 {ratio} 倍"
                                 f"（上限 {MAX_RATIO} 倍），疑似恶意构造的文件，已拒绝读取")
    total = sum(part.file_size for part in parts)
    if total > TOTAL_BYTES:
        raise UnsafeWorkbook(f"Excel 文件解压后过大：共 {_megabytes(total)} MB，上限 {_megabytes(TOTAL_BYTES)} MB")


def _byte_limit(name: str) -> int:
    # Known by their usual names: a sheet stored under another name gets the small limit, only stricter.
    if _SHEET_PART.fullmatch(name):
        return SHEET_BYTES
    if _SHARED_STRINGS_PART.fullmatch(name):
        return SHARED_STRINGS_BYTES
    return OTHER_PART_BYTES


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.2f}".rstrip("0").rstrip(".")


def _scan(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: Limits) -> None:
    try:
        with archive.open(part) as source:
            data = source.read(_READ_BYTES)
            if data.lstrip(_XML_LEAD)[:1] != b"<":
                return
            scan = _PartScan(part.filename, limits)
            while data:
                scan.feed(data)
                data = source.read(_READ_BYTES)
            scan.feed(b"", final=True)
    except pyexpat.ExpatError:
        # Not well-formed: if openpyxl ever reads the part, its parser (expat too) stops at the same place,
        # and every limit held up to there.
        return
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, zlib.error) as error:  # Runtime: encrypted
        raise UnsafeWorkbook(f"Excel 文件已损坏（{part.filename}），请在 Excel 中打开后重新保存") from error


class _PartScan:
    """expat's walk over one part, holding nothing. The same rules hold for every part, whatever its name:
    rows and shared strings ("records", which openpyxl reads one at a time) are counted and each must stay
    small; the elements outside them must be few."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.parser = pyexpat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.fed = self.depth = self.inside = 0  # bytes given to expat, and in records
        self.rows = self.strings = self.outside = 0
        self.record_kind, self.record_depth, self.record_start = "", 0, 0

    def feed(self, data: bytes, final: bool = False) -> None:
        self.fed += len(data)
        self.parser.Parse(data, final)
        position = self.parser.CurrentByteIndex
        # What expat was given beyond the last thing it reported is one unfinished tag, buffered whole.
        if self.fed - position > TOKEN_BYTES:
            raise self._malicious("单个标签超过 1 MB")
        # Outside the records openpyxl keeps everything (text too): no more than of a part it reads whole.
        in_record = position - self.record_start if self.record_depth else 0
        if position - self.inside - in_record > OTHER_PART_BYTES:
            raise self._malicious(f"行以外的内容超过 {_megabytes(OTHER_PART_BYTES)} MB")

    def _start(self, tag: str, _attributes: dict) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._malicious(f"元素嵌套超过 {MAX_DEPTH} 层")
        if self.record_depth:
            return
        kind = tag.rpartition(" ")[2]  # namespace, space, local name
        if kind == "row":
            self.rows += 1
            if self.rows > self.limits.rows:
                raise UnsafeWorkbook(self.limits.too_many_rows)
        elif kind == "si":
            self.strings += 1
            if self.strings > self.limits.strings:
                raise UnsafeWorkbook(f"Excel 文件中的文本过多：共享字符串超过 {self.limits.strings} 项"
                                     f"（表格每行最多 {STRINGS_PER_ROW} 项）")
        else:
            self.outside += 1
            if self.outside > ELEMENTS_OUTSIDE_RECORDS:
                raise self._malicious(f"行以外的元素超过 {ELEMENTS_OUTSIDE_RECORDS} 个")
            return
        self.record_kind, self.record_depth = kind, self.depth
        self.record_start = self.parser.CurrentByteIndex

    def _end(self, _tag: str) -> None:
        if self.depth == self.record_depth:
            self.record_depth = 0
            size = self.parser.CurrentByteIndex - self.record_start
            self.inside += size
            if size > RECORD_BYTES:
                what = "一行内容" if self.record_kind == "row" else "一项文本"
                raise UnsafeWorkbook(f"Excel 文件中有{what}超过 1 MB（{self.name}），疑似恶意构造的文件，已拒绝读取")
        self.depth -= 1

    def _doctype(self, *_declaration) -> None:
        # Entities are how XML multiplies text ("billion laughs"); no part of a real workbook declares any.
        raise self._malicious("含有 DOCTYPE 声明")

    def _malicious(self, reason: str) -> UnsafeWorkbook:
        return UnsafeWorkbook(f"Excel 文件结构异常（{self.name}：{reason}），疑似恶意构造的文件，已拒绝读取")
