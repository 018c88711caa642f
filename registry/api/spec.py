"""The API's contract: each operation declared once, with JSON Schemas that both document it (OpenAPI 3.1 at
/api/v1/openapi.json) and check every request body before a view sees it."""
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import request
from jsonschema import Draft202012Validator, FormatChecker

from registry.api.errors import ApiError

MAX_BODY_BYTES = 2 * 1024 * 1024  # documented in docs/API.md; a 1,000-row bulk request is about 200 KB


def exactly(properties: dict) -> dict:
    """An answer object with every one of these keys and no other: the fuzzer (tests/api/test_fuzz.py) then
    notices as soon as a view and its declaration drift apart."""
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties}


def error_schema() -> dict:
    return exactly({"error": {"type": "string"}, "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}}})


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI style: /api/v1/classes/{class_id}
    summary: str
    tag: str
    body: dict | None = None
    response: dict = field(default_factory=lambda: {"type": "object"})
    query: list[dict] = field(default_factory=list)
    public: bool = False
    statuses: tuple[int, ...] = ()
    content_type: str = "application/json"
    description: str = ""
    response_headers: dict = field(default_factory=dict)  # of the success answer: name → OpenAPI header


OPERATIONS: list[Operation] = []


def declare(operation: Operation) -> Operation:
    OPERATIONS.append(operation)
    return operation


def documented(method: str, path: str, summary: str, tag: str, **details) -> Callable:
    """Declare the operation, and check its JSON body against `body` before the view runs."""
    operation = declare(Operation(method, path, summary, tag, **details))

    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if operation.body is not None:
                kwargs["body"] = parse_body(operation.body)
            return view(*args, **kwargs)

        return checked

    return decorator


def parse_body(schema: dict) -> Any:
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, f"请求体过大：上限 {MAX_BODY_BYTES // 1024} KB")
    if not request.is_json:
        raise ApiError(415)
    try:
        # Strict JSON: Python's parser would also take NaN, Infinity and 1e999.
        body = json.loads(request.get_data(), parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise ApiError(400, "请求体不是有效的 JSON", code="malformed_json") from None
    problems = [*_unstorable_text(body)]
    errors = sorted(_validator(schema).iter_errors(body), key=lambda error: list(error.path))
    problems += [describe(error) for error in errors]
    if problems:
        raise ApiError(422, f"数据未通过校验：{problems[0]['message']}", problems[:100])
    return body


def _refuse(constant: str):
    raise ValueError(constant)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


# NUL cannot be stored in a PostgreSQL text column; a lone surrogate (JSON "\ud800") is no character at all
# and could not even be written back in an answer.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text(body):
    """Where a string (or a key) holds what no text column can: iteratively, as a body may nest deep."""
    pending = [("", body)]  # a stack, children pushed last first: problems come in the body's order
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            if any(UNSTORABLE.search(key) for key in value):
                yield _unstorable(where)
            pending.extend(reversed([(f"{where}.{key}".lstrip("."), item) for key, item in value.items()
                                     if not UNSTORABLE.search(key)]))
        elif isinstance(value, list):
            pending.extend(reversed([(f"{where}[{index}]", item) for index, item in enumerate(value)]))
        elif isinstance(value, str) and UNSTORABLE.search(value):
            yield _unstorable(where)


def _unstorable(where: str) -> dict:
    return {"field": where or "(body)", "message": f"{where or '请求体'}：含有 NUL 或无效的 Unicode 字符"}


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def describe(error) -> dict:
    """A Chinese message for a JSON Schema violation, and where it is (e.g. rows[3].name)."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path).lstrip(".")
    value = error.validator_value
    messages = {
        "required": lambda: f"缺少字段 {', '.join(sorted(set(value) - set(error.instance)))}",
        "type": lambda: f"类型应为 {'/'.join(_TYPES.get(name, name) for name in _listed(value))}",
        "enum": lambda: f"应为以下之一：{'、'.join(map(str, value))}",
        "minLength": lambda: "不能为空" if value == 1 else f"至少 {value} 个字符",
        "maxLength": lambda: f"最多 {value} 个字符",
        "minimum": lambda: f"不能小于 {value}",
        "maximum": lambda: f"不能大于 {value}",
        "minItems": lambda: f"至少 {value} 项",
        "maxItems": lambda: f"最多 {value} 项",
        "additionalProperties": lambda: "含有不认识的字段",
        "format": lambda: "日期格式应为 YYYY-MM-DD" if value == "date" else f"格式应为 {value}",
        "pattern": lambda: "格式不正确",
    }
    message = messages.get(error.validator, lambda: "不符合要求")()
    return {"field": where or "(body)", "message": f"{where}：{message}" if where else message}


def _listed(value) -> list:
    return [value] if isinstance(value, str) else value


_TYPES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "true/false", "object": "对象",
          "array": "数组", "null": "null"}
