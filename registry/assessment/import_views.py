"""Uploading a batch's results (认定成绩) from a spreadsheet, and the template to fill in."""
from flask import redirect, request, url_for
from flask_login import current_user

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.assessment.operations import EDITABLE, REVIEW_LEVELS, pass_mark
from registry.assessment.results_import import RESULT_COLUMNS, RESULT_SAMPLE, ResultsImporter, result_columns
from registry.assessment.scopes import get_batch_or_404
from registry.assessment.views import bp
from registry.core.import_pages import accept_upload, template_download, upload_page
from registry.reference.models import LEVEL_LABELS

writers = roles_required(Role.ADMIN, Role.AGENCY)


@bp.route("/assessment/batches/<int:batch_id>/results/upload", methods=["GET", "POST"])
@writers
def import_results(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id, for_write=True)
    if request.method == "POST" and (job := accept_upload(ResultsImporter.kind, batch.id, request.files.get("file"))):
        return redirect(url_for("imports.job_detail", job_id=job.id))
    level = batch.level_label
    review = (f"本批次为{level}，须填综合评审成绩。" if batch.level in REVIEW_LEVELS
              else "综合评审成绩仅二级/技师和一级/高级技师填写，本批次留空或删去该列。")
    return upload_page(
        ResultsImporter.kind, batch.id, title=ResultsImporter.title,
        heading=f"{ResultsImporter.title} · {batch.subject} {level} {batch.assessed_on.isoformat()}",
        back_url=url_for("assessment.batch_detail", batch_id=batch.id), back_label="返回认定批次",
        file_label="成绩文件", columns=result_columns(batch.level),
        note="上传后先进行试导入：逐行显示结果（新增 / 更新 / 跳过 / 错误及原因），确认后才写入。"
             "每人在本批次只有一条成绩：重复上传时，有变化的成绩更新，相同的跳过。",
        warning=None if batch.status in EDITABLE else f"批次{batch.status.label}，成绩不能修改。",
        hints=[f"合格线：每项成绩不低于 {pass_mark().normalize():f} 分；成绩范围 0–100。{review}",
               "名册中没有的考生会按证件号码登记为新人员，所在县区不填时记为认定地点所在县区。"],
        template_urls={fmt: url_for("assessment.results_template", fmt=fmt) for fmt in ("xlsx", "csv")},
    )


@bp.get("/assessment/templates/results.<fmt>")
@writers
def results_template(fmt: str):
    return template_download(RESULT_COLUMNS, RESULT_SAMPLE, "认定成绩模板", fmt)
