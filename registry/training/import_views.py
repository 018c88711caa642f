"""Uploading a roster or a completion list for a class, and the templates to fill in."""
from flask import abort, redirect, request, url_for
from flask_login import current_user

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.core.import_pages import accept_upload, template_download, upload_page
from registry.training.completions import COMPLETION_COLUMNS, COMPLETION_SAMPLE, CompletionImporter
from registry.training.roster import ROSTER_COLUMNS, ROSTER_SAMPLE, RosterImporter
from registry.training.scopes import get_class_or_404
from registry.training.views import bp

IMPORTS = {
    RosterImporter.kind: (RosterImporter, ROSTER_COLUMNS, ROSTER_SAMPLE, "学员名单模板"),
    CompletionImporter.kind: (CompletionImporter, COMPLETION_COLUMNS, COMPLETION_SAMPLE, "结业名单模板"),
}
NOTES = {
    RosterImporter.kind: "上传后先进行试导入：逐行显示结果（新增人员 / 已有人员 / 错误及原因），确认后才写入。"
                         "同一名单重复上传不会重复报名。",
    CompletionImporter.kind: "上传后先进行试导入：逐行显示结果（更新 / 跳过 / 错误及原因），确认后才写入。"
                             "同一名单重复上传不会重复办理。",
}
writers = roles_required(Role.ADMIN, Role.INSTITUTION)


@bp.route("/training/classes/<int:class_id>/roster", methods=["GET", "POST"], defaults={"kind": "roster"},
          endpoint="import_roster")
@bp.route("/training/classes/<int:class_id>/completions", methods=["GET", "POST"],
          defaults={"kind": "completions"}, endpoint="import_completions")
@writers
def upload(class_id: int, kind: str):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    if request.method == "POST" and (job := accept_upload(kind, training_class.id, request.files.get("file"))):
        return redirect(url_for("imports.job_detail", job_id=job.id))
    importer, columns, _sample, _title = IMPORTS[kind]
    return upload_page(
        kind, training_class.id, title=importer.title, heading=f"{importer.title} · {training_class.name}",
        back_url=url_for("training.class_detail", class_id=training_class.id), back_label="返回培训班",
        file_label="名单文件", note=NOTES[kind], columns=columns,
        template_urls={fmt: url_for("training.import_template", kind=kind, fmt=fmt) for fmt in ("xlsx", "csv")},
    )


@bp.get("/training/templates/<kind>.<fmt>")
@writers
def import_template(kind: str, fmt: str):
    if kind not in IMPORTS:
        abort(404)
    _importer, columns, sample, title = IMPORTS[kind]
    return template_download(columns, sample, title, fmt)
