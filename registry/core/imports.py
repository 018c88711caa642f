"""Upload → dry run → commit: the flow every import shares (rosters, completions, results, history).

An importer knows one row schema: it checks a chunk of rows (reading the database, writing nothing) and
writes the payloads of a checked chunk. `run_import` drives it over a sheet in chunks, so memory stays
flat however long the file, and writes only when asked to commit. The caller owns the transaction: a
commit that meets an error raises ImportAborted and the caller rolls back, so nothing is half-written.
"""
import abc
import contextlib
import enum
import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from registry.core import private_files
from registry.core.spreadsheets import Column, Sheet

CHUNK_SIZE = 1000
ERRORS_KEPT_IN_MEMORY = 200
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class Outcome(enum.StrEnum):
    NEW = "new"
    EXISTING = "existing"
    UPDATED = "updated"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def label(self) -> str:
        return {"new": "新增", "existing": "已有记录", "updated": "更新", "skipped": "跳过", "error": "错误"}[self.value]


@dataclass
class RowOutcome:
    row: int
    outcome: Outcome
    message: str = ""
    column: str = ""
    subject: str = ""  # who the row is about, masked (e.g. "张*明 410221********123X")


class RowError(ValueError):
    """A row that cannot be imported: names the column (its Chinese header) and the reason, and, once an
    importer that knows persons has read the row's own cells, who the row is about (masked)."""

    def __init__(self, column: str, message: str, subject: str = ""):
        super().__init__(message)
        self.column = column
        self.message = message
        self.subject = subject

    def outcome(self, row: int, subject: str = "") -> "RowOutcome":
        """The error as the row's outcome: a subject known at the call wins over the one the cells gave."""
        return RowOutcome(row, Outcome.ERROR, self.message, self.column, subject or self.subject)


class ImportAborted(Exception):
    """A commit met rows in error without permission to skip them; the caller must roll back."""

    def __init__(self, error_count: int):
        super().__init__(f"提交时发现 {error_count} 行错误，未写入任何数据")
        self.message = str(self)


class Importer(abc.ABC):
    """One row schema. Subclasses set `columns` and implement `check_chunk` and `write_chunk`."""

    kind: str = ""
    title: str = ""
    columns: list[Column] = []
    target_url: str | None = None  # where the job page links back to
    # Set by run_import: a dry run may not answer what a commit may (registry/people/person_rows.py).
    committing: bool = False

    @abc.abstractmethod
    def check_chunk(self, rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[RowOutcome, Any]]:
        """Classify each row; return (outcome, payload) where payload is None for errors and skips."""

    @abc.abstractmethod
    def write_chunk(self, payloads: list[Any]) -> None:
        """Write the payloads of one checked chunk (only called when committing)."""

    def finish(self, counts: dict[str, int]) -> None:
        """Called once after a successful commit (e.g. to record the audit event)."""

    def checked(self, counts: dict[str, int]) -> None:
        """Called once after a dry run, in its transaction (e.g. to audit what the check looked up)."""


class OutcomeLog:
    """Row outcomes streamed to a JSON-lines file; counts and the first errors kept in memory."""

    def __init__(self, path: Path):
        self.path = path
        self.counts: Counter[str] = Counter()
        self.first_errors: list[RowOutcome] = []
        self._handle = private_files.open_private(path, "w", encoding="utf-8")

    def add(self, outcome: RowOutcome) -> None:
        self.counts[outcome.outcome.value] += 1
        if outcome.outcome is Outcome.ERROR and len(self.first_errors) < ERRORS_KEPT_IN_MEMORY:
            self.first_errors.append(outcome)
        # The line json.dumps(asdict(outcome)) gives, without asdict's deep copy: this runs twice for every row.
        self._handle.write(_ENCODER.encode({"row": outcome.row, "outcome": outcome.outcome.value,
                                            "message": outcome.message, "column": outcome.column,
                                            "subject": outcome.subject}) + "\n")

    def close(self) -> None:
        self._handle.close()


def read_outcomes(path: Path, only: Outcome | None = None, offset: int = 0, limit: int = 100):
    """A page of a finished run's outcomes, and how many match in all."""
    if not path.exists():
        return [], 0
    page, total = [], 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            if only is not None and data["outcome"] != only.value:
                continue
            if offset <= total < offset + limit:
                page.append(RowOutcome(**(data | {"outcome": Outcome(data["outcome"])})))
            total += 1
    return page, total


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Spare the garbage collector's full passes the objects that existed before the import.

    A long import promotes enough short-lived row objects to set off a full collection every ten-odd chunks,
    and each walked every object of the app (≈250k, ≈0.18 s): a seventh of a 100k-row commit's CPU. Frozen,
    the app's own objects are skipped until the import ends; any of them that become garbage meanwhile are
    collected then. Left alone when something else (a pre-fork server) has frozen objects already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def chunks(rows: Iterable, size: int) -> Iterator[list]:
    """Lists of up to `size` items, in order: writes and IN (…) look-ups a bounded piece at a time."""
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def run_import(
    importer: Importer,
    sheet: Sheet,
    log: OutcomeLog,
    commit: bool = False,
    skip_errors: bool = False,
    progress: Callable[[int], None] = lambda processed: None,
    checking: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> dict[str, int]:
    """Check every row; when committing, write each clean chunk as it is checked. Returns outcome counts.

    `checking()` is entered around each chunk's check (the database look-ups, as opposed to the writes).
    """
    processed = 0
    importer.committing = commit
    try:
        with _older_objects_frozen():
            for chunk in chunks(sheet.rows(), CHUNK_SIZE):
                with checking():
                    checked = importer.check_chunk(chunk)
                for outcome, _payload in checked:
                    log.add(outcome)
                # After the first error a commit stops writing but keeps checking, so the report is complete.
                writing = commit and (skip_errors or not log.counts[Outcome.ERROR.value])
                payloads = [payload for _outcome, payload in checked if payload is not None]
                if writing and payloads:
                    importer.write_chunk(payloads)
                processed += len(chunk)
                progress(processed)
    finally:
        log.close()
    counts = dict(log.counts)
    if commit and counts.get(Outcome.ERROR.value) and not skip_errors:
        raise ImportAborted(counts[Outcome.ERROR.value])
    if commit:
        importer.finish(counts)
    else:
        importer.checked(counts)
    return counts
