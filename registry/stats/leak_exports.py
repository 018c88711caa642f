"""A funnel leak list too long to write while the request waits — city-wide it is hundreds of thousands of
enrolments, 20 s of writing — is written by the task worker into the exports folder, with progress.

One file per user and filter (leak, counties, institution, dates, format): asking again while it is written
shows the progress; a file is served while it is fresh (FRESH_SECONDS), then written anew, because the list
changes with every enrolment, result and certificate. The file holds masked ID numbers only, like the page.
"""
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from registry.core import background_files
from registry.core.spreadsheet_files import write_csv, write_xlsx
from registry.core.tasks import background_task
from registry.stats import funnel

FRESH_SECONDS = 600


@dataclass(frozen=True)
class LeakExport(background_files.BackgroundFile):
    """One user's leak list file: `arguments` are funnel.leak_rows's, as JSON, and the format."""

    user_id: int = 0
    arguments: str = ""

    @property
    def leak_arguments(self) -> tuple:
        return _parsed(self.arguments)[0]

    @property
    def fmt(self) -> str:
        return _parsed(self.arguments)[1]


def _parsed(arguments: str) -> tuple[tuple, str]:
    """(funnel.leak_rows's arguments, format) from an export's JSON."""
    chosen = json.loads(arguments)
    dates = [chosen[name] and date.fromisoformat(chosen[name]) for name in ("from", "to")]
    return (chosen["leak"], chosen["counties"], chosen["institution"], *dates), chosen["format"]


def inline_limit() -> int:
    """Up to this many rows the request writes the file itself."""
    return current_app.config["LEAK_EXPORT_INLINE_LIMIT"]


def export_for(user_id: int, leak: str, county_codes: list[str] | None, institution_id: int | None,
               enrolled_from: date | None, enrolled_to: date | None, fmt: str) -> LeakExport:
    arguments = json.dumps({"leak": leak, "counties": county_codes, "institution": institution_id,
                            "from": enrolled_from and enrolled_from.isoformat(),
                            "to": enrolled_to and enrolled_to.isoformat(), "format": fmt}, sort_keys=True)
    key = hashlib.sha256(f"{user_id}\n{arguments}".encode()).hexdigest()[:20]
    return LeakExport(background_files.exports_folder() / f"leak-{key}.{fmt}", user_id, arguments)


def requested(export: LeakExport, total: int, retry: bool = False) -> dict:
    """The file's status once asked for: a build is queued unless one is running or a fresh file is there
    (a failed one only when `retry`)."""
    status = background_files.status_of(export)
    if status["state"] == "ready" and time.time() - export.path.stat().st_mtime > FRESH_SECONDS:
        export.path.unlink(missing_ok=True)
        status = background_files.status_of(export)
    if status["state"] == "absent" or (status["state"] == "failed" and retry):
        if background_files.claim(export, total):
            build_leak_export.enqueue(export.user_id, export.arguments)
        status = background_files.status_of(export)
    return status


def write(export: LeakExport, target) -> dict:
    """The list in the page's order, EXPORT_CHUNK rows at a time, progress written after each."""
    leak_arguments = export.leak_arguments
    leak = leak_arguments[0]
    progress = background_files.progress_every(export, funnel.leak_count(*leak_arguments), funnel.EXPORT_CHUNK)
    written = 0

    def rows():
        nonlocal written
        for chunk in funnel.leak_row_chunks(*leak_arguments):
            yield from chunk
            written += len(chunk)
            progress(written)

    headers = funnel.leak_headers(leak)
    data = (write_xlsx(headers, rows(), funnel.LEAKS[leak].title) if export.fmt == "xlsx"
            else write_csv(headers, rows()))
    target.write(data)
    return {"rows": written, "written_at": datetime.now().isoformat(timespec="seconds")}


def _export_of(user_id: int, arguments: str) -> LeakExport:
    leak_arguments, fmt = _parsed(arguments)
    return export_for(user_id, *leak_arguments, fmt)


def give_up(user_id: int, arguments: str, reason: str) -> None:
    background_files.write_progress(_export_of(user_id, arguments), failed=True, message=f"{reason}。")


@background_task(give_up=give_up)
def build_leak_export(user_id: int, arguments: str) -> None:
    """The task worker's side of a long leak list."""
    export = _export_of(user_id, arguments)
    background_files.build(export, lambda target: write(export, target))
