"""POST /api/v1/certificates/bulk-check: an employer's list checked at once, no token needed (批量核查).

The list comes as JSON ({"rows": [{"number": …, "name": …}, …]}) or as an uploaded .xlsx/CSV (field
"file"); the answer is JSON per row plus the signed workbook and its detached Ed25519 signature, both in
base64. Nothing is kept (registry/certificates/bulk_verification.py).
"""
import base64

from flask import jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.api.errors import ApiError
from registry.api.spec import MAX_BODY_BYTES, Operation, declare, exactly
from registry.api.views import bp
from registry.certificates import bulk_verification as bulk
from registry.certificates.rendering import signing_key
from registry.core.ratelimit import charge_client, configured, limiter

# The verify call's limit per client, as GET /api/v1/certificates/<number>, and the uploads' own.
api = limiter.limit(configured("VERIFY_API_LIMITS"))
uploads = limiter.limit(configured("VERIFY_UPLOAD_LIMITS"))
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
declare(Operation(
    "POST", "/api/v1/certificates/bulk-check", "批量核查证书（公开，限流，最多 1000 行）", "public", public=True,
    description="请求体为 JSON（如下），或以 multipart/form-data 的 file 字段上传含“证书编号”“姓名”两列的 .xlsx/CSV。"
                "每行答复：有效、已撤销、已被替代、姓名不符、未找到；只核对姓名，不返回证书上的姓名。"
                "workbook 为核查结果表格及其 Ed25519 分离签名（base64），可用 /api/v1/signing-key 的公钥核验。不保存任何上传内容。",
    body={"type": "object", "required": ["rows"], "properties": {"rows": {
        "type": "array", "maxItems": bulk.MAX_ROWS, "items": {
            "type": "object", "required": ["number", "name"],
            "properties": {"number": TEXT, "name": TEXT}}}}},
    response=exactly({
        "checked_at": {"type": "string", "format": "date-time"},
        "counts": exactly(dict.fromkeys(bulk.ANSWERS, COUNT)),
        "rows": {"type": "array", "items": exactly({
            "row": {"type": "integer"}, "number": TEXT,
            "outcome": {"type": "string", "enum": list(bulk.ANSWERS)},
            "result": {"type": "string", "enum": list(bulk.ANSWERS.values())}})},
        "workbook": exactly({"filename": TEXT, "content_base64": TEXT, "signature_base64": TEXT,
                             "signature_algorithm": {"const": "Ed25519"}}),
    }),
    statuses=(400, 413, 429)))


@bp.post("/api/v1/certificates/bulk-check")
@api
@uploads
def bulk_check():
    request.max_content_length = bulk.UPLOAD_MAX_BYTES + 64 * 1024
    try:
        queries = _queries()
    except RequestEntityTooLarge:
        raise ApiError(413, f"文件超过 {bulk.UPLOAD_MAX_BYTES // 1048576} MB 上限") from None
    except bulk.BulkCheckError as problem:
        raise ApiError(400, problem.messages[0], [{"message": message} for message in problem.messages],
                       code="invalid_list") from None
    charge_client("VERIFY_BULK_ROW_LIMITS", len(queries))
    answers = bulk.answer(queries)
    result = bulk.signed_workbook(signing_key(), answers)
    response = jsonify({
        "checked_at": result.checked_at.isoformat(timespec="seconds"),
        "counts": bulk.counts(answers),
        "rows": [item.as_json() for item in answers],
        "workbook": {"filename": result.filename, "content_base64": base64.b64encode(result.workbook).decode(),
                     "signature_base64": base64.b64encode(result.signature).decode(),
                     "signature_algorithm": "Ed25519"},
    })
    response.headers["Cache-Control"] = "no-store"
    return response


def _queries() -> list[bulk.Query]:
    if request.files.get("file"):
        file = request.files["file"]
        return bulk.queries_from_upload(file.read(bulk.UPLOAD_MAX_BYTES + 1), file.filename or "")
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "rows" not in body:
        raise bulk.BulkCheckError(["请求内容：应为 JSON 对象 {\"rows\": [...]}，或以 file 字段上传 .xlsx/CSV 名单"])
    return bulk.queries_from_json(body["rows"])
