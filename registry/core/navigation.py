"""The navigation bar each role sees."""
from registry.core.roles import Role

MENUS: dict[Role, list[tuple[str, str]]] = {
    Role.ADMIN: [
        ("首页", "dashboard.index"),
        ("持证统计", "stats.cockpit"),
        ("评价机构", "organizations.list_agencies"),
        ("培训机构", "organizations.list_institutions"),
        ("培训班", "training.list_classes"),
        ("学员", "training.list_trainees"),
        ("认定批次", "assessment.list_batches"),
        ("证书", "certificates.list_certificates"),
        ("历史证书导入", "certificates.import_history"),
        ("人员查询", "people.search"),
        ("监管", "oversight.list_signals"),
        ("职业", "reference.list_occupations"),
        ("目标", "reference.list_targets"),
        ("县区", "reference.list_counties"),
        ("用户", "accounts.list_users"),
        ("审计日志", "core.audit_log"),
        ("设置", "core.edit_settings"),
    ],
    Role.COUNTY: [
        ("首页", "dashboard.index"),
        ("持证统计", "stats.cockpit"),
        ("培训班", "training.list_classes"),
        ("学员", "training.list_trainees"),
        ("认定批次", "assessment.list_batches"),
        ("证书", "certificates.list_certificates"),
        ("人员查询", "people.search"),
        ("监管", "oversight.list_signals"),
    ],
    Role.AGENCY: [
        ("首页", "dashboard.index"),
        ("认定批次", "assessment.list_batches"),
        ("证书", "certificates.list_certificates"),
        ("人员查询", "people.search"),
        ("抽查", "oversight.list_audits"),
        ("考评员与督导", "oversight.list_agencies"),
    ],
    Role.INSTITUTION: [
        ("首页", "dashboard.index"),
        ("培训班", "training.list_classes"),
        ("学员", "training.list_trainees"),
        ("人员查询", "people.search"),
    ],
}


def menu_for(user) -> list[tuple[str, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    return MENUS[user.role]
