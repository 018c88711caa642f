"""Bulk rows sent as JSON go through the very importers the spreadsheet uploads use, with the same outcomes."""
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass

from registry.api.errors import ApiError
from registry.core.import_jobs import IMPORTERS
from registry.core.imports import ImportAborted, RowOutcome, run_import
from registry.core.spreadsheets import Column

MAX_ROWS = 5000


@dataclass
class Submission:
    """What an importer reads from an ImportJob, for rows that came as JSON rather than as a file."""

    kind: str
    target_id: int | None
    user_id: int
    file_sha256: str
    filename: str = "API 请求"


class JsonRows:
    """Rows as a Sheet presents them: numbered from 1, every column key present, strings stripped."""

    def __init__(self, rows: list[dict], columns: list[Column]):
        self._rows, self._keys = rows, [column.key for column in columns]
        self.total_rows = len(rows)

    def rows(self):
        for number, row in enumerate(self._rows, 1):
            yield number, {key: _clean(row.get(key)) for key in self._keys}


class MemoryLog:
    """OutcomeLog's interface, kept in memory: a request's rows are few enough to answer with all of them."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.outcomes: list[RowOutcome] = []

    def add(self, outcome: RowOutcome) -> None:
        self.counts[outcome.outcome.value] += 1
        self.outcomes.append(outcome)

    def close(self) -> None:
        pass


def run_rows(kind: str, target_id: int | None, user, body: dict) -> dict:
    """Every row's outcome; ApiError 422 (with the rows in error) when a commit met errors it may not skip.

    The caller owns the transaction: it rolls back a dry run, and the error handler a refused commit.
    """
    rows, dry_run = body["rows"], body.get("dry_run", True)  # defaults as registry.api.schemas.bulk states them
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    importer = IMPORTERS[kind](Submission(kind, target_id, user.id, digest))
    log = MemoryLog()
    try:
        counts = run_import(importer, JsonRows(rows, importer.columns), log, commit=not dry_run,
                            skip_errors=body.get("skip_errors", False))
    except ImportAborted as aborted:
        errors = [_row(outcome) for outcome in log.outcomes if outcome.outcome.value == "error"]
        raise ApiError(422, f"{aborted.message}；如需跳过错误行，请设置 skip_errors 为 true", errors,
                       code="rows_invalid") from None
    return {"dry_run": dry_run, "committed": not dry_run, "counts": dict(counts),
            "rows": [_row(outcome) for outcome in log.outcomes]}


def _row(outcome: RowOutcome) -> dict:
    return asdict(outcome) | {"outcome": outcome.outcome.value}


def _clean(value):
    if isinstance(value, str):
        return value.strip() or None
    return value
