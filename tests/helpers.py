"""Helpers the test modules share (fixtures are in tests/conftest.py): made-up ID numbers, row counts,
spreadsheets to upload, and an import job's commit and error rows."""
import io
import re
from contextlib import contextmanager
from datetime import date

import openpyxl
import sqlalchemy as sa

from registry.core.db import db
from registry.core.models import ImportJob
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


@contextmanager
def recorded():
    """The (statement, parameters) sent to the database while the block runs."""
    statements = []

    def before(_connection, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def xlsx_bytes(rows, header) -> bytes:
    """An .xlsx upload: the header row, then the rows."""
    workbook = openpyxl.Workbook()
    for row in [header, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def commit(client, job, skip_errors=False) -> ImportJob:
    """Press the import job's commit button (its worker runs at once in tests); the job afterwards."""
    client.post(f"/imports/{job.id}/commit", data={"skip_errors": "1"} if skip_errors else {})
    db.session.expire_all()
    return db.session.get(ImportJob, job.id)


def error_rows(client, job) -> list[tuple[str, str, str]]:
    """(row, person, reason) of each error on the job's report page."""
    html = client.get(f"/imports/{job.id}?only=error").get_data(as_text=True)
    return re.findall(r'<tr class="outcome-error"><td>(\d+)</td><td>错误</td><td>[^<]*</td>\s*'
                      r'<td>([^<]*)</td><td>([^<]*)</td>', html)
