"""Helpers the test modules share (fixtures are in tests/conftest.py): made-up ID numbers, row counts, and
spreadsheets to upload."""
import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from registry.core.db import db
from registry.people.identity import resident_id_check_char


def resident_id(number: int, born: str | date = "19900101", area: str = "410221") -> str:
    """A fictional resident ID number with a valid check character: address code, birth date, `number` as the
    three-digit sequence (odd last digit: a man), check character."""
    born = born if isinstance(born, str) else f"{born:%Y%m%d}"
    first17 = f"{area}{born}{number % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def count(model, *where) -> int:
    """Rows of a model (or table), optionally only those matching `where`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def xlsx_bytes(rows, header) -> bytes:
    """An .xlsx upload: the header row, then the rows."""
    workbook = openpyxl.Workbook()
    for row in [header, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
