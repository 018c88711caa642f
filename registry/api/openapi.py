"""The OpenAPI 3.1 document, built from the declared operations, and the readable docs page."""
from dataclasses import fields

from flask import jsonify, render_template

from registry.api import spec
from registry.api.spec import Operation, declare, error_schema, exactly
from registry.api.views import bp
from registry.certificates.models import CertificateStatus
from registry.certificates.verification import OUTCOMES
from registry.organizations.models import AgencyStatus
from registry.stats.coverage import TARGET_INDICATORS, Coverage

TAGS = {"training": "培训", "assessment": "认定与发证", "public": "公开查询", "statistics": "统计", "meta": "接口说明"}
STATUS_TEXT = {200: "成功", 201: "已创建", 400: "请求参数有误", 401: "缺少或无效的令牌", 403: "无权限",
               404: "不存在或不在范围内", 409: "冲突", 413: "请求体过大", 415: "请求体不是 JSON",
               422: "数据未通过校验", 429: "请求过于频繁"}
COUNT = {"type": "integer", "minimum": 0}
# One county's or the city's figures (registry/stats/coverage.py Coverage); docs/STATISTICS.md defines them.
COVERAGE_FIGURES = {figure.name: COUNT for figure in fields(Coverage)} | {
    "code": {"type": "string"}, "name": {"type": "string"},
    "by_level": exactly(dict.fromkeys("12345", COUNT)),
    "targets": exactly(dict.fromkeys(TARGET_INDICATORS, {"type": ["integer", "null"]})),
}
TEXT = {"type": "string"}
VERDICT = exactly({
    "number": TEXT, "outcome": {"type": "string", "enum": [key for key in OUTCOMES if key != "not_found"]},
    "message": TEXT, "status": {"type": "string", "enum": [status.value for status in CertificateStatus]},
    # What the certificate prints, names and document numbers masked.
    "certificate": exactly({
        **dict.fromkeys(["title", "kind", "number", "name_masked", "document_type", "document_masked",
                         "occupation_name", "occupation_code", "work_type", "level_label", "agency_name",
                         "agency_filing_number", "issued_on"], TEXT),
        "level": {"type": ["integer", "null"]}}),
    "agency": {"oneOf": [{"type": "null"}, exactly({
        "name": TEXT, "filing_number": TEXT, "filed_on": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": [status.value for status in AgencyStatus]},
        "status_label": TEXT})]},
    "revocation": {"oneOf": [{"type": "null"}, exactly({
        "revoked_on": {"type": "string", "format": "date"}, "reason": {"type": ["string", "null"]}})]},
    "replacement": {"oneOf": [{"type": "null"}, exactly({"number": TEXT})]},
    "name_matches": {"type": ["boolean", "null"], "description": "未给出 name 时为 null"},
    "qr_signature_valid": {"type": ["boolean", "null"], "description": "地址不带二维码参数（d、l、o、n、s）时为 null"},
})
# The QR code's address carries its signed claim; sent along, the answer says whether it is genuine.
QR_QUERY = [{"name": key, "in": "query", "schema": {"type": "string"}, "description": description}
            for key, description in (("d", "二维码：发证日期"), ("l", "二维码：等级"), ("o", "二维码：职业编码"),
                                     ("n", "二维码：姓名（部分隐藏）"), ("s", "二维码：签名"))]

# Endpoints without a @documented decorator (registry/api/public_views.py, stats_views.py), described here.
declare(Operation("GET", "/api/v1/certificates/{number}", "按编号核验证书（公开，限流）", "public", public=True,
                  query=[{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}},
                         {"name": "name", "in": "query", "schema": {"type": "string"},
                          "description": "持证人姓名：给出时核对是否与证书一致"}, *QR_QUERY],
                  response=VERDICT, statuses=(400, 404, 429)))
declare(Operation("GET", "/api/v1/signing-key", "二维码签名公钥（PEM）", "public", public=True,
                  content_type="application/x-pem-file", response={"type": "string"},
                  response_headers={"Cache-Control": {"required": True, "schema": {"type": "string"}}}))
declare(Operation("GET", "/api/v1/stats/coverage", "持证覆盖统计（按县区，截至某日）", "statistics",
                  query=[{"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}},
                         {"name": "county", "in": "query", "schema": {"type": "string"}}],
                  response=exactly({
                      "as_of": {"type": "string", "format": "date"},
                      # The plan's 2020 figures as printed (e.g. "52.3万人"), by figure.
                      "city": exactly(COVERAGE_FIGURES | {"baseline_2020": {
                          "type": "object", "propertyNames": {"enum": list(TARGET_INDICATORS)},
                          "additionalProperties": {"type": "string"}}}),
                      "counties": {"type": "array", "items": exactly(COVERAGE_FIGURES)}}),
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
    if operation.response_headers:
        responses[str(success)]["headers"] = operation.response_headers
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
