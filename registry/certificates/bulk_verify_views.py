"""The public bulk check page (批量核查): an employer uploads a list and downloads the signed answer.

No login, nothing kept (registry/certificates/bulk_verification.py). Rate-limited like the other verify
pages, and each row checked is charged to the client's row budget (VERIFY_BULK_ROW_LIMITS).
"""
import io

from flask import render_template, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from registry.certificates import bulk_verification as bulk
from registry.certificates.rendering import signing_key
from registry.certificates.verify_views import bp
from registry.core.exports import XLSX_MIMETYPE
from registry.core.ratelimit import charge_client, configured, limiter
from registry.core.spreadsheet_files import template_workbook

# The verify pages' shared budget (the same scope as registry/certificates/verify_views.py) and the uploads' own.
pages = limiter.shared_limit(configured("VERIFY_PAGE_LIMITS"), scope="verify-pages")
uploads = limiter.limit(configured("VERIFY_UPLOAD_LIMITS"), methods=["POST"])


@bp.route("/verify/bulk", methods=["GET", "POST"])
@pages
@uploads
def bulk_check():
    errors: list[str] = []
    if request.method == "POST":
        request.max_content_length = bulk.UPLOAD_MAX_BYTES + 64 * 1024
        try:
            file = request.files.get("file")
            data = file.read(bulk.UPLOAD_MAX_BYTES + 1) if file else b""
            if not data:
                raise bulk.BulkCheckError(["文件：请选择要上传的名单（.xlsx 或 CSV）"])
            queries = bulk.queries_from_upload(data, file.filename or "")
        except RequestEntityTooLarge:
            errors = [f"文件：超过 {bulk.UPLOAD_MAX_BYTES // 1048576} MB 上限"]
        except bulk.BulkCheckError as problem:
            errors = problem.messages
        else:
            # A list of 1,000 names is 1,000 guesses: the budget counts rows, not requests.
            charge_client("VERIFY_BULK_ROW_LIMITS", len(queries))
            result = bulk.signed_workbook(signing_key(), bulk.answer(queries))
            response = send_file(io.BytesIO(bulk.zipped(result)), mimetype="application/zip", as_attachment=True,
                                 download_name=result.filename.removesuffix(".xlsx") + ".zip")
            # The answer names people: no cache on the way may keep a copy.
            response.headers["Cache-Control"] = "no-store"
            return response
    page = render_template("verify/bulk.html", errors=errors, max_rows=bulk.MAX_ROWS,
                           max_mb=bulk.UPLOAD_MAX_BYTES // 1048576)
    return page, 400 if errors else 200


@bp.get("/verify/bulk/template.xlsx")
@pages
def bulk_template():
    data = template_workbook(bulk.COLUMNS, [("S000041800001254000001", "张三")], title="批量核查名单")
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name="证书批量核查名单模板.xlsx")
