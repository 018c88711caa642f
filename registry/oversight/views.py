"""Oversight pages: signals and their handling, sampling audits, agencies with supervision and assessors."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from registry.accounts.models import User
from registry.assessment.scopes import get_batch_or_404
from registry.core import arguments
from registry.core.access import admin_required, roles_required
from registry.core.db import db
from registry.core.forms import submit
from registry.core.roles import Role
from registry.organizations.models import Agency, TrainingInstitution
from registry.oversight import operations, scopes
from registry.oversight.forms import (
    AnswerForm, AssessorForm, AuditForm, BatchAssessorForm, CloseAuditForm, FindingForm, HandleSignalForm,
    SupervisionForm,
)
from registry.oversight.models import (
    Assessor, AuditItem, BatchAssessor, SamplingAudit, SignalInstance, SignalSetting, SignalStatus,
    SupervisionRecord,
)
from registry.oversight.signals import SIGNALS, THRESHOLDS, current_settings
from registry.reference.queries import occupation_choices

bp = Blueprint("oversight", __name__)
OFFICIALS = (Role.ADMIN, Role.COUNTY)
AUDIT_READERS = (Role.ADMIN, Role.COUNTY, Role.AGENCY)


# --- signals ------------------------------------------------------------------------------------------------

@bp.get("/oversight/signals")
@roles_required(*OFFICIALS)
def list_signals():
    statement = sa.select(SignalInstance).where(scopes.readable_signals(current_user))
    if (signal := arguments.text("signal", max_length=40)) in SIGNALS:
        statement = statement.where(SignalInstance.signal == signal)
    if status := arguments.option("status", SignalStatus):
        statement = statement.where(SignalInstance.status == status)
    if arguments.text("all", max_length=1) != "1":
        statement = statement.where(SignalInstance.is_current)
    page = db.paginate(statement.order_by(SignalInstance.id.desc()), page=arguments.integer("page", 1),
                       per_page=50, error_out=False)
    return render_template("oversight/signals.html", page=page, signals=SIGNALS, statuses=SignalStatus,
                           settings=current_settings(), thresholds=THRESHOLDS)


@bp.route("/oversight/signals/<int:instance_id>", methods=["GET", "POST"])
@roles_required(*OFFICIALS)
def signal_detail(instance_id: int):
    instance = db.session.get(SignalInstance, instance_id)
    if instance is None or not scopes.may_handle_signal(current_user, instance):
        abort(404)
    form = HandleSignalForm(owner_id=instance.owner_id or current_user.id)
    form.owner_id.choices = _owner_choices(instance)
    if form.validate_on_submit() and submit(form, lambda: operations.handle_signal(
            current_user, instance, form.status.data, form.note.data, form.owner_id.data)):
        flash(f"预警 #{instance.id} 已更新为“{instance.status.label}”。", "success")
        return redirect(url_for("oversight.signal_detail", instance_id=instance.id))
    return render_template("oversight/signal.html", instance=instance, definition=SIGNALS.get(instance.signal),
                           form=form)


def _owner_choices(instance: SignalInstance) -> list[tuple[int, str]]:
    users = db.session.scalars(sa.select(User).where(User.is_active, sa.or_(
        User.role == Role.ADMIN, sa.and_(User.role == Role.COUNTY, User.county_code == instance.county_code)))
        .order_by(User.username))
    return [SelectChoice(user.id, f"{user.display_name or user.username}（{user.role.label}）") for user in users]


@bp.route("/oversight/thresholds", methods=["GET", "POST"])
@admin_required
def thresholds():
    from flask import request

    from registry.core.errors import InvalidInput

    settings = current_settings()
    errors = {}
    if request.method == "POST":
        for key, threshold in THRESHOLDS.items():
            raw = (request.form.get(key) or "").strip()
            try:
                value = float(raw)
            except ValueError:
                errors[key] = f"{threshold.label}：应为数字"
                continue
            try:
                operations.set_threshold(current_user, key, value)
            except InvalidInput as error:
                errors[key] = error.message
        if errors:
            db.session.rollback()
            for message in errors.values():
                flash(message, "error")
        else:
            db.session.commit()
            flash("预警阈值已保存；下次重新计算预警时生效。", "success")
            return redirect(url_for("oversight.thresholds"))
        settings = {key: request.form.get(key, settings[key]) for key in THRESHOLDS}
    stored = set(db.session.scalars(sa.select(SignalSetting.key)))
    return render_template("oversight/thresholds.html", thresholds=THRESHOLDS, settings=settings, errors=errors,
                           stored=stored, signals=SIGNALS)


# --- sampling audits ----------------------------------------------------------------------------------------

@bp.get("/oversight/audits")
@roles_required(*AUDIT_READERS)
def list_audits():
    audits = db.session.scalars(sa.select(SamplingAudit).where(scopes.readable_audits(current_user))
                                .options(selectinload(SamplingAudit.agency)).order_by(SamplingAudit.id.desc()))
    return render_template("oversight/audits.html", audits=list(audits))


@bp.route("/oversight/audits/new", methods=["GET", "POST"])
@roles_required(*OFFICIALS)
def create_audit():
    form = AuditForm()
    form.agency_id.choices = [SelectChoice("", "（请选择）"), *_agency_choices()]
    created: list[SamplingAudit] = []
    if form.validate_on_submit() and submit(form, lambda: created.append(operations.start_audit(
            current_user, _agency_in_scope(form.agency_id.data), form.period_from.data, form.period_to.data,
            form.sample_size.data, form.seed.data))):
        flash(f"已抽取 {created[0].sample_size} 本证书（随机种子 {created[0].seed}）。", "success")
        return redirect(url_for("oversight.audit_detail", audit_id=created[0].id))
    return render_template("form_page.html", form=form, title="发起抽查", submit_label="抽取样本",
                           cancel_url=url_for("oversight.list_audits"))


def _agency_choices() -> list[tuple[int, str]]:
    agencies = db.session.scalars(sa.select(Agency).where(scopes.readable_agencies(current_user))
                                  .order_by(Agency.name))
    return [SelectChoice(agency.id, agency.name) for agency in agencies]


def _agency_in_scope(agency_id: int) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.id == agency_id,
                                                       scopes.readable_agencies(current_user)))
    return agency or abort(404)


def get_audit_or_404(audit_id: int) -> SamplingAudit:
    audit = db.session.get(SamplingAudit, audit_id)
    if audit is None or not scopes.may_read_audit(current_user, audit):
        abort(404)
    return audit


@bp.get("/oversight/audits/<int:audit_id>")
@roles_required(*AUDIT_READERS)
def audit_detail(audit_id: int):
    audit = get_audit_or_404(audit_id)
    return render_template("oversight/audit.html", audit=audit, finding_form=FindingForm(),
                           answer_form=AnswerForm(), close_form=CloseAuditForm(),
                           conducts=scopes.may_conduct_audit(current_user, audit),
                           answers=current_user.role is Role.AGENCY,
                           unfinished=operations.unfinished_items(audit))


def _item_or_404(audit: SamplingAudit, item_id: int) -> AuditItem:
    item = db.session.get(AuditItem, item_id)
    if item is None or item.audit_id != audit.id:
        abort(404)
    return item


@bp.post("/oversight/audits/<int:audit_id>/items/<int:item_id>/finding")
@roles_required(*OFFICIALS)
def record_finding(audit_id: int, item_id: int):
    audit = get_audit_or_404(audit_id)
    if not scopes.may_conduct_audit(current_user, audit):
        abort(403)
    item, form = _item_or_404(audit, item_id), FindingForm()
    if submit(form, lambda: operations.record_finding(current_user, item, form.finding.data,
                                                      form.finding_note.data), validate=True):
        flash(f"第 {item.position} 项抽查结论已记录。", "success")
    return redirect(url_for("oversight.audit_detail", audit_id=audit.id, _anchor=f"item-{item.position}"))


@bp.post("/oversight/audits/<int:audit_id>/items/<int:item_id>/answer")
@roles_required(Role.AGENCY)
def answer_item(audit_id: int, item_id: int):
    audit = get_audit_or_404(audit_id)
    item, form = _item_or_404(audit, item_id), AnswerForm()
    if submit(form, lambda: operations.answer_item(current_user, item, form.answer.data), validate=True):
        flash(f"第 {item.position} 项已答复。", "success")
    return redirect(url_for("oversight.audit_detail", audit_id=audit.id, _anchor=f"item-{item.position}"))


@bp.post("/oversight/audits/<int:audit_id>/close")
@roles_required(*OFFICIALS)
def close_audit(audit_id: int):
    audit = get_audit_or_404(audit_id)
    if not scopes.may_conduct_audit(current_user, audit):
        abort(403)
    form = CloseAuditForm()
    if submit(form, lambda: operations.close_audit(current_user, audit, form.summary.data), validate=True):
        flash(f"抽查 #{audit.id} 已结束。", "success")
    return redirect(url_for("oversight.audit_detail", audit_id=audit.id))


# --- agencies and institutions: supervision, assessors ----------------------------------------------------

@bp.get("/oversight/agencies")
@roles_required(*AUDIT_READERS)
def list_agencies():
    agencies = db.session.scalars(sa.select(Agency).where(scopes.readable_agencies(current_user))
                                  .options(selectinload(Agency.scopes), selectinload(Agency.county))
                                  .order_by(Agency.name))
    institutions = []
    if current_user.role in OFFICIALS:
        statement = sa.select(TrainingInstitution).order_by(TrainingInstitution.name)
        if current_user.role is Role.COUNTY:
            statement = statement.where(scopes.institutions_in_county(current_user.county_code))
        institutions = list(db.session.scalars(statement))
    return render_template("oversight/agencies.html", agencies=list(agencies), institutions=institutions)


def _readable_agency_or_404(agency_id: int) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.id == agency_id,
                                                       scopes.readable_agencies(current_user)))
    return agency or abort(404)


@bp.get("/oversight/agencies/<int:agency_id>")
@roles_required(*AUDIT_READERS)
def agency_detail(agency_id: int):
    agency = _readable_agency_or_404(agency_id)
    return _render_agency(agency, SupervisionForm(), _assessor_form())


def _render_agency(agency: Agency, supervision_form: SupervisionForm, assessor_form: AssessorForm):
    records = db.session.scalars(sa.select(SupervisionRecord).where(SupervisionRecord.agency_id == agency.id)
                                 .order_by(SupervisionRecord.visited_on.desc(), SupervisionRecord.id.desc()))
    roster = db.session.scalars(sa.select(Assessor).where(Assessor.agency_id == agency.id).order_by(Assessor.name))
    return render_template("oversight/agency.html", agency=agency, records=list(records), roster=list(roster),
                           supervision_form=supervision_form, assessor_form=assessor_form,
                           edits_roster=current_user.role in (Role.ADMIN, Role.AGENCY),
                           supervises=current_user.role is Role.ADMIN)


def _assessor_form() -> AssessorForm:
    form = AssessorForm()
    form.occupation_id.choices = [SelectChoice("", "（请选择）"), *[SelectChoice(*choice) for choice in occupation_choices()]]
    return form


@bp.post("/oversight/agencies/<int:agency_id>/supervision")
@admin_required
def record_supervision(agency_id: int):
    agency = _readable_agency_or_404(agency_id)
    form = SupervisionForm()
    if form.validate_on_submit() and submit(form, lambda: operations.record_supervision(
            current_user, agency, form.visited_on.data, form.findings.data, form.correction_due_on.data,
            form.outcome.data)):
        flash(f"督导记录已保存；{agency.name} 状态：{agency.standing_label}。", "success")
        return redirect(url_for("oversight.agency_detail", agency_id=agency.id))
    return _render_agency(agency, form, _assessor_form())


@bp.post("/oversight/agencies/<int:agency_id>/assessors")
@roles_required(Role.ADMIN, Role.AGENCY)
def add_assessor(agency_id: int):
    agency = _readable_agency_or_404(agency_id)
    form = _assessor_form()
    if form.validate_on_submit() and submit(form, lambda: operations.add_assessor(
            current_user, agency, form.name.data, form.document_number.data, form.certificate_number.data,
            [(form.occupation_id.data, form.lowest_level.data, form.highest_level.data)])):
        flash("考评员已加入名单。", "success")
        return redirect(url_for("oversight.agency_detail", agency_id=agency.id))
    return _render_agency(agency, SupervisionForm(), form)


@bp.route("/oversight/batches/<int:batch_id>/assessors", methods=["GET", "POST"])
@roles_required(*AUDIT_READERS)
def batch_assessors(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id)
    form = BatchAssessorForm()
    roster = list(db.session.scalars(sa.select(Assessor).where(Assessor.agency_id == batch.agency_id,
                                                               Assessor.is_active).order_by(Assessor.name)))
    form.assessor_id.choices = [SelectChoice("", "（请选择）"), *[SelectChoice(assessor.id, f"{assessor.name}（{assessor.document_masked}）")
                                                   for assessor in roster]]
    writes = current_user.role in (Role.ADMIN, Role.AGENCY)
    if form.is_submitted() and not writes:
        abort(403)
    if form.validate_on_submit() and submit(form, lambda: operations.assign_assessor(
            current_user, batch, db.session.get(Assessor, form.assessor_id.data))):
        flash("考评员已记入本批次。", "success")
        return redirect(url_for("oversight.batch_assessors", batch_id=batch.id))
    assigned = db.session.scalars(sa.select(Assessor).join(BatchAssessor).where(BatchAssessor.batch_id == batch.id)
                                  .order_by(Assessor.name))
    return render_template("oversight/batch_assessors.html", batch=batch, form=form, assigned=list(assigned),
                           writes=writes)


# --- the public directory (目录清单) -------------------------------------------------------------------------

@bp.get("/directory")
def directory():
    """Every filed agency, its filed occupations, levels, validity and status; no personal data, no login."""
    from registry.organizations.models import AgencyScope
    from registry.reference.models import Occupation

    statement = sa.select(Agency).options(selectinload(Agency.scopes).selectinload(AgencyScope.occupation),
                                          selectinload(Agency.county)).order_by(Agency.name)
    if query := arguments.text("q", max_length=60):
        statement = statement.where(sa.or_(
            Agency.name.contains(query, autoescape=True), Agency.filing_number.contains(query, autoescape=True),
            sa.exists().where(AgencyScope.agency_id == Agency.id, AgencyScope.occupation_id == Occupation.id,
                              sa.or_(Occupation.name.contains(query, autoescape=True),
                                     Occupation.code.contains(query, autoescape=True)))))
    return render_template("oversight/directory.html", agencies=list(db.session.scalars(statement)), query=query)
