"""The OpenAPI 3.1 document, built from the declared operations, and the readable docs page."""
from flask import jsonify, render_template

from registry.api import spec
from registry.api.spec import Operation, declare, error_schema
from registry.api.views import bp

TAGS = {"training": "培训", "assessment": "认定与发证", "public": "公开查询", "statistics": "统计", "meta": "接口说明"}
STATUS_TEXT = {200: "成功", 201: "已创建", 400: "请求参数有误", 401: "缺少或无效的令牌", 403: "无权限",
               404: "不存在或不在范围内", 409: "冲突", 413: "请求体过大", 415: "请求体不是 JSON",
               422: "数据未通过校验", 429: "请求过于频繁"}
COVERAGE_FIGURES = {"type": "object", "required": ["holders", "skilled", "high_skilled", "by_level"], "properties": {
    "code": {"type": "string"}, "name": {"type": "string"}, "holders": {"type": "integer"},
    "skilled": {"type": "integer"}, "high_skilled": {"type": "integer"},
    "by_level": {"type": "object", "additionalProperties": {"type": "integer"}},
    "certificates_valid": {"type": "integer"}, "certificates_revoked": {"type": "integer"},
    "enrolments": {"type": "integer"}, "completions": {"type": "integer"},
    "subsidised_enrolments": {"type": "integer"}, "new_holders_since_2021": {"type": "integer"},
    "targets": {"type": "object"}}}

# Endpoints that live in their own areas' blueprints (certificates, stats), described here.
declare(Operation("GET", "/api/v1/certificates/{number}", "按编号核验证书（公开，限流）", "public", public=True,
                  query=[{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}},
                         {"name": "name", "in": "query", "schema": {"type": "string"}}],
                  response={"type": "object", "required": ["outcome"], "properties": {"outcome": {"type": "string"}}},
                  statuses=(400, 404, 429)))
declare(Operation("GET", "/api/v1/signing-key", "二维码签名公钥（PEM）", "public", public=True,
                  content_type="application/x-pem-file", response={"type": "string"}))
declare(Operation("GET", "/api/v1/stats/coverage", "持证覆盖统计（按县区，截至某日）", "statistics",
                  query=[{"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}},
                         {"name": "county", "in": "query", "schema": {"type": "string"}}],
                  response={"type": "object", "required": ["as_of", "city", "counties"], "properties": {
                      "as_of": {"type": "string", "format": "date"}, "city": COVERAGE_FIGURES,
                      "counties": {"type": "array", "items": COVERAGE_FIGURES}}},
                  statuses=(400, 401, 403)))
declare(Operation("GET", "/api/v1/openapi.json", "本接口说明（OpenAPI 3.1）", "meta", public=True))


def document() -> dict:
    paths: dict[str, dict] = {}
    for operation in spec.OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "开封市职业技能证书登记系统 API", "version": "1",
                 "description": "令牌在“我的 API 令牌”页面创建，以 Authorization: Bearer <令牌> 发送；令牌只具有其用户的角色和范围。"
                                f"请求体上限 {spec.MAX_BODY_BYTES // 1024} KB。错误统一为 "
                                "{\"error\": 代码, \"message\": 中文说明, \"details\": [...]}。"},
        "servers": [{"url": "/"}],
        "tags": [{"name": key, "description": label} for key, label in TAGS.items()],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Error": error_schema()}},
    }


def _operation(operation: Operation) -> dict:
    success = 201 if 201 in operation.statuses else 200
    content = {operation.content_type: {"schema": operation.response}}
    responses = {str(success): {"description": STATUS_TEXT[success], "content": content}}
    for status in operation.statuses:
        if status >= 400:
            responses[str(status)] = {"description": STATUS_TEXT[status], "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    result = {"summary": operation.summary, "tags": [operation.tag], "operationId": _operation_id(operation),
              "parameters": operation.query, "responses": responses}
    if operation.body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": operation.body}}}
    result["security"] = [] if operation.public else [{"bearer": []}]
    return result


def _operation_id(operation: Operation) -> str:
    words = [part.strip("{}") for part in operation.path.removeprefix("/api/v1/").split("/")]
    return "_".join([operation.method.lower(), *words]).replace(".", "_").replace("-", "_")


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document())


@bp.get("/api/docs")
def docs_page():
    return render_template("api/docs.html", document=document(), tags=TAGS)
