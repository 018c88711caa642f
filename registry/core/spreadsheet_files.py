"""The spreadsheets we hand out: import templates (their samples on a 说明 sheet) and exports, .xlsx or CSV.
Reading uploads is registry/core/spreadsheets.py."""
import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registry.core.spreadsheets import Column

_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C00000")
# Excel runs CSV text starting with these as a formula (OWASP "CSV injection"); an apostrophe disarms it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


INSTRUCTIONS_SHEET = "说明"


def template_workbook(columns: list[Column], sample_rows: Sequence[Sequence[object]] = (),
                      title: str = "导入模板") -> bytes:
    """An .xlsx whose first sheet holds exactly the columns' headers, so a filled-in copy uploads as is.

    The sample rows go on a second sheet, 说明, under the same headers: an import reads the first sheet
    only, so a sample can never be imported however the template is filled in.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title)
    _template_header(sheet, columns, sample_rows)
    if sample_rows:
        notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
        notes.append(["以下为填写示例，仅供参考：请在第一个工作表“" + sheet.title + "”中填写数据，本工作表不会被导入。"])
        notes.append(["红色列名为必填项；证件号码等长数字请按文本录入（本模板各列已设为文本格式）。"])
        notes.append([])
        _template_header(notes, columns, sample_rows, first_row=4)
        for row in sample_rows:
            notes.append(list(row))
    return _save(workbook)


def _template_header(sheet, columns: list[Column], sample_rows: Sequence[Sequence[object]],
                     first_row: int = 1) -> None:
    for index, column in enumerate(columns, 1):
        cell = sheet.cell(row=first_row, column=index, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.comment = Comment("必填" if column.required else "选填", "开封市职业技能证书登记系统")
        samples = [row[index - 1] for row in sample_rows if len(row) >= index]
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = _column_width([column.header, *samples])
        # In a General column Excel turns an 18-digit ID number into 4.10221E+17 and loses its last digits.
        dimension.number_format = "@"
    sheet.freeze_panes = f"A{first_row + 1}"


def template_csv(columns: list[Column]) -> bytes:
    return write_csv([column.header for column in columns], [])


def write_xlsx(headers: list[str], rows: Iterable[Sequence[object]], title: str = "数据") -> bytes:
    """An export as .xlsx, written in openpyxl's streaming mode; user text is never read as a formula.
    The sheet is named after the export (Excel shows the name on its tab: never "Sheet")."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title))
    for index, header in enumerate(headers, 1):
        sheet.column_dimensions[get_column_letter(index)].width = _column_width([header])
    sheet.freeze_panes = "A2"
    header_cells = [WriteOnlyCell(sheet, header) for header in headers]
    for cell in header_cells:
        cell.font = _HEADER_FONT
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_value(sheet, value) for value in row])
    return _save(workbook)


def write_csv(headers: list[str], rows: Iterable[Sequence[object]]) -> bytes:
    """An export as UTF-8 CSV with a BOM, without which Excel shows Chinese as mojibake; formulas disarmed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # its default \r\n line ending is what Excel writes too
    writer.writerow(headers)
    writer.writerows([_csv_value(value) for value in row] for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _xlsx_value(sheet, value: object) -> object:
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # openpyxl refuses control characters outright
    # openpyxl stores text starting with "=" as a formula and "#N/A" as an error: user text must stay text.
    if value.startswith(("=", "#")):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _column_width(values: Iterable[object]) -> float:
    # A Chinese character is about two Latin ones wide.
    widest = max((sum(2 if ord(char) > 0x2E7F else 1 for char in str(value)) for value in values), default=0)
    return min(max(widest + 4, 10), 50)


def sheet_title(title: str) -> str:
    """Excel's rules for a tab's name: at most 31 characters, none of the characters [ ] : * ? / \\."""
    return re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "数据"


def _save(workbook: Workbook) -> bytes:
    # The file's properties say who made it, in Chinese, rather than openpyxl's name.
    workbook.properties.creator = workbook.properties.lastModifiedBy = "开封市职业技能证书登记系统"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
