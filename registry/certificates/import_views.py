"""Importing historical certificates (administrator only), and the template to fill in."""
from flask import redirect, request, url_for

from registry.core.access import admin_required
from registry.certificates.history_import import HISTORY_COLUMNS, HISTORY_SAMPLE, HistoryImporter
from registry.certificates.views import bp
from registry.core.import_pages import accept_upload, template_download, upload_page

HINTS = [
    "证书种类填 职业技能等级证书、职业资格证书、专项职业能力证书、特种作业操作证 或 其他证书。",
    "证书编号按种类检查：职业技能等级证书为22位（Y或S加21位数字，第16位为等级码），职业资格证书为16位数字，"
    "其他种类为4–40位字母、数字或连字符。",
    "职业编码（如 6-18-02-04）须为系统中已有的职业；不填编码时须填职业名称。等级填 1–5、三级、高级工 或 三级/高级工，"
    "专项职业能力证书不填等级。",
    "发证机构与系统中备案评价机构的名称完全一致时，证书计入该机构。同一证书重复导入时跳过。",
]


@bp.route("/certificates/history", methods=["GET", "POST"])
@admin_required
def import_history():
    if request.method == "POST" and (job := accept_upload(HistoryImporter.kind, None, request.files.get("file"))):
        return redirect(url_for("imports.job_detail", job_id=job.id))
    return upload_page(
        HistoryImporter.kind, None, title=HistoryImporter.title, file_label="证书文件", columns=HISTORY_COLUMNS,
        back_url=url_for("certificates.list_certificates"), back_label="返回证书列表", hints=HINTS,
        note="上传后先进行试导入：逐行显示结果（新增人员 / 已有人员 / 跳过 / 错误及原因），确认后才写入，"
             "要么全部写入，要么不写入。",
        template_urls={fmt: url_for("certificates.history_template", fmt=fmt) for fmt in ("xlsx", "csv")},
    )


@bp.get("/certificates/history/template.<fmt>")
@admin_required
def history_template(fmt: str):
    return template_download(HISTORY_COLUMNS, HISTORY_SAMPLE, "历史证书模板", fmt)
