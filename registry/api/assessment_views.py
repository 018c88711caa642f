"""Assessment and certificates over the API: batches, bulk results, approval, issue, revocation, correction."""
from datetime import date

import sqlalchemy as sa
from flask import Response, g, jsonify

from registry.core.roles import Role
from registry.api import schemas
from registry.api.auth import api_access
from registry.api.bulk import run_rows
from registry.api.errors import ApiError
from registry.api.idempotency import idempotent
from registry.api.listing import PAGINATION_QUERY, page_of, page_schema
from registry.api.spec import documented, exactly
from registry.api.references import occupation_id
from registry.api.views import bp
from registry.assessment import operations, queries
from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.assessment.scopes import get_batch_or_404, readable_batches
from registry.certificates import operations as certificate_operations
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.certificates.numbering import OPAQUE_NUMBER
from registry.certificates.reprint import reprint
from registry.certificates.scopes import may_read, may_write
from registry.core import arguments
from registry.core.db import db

READERS = (Role.ADMIN, Role.COUNTY, Role.AGENCY)
WRITERS = (Role.ADMIN, Role.AGENCY)
BATCH = exactly({
    "id": {"type": "integer"}, "agency_id": {"type": "integer"}, "occupation_code": {"type": "string"},
    "work_type": {"type": ["string", "null"]}, "level": {"type": "integer"},
    "assessed_on": {"type": "string", "format": "date"},
    "assessed_until": {"type": ["string", "null"], "format": "date"},
    "county_code": {"type": "string"}, "training_class_id": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": [status.value for status in BatchStatus]}})
NEW_BATCH = {"type": "object", "additionalProperties": False,
             "required": ["occupation_code", "level", "assessed_on", "county_code"], "properties": {
                 "agency_id": schemas.OPTIONAL_ID | {"description": "管理员必填；评价机构用户忽略此项"},
                 "occupation_code": {"type": "string", "maxLength": 10},
                 "work_type": {"type": ["string", "null"], "maxLength": 60},
                 "level": {"type": "integer", "minimum": 1, "maximum": 5},
                 "assessed_on": {"type": "string", "format": "date"},
                 "assessed_until": {"type": ["string", "null"], "format": "date"},
                 "county_code": {"type": "string", "maxLength": 6},
                 "training_class_id": schemas.OPTIONAL_ID}}
CERTIFICATE = exactly({
    "number": {"type": "string"},
    "kind": {"type": "string", "enum": [kind.value for kind in CertificateKind]},
    "status": {"type": "string", "enum": [status.value for status in CertificateStatus]},
    "level": {"type": ["integer", "null"]}, "issued_on": {"type": "string", "format": "date"},
    "holder_name": {"type": "string"}, "document_number_masked": {"type": "string"},
    "revocation_reason": {"type": ["string", "null"]}, "superseded_by": {"type": ["string", "null"]},
    "pdf_url": {"type": "string"}})
ISSUE = {"type": "object", "additionalProperties": False, "properties": {
    "issued_on": {"type": "string", "format": "date", "description": "默认今天"}}}
REVOKE = {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
    "reason": {"type": "string", "minLength": 1, "maxLength": 200}}}
CORRECT = {"type": "object", "additionalProperties": False, "required": ["reason"], "properties": {
    "reason": {"type": "string", "minLength": 1, "maxLength": 200},
    "name": {"type": ["string", "null"], "maxLength": 60}, "work_type": {"type": ["string", "null"], "maxLength": 60}}}
BATCH_PATH = [{"name": "batch_id", "in": "path", "required": True, "schema": schemas.ID}]
NUMBER_PATH = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}]
BATCH_FILTERS = [
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": [s.value for s in BatchStatus]}},
    {"name": "occupation_code", "in": "query", "schema": {"type": "string"}},
    {"name": "level", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5}},
    {"name": "county_code", "in": "query", "schema": {"type": "string"}},
    {"name": "agency_id", "in": "query", "schema": schemas.ID},
    {"name": "assessed_from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "assessed_to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def batch_json(batch: AssessmentBatch) -> dict:
    return {"id": batch.id, "agency_id": batch.agency_id, "occupation_code": batch.occupation.code if batch.occupation else None,
            "work_type": batch.work_type, "level": batch.level, "assessed_on": batch.assessed_on.isoformat(),
            "assessed_until": batch.assessed_until.isoformat() if batch.assessed_until else None,
            "county_code": batch.county_code, "training_class_id": batch.training_class_id,
            "status": batch.status.value}


def certificate_json(certificate: Certificate) -> dict:
    """What the certificate states, from its frozen snapshot; the document number masked."""
    snapshot = certificate.snapshot or {}
    return {"number": certificate.number, "kind": certificate.kind.value, "status": certificate.status.value,
            "level": certificate.level, "issued_on": certificate.issued_on.isoformat(),
            "holder_name": snapshot.get("name", ""), "document_number_masked": snapshot.get("document_masked", ""),
            "revocation_reason": certificate.revocation_reason,
            "superseded_by": certificate.superseded_by.number if certificate.superseded_by else None,
            "pdf_url": f"/api/v1/certificates/{certificate.number}/pdf"}


def certificate_or_404(number: str, for_write: bool = False) -> Certificate:
    number = number.strip().upper()
    if not OPAQUE_NUMBER[0].fullmatch(number):  # cannot be any certificate's number (nor go to the database)
        raise ApiError(404, "证书不存在，或不在您的管理范围内")
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    if certificate is None or not may_read(g.api_user, certificate):
        raise ApiError(404, "证书不存在，或不在您的管理范围内")
    if for_write and not may_write(g.api_user, certificate):
        raise ApiError(403)
    return certificate


@bp.get("/api/v1/batches")
@api_access(*READERS)
@documented("GET", "/api/v1/batches", "认定批次列表（按 id 排序，可筛选、分页）", "assessment",
            query=[*BATCH_FILTERS, *PAGINATION_QUERY], response=page_schema(BATCH), statuses=(400, 401, 403))
def list_batches():
    code = arguments.text("occupation_code")
    filters = queries.BatchFilters(
        status=arguments.choice("status", [status.value for status in BatchStatus]),
        occupation_id=occupation_id(code, status=400) if code else None,
        level=arguments.integer("level", maximum=5), county_code=arguments.text("county_code"),
        agency_id=arguments.integer("agency_id"), assessed_from=arguments.day("assessed_from"),
        assessed_to=arguments.day("assessed_to"))
    statement = queries.filtered_batches(readable_batches(g.api_user), filters)
    return jsonify(page_of(statement, [AssessmentBatch.id], batch_json))


@bp.post("/api/v1/batches")
@api_access(*WRITERS)
@documented("POST", "/api/v1/batches", "新建认定批次（须在机构备案范围内）", "assessment", body=NEW_BATCH,
            response=BATCH, statuses=(201, 400, 401, 403, 413, 415, 422))
def create_batch(body: dict):
    until = body.get("assessed_until")
    batch = operations.create_batch(
        g.api_user, agency_id=body.get("agency_id"), occupation_id=occupation_id(body["occupation_code"]),
        work_type=body.get("work_type"), level=body["level"], assessed_on=date.fromisoformat(body["assessed_on"]),
        assessed_until=date.fromisoformat(until) if until else None, county_code=body["county_code"],
        training_class_id=body.get("training_class_id"))
    return jsonify(batch_json(batch)), 201


@bp.get("/api/v1/batches/<int:batch_id>")
@api_access(*READERS)
@documented("GET", "/api/v1/batches/{batch_id}", "认定批次详情", "assessment", query=BATCH_PATH, response=BATCH,
            statuses=(401, 403, 404))
def get_batch(batch_id: int):
    return jsonify(batch_json(get_batch_or_404(g.api_user, batch_id)))


@bp.post("/api/v1/batches/<int:batch_id>/results")
@api_access(*WRITERS)
@idempotent
@documented("POST", "/api/v1/batches/{batch_id}/results", "批量录入成绩（与导入成绩相同的逐行结果；可先试导入）",
            "assessment", query=[*BATCH_PATH, schemas.IDEMPOTENCY_HEADER], body=schemas.bulk(schemas.RESULT_ROW),
            response=schemas.BULK_RESULT, response_headers=schemas.REPLAYED_HEADER,
            statuses=(400, 401, 403, 404, 409, 413, 415, 422))
def submit_results(batch_id: int, body: dict):
    batch = get_batch_or_404(g.api_user, batch_id, for_write=True)
    return jsonify(run_rows("results", batch.id, g.api_user, body))


@bp.post("/api/v1/batches/<int:batch_id>/approve")
@api_access(*WRITERS)
@documented("POST", "/api/v1/batches/{batch_id}/approve", "审核批次（此后成绩不能修改）", "assessment",
            query=BATCH_PATH, response=BATCH, statuses=(401, 403, 404, 422))
def approve(batch_id: int):
    batch = get_batch_or_404(g.api_user, batch_id, for_write=True)
    operations.approve_batch(g.api_user, batch)
    return jsonify(batch_json(batch))


@bp.post("/api/v1/batches/<int:batch_id>/issue")
@api_access(*WRITERS)
@documented("POST", "/api/v1/batches/{batch_id}/issue", "发证：为每名合格且未发证的考生签发证书", "assessment",
            query=BATCH_PATH, body=ISSUE, statuses=(400, 401, 403, 404, 409, 413, 415, 422),
            response=exactly({"issued": {"type": "integer"},
                              "certificates": {"type": "array", "items": CERTIFICATE}}))
def issue(batch_id: int, body: dict):
    batch = get_batch_or_404(g.api_user, batch_id, for_write=True)
    issued_on = date.fromisoformat(body["issued_on"]) if body.get("issued_on") else None
    certificates = certificate_operations.issue_batch(g.api_user, batch, issued_on)
    return jsonify(issued=len(certificates), certificates=[certificate_json(c) for c in certificates])


@bp.get("/api/v1/batches/<int:batch_id>/certificates")
@api_access(*READERS)
@documented("GET", "/api/v1/batches/{batch_id}/certificates", "批次的证书（按 id 排序、分页）", "assessment",
            query=[*BATCH_PATH, *PAGINATION_QUERY], response=page_schema(CERTIFICATE), statuses=(400, 401, 403, 404))
def batch_certificates(batch_id: int):
    batch = get_batch_or_404(g.api_user, batch_id)
    statement = sa.select(Certificate).where(Certificate.batch_id == batch.id)
    return jsonify(page_of(statement, [Certificate.id], certificate_json))


@bp.get("/api/v1/certificates/<number>/pdf")
@api_access(*READERS)
@documented("GET", "/api/v1/certificates/{number}/pdf", "下载证书 PDF（与签发文件逐字节相同；已撤销的带“已撤销”标记）",
            "assessment", query=NUMBER_PATH, content_type="application/pdf",
            response={"type": "string", "contentMediaType": "application/pdf"},
            response_headers={"Cache-Control": {"required": True, "schema": {"type": "string"}}},
            statuses=(401, 403, 404, 422))
def certificate_pdf(number: str):
    certificate = certificate_or_404(number)
    if certificate.is_imported:
        raise ApiError(422, "该证书为历史导入记录，不是本系统签发的，没有可下载的证书文件", code="no_file")
    data = reprint(g.api_user, certificate)
    response = Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certificate.number}.pdf"',
        "Cache-Control": "no-store"})  # it prints the full document number: no proxy may keep a copy
    return response


@bp.post("/api/v1/certificates/<number>/revoke")
@api_access(*WRITERS)
@documented("POST", "/api/v1/certificates/{number}/revoke", "撤销证书（必须说明原因）", "assessment",
            query=NUMBER_PATH, body=REVOKE, response=CERTIFICATE, statuses=(400, 401, 403, 404, 413, 415, 422))
def revoke(number: str, body: dict):
    certificate = certificate_or_404(number, for_write=True)
    certificate_operations.revoke_certificate(g.api_user, certificate, body["reason"].strip())
    return jsonify(certificate_json(certificate))


@bp.post("/api/v1/certificates/<number>/correct")
@api_access(*WRITERS)
@documented("POST", "/api/v1/certificates/{number}/correct", "更正证书：签发新编号证书替代原证书", "assessment",
            query=NUMBER_PATH, body=CORRECT, response=CERTIFICATE,
            statuses=(201, 400, 401, 403, 404, 409, 413, 415, 422))
def correct(number: str, body: dict):
    certificate = certificate_or_404(number, for_write=True)
    replacement = certificate_operations.correct_certificate(
        g.api_user, certificate, body["reason"], name=body.get("name"), work_type=body.get("work_type"))
    return jsonify(certificate_json(replacement)), 201
