"""Assessment pages: the batch list and its export, planning a batch, the results grid, approval (issuing is
registry/certificates/views.py)."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.assessment import batch_choices, operations, queries
from registry.assessment.forms import BatchFilterForm, BatchForm, ResultForm
from registry.assessment.models import AssessmentBatch, AssessmentResult, BatchStatus
from registry.assessment.queries import BatchFilters
from registry.assessment.scopes import get_batch_or_404, may_write, readable_batches
from registry.core import arguments
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.forms import submit
from registry.core.exports import send_export, sorted_statement
from registry.core.listing import paginate
from registry.organizations.models import Agency, AgencyScope, AgencyStatus
from registry.people.identity import DocumentType
from registry.people.models import Person
from registry.people.operations import find_person, register_person
from registry.reference.models import LEVEL_LABELS
from registry.reference.queries import county_choices, occupation_choices
from registry.training.scopes import may_read as may_read_class

bp = Blueprint("assessment", __name__)
readers = roles_required(Role.ADMIN, Role.COUNTY, Role.AGENCY)
writers = roles_required(Role.ADMIN, Role.AGENCY)

def _per_batch(name: str, counted, *conditions) -> sa.Label:
    """A count per batch, correlated so that one definition serves the page, the sort and the export."""
    return (sa.select(sa.func.count(counted)).where(*conditions).correlate(AssessmentBatch)
            .scalar_subquery().label(name))


RESULTS = AssessmentResult.batch_id == AssessmentBatch.id


def batch_tallies() -> dict[str, sa.Label]:
    """Candidates, passed and issued per batch. Built when asked: "issued" goes through
    AssessmentResult.certificate, which names a class of a higher area, mapped once the app has loaded it."""
    return {
        "candidates": _per_batch("candidates", AssessmentResult.id, RESULTS),
        "passed": _per_batch("passed", AssessmentResult.id, RESULTS, AssessmentResult.is_passed),
        # Replacements issued by a correction have no result: only first issues count as issued here.
        "issued": _per_batch("issued", AssessmentResult.id, RESULTS, AssessmentResult.certificate.has()),
    }


COLUMNS = {"id": AssessmentBatch.id, "assessed_on": AssessmentBatch.assessed_on,
           "level": AssessmentBatch.level, "status": AssessmentBatch.status,
           "candidates": _per_batch("candidates", AssessmentResult.id, RESULTS)}
BATCH_LOADS = (joinedload(AssessmentBatch.agency), joinedload(AssessmentBatch.occupation),
               joinedload(AssessmentBatch.county))
BATCH_HEADERS = ["批次编号", "评价机构", "职业编码", "职业", "工种/职业方向", "等级", "认定日期", "结束日期", "认定地点",
                 "关联培训班编号", "状态", "考生人数", "合格人数", "已发证数"]


# --- batches ----------------------------------------------------------------------------------------------

@bp.get("/assessment/batches")
@readers
def list_batches():
    form = _filter_form()
    statement = queries.filtered_batches(readable_batches(current_user), BatchFilters(**form.filters()))
    if fmt := arguments.export_format():
        rows = _batch_rows(sorted_statement(statement, COLUMNS, "assessed_on", AssessmentBatch.id, newest_first=True))
        return send_export("认定批次", BATCH_HEADERS, rows, "assessment_list", fmt)
    page, sorting = paginate(statement, COLUMNS, default="assessed_on", newest_first=True, loads=BATCH_LOADS)
    on_page = AssessmentBatch.id.in_([batch.id for batch in page.items])
    tallies = {row.id: row for row in db.session.execute(sa.select(AssessmentBatch.id, *batch_tallies().values())
                                                         .where(on_page))}
    return render_template("assessment/batches.html", page=page, sorting=sorting, form=form, tallies=tallies,
                           can_create=current_user.role in (Role.ADMIN, Role.AGENCY),
                           level_labels=LEVEL_LABELS)


@bp.route("/assessment/batches/new", methods=["GET", "POST"])
@writers
def create_batch():
    form = _batch_form()
    created: list[AssessmentBatch] = []  # submit() returns only a flag: keep the new row to redirect to it
    if form.validate_on_submit() and submit(form, lambda: created.append(
        operations.create_batch(current_user, **{"agency_id": None} | form.values())
    )):
        flash("认定批次已创建，可以开始录入成绩。", "success")
        return redirect(url_for("assessment.batch_detail", batch_id=created[0].id))
    return _render_batch_form(form, "新建认定批次", url_for("assessment.list_batches"))


@bp.route("/assessment/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@writers
def edit_batch(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id, for_write=True)
    if batch.status is not BatchStatus.PLANNED:
        flash(f"批次为“{batch.status.label}”，只有计划中（尚未录入成绩）的批次可以修改。", "error")
        return redirect(url_for("assessment.batch_detail", batch_id=batch_id))
    form = _batch_form(batch)
    if form.validate_on_submit() and submit(form, lambda: operations.update_batch(
        current_user, batch, **form.values()
    )):
        flash("认定批次已更新。", "success")
        return redirect(url_for("assessment.batch_detail", batch_id=batch_id))
    return _render_batch_form(form, f"编辑认定批次 第 {batch.id} 批",
                              url_for("assessment.batch_detail", batch_id=batch_id), batch.agency)


@bp.get("/assessment/batches/<int:batch_id>")
@readers
def batch_detail(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id, loads=BATCH_LOADS)
    return _render_detail(batch, _result_form(batch))


# --- results and approval --------------------------------------------------------------------------------

@bp.post("/assessment/batches/<int:batch_id>/results")
@writers
def record_result(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id, for_write=True)
    form, saved = _result_form(batch), []
    if form.validate_on_submit() and submit(form, lambda: saved.append(
        _record_by_document(current_user, batch, **form.values())
    )):
        outcome = "合格" if saved[0].is_passed else "不合格"
        flash(f"{saved[0].person.name} 的成绩已保存（{outcome}）。", "success")
        return redirect(url_for("assessment.batch_detail", batch_id=batch_id) + "#results")
    return _render_detail(batch, form)


@bp.post("/assessment/batches/<int:batch_id>/approve")
@writers
def approve_batch(batch_id: int):
    batch = get_batch_or_404(current_user, batch_id, for_write=True)
    if submit(FlaskForm(), lambda: operations.approve_batch(current_user, batch)):
        flash("批次已审核，成绩不能再修改；现在可以发证。", "success")
    return redirect(url_for("assessment.batch_detail", batch_id=batch_id))


def _record_by_document(actor, batch: AssessmentBatch, *, document_type: str, document_number: str, name: str,
                        county_code: str, remarks: str = "", **scores) -> AssessmentResult:
    """Find the candidate by document number, registering them if unknown, then save their result.

    An operation in all but place (it takes the actor and never commits): it belongs beside record_result.
    """
    operations.check_accepts_results(actor, batch)
    document_type = DocumentType(document_type)
    person = find_person(document_type, document_number)
    if person is None:
        person = register_person(actor, document_type, document_number, name, county_code)
    elif person.name != (name or "").strip():
        # Most often a mistyped number that belongs to someone else: never score the wrong person.
        raise InvalidInput("name", "姓名：与该证件号码已登记的姓名不符，请核对证件号码和姓名")
    return operations.record_result(actor, batch, person, scores["theory_score"], scores["practical_score"],
                                    scores["review_score"], remarks)


# --- helpers ----------------------------------------------------------------------------------------------

def _batch_rows(statement: sa.Select) -> list[list]:
    rows = []
    for batch, candidates, passed, issued in db.session.execute(
            statement.add_columns(*batch_tallies().values()).options(*BATCH_LOADS)):
        subject = batch.occupation or batch.special_item  # a 专项职业能力 batch lists its item
        rows.append([batch.id, batch.agency.name, subject.code, subject.name,
                     batch.work_type or "", batch.level_label, batch.assessed_on,
                     batch.assessed_until, batch.county.name, batch.training_class_id, batch.status.label,
                     candidates, passed, issued])
    return rows


def _filter_form() -> BatchFilterForm:
    form = BatchFilterForm(request.args)
    form.occupation_id.choices = [("", "全部"), *occupation_choices()]
    form.county_code.choices = [("", "全部"), *county_choices()]
    if current_user.role is Role.ADMIN:
        form.agency_id.choices = [("", "全部"), *_agency_choices(sa.true())]
    else:
        del form.agency_id  # an agency sees only its own batches anyway; a county needs no agency filter
    return form


def _batch_form(batch: AssessmentBatch | None = None) -> BatchForm:
    form = BatchForm(obj=batch)
    if current_user.role is Role.ADMIN and batch is None:
        batch_choices.offer_agencies(form, db.session.scalars(
            sa.select(Agency).where(Agency.status == AgencyStatus.ACTIVE).order_by(Agency.name)
            .options(selectinload(Agency.scopes).selectinload(AgencyScope.occupation))))
    else:
        del form.agency_id  # an agency plans only its own batches, and a batch never changes agency
    # Where the agency is known, only its filed scope is offered; an administrator planning a new batch
    # picks the agency on the same form, so sees every occupation (the operation still checks the scope).
    agency = batch.agency if batch is not None else (
        current_user.agency if current_user.role is Role.AGENCY else None)
    if agency is not None:
        batch_choices.offer_filed_scope(form, agency)
    else:
        form.occupation_id.choices = [("", "（请选择）"), *occupation_choices()]
    batch_choices.offer_classes(form, current_user, batch.training_class if batch is not None else None)
    form.county_code.choices = [("", "（请选择）"), *county_choices()]
    if not form.is_submitted() and batch is None and current_user.role is Role.AGENCY:
        form.county_code.data = current_user.agency.county_code
    return form


def _agency_choices(condition) -> list[tuple[int, str]]:
    statement = sa.select(Agency.id, Agency.name).where(condition).order_by(Agency.name)
    return [(agency_id, name) for agency_id, name in db.session.execute(statement)]


def _render_batch_form(form: BatchForm, title: str, cancel_url: str, agency: Agency | None = None):
    # Agency staff see their filed scope beside the form: a batch outside it is refused.
    agency = agency or (current_user.agency if current_user.role is Role.AGENCY else None)
    return render_template("assessment/batch_form.html", form=form, title=title, cancel_url=cancel_url,
                           agency=agency, level_labels=LEVEL_LABELS)


def _result_form(batch: AssessmentBatch) -> ResultForm:
    form = ResultForm()
    form.county_code.choices = county_choices()
    if batch.level not in operations.REVIEW_LEVELS:
        del form.review_score
    if not form.is_submitted():
        form.county_code.data = batch.county_code
    return form


def _render_detail(batch: AssessmentBatch, result_form: ResultForm):
    statement = (sa.select(AssessmentResult)
                 .where(AssessmentResult.person_id == Person.id, AssessmentResult.batch_id == batch.id)
                 .options(contains_eager(AssessmentResult.person)))
    columns = {"name": Person.name, "theory": AssessmentResult.theory_score,
               "practical": AssessmentResult.practical_score, "passed": AssessmentResult.is_passed,
               "entered": AssessmentResult.id}
    page, sorting = paginate(statement, columns, default="entered")
    # The issued certificate of each result on the page, with its replacement if it was corrected.
    certificates = {result.id: result.certificate for result in db.session.scalars(
        sa.select(AssessmentResult).where(AssessmentResult.id.in_([result.id for result in page.items]))
        .options(selectinload(AssessmentResult.certificate).selectinload(_certificate_class().superseded_by)))
        if result.certificate is not None}
    counts = db.session.execute(sa.select(*batch_tallies().values()).where(AssessmentBatch.id == batch.id)).one()
    writable = may_write(current_user, batch)
    return render_template(
        "assessment/batch_detail.html", batch=batch, page=page, sorting=sorting, certificates=certificates,
        counts=counts, writable=writable, accepts_results=writable and batch.status in operations.EDITABLE,
        result_form=result_form, level_label=batch.level_label,
        has_review=batch.level in operations.REVIEW_LEVELS, pass_mark=f"{operations.pass_mark():g}",
        class_link=batch.training_class is not None and may_read_class(current_user, batch.training_class),
        exceptions=_exceptions(batch),
    )


def _exceptions(batch: AssessmentBatch) -> list[AssessmentResult]:
    """Results admitted against a rule with a recorded reason (申报条件例外, 重复认定): every reader sees them."""
    return list(db.session.scalars(
        sa.select(AssessmentResult).where(AssessmentResult.batch_id == batch.id, sa.or_(
            AssessmentResult.eligibility_exception.is_not(None), AssessmentResult.repeat_reason.is_not(None)))
        .options(selectinload(AssessmentResult.person)).order_by(AssessmentResult.id)))


def _certificate_class():
    """The mapped class behind AssessmentResult.certificate, reached through the mapper rather than imported."""
    return AssessmentResult.certificate.property.mapper.class_
