"""Reading uploads as .xlsx or CSV, parsing dates, writing templates and exports — all on in-memory files."""
import io
import os
import random
import struct
import tracemalloc
import zipfile
import zlib
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from registry.core.spreadsheet_files import template_csv, template_workbook, write_csv, write_xlsx
from registry.core.spreadsheets import Column, SpreadsheetError, open_sheet, parse_date

COLUMNS = [
    Column("document_number", "证件号码", aliases=("身份证号", "身份证号码")),
    Column("name", "姓名"),
    Column("trained_on", "培训日期", required=False),
]
HEADER = ["证件号码", "姓名", "培训日期"]
ROWS = [
    ["410221199001011234", "张三", "2025-03-05"],
    ["41022119850203002X", "李四", "2025/3/5"],
]
EXPECTED = [
    (2, {"document_number": "410221199001011234", "name": "张三", "trained_on": "2025-03-05"}),
    (3, {"document_number": "41022119850203002X", "name": "李四", "trained_on": "2025/3/5"}),
]


def xlsx_bytes(rows: list[list[object]], start_row: int = 1) -> bytes:
    """Rows written at their own row numbers; a None row leaves that row absent from the file."""
    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(rows, start_row):
        for column, value in enumerate(row or [], 1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = "".join(delimiter.join("" if v is None else str(v) for v in row or []) + "\r\n" for row in rows)
    return text.encode(encoding)


def read_all(data, filename="upload.csv", columns=COLUMNS, **limits):
    return list(open_sheet(data, filename, columns, **limits).rows())


def error_of(data, filename="upload.csv", columns=COLUMNS, **limits) -> str:
    with pytest.raises(SpreadsheetError) as caught:
        read_all(data, filename, columns, **limits)
    return caught.value.message


def png_bytes() -> bytes:
    def chunk(kind, payload):
        checksum = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + checksum
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def pdf_bytes() -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, "roster")
    canvas.save()
    return buffer.getvalue()


# Reading: both formats, encodings, delimiters

def test_xlsx_and_csv_give_identical_rows():
    from_xlsx = read_all(xlsx_bytes([HEADER, *ROWS]), "花名册.xlsx")
    from_csv = read_all(csv_bytes([HEADER, *ROWS]), "花名册.csv")
    assert from_xlsx == from_csv == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_with_chinese_headers_and_values(encoding):
    assert read_all(csv_bytes([HEADER, *ROWS], encoding)) == EXPECTED


def test_format_is_detected_by_content_not_extension():
    assert read_all(xlsx_bytes([HEADER, *ROWS]), "花名册.csv") == EXPECTED
    assert read_all(csv_bytes([HEADER, *ROWS]), "花名册.xlsx") == EXPECTED


def test_tab_separated_file():
    assert read_all(csv_bytes([HEADER, *ROWS], "utf-16", delimiter="\t"), "花名册.txt") == EXPECTED


def test_a_stream_is_accepted_like_bytes():
    assert read_all(io.BytesIO(csv_bytes([HEADER, *ROWS]))) == EXPECTED


def test_values_are_stripped_and_empty_ones_are_none():
    rows = read_all(csv_bytes([HEADER, ["\t410221199001011234 ", "\u3000张三\u3000", "  "]]))
    assert rows == [(2, {"document_number": "410221199001011234", "name": "张三", "trained_on": None})]


def test_xlsx_keeps_cell_types():
    sheet = read_all(xlsx_bytes([HEADER, [410221, "张三", datetime(2025, 3, 5)]]), "a.xlsx")
    assert sheet == [(2, {"document_number": 410221, "name": "张三", "trained_on": datetime(2025, 3, 5)})]


def test_short_rows_and_absent_optional_column_give_none():
    sheet = open_sheet(csv_bytes([["姓名", "证件号码"], ["张三"]]), "a.csv", COLUMNS)
    assert sheet.present_keys == {"name", "document_number"}
    assert list(sheet.rows()) == [(2, {"document_number": None, "name": "张三", "trained_on": None})]


def test_rows_can_be_read_twice():
    for data in (csv_bytes([HEADER, *ROWS]), xlsx_bytes([HEADER, *ROWS])):
        sheet = open_sheet(data, "a", COLUMNS)
        assert list(sheet.rows()) == list(sheet.rows()) == EXPECTED


# Row numbers as Excel shows them

@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes])
def test_blank_rows_are_skipped_but_numbering_is_kept(make):
    rows = [None, HEADER, ROWS[0], None, [None, "  ", None], ROWS[1], None]
    numbers = [number for number, _ in read_all(make(rows), "a")]
    assert numbers == [3, 6]


def test_a_quoted_line_break_stays_one_excel_row():
    data = '证件号码,姓名\r\n410221199001011234,"张\n三"\r\n41022119850203002X,李四\r\n'.encode()
    assert [(number, row["name"]) for number, row in read_all(data)] == [(2, "张\n三"), (3, "李四")]


def test_title_row_above_the_header_is_skipped():
    rows = [["2025年第一期电工培训班花名册"], HEADER, ROWS[0]]
    assert read_all(xlsx_bytes(rows), "a.xlsx") == [(3, EXPECTED[0][1])]


def test_row_with_only_unknown_columns_filled_is_reported_not_skipped():
    rows = read_all(csv_bytes([[*HEADER, "备注"], [None, None, None, "转班"]]))
    assert rows == [(2, {"document_number": None, "name": None, "trained_on": None})]


def test_total_rows_for_progress():
    assert open_sheet(csv_bytes([HEADER, *ROWS]), "a.csv", COLUMNS).total_rows == 2
    assert open_sheet(xlsx_bytes([["标题"], HEADER, *ROWS]), "a.xlsx", COLUMNS).total_rows == 2


# Header row

def test_headers_are_matched_through_aliases_spaces_and_required_marks():
    header = ["身份证号 *", "姓　名（必填）", " 培训 日期"]
    assert read_all(csv_bytes([header, *ROWS])) == EXPECTED


def test_unknown_columns_are_ignored_and_order_does_not_matter():
    header = ["序号", "姓名", "备注", "身份证号码"]
    rows = read_all(csv_bytes([header, [1, "张三", "无", "410221199001011234"]]))
    assert rows == [(2, {"document_number": "410221199001011234", "name": "张三", "trained_on": None})]


def test_all_missing_columns_are_listed():
    columns = [*COLUMNS, Column("phone", "联系电话")]
    assert error_of(csv_bytes([["培训日期"], ["2025-03-05"]]), columns=columns) == \
        "缺少列：证件号码、姓名、联系电话（请使用模板中的列名）"


def test_a_header_nothing_matches_reports_all_required_columns():
    assert error_of(csv_bytes([["a", "b"], ["1", "2"]])) == "缺少列：证件号码、姓名（请使用模板中的列名）"


@pytest.mark.parametrize("header", [["姓名", "证件号码", "姓名"], ["证件号码", "姓名", "身份证号"]])
def test_duplicated_header_is_named(header):
    message = error_of(csv_bytes([header]))
    assert message.startswith("列“姓名”重复" if header[2] == "姓名" else "列“证件号码”重复")
    assert "第 C 列" in message


# Whole-file problems

@pytest.mark.parametrize("data", [b"", b"  \r\n", b"\xef\xbb\xbf", b",,\r\n,,\r\n", xlsx_bytes([])])
def test_empty_file(data):
    assert error_of(data) == "文件为空"


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes])
def test_header_only_yields_no_rows(make):
    assert read_all(make([HEADER]), "a") == []


@pytest.mark.parametrize("data", [
    pdf_bytes(), png_bytes(), b"\xff\xd8\xff\xe0" + os.urandom(200), b"abc\x00def\x00" * 50,
    bytes(range(128, 256)) * 4,  # neither UTF-8 nor GB18030
])
def test_not_a_spreadsheet(data):
    assert error_of(data, "花名册.xlsx") == "文件不是 Excel (.xlsx) 或 CSV 表格"


def test_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert error_of(buffer.getvalue(), "a.xlsx") == "文件不是 Excel (.xlsx) 或 CSV 表格"


def test_old_xls_is_refused_with_advice():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert error_of(data, "a.xls") == "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV"


def test_password_protected_xlsx_is_named():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
    assert error_of(data, "a.xlsx") == "文件设置了打开密码，请在 Excel 中取消密码后重新上传"


def test_web_page_saved_as_xls_is_named():
    assert error_of(b"<html><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table></html>", "a.xls") \
        .startswith("文件是网页或 XML 格式")


@pytest.mark.parametrize("wrap", [bytes, io.BytesIO])
def test_too_many_bytes(wrap):
    data = csv_bytes([HEADER] + [ROWS[0]] * 50_000)
    assert error_of(wrap(data), max_bytes=1024 * 1024) == f"文件过大：{len(data)} 字节，上限 1 MB"


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes])
def test_too_many_rows_is_raised_while_reading(make):
    rows = open_sheet(make([HEADER] + [ROWS[0]] * 6), "a", COLUMNS, max_rows=5).rows()
    assert len([next(rows) for _ in range(5)]) == 5
    with pytest.raises(SpreadsheetError, match="行数过多：超过 5 行"):
        next(rows)


def test_exactly_max_rows_is_fine():
    assert len(read_all(csv_bytes([HEADER] + [ROWS[0]] * 5), max_rows=5)) == 5


def test_a_large_csv_streams_in_little_memory():
    count = 100_000
    data = "证件号码,姓名,培训日期\r\n".encode() + b"".join(
        f"4102211990{i:08d},学员{i},2025-03-05\r\n".encode() for i in range(count))
    tracemalloc.start()
    try:
        sheet = open_sheet(data, "big.csv", COLUMNS)
        seen = sum(1 for _ in sheet.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count and sheet.total_rows == count
    assert peak < 10 * 1024 * 1024, peak  # streaming stays near 1 MB; the rows held as dicts would take 50+


# Dates

@pytest.mark.parametrize("value", [
    date(2025, 3, 5), datetime(2025, 3, 5, 14, 30), "2025-03-05", "2025-3-5", "2025/3/5", "2025/03/05",
    "2025.3.5", "2025年3月5日", "2025 年 3 月 5 日", "2025年3月5", "20250305", " 2025-03-05 ", "2025-03-05 00:00:00",
    45721, 45721.0, 45721.75, "45721",
])
def test_date_spellings(value):
    assert parse_date(value) == date(2025, 3, 5)


def test_excel_date_cell_round_trip():
    (_, row), = read_all(xlsx_bytes([HEADER, ["1", "张三", date(2025, 3, 5)]]), "a.xlsx")
    assert parse_date(row["trained_on"]) == date(2025, 3, 5)


@pytest.mark.parametrize("value, message", [
    ("2025-02-30", "日期不存在：2025-02-30"),
    ("2025年2月30日", "日期不存在：2025-02-30"),
    ("20251301", "日期不存在：2025-13-01"),
    ("2025/3-5", "日期格式无法识别：2025/3-5，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    ("三月五日", "日期格式无法识别：三月五日，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    (85, "日期格式无法识别：85，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    (2025, "日期格式无法识别：2025，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    (float("nan"), "日期格式无法识别：nan，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    (True, "日期格式无法识别：True，请使用 2025-03-05、2025/3/5 或 2025年3月5日"),
    (None, "日期不能为空"),
    ("  ", "日期不能为空"),
])
def test_bad_dates(value, message):
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    assert str(caught.value) == message


# Templates and exports

def test_template_workbook_uploads_back_without_rows():
    data = template_workbook(COLUMNS)
    sheet = open_sheet(data, "模板.xlsx", COLUMNS)
    assert list(sheet.rows()) == [] and sheet.present_keys == {"document_number", "name", "trained_on"}


def test_template_workbook_marks_required_columns_and_keeps_id_numbers_as_text():
    workbook = load_workbook(io.BytesIO(template_workbook(COLUMNS, [ROWS[0]], title="培训花名册")))
    worksheet = workbook["说明"]
    assert [cell.value for cell in worksheet[4]] == HEADER
    assert worksheet["A4"].font.color.rgb.endswith("C00000")
    assert worksheet.column_dimensions["A"].number_format == "@"
    assert [cell.value for cell in worksheet[5]] == ROWS[0]
    worksheet = workbook.active
    assert worksheet.title == "培训花名册"
    assert [cell.value for cell in worksheet[1]] == HEADER
    assert worksheet["A1"].font.color.rgb.endswith("C00000") and worksheet["A1"].comment.text == "必填"
    assert worksheet["C1"].font.b and worksheet["C1"].comment.text == "选填"
    assert worksheet.column_dimensions["A"].number_format == "@"
    assert worksheet.column_dimensions["A"].width > 20  # fits the 18-digit sample
    assert worksheet.max_row == 1  # the sample is on 说明 only


def test_a_template_sample_is_never_read_as_data():
    data = template_workbook(COLUMNS, ROWS)
    assert load_workbook(io.BytesIO(data)).sheetnames == ["导入模板", "说明"]
    assert read_all(data, "模板.xlsx") == []


def test_template_csv_has_bom_and_uploads_back():
    data = template_csv(COLUMNS)
    assert data == "\ufeff证件号码,姓名,培训日期\r\n".encode()
    assert read_all(data) == []


@pytest.mark.parametrize("write", [write_xlsx, write_csv])
def test_exports_read_back_through_open_sheet(write):
    rows = read_all(write(HEADER, iter(ROWS)), "导出")
    assert rows == EXPECTED


def test_export_dates_and_numbers():
    row = ["410221199001011234", 12, date(2025, 3, 5)]
    (_, from_xlsx), = read_all(write_xlsx(HEADER, [row]), "a.xlsx")
    (_, from_csv), = read_all(write_csv(HEADER, [row]), "a.csv")
    assert from_xlsx == {"document_number": row[0], "name": 12, "trained_on": datetime(2025, 3, 5)}
    assert from_csv == {"document_number": "410221199001011234", "name": "12", "trained_on": "2025-03-05"}


def test_exports_never_turn_text_into_formulas():
    row = ["=HYPERLINK(\"http://x\")", "#N/A", "a\x01b"]
    worksheet = load_workbook(io.BytesIO(write_xlsx(HEADER, [row]))).active
    assert [(cell.value, cell.data_type) for cell in worksheet[2]] == \
        [("=HYPERLINK(\"http://x\")", "s"), ("#N/A", "s"), ("ab", "s")]
    assert worksheet["A1"].font.b
    assert write_csv(["a", "b"], [["=1+1", "-2"]]).endswith(b"'=1+1,'-2\r\n")


# Damaged or odd files

def rewrite_sheet_xml(data: bytes, change) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            archive.writestr(item, change(content) if item.filename == "xl/worksheets/sheet1.xml" else content)
    return target.getvalue()


def test_a_wrong_dimension_does_not_cut_rows_short():
    data = rewrite_sheet_xml(xlsx_bytes([HEADER, *ROWS]), lambda xml: xml.replace(b'ref="A1:C3"', b'ref="A1"'))
    sheet = open_sheet(data, "a.xlsx", COLUMNS)
    assert list(sheet.rows()) == EXPECTED and sheet.total_rows is None


def test_a_damaged_sheet_is_a_spreadsheet_error():
    data = rewrite_sheet_xml(xlsx_bytes([HEADER, *ROWS]), lambda xml: xml[: len(xml) // 2])
    assert "Excel" in error_of(data, "a.xlsx")


def test_an_overlong_csv_field_is_a_spreadsheet_error():
    data = csv_bytes([HEADER, ROWS[0], ["1", "x" * 200_000]])
    assert error_of(data) == "CSV 文件第 3 行格式有误，请用 Excel 打开后重新保存"


# Bombs: files that unpack to far more than they weigh. Each is streamed into zipfile piece by piece, so the
# test never holds one whole; reading one back may only cost what refusing it needs.

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_PARTS = {
    "[Content_Types].xml":
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '</Types>',
    "_rels/.rels":
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        '</Relationships>',
    "xl/workbook.xml":
        f'<workbook xmlns="{MAIN_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="sharedStrings.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
        '</Relationships>',
}
# The header row's cells are the first three shared strings.
HEADER_ROW = '<row r="1">' + "".join(f'<c r="{column}1" t="s"><v>{index}</v></c>'
                                     for index, column in enumerate("ABC")) + "</row>"


def repeated(piece: str, count: int):
    """`piece` count times, in blocks of about 1 MB."""
    data = piece.encode()
    per_block = max(2**20 // len(data), 1)
    for start in range(0, count, per_block):
        yield data * min(per_block, count - start)


def numbered(template: str, count: int, start: int = 1):
    """template.format(n) for n from start, in blocks of about 1 MB: content that does not compress away."""
    per_block = max(2**20 // len(template.format(start + count)), 1)
    for first in range(start, start + count, per_block):
        last = min(first + per_block, start + count)
        yield "".join(template.format(n) for n in range(first, last)).encode()


def stream_part(archive: zipfile.ZipFile, name: str, pieces, compress_type=zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, date_time=(2025, 3, 5, 0, 0, 0))
    info.compress_type = compress_type
    with archive.open(info, "w") as part:
        for piece in pieces:
            part.write(piece.encode() if isinstance(piece, str) else piece)


def crafted_xlsx(sheet_data=(), strings=(), dimension: str = "A1:C1", before_rows: str = "",
                 compress_type=zipfile.ZIP_DEFLATED) -> bytes:
    """A workbook of HEADER and whatever `sheet_data` and `strings` stream after it, written the way an
    attacker would: with zipfile, part by part, every part of it well-formed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in PACKAGE_PARTS.items():
            archive.writestr(name, xml)
        stream_part(archive, "xl/sharedStrings.xml", [
            f'<sst xmlns="{MAIN_NS}">', *(f"<si><t>{text}</t></si>" for text in HEADER), *strings, "</sst>"])
        stream_part(archive, "xl/worksheets/sheet1.xml", [
            f'<worksheet xmlns="{MAIN_NS}">{before_rows}<dimension ref="{dimension}"/><sheetData>',
            HEADER_ROW, *sheet_data, "</sheetData></worksheet>"], compress_type)
    return buffer.getvalue()


def refusal_and_peak(data: bytes, **limits) -> tuple[str, int]:
    """The message open_sheet and the row reader refuse `data` with, and the peak of memory that took."""
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError) as caught:
            list(open_sheet(data, "bomb.xlsx", COLUMNS, **limits).rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value.message, peak


PEAK_LIMIT = 50 * 2**20


def test_a_shared_strings_bomb_is_refused_from_the_zip_directory():
    # Issue 19: 876 KB holding 360 MB of shared strings took a worker to 3.2 GB. This one: 0.2 MB → 80 MB.
    filler = "<si><t>填充</t></si>"
    data = crafted_xlsx(strings=repeated(filler, 80 * 2**20 // len(filler.encode())))
    assert len(data) < 400_000
    message, peak = refusal_and_peak(data)
    assert message == "Excel 文件解压后过大：xl/sharedStrings.xml 解压后 80 MB，上限 64 MB"
    assert peak < PEAK_LIMIT, peak


def test_an_empty_rows_bomb_is_refused_from_the_zip_directory():
    # Issue 19: 1.5 MB holding 180 million empty rows reached 5.7 GB. This one: 5 million rows in 45 KB.
    data = crafted_xlsx(sheet_data=repeated("<row/>", 5_000_000))
    assert len(data) < 100_000
    message, peak = refusal_and_peak(data)
    assert message.startswith("Excel 文件压缩比异常：xl/worksheets/sheet1.xml 解压后是压缩时的 ")
    assert message.endswith("倍（上限 100 倍），疑似恶意构造的文件，已拒绝读取")
    assert peak < PEAK_LIMIT, peak


def test_rows_are_counted_as_they_stream_blank_ones_too_whatever_the_dimension_says():
    # Numbered rows compress like real ones: the zip directory lets them through. The <dimension> says 1 row.
    data = crafted_xlsx(sheet_data=numbered('<row r="{}"/>', 1_000_000, start=2))
    message, peak = refusal_and_peak(data)
    assert message == "行数过多：表格超过 201000 行（空行也计算在内；数据行最多 200000 行）"
    assert peak < PEAK_LIMIT, peak


def test_rows_the_file_skips_count_too():
    # One cell far down: openpyxl hands out every row above it as empty, though none of them is in the file.
    far = '<row r="300000"><c r="A300000" t="inlineStr"><is><t>410221199001011234</t></is></c></row>'
    message, peak = refusal_and_peak(crafted_xlsx(sheet_data=[far]))
    assert message == "行数过多：表格超过 201000 行（空行也计算在内；数据行最多 200000 行）"
    assert peak < PEAK_LIMIT, peak


def test_blank_rows_count_in_csv_too():
    a_few_blank = csv_bytes([HEADER, *[[] for _ in range(20)], ROWS[0]])
    assert read_all(a_few_blank, max_rows=5) == [(22, EXPECTED[0][1])]
    many_blank = csv_bytes([HEADER, *[[] for _ in range(1010)], ROWS[0]])
    assert error_of(many_blank, max_rows=5) == "行数过多：表格超过 1005 行（空行也计算在内；数据行最多 5 行）"


def test_shared_strings_are_counted_before_openpyxl_loads_them():
    data = crafted_xlsx(strings=numbered("<si><t>学员{}</t></si>", 12_000))
    message, peak = refusal_and_peak(data, max_rows=1_000)
    assert message == "Excel 文件中的文本过多：共享字符串超过 10000 项（表格每行最多 5 项）"
    assert peak < PEAK_LIMIT, peak


@pytest.mark.parametrize(("sheet_data", "before_rows", "message"), [
    # One row of 150,000 cells: openpyxl builds all of a row before handing it out.
    (lambda: ['<row r="2">', *numbered('<c t="inlineStr"><is><t>{}</t></is></c>', 150_000), "</row>"], "",
     "Excel 文件中有一行内容超过 1 MB（xl/worksheets/sheet1.xml），疑似恶意构造的文件，已拒绝读取"),
    # Elements between the rows are never freed while the sheet is read.
    (lambda: numbered('<x n="{}"/>', 300_000), "",
     "Excel 文件结构异常（xl/worksheets/sheet1.xml：行以外的元素超过 250000 个），疑似恶意构造的文件，已拒绝读取"),
    (lambda: repeated("<x>", 10_000), "",
     "Excel 文件结构异常（xl/worksheets/sheet1.xml：元素嵌套超过 64 层），疑似恶意构造的文件，已拒绝读取"),
    (lambda: [], '<x a="' + random.Random(19).randbytes(2**20).hex() + '"/>',  # 2 MB that do not compress
     "Excel 文件结构异常（xl/worksheets/sheet1.xml：单个标签超过 1 MB），疑似恶意构造的文件，已拒绝读取"),
], ids=["wide row", "junk elements", "deep nesting", "huge tag"])
def test_structures_openpyxl_would_hold_whole_are_refused(sheet_data, before_rows, message):
    refused, peak = refusal_and_peak(crafted_xlsx(sheet_data=sheet_data(), before_rows=before_rows))
    assert refused == message
    assert peak < PEAK_LIMIT, peak


def test_a_document_type_declaration_is_refused():
    # Entities are how XML multiplies text (the "billion laughs"); no part of a real workbook declares any.
    data = xlsx_bytes([HEADER, *ROWS])
    data = rewrite_sheet_xml(data, lambda xml: xml.replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1))
    assert error_of(data, "a.xlsx") == \
        "Excel 文件结构异常（xl/worksheets/sheet1.xml：含有 DOCTYPE 声明），疑似恶意构造的文件，已拒绝读取"


def test_a_compression_other_than_deflate_is_refused():
    # zipfile unpacks a bzip2 part in whole slices, not in bounded pieces as it does deflate.
    data = crafted_xlsx(sheet_data=numbered('<row r="{0}"><c r="A{0}"><v>{0}</v></c></row>', 50, start=2),
                        compress_type=zipfile.ZIP_BZIP2)
    assert error_of(data, "a.xlsx") == \
        "Excel 文件的压缩方式不受支持（xl/worksheets/sheet1.xml），请在 Excel 中另存为 .xlsx 后重新上传"


def test_a_zip_directory_that_understates_a_part_cannot_make_it_unpack_further():
    # The checks trust the sizes in the zip directory: zipfile stops unpacking a part at the size stated.
    data = crafted_xlsx(sheet_data=numbered('<row r="{0}"><c r="A{0}"><v>{0}</v></c></row>', 10_000, start=2))
    entry = data.rindex(b"PK\x01\x02")  # the last directory entry: the sheet's
    assert data[entry + 46:].startswith(b"xl/worksheets/sheet1.xml")
    data = data[:entry + 24] + struct.pack("<I", 1024) + data[entry + 28:]  # its unpacked size
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == 1024
    message, peak = refusal_and_peak(data)
    assert message == "Excel 文件已损坏（xl/worksheets/sheet1.xml），请在 Excel 中打开后重新保存"
    assert peak < PEAK_LIMIT, peak


def test_a_large_real_workbook_is_not_mistaken_for_a_bomb():
    rows = [[f"4102211990{i:08d}", f"学员{i}", "2025-03-05"] for i in range(20_000)]
    data = xlsx_bytes([HEADER, *rows])
    assert len(read_all(data, "a.xlsx")) == 20_000


def test_files_name_their_sheet_and_maker_in_chinese():
    import io as _io

    import openpyxl as _openpyxl

    from registry.core.spreadsheet_files import write_xlsx

    workbook = _openpyxl.load_workbook(_io.BytesIO(write_xlsx(["姓名"], [["王一"]], "学员名单")))
    assert workbook.sheetnames == ["学员名单"]
    assert workbook.properties.creator == "开封市职业技能证书登记系统"
    assert _openpyxl.load_workbook(_io.BytesIO(write_xlsx(["姓名"], []))).sheetnames == ["数据"]
