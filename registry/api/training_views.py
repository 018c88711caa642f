"""Training over the API: classes, bulk enrolment and completion — the same operations the pages call."""
from datetime import date

from flask import g, jsonify

from registry.core.roles import Role
from registry.api import schemas
from registry.api.auth import api_access
from registry.api.bulk import run_rows
from registry.api.idempotency import idempotent
from registry.api.listing import PAGINATION_QUERY, page_of, page_schema
from registry.api.references import occupation_id
from registry.api.spec import documented, exactly
from registry.api.views import bp
from registry.core import arguments
from registry.training import operations, queries
from registry.training.models import ClassStatus, TrainingClass, TrainingType
from registry.training.scopes import get_class_or_404, readable_classes

READERS = (Role.ADMIN, Role.COUNTY, Role.INSTITUTION)
WRITERS = (Role.ADMIN, Role.INSTITUTION)

CLASS = exactly({
    "id": {"type": "integer"}, "name": {"type": "string"}, "institution_id": {"type": "integer"},
    "occupation_code": {"type": "string"}, "work_type": {"type": ["string", "null"]},
    "target_level": {"type": ["integer", "null"]},
    "training_type": {"type": "string", "enum": [kind.value for kind in TrainingType]},
    "program_key": {"type": ["string", "null"]}, "is_subsidised": {"type": "boolean"},
    "planned_hours": {"type": "integer"}, "starts_on": {"type": "string", "format": "date"},
    "ends_on": {"type": "string", "format": "date"}, "county_code": {"type": "string"},
    "status": {"type": "string", "enum": [status.value for status in ClassStatus]}})
NEW_CLASS = {"type": "object", "additionalProperties": False,
             "required": ["name", "occupation_code", "training_type", "planned_hours", "starts_on", "ends_on",
                          "county_code"],
             "properties": {
                 "name": {"type": "string", "minLength": 1, "maxLength": 120},
                 "institution_id": schemas.OPTIONAL_ID | {"description": "管理员必填；培训机构用户忽略此项"},
                 "occupation_code": {"type": "string", "maxLength": 10},
                 "work_type": {"type": ["string", "null"], "maxLength": 60},
                 "target_level": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                 "training_type": {"type": "string", "enum": [kind.value for kind in TrainingType]},
                 "program_key": {"type": ["string", "null"], "maxLength": 40},
                 "is_subsidised": {"type": "boolean"},
                 "planned_hours": {"type": "integer", "minimum": 1, "maximum": 10000},
                 "starts_on": {"type": "string", "format": "date"},
                 "ends_on": {"type": "string", "format": "date"},
                 "county_code": {"type": "string", "maxLength": 6}}}
STATUS_CHANGE = {"type": "object", "additionalProperties": False, "required": ["status"],
                 "properties": {"status": {"type": "string", "enum": [status.value for status in ClassStatus]}}}
CLASS_PATH = [{"name": "class_id", "in": "path", "required": True, "schema": schemas.ID}]
CLASS_FILTERS = [
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": [s.value for s in ClassStatus]}},
    {"name": "occupation_code", "in": "query", "schema": {"type": "string"}},
    {"name": "program_key", "in": "query", "schema": {"type": "string"}},
    {"name": "is_subsidised", "in": "query", "schema": {"type": "boolean"}},
    {"name": "starts_from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "starts_to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "county_code", "in": "query", "schema": {"type": "string"}},
    {"name": "institution_id", "in": "query", "schema": schemas.ID},
]


def class_json(training_class: TrainingClass) -> dict:
    return {
        "id": training_class.id, "name": training_class.name, "institution_id": training_class.institution_id,
        "occupation_code": training_class.occupation.code, "work_type": training_class.work_type,
        "target_level": training_class.target_level, "training_type": training_class.training_type.value,
        "program_key": training_class.program_key, "is_subsidised": training_class.is_subsidised,
        "planned_hours": training_class.planned_hours, "starts_on": training_class.starts_on.isoformat(),
        "ends_on": training_class.ends_on.isoformat(), "county_code": training_class.county_code,
        "status": training_class.status.value,
    }


@bp.get("/api/v1/classes")
@api_access(*READERS)
@documented("GET", "/api/v1/classes", "培训班列表（按 id 排序，可筛选、分页）", "training",
            query=[*CLASS_FILTERS, *PAGINATION_QUERY], response=page_schema(CLASS), statuses=(400, 401, 403))
def list_classes():
    code = arguments.text("occupation_code")
    filters = queries.ClassFilters(
        status=arguments.choice("status", [status.value for status in ClassStatus]),
        occupation_id=occupation_id(code, status=400) if code else None,
        program_key=arguments.text("program_key"), is_subsidised=arguments.boolean("is_subsidised"),
        starts_from=arguments.day("starts_from"), starts_to=arguments.day("starts_to"),
        county_code=arguments.text("county_code"), institution_id=arguments.integer("institution_id"))
    statement = queries.filtered_classes(readable_classes(g.api_user), filters)
    return jsonify(page_of(statement, [TrainingClass.id], class_json))


@bp.post("/api/v1/classes")
@api_access(*WRITERS)
@documented("POST", "/api/v1/classes", "新建培训班", "training", body=NEW_CLASS, response=CLASS,
            statuses=(201, 400, 401, 403, 413, 415, 422))
def create_class(body: dict):
    training_class = operations.create_class(
        g.api_user, institution_id=body.get("institution_id"), name=body["name"],
        occupation_id=occupation_id(body["occupation_code"]), work_type=body.get("work_type"),
        target_level=body.get("target_level"), training_type=body["training_type"],
        program_key=body.get("program_key"), is_subsidised=body.get("is_subsidised", False),
        planned_hours=body["planned_hours"], starts_on=date.fromisoformat(body["starts_on"]),
        ends_on=date.fromisoformat(body["ends_on"]), county_code=body["county_code"])
    return jsonify(class_json(training_class)), 201


@bp.get("/api/v1/classes/<int:class_id>")
@api_access(*READERS)
@documented("GET", "/api/v1/classes/{class_id}", "培训班详情", "training", query=CLASS_PATH, response=CLASS,
            statuses=(401, 403, 404))
def get_class(class_id: int):
    return jsonify(class_json(get_class_or_404(g.api_user, class_id)))


@bp.post("/api/v1/classes/<int:class_id>/status")
@api_access(*WRITERS)
@documented("POST", "/api/v1/classes/{class_id}/status", "更改培训班状态（计划中→进行中→已结束→已关闭）",
            "training", query=CLASS_PATH, body=STATUS_CHANGE, response=CLASS,
            statuses=(400, 401, 403, 404, 413, 415, 422))
def change_status(class_id: int, body: dict):
    training_class = get_class_or_404(g.api_user, class_id, for_write=True)
    operations.change_class_status(g.api_user, training_class, body["status"])
    return jsonify(class_json(training_class))


@bp.post("/api/v1/classes/<int:class_id>/enrolments")
@api_access(*WRITERS)
@idempotent
@documented("POST", "/api/v1/classes/{class_id}/enrolments", "批量报名（与导入学员名单相同的逐行结果；可先试导入）",
            "training", query=[*CLASS_PATH, schemas.IDEMPOTENCY_HEADER], body=schemas.bulk(schemas.ROSTER_ROW),
            response=schemas.BULK_RESULT, response_headers=schemas.REPLAYED_HEADER,
            statuses=(400, 401, 403, 404, 409, 413, 415, 422))
def enrol(class_id: int, body: dict):
    training_class = get_class_or_404(g.api_user, class_id, for_write=True)
    return jsonify(run_rows("roster", training_class.id, g.api_user, body))


@bp.post("/api/v1/classes/<int:class_id>/completions")
@api_access(*WRITERS)
@idempotent
@documented("POST", "/api/v1/classes/{class_id}/completions", "批量结业或退出（与导入结业名单相同的逐行结果）",
            "training", query=[*CLASS_PATH, schemas.IDEMPOTENCY_HEADER], body=schemas.bulk(schemas.COMPLETION_ROW),
            response=schemas.BULK_RESULT, response_headers=schemas.REPLAYED_HEADER,
            statuses=(400, 401, 403, 404, 409, 413, 415, 422))
def complete(class_id: int, body: dict):
    training_class = get_class_or_404(g.api_user, class_id, for_write=True)
    return jsonify(run_rows("completions", training_class.id, g.api_user, body))
