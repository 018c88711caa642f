"""The raw side of an .xlsx export: plain openpyxl writing a sheet of the same shape, in the same run.

An export's time is mostly openpyxl's (a city-wide leak list is ≈ 300k rows; its SQL takes ≈ 0.1 s of its
17–30 s), so a page target cannot hold for it at 1.35M. What can be checked is that the export costs little
more than the library does: the downloaded file's shape (rows and columns of its sheet) is written again by
openpyxl alone — write-only mode, a short text in every cell — and timed once.
"""
import io
import re
import time
import zipfile

from openpyxl import Workbook

from benchmarks.pages.report import Raw

FIRST_ROW = re.compile(rb"<row\b.*?</row>", re.S)
CELL = re.compile(rb"<c\b")
ROW = re.compile(rb"<row\b")


def shape(content: bytes) -> tuple[int, int]:
    """(rows, columns) of the first worksheet of an .xlsx: its <row> elements and the cells of the first."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = next(name for name in sorted(archive.namelist()) if name.startswith("xl/worksheets/sheet"))
        xml = archive.read(sheet)
    first = FIRST_ROW.search(xml)
    return len(ROW.findall(xml)), len(CELL.findall(first.group(0))) if first else 0


def written_by_openpyxl(rows: int, columns: int) -> Raw:
    """A write-only workbook of that shape saved to memory, timed."""
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")
    sheet.append([f"列{column}" for column in range(columns)])
    for row in range(rows - 1):
        sheet.append([f"值{row}-{column}" for column in range(columns)])
    workbook.save(io.BytesIO())
    return Raw(rows, columns, time.perf_counter() - start)
