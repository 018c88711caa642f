"""Certificate pages: the list and its export, issuing a batch's certificates, one certificate with its history,
revocation, correction."""
import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.assessment.models import BatchStatus
from registry.assessment.scopes import get_batch_or_404, may_read as may_read_batch
from registry.certificates import issue_jobs, operations
from registry.certificates.awards import refused_results
from registry.certificates.forms import CertificateFilterForm, CorrectForm, RevokeForm
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus, IssueJobStatus
from registry.certificates.scopes import (get_certificate_or_404, may_write, readable_certificate_parts,
                                         readable_certificates)
from registry.core import arguments, settings
from registry.core.audit import AuditEvent
from registry.core.db import commit_with_retry, db
from registry.core.exports import send_export, sorted_statement
from registry.core.forms import submit
from registry.core.listing import paginate
from registry.people.models import Person
from registry.reference.models import LEVEL_LABELS
from registry.reference.queries import county_choices, occupation_choices

bp = Blueprint("certificates", __name__)
readers = roles_required(Role.ADMIN, Role.COUNTY, Role.AGENCY)
writers = roles_required(Role.ADMIN, Role.AGENCY)

FILTERS = {
    "number": lambda value: Certificate.number == value.replace(" ", "").upper(),
    "status": lambda value: Certificate.status == value,
    "kind": lambda value: Certificate.kind == value,
    "level": lambda value: Certificate.level == value,
    "occupation_id": lambda value: Certificate.occupation_id == value,
    "county_code": lambda value: Certificate.holder_county_code == value,
    "batch_id": lambda value: Certificate.batch_id == value,
    "issued_from": lambda value: Certificate.issued_on >= value,
    "issued_to": lambda value: Certificate.issued_on <= value,
}
COLUMNS = {"number": Certificate.number, "issued_on": Certificate.issued_on, "status": Certificate.status,
           "level": Certificate.level}
# A page's rows come with their holder, county, agency and occupation in one statement, not five. An export
# reads the holders by key in batches (selectin), as measured: a join of all its rows to persons was not.
LOADS = (joinedload(Certificate.person).joinedload(Person.county), joinedload(Certificate.agency),
         joinedload(Certificate.occupation))
EXPORT_LOADS = (selectinload(Certificate.person).selectinload(Person.county), selectinload(Certificate.agency),
                selectinload(Certificate.occupation))
HEADERS = ["证书编号", "证书类型", "姓名", "证件类型", "证件号码（脱敏）", "职业编码", "职业", "工种/职业方向", "等级",
           "发证机构", "发证日期", "状态", "撤销原因", "持证人所在县区", "认定批次编号"]
# Every printed field of the snapshot, in the order of the certificate; the encrypted full number is left out.
PRINTED_FIELDS = [("title", "证书名称"), ("number", "证书编号"), ("name", "姓名"), ("gender", "性别"), ("document_type", "证件类型"),
                  ("document_masked", "证件号码"), ("occupation_name", "职业"), ("occupation_code", "职业编码"),
                  ("work_type", "工种/职业方向"), ("level_label", "等级"), ("agency_name", "发证机构"),
                  ("agency_filing_number", "机构备案编号"), ("agency_credit_code", "统一社会信用代码"), ("issued_on", "发证日期")]
# 专项职业能力证书: the item where the occupation goes; no 工种 or level.
SPECIAL_LABELS = {"occupation_name": "专项职业能力", "occupation_code": "项目编码"}
SPECIAL_OMITTED = ("work_type", "level_label")


@bp.get("/certificates")
@readers
def list_certificates():
    form = _filter_form()
    filtered = sa.select(Certificate).where(*(FILTERS[name](value) for name, value in form.filters().items()))
    if fmt := arguments.export_format():
        statement = filtered.where(readable_certificates(current_user))
        rows = _rows(sorted_statement(statement, COLUMNS, "issued_on", Certificate.id, newest_first=True))
        return send_export("证书", HEADERS, rows, "certificate_list", fmt)
    page, sorting = paginate(filtered, COLUMNS, default="issued_on", newest_first=True,
                             parts=readable_certificate_parts(current_user), loads=LOADS)
    return render_template("certificates/certificates.html", page=page, sorting=sorting, form=form,
                           level_labels=LEVEL_LABELS)


@bp.get("/certificates/<int:certificate_id>")
@readers
def certificate_detail(certificate_id: int):
    certificate = get_certificate_or_404(current_user, certificate_id)
    replaced = db.session.scalar(sa.select(Certificate).where(Certificate.superseded_by_id == certificate.id))
    # The correction's reason is kept only in the audit log: the certificate row has no column for it.
    correction = db.session.scalar(sa.select(AuditEvent.after).where(
        AuditEvent.entity_type == "certificate", AuditEvent.entity_id == str(certificate.id),
        AuditEvent.action == "correct"))
    batch = certificate.batch
    return render_template(
        "certificates/certificate_detail.html", certificate=certificate, replaced=replaced,
        correction_reason=(correction or {}).get("reason"),
        # A field a certificate of an earlier layout never printed is left out rather than shown empty.
        printed=_printed(certificate),
        writable=may_write(current_user, certificate) and certificate.status is CertificateStatus.VALID,
        batch_link=batch is not None and may_read_batch(current_user, batch),
        # Imported history was never issued as a file here.
        has_pdf=not certificate.is_imported,
    )


def _printed(certificate: Certificate) -> list[tuple[str, object]]:
    snapshot = certificate.snapshot
    if certificate.kind is CertificateKind.SPECIAL_PROFICIENCY:
        return [(SPECIAL_LABELS.get(key, label), snapshot.get(key)) for key, label in PRINTED_FIELDS
                if key in snapshot and key not in SPECIAL_OMITTED]
    return [(label, snapshot.get(key)) for key, label in PRINTED_FIELDS if key in snapshot]


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@writers
def revoke(certificate_id: int):
    certificate = get_certificate_or_404(current_user, certificate_id, for_write=True)
    if certificate.status is not CertificateStatus.VALID:
        return _refuse_invalid(certificate)
    form = RevokeForm()
    if form.validate_on_submit() and submit(form, lambda: commit_with_retry(
        lambda: operations.revoke_certificate(current_user, certificate, form.reason.data)
    )):
        flash(f"证书 {certificate.number} 已撤销。", "success")
        return redirect(url_for("certificates.certificate_detail", certificate_id=certificate_id))
    return render_template("certificates/revoke.html", certificate=certificate, form=form)


@bp.route("/certificates/<int:certificate_id>/correct", methods=["GET", "POST"])
@writers
def correct(certificate_id: int):
    certificate = get_certificate_or_404(current_user, certificate_id, for_write=True)
    if certificate.status is not CertificateStatus.VALID:
        return _refuse_invalid(certificate)
    form, created = CorrectForm(), []
    if form.validate_on_submit() and submit(form, lambda: created.append(commit_with_retry(
        # A blank 工种 keeps the printed one: the operation reads an empty string as "print --".
        lambda: operations.correct_certificate(current_user, certificate, form.reason.data,
                                               name=form.name.data, work_type=form.work_type.data or None)
    ))):
        flash(f"已签发更正证书 {created[0].number}，原证书 {certificate.number} 已被替代。", "success")
        return redirect(url_for("certificates.certificate_detail", certificate_id=created[0].id))
    return render_template("certificates/correct.html", certificate=certificate, form=form)


@bp.route("/assessment/batches/<int:batch_id>/issue", methods=["GET", "POST"])
@writers
def issue(batch_id: int):
    """Issue the certificates of an approved batch (the page lives at the batch's address): the button starts
    a background job, and this page then shows its progress, however often it is closed and opened."""
    batch = get_batch_or_404(current_user, batch_id, for_write=True)
    form = FlaskForm()
    if form.validate_on_submit():
        if submit(form, lambda: commit_with_retry(lambda: issue_jobs.start_issue(current_user, batch))):
            flash("发证任务已开始，可以关闭本页，稍后再打开查看进度。", "success")
            return redirect(url_for("certificates.issue", batch_id=batch_id))
        return redirect(url_for("assessment.batch_detail", batch_id=batch_id))
    job = issue_jobs.job_of(batch.id)
    if job is not None:
        return render_template("certificates/issue.html", batch=batch, form=form, job=job,
                               progress=issue_jobs.progress(job), level_label=batch.level_label,
                               stalled=job.status is IssueJobStatus.RUNNING
                               and not issue_jobs.issue_certificates.is_claimed(job.id))
    if batch.status is not BatchStatus.APPROVED:
        flash(f"批次为“{batch.status.label}”，只有已审核的批次可以发证。", "error")
        return redirect(url_for("assessment.batch_detail", batch_id=batch_id))
    refused = refused_results(batch)
    results = operations.issuable_results(batch, refused)
    return render_template("certificates/issue.html", batch=batch, form=form, job=None, count=len(results),
                           results=results, missing=operations.without_photo(results),
                           refused=issue_jobs.refusal_message(len(refused)), level_label=batch.level_label,
                           photo_required=not settings.flag(settings.ISSUE_WITHOUT_PHOTO))


@bp.get("/assessment/batches/<int:batch_id>/issue/progress")
@readers
def issue_progress(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id)
    job = issue_jobs.job_of(batch.id)
    if job is None:  # issued before jobs existed (or through the API), or not yet issued
        return jsonify({"status": batch.status.value, "running": False, "total": issue_jobs.passed_count(batch.id),
                        "processed": issue_jobs.issued_count(batch.id), "message": ""})
    return jsonify(issue_jobs.progress(job))


def _refuse_invalid(certificate: Certificate):
    """Say why at once rather than offer a form whose submission must fail."""
    flash(f"证书状态为“{certificate.status.label}”，只能撤销或更正有效证书。", "error")
    return redirect(url_for("certificates.certificate_detail", certificate_id=certificate.id))


def _filter_form() -> CertificateFilterForm:
    form = CertificateFilterForm(request.args)
    form.occupation_id.choices = [("", "全部"), *occupation_choices()]
    form.county_code.choices = [("", "全部"), *county_choices()]
    return form


def _rows(statement: sa.Select) -> list[list]:
    rows = []
    for certificate in db.session.scalars(statement.options(*EXPORT_LOADS)):
        printed, person = certificate.snapshot, certificate.person
        rows.append([
            certificate.number, certificate.kind.label, printed.get("name", person.name),
            printed.get("document_type", person.document_type.label),
            printed.get("document_masked", person.document_masked),
            printed.get("occupation_code", certificate.occupation.code if certificate.occupation else ""),
            printed.get("occupation_name", certificate.occupation.name if certificate.occupation else ""),
            printed.get("work_type", ""), LEVEL_LABELS.get(certificate.level, ""),
            printed.get("agency_name", certificate.agency.name if certificate.agency else ""),
            certificate.issued_on, certificate.status.label, certificate.revocation_reason or "",
            person.county.name, certificate.batch_id,
        ])
    return rows
