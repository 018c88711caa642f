"""Public certificate verification (证书查询): by number, by the QR code's address, by uploaded PDF (the JSON
answer is registry/api/public_views.py).

No login; every route is rate-limited per client address (registry/core/ratelimit.py).
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from registry.certificates import verification
from registry.certificates.rendering import verify_key
from registry.core import arguments
from registry.core.errors import InvalidInput
from registry.core.ratelimit import configured, limiter

bp = Blueprint("verify", __name__)
pages = limiter.shared_limit(configured("VERIFY_PAGE_LIMITS"), scope="verify-pages")
uploads = limiter.limit(configured("VERIFY_UPLOAD_LIMITS"), methods=["POST"])


class LookupForm(FlaskForm):
    """Submitted by GET: the result page has an address a visitor can bookmark or send on."""

    class Meta:
        csrf = False

    number = StringField("证书编号", validators=[DataRequired("请填写证书编号")],
                         description="证书上的编号，例如 S000041800001254000001")
    name = StringField("持证人姓名（选填）", validators=[Optional(), Length(max=verification.NAME_LENGTH, message="最多60个字")],
                       description="填写后将核对姓名是否与证书一致")


@bp.get("/verify")
@pages
def search():
    form = LookupForm(formdata=request.args if request.args else None)
    if request.args and form.validate():
        try:
            number = verification.parse_number(form.number.data)
        except InvalidInput as error:
            form.number.errors.append(error.message.split("：", 1)[-1])
        else:
            # An address with ?number= alone leaves the name field None, not "".
            name = (form.name.data or "").strip() or None
            return redirect(url_for("verify.certificate", number=number, name=name))
    return render_template("verify/search.html", form=form)


@bp.get("/verify/<number>")
@pages
def certificate(number: str):
    try:
        verdict = verification.verify_number(number, arguments.text("name", max_length=verification.NAME_LENGTH))
    except InvalidInput as error:
        return render_template("verify/certificate.html", verdict=None, error=error.message), 400
    qr_valid = verification.check_qr(verify_key(), verdict, request.args)
    differences = verification.qr_differences(verdict, request.args) if qr_valid is False else []
    return render_template("verify/certificate.html", verdict=verdict, qr_valid=qr_valid, differences=differences)


@bp.route("/verify/upload", methods=["GET", "POST"])
@pages
@uploads
def upload():
    verdict = error = None
    limit = current_app.config.get("VERIFY_UPLOAD_MAX_BYTES", verification.UPLOAD_MAX_BYTES)
    if request.method == "POST":
        # Refuse a big body before it is read: the limit for the rest of the app is much larger.
        request.max_content_length = limit + 64 * 1024
        try:
            file = request.files.get("file")
            # Read one byte past the limit: enough to know it is too large without holding more.
            data = file.read(limit + 1) if file else b""
            verdict = verification.verify_upload(data, limit)
        except RequestEntityTooLarge:
            error = f"文件：超过 {limit / 1048576:g} MB 上限"
        except InvalidInput as problem:
            error = problem.message
    status = 400 if error else 200
    page = render_template("verify/upload.html", verdict=verdict, error=error, limit_mb=limit / 1048576)
    return page, status
