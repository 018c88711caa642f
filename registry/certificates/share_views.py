"""Share links' pages: the agency's list and form on a certificate, and the public page a link opens.

Staff pages follow the certificate scope (registry/certificates/scopes.py): whoever reads the certificate
sees its links; only its writers (the issuing agency, the administrator) create or revoke them. The public
page needs no login: 200 with the full name while the link is active, 410 once expired or revoked, 404 for
a token that was never issued.
"""
from datetime import timedelta, timezone

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from registry.certificates import share_links, verification
from registry.certificates.models import CertificateStatus, ShareLink
from registry.certificates.scopes import get_certificate_or_404, may_write
from registry.core.access import roles_required
from registry.core.db import db
from registry.core.forms import NOT_AN_INTEGER, submit
from registry.core.ratelimit import configured, limiter
from registry.core.roles import Role

bp = Blueprint("sharing", __name__)
readers = roles_required(Role.ADMIN, Role.COUNTY, Role.AGENCY)
writers = roles_required(Role.ADMIN, Role.AGENCY)
# A token cannot be guessed; the limit keeps the public page as cheap to abuse as the verify pages.
pages = limiter.shared_limit(configured("VERIFY_PAGE_LIMITS"), scope="verify-pages")
CHINA = timezone(timedelta(hours=8))


class ShareLinkForm(FlaskForm):
    days = IntegerField("有效天数", default=share_links.DEFAULT_DAYS, invalid_value_message=NOT_AN_INTEGER,
                        validators=[InputRequired("请填写有效天数"),
                                    NumberRange(1, share_links.MAX_DAYS, f"应为 1 到 {share_links.MAX_DAYS} 天")],
                        description=f"链接自创建起有效的天数，最长 {share_links.MAX_DAYS} 天；到期后自动失效")


def china_time(moment) -> str:
    return share_links.aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else "—"


@bp.app_template_filter("china_time")
def china_time_filter(moment) -> str:
    return china_time(moment)


@bp.route("/certificates/<int:certificate_id>/share-links", methods=["GET", "POST"])
@readers
def share_links_page(certificate_id: int):
    certificate = get_certificate_or_404(current_user, certificate_id)
    writable = may_write(current_user, certificate)
    form, created = ShareLinkForm(), []
    if form.validate_on_submit():
        if not writable:
            abort(403)
        if submit(form, lambda: created.append(share_links.create_share_link(current_user, certificate,
                                                                             form.days.data))):
            flash("分享链接已创建。链接只显示这一次，请现在复制发给持证人。", "success")
    # Shown once, on the answer to the form: the token is kept nowhere, not even in a flashed message.
    new_url = url_for("sharing.shared", token=created[0][1], _external=True) if created else None
    return render_template("certificates/share_links.html", certificate=certificate, form=form, new_url=new_url,
                           links=share_links.links_of(certificate), state=share_links.state,
                           state_labels=share_links.STATE_LABELS, max_days=share_links.MAX_DAYS,
                           writable=writable and certificate.status is CertificateStatus.VALID,
                           revocable=writable)


@bp.post("/certificates/<int:certificate_id>/share-links/<int:link_id>/revoke")
@writers
def revoke_link(certificate_id: int, link_id: int):
    certificate = get_certificate_or_404(current_user, certificate_id, for_write=True)
    link = db.session.get(ShareLink, link_id)
    if link is None or link.certificate_id != certificate.id:
        abort(404)
    if submit(FlaskForm(), lambda: share_links.revoke_share_link(current_user, link), validate=True):
        flash("分享链接已撤销，打开它将提示链接已失效。", "success")
    return redirect(url_for("sharing.share_links_page", certificate_id=certificate.id))


@bp.get("/share/<token>")
@pages
def shared(token: str):
    opened = share_links.open_share_link(token)
    if opened.state == "unknown":
        return render_template("verify/share_gone.html", reason="unknown"), 404
    link = opened.link
    if opened.state != "active":
        return render_template("verify/share_gone.html", reason=opened.state,
                               expires=china_time(link.expires_at), revoked=china_time(link.revoked_at)), 410
    db.session.commit()  # the view counted
    certificate = link.certificate
    fields = verification.printed_fields(certificate)
    full_name = (certificate.snapshot or {}).get("name") or certificate.person.name
    labelled = [(label, full_name if key == "name_masked" else fields[key])
                for key, label in verification.PRINTED_FIELDS]
    response = render_template("verify/share.html", certificate=certificate, fields=labelled,
                               expires=china_time(link.expires_at))
    # The page names a person in full: no shared cache may keep it past the link's revocation.
    return response, 200, {"Cache-Control": "no-store"}
