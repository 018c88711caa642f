"""JSON Schemas shared by several endpoints; bulk row schemas are generated from the importers' own columns."""
from registry.api.bulk import MAX_ROWS
from registry.api.spec import exactly
from registry.assessment.results_import import RESULT_COLUMNS
from registry.core.arguments import MAX_ID
from registry.core.imports import Outcome
from registry.core.spreadsheets import Column
from registry.training.completions import COMPLETION_COLUMNS
from registry.training.roster import ROSTER_COLUMNS

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
OPTIONAL_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID}


def row_schema(columns: list[Column]) -> dict:
    """One property per spreadsheet column, named by its key, described by its Chinese header. No key is
    required here: a missing or blank value is a row-level error from the importer, as in a file."""
    return {"type": "object", "additionalProperties": False, "properties": {
        column.key: {"type": ["string", "number", "null"], "description": column.header} for column in columns}}


def bulk(row: dict) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["rows"], "properties": {
        "rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": row},
        "dry_run": {"type": "boolean", "default": True, "description": "true（默认）只检查不写入"},
        "skip_errors": {"type": "boolean", "default": False, "description": "提交时跳过错误行"}}}


ROSTER_ROW = row_schema(ROSTER_COLUMNS)
COMPLETION_ROW = row_schema(COMPLETION_COLUMNS)
RESULT_ROW = row_schema(RESULT_COLUMNS)
OUTCOMES = [outcome.value for outcome in Outcome]
OUTCOME = exactly({
    "row": {"type": "integer"}, "outcome": {"type": "string", "enum": OUTCOMES},
    "message": {"type": "string"}, "column": {"type": "string"}, "subject": {"type": "string"}})
BULK_RESULT = exactly({
    "dry_run": {"type": "boolean"}, "committed": {"type": "boolean"},
    "counts": {"type": "object", "propertyNames": {"enum": OUTCOMES},
               "additionalProperties": {"type": "integer"}},
    "rows": {"type": "array", "items": OUTCOME}})
REPLAYED_HEADER = {"Idempotent-Replayed": {
    "description": "重复提交（同一 Idempotency-Key 与请求体）时为 true：这是第一次的结果，未再写入",
    "schema": {"type": "string", "enum": ["true"]}}}
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "maxLength": 100},
                      "description": "重复提交同一请求时返回第一次的结果，不再写入"}
