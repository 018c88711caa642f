"""One error shape for every /api/ answer: {"error": code, "message": Chinese text, "details": [...]}."""
import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from registry.core.arguments import BadArgument
from registry.core.db import db, is_write_conflict
from registry.core.errors import Forbidden, InvalidInput

CODES = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "缺少或无效的 API 令牌"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "对象不存在，或不在您的管理范围内"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
    409: ("conflict", "与现有数据冲突"),
    413: ("too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）"),
    422: ("invalid", "数据未通过校验"),
    500: ("server_error", "服务器内部错误，请稍后再试"),
    503: ("busy", "系统繁忙：数据正被其他操作写入，请稍后再试"),
}
RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, details: list | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES[status][0]
        self.message = message or CODES[status][1]
        self.details = details or []


def error_response(status: int, message: str | None = None, details: list | None = None,
                   code: str | None = None) -> tuple[Response, int]:
    error = ApiError(status, message, details, code)
    return jsonify(error=error.code, message=error.message, details=error.details), status


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_api_errors(app: Flask, page_handler) -> None:
    """JSON for /api/ paths, the HTML error page (page_handler) elsewhere."""

    def handle_http(error: HTTPException):
        if not is_api_request():
            return page_handler(error)
        if isinstance(error, BadArgument):
            return error_response(400, error.description, [{"field": error.parameter}])
        status = error.code if error.code in CODES else 400
        if status == 500:
            db.session.rollback()
        return error_response(status)

    def handle_api_error(error: ApiError):
        db.session.rollback()
        return error_response(error.status, error.message, error.details, error.code)

    def handle_invalid(error: InvalidInput):
        db.session.rollback()
        if not is_api_request():  # a view that let a rule's refusal escape: still no server error
            return page_handler(exceptions.BadRequest())
        return error_response(422, error.message, [{"field": error.field, "message": error.message}])

    def handle_forbidden(error: Forbidden):
        db.session.rollback()
        if not is_api_request():
            return page_handler(exceptions.Forbidden())
        return error_response(403, str(error) or None)

    def handle_database_busy(error: sa.exc.OperationalError):
        """Another writer held the lock past the wait: ask to come back, never a server error."""
        db.session.rollback()
        if not is_write_conflict(error):
            raise error
        answer = error_response(503) if is_api_request() else page_handler(exceptions.ServiceUnavailable())
        response = app.make_response(answer)
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    for status in (400, 401, 403, 404, 405, 413, 415, 500):
        app.register_error_handler(status, handle_http)
    app.register_error_handler(sa.exc.OperationalError, handle_database_busy)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(InvalidInput, handle_invalid)
    app.register_error_handler(Forbidden, handle_forbidden)
