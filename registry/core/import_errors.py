"""The error rows of a checked import (错误行) as a spreadsheet to fix and upload again.

The file holds the rows exactly as they came (the upload is read again: the report keeps only masked
outcomes), under the template's column headers, with one more column, 错误原因, that every import ignores.
So a clerk corrects the cells the reason names and uploads the file as it is. It exists only while the
upload does, that is until the job is imported or fails (registry/core/import_jobs.py).
"""
import json
from collections.abc import Iterator

from flask import current_app

from registry.core import import_jobs
from registry.core.imports import Outcome
from registry.core.models import ImportJob
from registry.core.spreadsheet_files import write_xlsx
from registry.core.spreadsheets import open_sheet

REASON = "错误原因"
TITLE = "导入错误行"


def error_reasons(job_id: int) -> dict[int, str]:
    """Row number → the Chinese reason of each error row in the job's report."""
    reasons: dict[int, str] = {}
    path = import_jobs.outcomes_path(job_id)
    if not path.exists():
        return reasons
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            if data["outcome"] == Outcome.ERROR.value:
                cell = f"{data['column']}：" if data["column"] else ""
                reasons[data["row"]] = f"{cell}{data['message']}（原第 {data['row']} 行）"
    return reasons


def is_available(job: ImportJob) -> bool:
    """Whether the error file can be made: the job has error rows and its upload is still kept."""
    return bool(job.error_count) and not job.status.is_running \
        and import_jobs.upload_path(job.id).exists()


def error_workbook(job: ImportJob) -> tuple[bytes, int]:
    """The .xlsx of the error rows and how many it holds; InvalidInput once the upload is gone."""
    importer = import_jobs.importer_for(job)
    with import_jobs.open_upload(job.id) as upload:
        sheet = open_sheet(upload, job.filename, importer.columns,
                           max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                           max_rows=current_app.config["IMPORT_MAX_ROWS"])
        columns = [column for column in importer.columns if column.key in sheet.present_keys]
        reasons = error_reasons(job.id)
        written = 0

        def rows() -> Iterator[list]:
            nonlocal written
            for number, values in sheet.rows():
                if number in reasons:
                    written += 1
                    yield [values[column.key] for column in columns] + [reasons[number]]

        data = write_xlsx([column.header for column in columns] + [REASON], rows(), title=TITLE)
    return data, written
