"""Certificate files: the reprint of one certificate, a batch as one PDF or a ZIP, and the public key.

The files print full document numbers, so every download is logged as a reveal of each holder's number
(registry/certificates/reprint.py) and none may be cached on the way.
"""
import io

from flask import Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch
from registry.assessment.scopes import get_batch_or_404
from registry.certificates import batch_output, credential, credential_files, rendering
from registry.certificates.reprint import record_reveal, reprint
from registry.certificates.scopes import get_certificate_or_404
from registry.certificates.views import bp
from registry.core.db import db

readers = roles_required(Role.ADMIN, Role.COUNTY, Role.AGENCY)


@bp.get("/certificates/public-key.pem")
def public_key():
    """Public, at a stable address: offline checkers fetch it once (docs/VERIFICATION.md)."""
    return Response(rendering.public_key_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/certificates/<int:certificate_id>/pdf")
@readers
def certificate_pdf(certificate_id: int):
    """The reprint: byte for byte the issued file, unless revoked since (then marked 已撤销)."""
    certificate = get_certificate_or_404(current_user, certificate_id)
    if certificate.is_imported:
        # Issued on paper before the registry: printing it here would mint a document nobody issued.
        flash("该证书为历史导入记录，不是本系统签发的，没有可下载的证书文件。", "warning")
        return redirect(url_for("certificates.certificate_detail", certificate_id=certificate.id))
    data = reprint(current_user, certificate)
    db.session.commit()
    return _private(send_file(io.BytesIO(data), "application/pdf", download_name=f"{certificate.number}.pdf"))


@bp.get("/certificates/<int:certificate_id>/credential.jwt")
@readers
def certificate_credential(certificate_id: int):
    """The verifiable credential, for an agency handing it to a holder who asks (no document number in it)."""
    certificate = get_certificate_or_404(current_user, certificate_id)
    if not credential_files.can_hold_credential(certificate):
        flash("只有本系统签发且当前有效的证书可以下载可验证电子证书。", "warning")
        return redirect(url_for("certificates.certificate_detail", certificate_id=certificate.id))
    return _private(Response(credential_files.credential_for(certificate), mimetype=credential.MEDIA_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="{certificate.number}.vc.jwt"'}))


@bp.get("/assessment/batches/<int:batch_id>/certificates.pdf")
@readers
def batch_pdf(batch_id: int):
    return _batch_file(get_batch_or_404(current_user, batch_id), "pdf")


@bp.get("/assessment/batches/<int:batch_id>/certificates.zip")
@readers
def batch_zip(batch_id: int):
    return _batch_file(get_batch_or_404(current_user, batch_id), "zip")


@bp.get("/assessment/batches/<int:batch_id>/certificates.<any(pdf, zip):fmt>/progress")
@readers
def batch_output_progress(batch_id: int, fmt: str):
    batch = get_batch_or_404(current_user, batch_id)
    certificates = batch_output.batch_certificates(batch.id)
    return jsonify(batch_output.status_of(batch_output.export_for(batch.id, certificates, fmt)))


def _batch_file(batch: AssessmentBatch, fmt: str):
    """Small batches are built and sent at once; large ones by the task worker, with a progress page."""
    certificates = batch_output.batch_certificates(batch.id)
    if not certificates:
        flash("该批次还没有证书，发证后才能下载。", "warning")
        return redirect(url_for("assessment.batch_detail", batch_id=batch.id))
    if len(certificates) <= batch_output.inline_limit(fmt):
        data = batch_output.build_in_memory(certificates, fmt)
        return _send_batch(batch, fmt, certificates, io.BytesIO(data))
    export = batch_output.export_for(batch.id, certificates, fmt)
    status = batch_output.status_of(export)
    if status["state"] == "absent" or (status["state"] == "failed" and request.args.get("retry") == "1"):
        if batch_output.claim(export, len(certificates)):
            batch_output.build_export.enqueue(export.batch_id, export.fmt, export.key)
        status = batch_output.status_of(export)
    if status["state"] == "ready":
        return _send_batch(batch, fmt, certificates, export.path)
    page = render_template("certificates/batch_output.html", batch=batch, fmt=fmt, status=status,
                           count=len(certificates))
    return page, 202


def _send_batch(batch: AssessmentBatch, fmt: str, certificates: list, source):
    # One reveal per holder, as if each certificate had been downloaded alone.
    for certificate in certificates:
        record_reveal(current_user, certificate, file=fmt, batch=batch.id)
    db.session.commit()
    return _private(send_file(source, batch_output.MEDIA_TYPES[fmt], as_attachment=fmt == "zip",
                              download_name=f"认定批次{batch.id}-证书.{fmt}"))


def _private(response: Response) -> Response:
    # Full document numbers are printed: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
