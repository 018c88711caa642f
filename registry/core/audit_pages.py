"""The audit log as an official reads it: actions and objects in Chinese, who acted (name and role), the
object as a link, and an edit as a field-by-field comparison. The stored rows stay as written."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import BuildError

from registry.core.db import db
from registry.core.models import AuditEvent
from registry.core.roles import Role

ACTION_LABELS = {
    "create": "创建", "update": "修改", "delete": "删除", "correct": "更正", "revoke": "撤销",
    "approve": "审核通过", "issue": "发证", "export": "导出", "login": "登录", "logout": "退出登录",
    "login_failed": "登录失败", "lock": "锁定登录", "unlock": "解除登录锁定", "disable": "停用账号",
    "reset_password": "重置密码", "confirm_password": "再次确认密码", "confirm_password_failed": "确认密码失败",
    "reveal_document": "查看完整证件号码", "check_import": "检查导入文件", "import_roster": "导入学员名单",
    "import_completions": "导入结业信息", "import_results": "导入认定成绩", "import_history": "导入历史证书",
    "generate_roster": "生成演示名单", "generate_results": "生成演示成绩", "generate": "生成演示数据",
    "seed": "载入基础数据", "rebuild": "重建统计",
    "file_special_item": "专项职业能力备案", "withdraw_special_item": "撤回专项职业能力备案",
    "set_counted_kinds": "设置持证口径", "rebuild_failed": "重建统计失败",
    "set_eligibility_rule": "设置申报条件", "clear_eligibility_rule": "取消申报条件",
}
ENTITY_LABELS = {
    "agency": "评价机构", "agency_scope": "备案范围", "api_token": "接口令牌", "assessment_batch": "认定批次",
    "assessment_result": "认定成绩", "certificate": "证书", "certificate_list": "证书清单", "county": "县区",
    "enrollment": "参训记录", "import_job": "导入任务", "institution": "培训机构", "occupation": "职业",
    "person": "人员", "person_photo": "人员照片", "seed_data": "基础数据", "sign_in": "登录",
    "statistics": "统计", "stats_report": "统计报表", "target": "目标", "training_class": "培训班",
    "training_list": "培训名单", "assessment_list": "认定批次清单", "user": "用户", "demo_data": "演示数据",
    "stats_export": "统计导出", "setting": "系统设置", "audit_log": "审计日志", "eligibility_rule": "申报条件",
    "special_item": "专项职业能力项目",
}
# The page that shows an object, and the name of its id argument.
ENTITY_PAGES = {
    "training_class": ("training.class_detail", "class_id"),
    "assessment_batch": ("assessment.batch_detail", "batch_id"),
    "certificate": ("certificates.certificate_detail", "certificate_id"),
    "person": ("people.person_detail", "person_id"),
    "agency": ("organizations.agency_detail", "agency_id"),
    "import_job": ("imports.job_detail", "job_id"),
}
FIELD_LABELS = {
    "previous_level_years": "持低一级证书年限", "work_years": "从事本职业年限", "education": "学历",
    "special_item_id": "专项职业能力项目编号", "special_item": "专项职业能力项目编码", "code": "编码",
    "name": "名称", "status": "状态", "reason": "原因", "rows": "行数", "list": "清单", "filename": "文件名",
    "number": "编号", "username": "用户名", "display_name": "姓名", "role": "角色", "county_code": "县区代码",
    "agency_id": "评价机构编号", "institution_id": "培训机构编号", "is_active": "是否启用", "format": "格式",
    "level": "等级", "occupation_id": "职业编号", "occupation_code": "职业编码", "work_type": "工种",
    "issued_on": "发证日期", "assessed_on": "认定日期", "assessed_until": "认定结束日期", "starts_on": "开始日期",
    "ends_on": "结束日期", "enrolled_on": "报名日期", "completed_on": "结业日期", "attended_hours": "参训学时",
    "planned_hours": "计划学时", "theory": "理论知识", "practical": "操作技能", "review": "综合评审",
    "theory_score": "理论知识", "practical_score": "操作技能", "review_score": "综合评审", "is_passed": "是否合格",
    "remarks": "备注", "certificates": "证书数", "count": "数量", "label": "名称", "expires_on": "到期日期",
    "person_id": "人员编号", "batch_id": "批次编号", "class_id": "培训班编号", "certificate_id": "证书编号",
    "replacement": "新证书", "replaced": "原证书", "revoked_on": "撤销日期", "filing_number": "备案编号",
    "filed_on": "备案日期", "credit_code": "统一社会信用代码", "kind": "类型", "site_code": "站点代码",
    "ministry_code": "部代码", "agency_type": "机构类型", "value": "数值", "target": "目标", "year": "年份",
    "document_masked": "证件号码", "sha256": "文件摘要", "failures": "失败次数", "locked_until": "锁定至",
    "address": "地址", "account": "账号", "imported": "导入行数", "skipped": "跳过行数", "errors": "错误行数",
    "warnings": "提示行数", "kind_label": "类型", "program_key": "专项工程", "training_type": "培训类型",
    "is_subsidised": "补贴性", "employed": "就业", "gender": "性别", "key_groups": "重点群体",
    "as_of": "统计截至", "blocked_until": "锁定至", "bytes": "字节数", "certificate": "证书编号",
    "content_type": "文件类型", "created": "新建行数", "document": "证件号码", "enrolments": "参训人次",
    "errors_skipped": "跳过的错误行", "file": "文件", "first": "首本证书编号", "last": "末本证书编号",
    "height": "高度", "width": "宽度", "key": "键", "new_persons": "新增人员", "passed": "合格人数",
    "password": "密码", "pdf_sha256": "文件摘要", "persons_requested": "人员数", "prefix": "令牌前缀",
    "seed": "随机种子", "sort": "排序", "dir": "顺序", "page": "页码", "per_page": "每页行数", "q": "搜索",
    "edition": "大典版本", "active": "启用", "date_from": "起始日期", "date_to": "截止日期", "levels": "等级",
    "work_types": "工种", "confidence": "可信度", "source": "来源", "county": "县区", "occupation": "职业",
    "program": "专项工程", "group": "重点群体", "entity_type": "对象类型", "entity_id": "对象编号",
    "actor": "操作人", "action": "操作", "fmt": "格式", "indicator": "指标", "unit": "单位",
    "baseline": "基数", "notes": "说明", "denominator": "基数", "starts_from": "开始日期起", "starts_to": "开始日期止",
    "type": "类型", "agency": "评价机构", "institution": "培训机构", "photo_sha256": "照片摘要",
}
# Stored values that are codes: shown as the words the pages use for them.
VALUE_LABELS = {
    "active": "正常", "suspended": "暂停", "withdrawn": "已撤销备案", "planned": "计划中", "running": "进行中",
    "finished": "已结束", "closed": "已关闭", "enrolled": "在训", "completed": "已结业", "dropped": "已退出",
    "results_entered": "已录入成绩", "approved": "已审核", "issued": "已发证", "valid": "有效", "revoked": "已撤销",
    "superseded": "已被替代", "employment": "就业技能培训", "upskilling": "岗位技能提升培训",
    "entrepreneurship": "创业培训", "apprenticeship": "企业新型学徒制", "other": "其他", "asc": "升序",
    "desc": "降序", "male": "男", "female": "女", "on first rendering": "首次生成文件时计算",
    **{role.value: role.label for role in Role},
}
ROLE_LABELS = {role.value: role.label for role in Role}
CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor_id: int | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _users() -> sa.Table:
    # The accounts table, by name: core sits below the accounts area and imports none of its models.
    return db.metadata.tables["users"]


def filtered_events(filters: AuditFilters) -> sa.Select:
    statement = sa.select(AuditEvent)
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.actor_id:
        statement = statement.where(AuditEvent.actor_id == filters.actor_id)
    if filters.entity_type:
        statement = statement.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        statement = statement.where(AuditEvent.entity_id == filters.entity_id)
    # The official's calendar is China's: a day runs from 00:00 to 24:00 Beijing time.
    if filters.date_from:
        statement = statement.where(AuditEvent.occurred_at >= datetime.combine(filters.date_from, time(), CHINA))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), CHINA)
        statement = statement.where(AuditEvent.occurred_at < end)
    return statement


def actor_choices() -> list[tuple[int, str]]:
    users = _users()
    rows = db.session.execute(sa.select(users.c.id, users.c.username, users.c.display_name, users.c.role)
                              .order_by(users.c.username))
    return [(row.id, actor_label(row.display_name or row.username, row.role)) for row in rows]


def actor_label(name: str, role: str | None) -> str:
    return f"{name}（{ROLE_LABELS[role]}）" if role in ROLE_LABELS else name


def actors_of(events: list[AuditEvent]) -> dict[int, str]:
    """{actor id: "name（role）"} for the events on a page, in one query."""
    ids = {event.actor_id for event in events if event.actor_id}
    if not ids:
        return {}
    users = _users()
    rows = db.session.execute(sa.select(users.c.id, users.c.username, users.c.display_name, users.c.role)
                              .where(users.c.id.in_(ids)))
    return {row.id: actor_label(row.display_name or row.username, row.role) for row in rows}


def actor_of(event: AuditEvent, actors: dict[int, str]) -> str:
    if event.actor_id in actors:
        return actors[event.actor_id]
    return "系统" if event.actor_name == "system" else event.actor_name


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def entity_label(event: AuditEvent) -> str:
    kind = ENTITY_LABELS.get(event.entity_type, event.entity_type)
    return f"{kind} {event.entity_id}" if event.entity_id else kind


def entity_url(event: AuditEvent) -> str | None:
    page = ENTITY_PAGES.get(event.entity_type)
    if page is None or not (event.entity_id or "").isdigit():
        return None
    endpoint, argument = page
    try:
        return url_for(endpoint, **{argument: int(event.entity_id)})
    except BuildError:  # an area not registered in this app
        return None


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def shown(value) -> str:
    if value is None or value == "":
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(shown(item) for item in value)
    return VALUE_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def diff_rows(event: AuditEvent) -> list[tuple[str, str, str, bool]]:
    """(field, before, after, changed) for every field either side names, in the order they were written."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(field_label(key), shown(before.get(key)) if key in before else "",
             shown(after.get(key)) if key in after else "", before.get(key) != after.get(key)) for key in keys]


def occurred_text(event: AuditEvent) -> str:
    moment = event.occurred_at
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


EXPORT_HEADERS = ["时间（北京时间）", "操作人", "IP地址", "操作", "对象", "变更内容"]


def export_rows(events: list[AuditEvent]) -> list[list]:
    actors = actors_of(events)
    return [[occurred_text(event), actor_of(event, actors), event.ip_address or "", action_label(event.action),
             entity_label(event),
             "；".join(f"{field}：{old} → {new}" if old and new else f"{field}：{new or old}"
                      for field, old, new, _changed in diff_rows(event))] for event in events]
