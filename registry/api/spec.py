"""The API's contract: each operation declared once, with JSON Schemas that both document it (OpenAPI 3.1 at
/api/v1/openapi.json) and check every request body before a view sees it."""
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import request
from jsonschema import Draft202012Validator, FormatChecker

from registry.api.errors import ApiError

MAX_BODY_BYTES = 2 * 1024 * 1024  # documented in docs/API.md; a 1,000-row bulk request is about 200 KB


def error_schema() -> dict:
    return {"type": "object", "required": ["error", "message", "details"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "array"}}}


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
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "请求体不是有效的 JSON", code="malformed_json")
    problems = [describe(error) for error in sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.path))]
    if problems:
        raise ApiError(422, f"数据未通过校验：{problems[0]['message']}", problems[:100])
    return body


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def describe(error) -> dict:
    """A Chinese message for a JSON Schema violation, and where it is (e.g. rows[3].name)."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path).lstrip(".")
    value = error.validator_value
    messages = {
        "required": lambda: f"缺少字段 {', '.join(sorted(set(value) - set(error.instance)))}",
        "type": lambda: f"类型应为 {_TYPES.get(value, value) if isinstance(value, str) else '/'.join(value)}",
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


_TYPES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "true/false", "object": "对象",
          "array": "数组", "null": "null"}
