"""Training pages: classes, enrolment and completion, and the class and trainee lists with their export."""
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.core import arguments
from registry.core.forms import submit
from registry.core.exports import send_export, sorted_statement
from registry.core.listing import current_sorting, paginate
from registry.people.models import Person
from registry.reference.models import LEVEL_LABELS
from registry.reference.queries import county_choices, occupation_choices, program_choices
from registry.training import operations, queries
from registry.training.forms import (
    ALL, ClassFilterForm, ClassForm, CompletionForm, EnrollForm, StatusForm, TraineeFilterForm,
)
from registry.training.models import ClassStatus, Enrollment, TrainingClass
from registry.training.scopes import (
    get_class_or_404, get_enrollment_or_404, may_create, may_write, readable_classes, readable_enrollments,
)

bp = Blueprint("training", __name__)
readers_only = roles_required(Role.ADMIN, Role.COUNTY, Role.INSTITUTION)
writers_only = roles_required(Role.ADMIN, Role.INSTITUTION)


# --- classes ----------------------------------------------------------------------------------------------

@bp.get("/training/classes")
@readers_only
def list_classes():
    form = _filter_form(ClassFilterForm)
    statement = queries.filtered_classes(readable_classes(current_user), form.filters())
    columns = {"name": TrainingClass.name, "starts_on": TrainingClass.starts_on,
               "status": TrainingClass.status, "enrolments": queries.enrolment_count_column()}
    if fmt := arguments.export_format():
        rows = queries.class_export_rows(sorted_statement(statement, columns, "starts_on", TrainingClass.id, newest_first=True))
        return send_export("培训班", queries.CLASS_HEADERS, rows, "training_list", fmt)
    page, sorting = paginate(statement, columns, default="starts_on", newest_first=True,
                             loads=queries.CLASS_LOADS)
    tallies = queries.trainee_tallies([training_class.id for training_class in page.items])
    return render_template("training/classes.html", page=page, sorting=sorting, form=form, tallies=tallies,
                           can_create=may_create(current_user))


@bp.route("/training/classes/new", methods=["GET", "POST"])
@writers_only
def create_class():
    form = _class_form()
    if request.method == "GET" and current_user.role is Role.INSTITUTION:
        form.county_code.data = current_user.institution.county_code
    created: list[TrainingClass] = []  # submit() only reports success; the new row is kept to redirect to it
    if form.validate_on_submit() and submit(form, lambda: created.append(
        operations.create_class(current_user, **form.values())
    )):
        flash("培训班已创建，可以开始登记学员。", "success")
        return redirect(url_for("training.class_detail", class_id=created[0].id))
    return render_template("form_page.html", form=form, title="新建培训班",
                           cancel_url=url_for("training.list_classes"))


@bp.get("/training/classes/<int:class_id>")
@readers_only
def class_detail(class_id: int):
    training_class = get_class_or_404(current_user, class_id, loads=queries.CLASS_LOADS)
    return _render_detail(training_class, _enroll_form(training_class))


@bp.route("/training/classes/<int:class_id>/edit", methods=["GET", "POST"])
@writers_only
def edit_class(class_id: int):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    if training_class.status is ClassStatus.CLOSED:
        flash(operations.CLOSED_MESSAGE, "error")
        return redirect(url_for("training.class_detail", class_id=class_id))
    form = _class_form(obj=training_class)
    if form.validate_on_submit() and submit(form, lambda: operations.update_class(
        current_user, training_class, **form.values()
    )):
        flash("培训班已更新。", "success")
        return redirect(url_for("training.class_detail", class_id=class_id))
    return render_template("form_page.html", form=form, title=f"编辑培训班 {training_class.name}",
                           cancel_url=url_for("training.class_detail", class_id=class_id))


@bp.post("/training/classes/<int:class_id>/status")
@writers_only
def change_status(class_id: int):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    form = StatusForm()
    if submit(form, lambda: operations.change_class_status(
        current_user, training_class, form.status.data
    ), validate=True):
        flash(f"培训班状态已改为“{ClassStatus(form.status.data).label}”。", "success")
    return redirect(url_for("training.class_detail", class_id=class_id))


# --- enrolment and completion -----------------------------------------------------------------------------

@bp.post("/training/classes/<int:class_id>/enrollments")
@writers_only
def enroll(class_id: int):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    form = _enroll_form(training_class)
    if form.validate_on_submit() and submit(form, lambda: operations.enroll_by_document(
        current_user, training_class, **form.values()
    )):
        flash(f"{form.name.data.strip()} 已登记入班。", "success")
        return redirect(url_for("training.class_detail", class_id=class_id))
    return _render_detail(training_class, form)


@bp.post("/training/enrollments/<int:enrollment_id>/complete")
@writers_only
def complete_enrollment(enrollment_id: int):
    enrollment = get_enrollment_or_404(current_user, enrollment_id, for_write=True)
    class_id, form = enrollment.class_id, CompletionForm()
    if submit(form, lambda: operations.record_completion(
        current_user, enrollment, form.completed_on.data, form.attended_hours.data
    ), validate=True):
        flash(f"{enrollment.person.name} 已结业。", "success")
    return redirect(url_for("training.class_detail", class_id=class_id))


@bp.post("/training/enrollments/<int:enrollment_id>/drop")
@writers_only
def drop_enrollment(enrollment_id: int):
    enrollment = get_enrollment_or_404(current_user, enrollment_id, for_write=True)
    class_id = enrollment.class_id
    if submit(FlaskForm(), lambda: operations.record_dropout(current_user, enrollment), validate=True):
        flash(f"{enrollment.person.name} 已标记为退出。", "success")
    return redirect(url_for("training.class_detail", class_id=class_id))


@bp.post("/training/classes/<int:class_id>/complete-all")
@writers_only
def complete_all(class_id: int):
    training_class = get_class_or_404(current_user, class_id, for_write=True)
    form, completed = CompletionForm(), []
    if submit(form, lambda: completed.append(operations.complete_all(
        current_user, training_class, form.completed_on.data, form.attended_hours.data
    )), validate=True):
        flash(f"已为 {completed[0]} 名在训学员办理结业。" if completed[0] else "没有在训学员需要结业。",
              "success" if completed[0] else "warning")
    return redirect(url_for("training.class_detail", class_id=class_id))


# --- trainees ---------------------------------------------------------------------------------------------

@bp.get("/training/trainees")
@readers_only
def list_trainees():
    form = _filter_form(TraineeFilterForm)
    statement = queries.filtered_enrollments(readable_enrollments(current_user), form.filters())
    # A name sorts with its row's id after it: walking persons (or classes) by name, then each one's
    # enrolments by id, is an order an index gives without sorting every enrolment.
    columns = {"name": (Person.name, Person.id), "enrolled_on": Enrollment.enrolled_on,
               "status": Enrollment.status, "class": (TrainingClass.name, TrainingClass.id)}
    if fmt := arguments.export_format():
        rows = queries.trainee_export_rows(sorted_statement(queries.with_holders(statement), columns,
                                                            "enrolled_on", Enrollment.id, newest_first=True))
        return send_export("学员名单", queries.TRAINEE_HEADERS, rows, "training_list", fmt)
    key = current_sorting(columns, "enrolled_on", newest_first=True).key
    page, sorting = paginate(queries.sorted_by(statement, key), columns, default="enrolled_on",
                             newest_first=True, rows=queries.with_holders(sa.select(Enrollment)))
    return render_template("training/trainees.html", page=page, sorting=sorting, form=form)


# --- helpers ----------------------------------------------------------------------------------------------

def _class_form(**kwargs) -> ClassForm:
    form = ClassForm(**kwargs)
    training_class = kwargs.get("obj")
    if current_user.role is Role.ADMIN:
        current = training_class.institution_id if training_class else None
        form.institution_id.choices = [("", "（请选择）"), *queries.institution_choices(include_id=current)]
    else:
        del form.institution_id
    form.occupation_id.choices = [("", "（请选择）"), *occupation_choices()]
    form.program_key.choices = [("", "（无）"), *program_choices()]
    form.county_code.choices = [("", "（请选择）"), *county_choices()]
    return form


def _enroll_form(training_class: TrainingClass) -> EnrollForm:
    form = EnrollForm()
    form.county_code.choices = county_choices()
    if not form.is_submitted():
        form.county_code.data = training_class.county_code
    return form


def _filter_form(form_class):
    form = form_class(request.args)
    form.occupation_id.choices = [ALL, *occupation_choices()]
    form.program_key.choices = [ALL, *program_choices()]
    # County staff are fixed to their county and institutions to themselves by the scope, not by a filter.
    if current_user.role is Role.ADMIN:
        form.county_code.choices = [ALL, *county_choices()]
        form.institution_id.choices = [ALL, *queries.institution_choices()]
    else:
        del form.county_code, form.institution_id
    if "class_id" in form:
        form.class_id.choices = [ALL, *_class_choices()]
        form.class_id.render_kw = {"data-option-filter": "输入班级名称或编号筛选"}
    return form


def _class_choices() -> list[tuple[int, str]]:
    """The trainee filter's classes: both parameters are read through the bounded parser first, so a
    number too large for the database, or digits int() reads but SQL does not ("²"), never reach a query."""
    chosen = arguments.integer("class_id")
    search = arguments.text("class_search")
    number = (int(search) if search is not None and arguments.INTEGER.fullmatch(search)
              and len(search) <= 10 and 1 <= int(search) <= arguments.MAX_ID else None)
    return queries.class_choices(readable_classes(current_user), search, number, chosen)


def _render_detail(training_class: TrainingClass, enroll_form: EnrollForm):
    statement = (sa.select(Enrollment).where(Enrollment.person_id == Person.id,
                                             Enrollment.class_id == training_class.id)
                 .options(contains_eager(Enrollment.person)))
    columns = {"name": Person.name, "enrolled_on": Enrollment.enrolled_on, "status": Enrollment.status}
    page, sorting = paginate(statement, columns, default="name")
    writable = may_write(current_user, training_class) and training_class.status is not ClassStatus.CLOSED
    today = date.today()
    return render_template(
        "training/class_detail.html", training_class=training_class, page=page, sorting=sorting,
        writable=writable, next_status=operations.NEXT_STATUS.get(training_class.status),
        enroll_form=enroll_form, completion_form=CompletionForm(formdata=None), today=today,
        completion_date=min(today, training_class.ends_on),
        hours_limit=operations.hours_limit(training_class),
        level_label=LEVEL_LABELS.get(training_class.target_level),
    )
