"""Administrator pages for occupations, targets and county denominators."""
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core.access import admin_required
from registry.core import arguments
from registry.core.db import db
from registry.core.forms import submit
from registry.core.listing import paginate
from registry.reference import operations, queries
from registry.reference.forms import CountyForm, EmploymentForm, OccupationForm, SplitTargetForm, TargetForm, choices
from registry.reference.models import CITY_CODE, LEVEL_LABELS, County, Occupation, Target
from registry.reference.seeding import TARGET_YEAR

bp = Blueprint("reference", __name__)


@bp.get("/admin/occupations")
@admin_required
def list_occupations():
    statement = sa.select(Occupation)
    if query := arguments.text("q", max_length=100):
        statement = statement.where(sa.or_(Occupation.code.contains(query, autoescape=True),
                                           Occupation.name.contains(query, autoescape=True)))
    if edition := arguments.integer("edition", None, *operations.EDITION_RANGE):
        statement = statement.where(Occupation.edition == edition)
    if active := arguments.option("active", ("1", "0")):
        statement = statement.where(Occupation.is_active == (active == "1"))
    columns = {"code": Occupation.code, "name": Occupation.name, "edition": Occupation.edition}
    page, sorting = paginate(statement, columns, default="code")
    editions = sa.select(Occupation.edition).distinct().order_by(Occupation.edition.desc())
    return render_template("reference/occupations.html", page=page, sorting=sorting,
                           editions=list(db.session.scalars(editions)), level_labels=LEVEL_LABELS)


@bp.route("/admin/occupations/new", methods=["GET", "POST"])
@admin_required
def create_occupation():
    form = OccupationForm()
    if form.validate_on_submit() and submit(form, lambda: operations.create_occupation(
        current_user, **_occupation_values(form),
    )):
        flash("职业已创建。", "success")
        return redirect(url_for("reference.list_occupations"))
    return render_template("form_page.html", form=form, title="新建职业",
                           cancel_url=url_for("reference.list_occupations"))


@bp.route("/admin/occupations/<int:occupation_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_occupation(occupation_id: int):
    occupation = db.session.get(Occupation, occupation_id) or abort(404)
    form = OccupationForm(obj=occupation)
    if request.method == "GET":
        form.work_types.data = "\n".join(occupation.work_types or [])
    if form.validate_on_submit() and submit(form, lambda: operations.update_occupation(
        current_user, occupation, **_occupation_values(form),
    )):
        flash("职业已更新。", "success")
        return redirect(url_for("reference.list_occupations"))
    return render_template("form_page.html", form=form, title=f"编辑职业 {occupation}",
                           cancel_url=url_for("reference.list_occupations"))


def _occupation_values(form: OccupationForm) -> dict:
    return {
        "code": form.code.data, "name": form.name.data, "edition": form.edition.data,
        "levels": form.levels.data or [], "work_types": form.work_types.data or "",
        "is_active": form.is_active.data, "confidence": form.confidence.data or "",
        "source": form.source.data or "",
    }


@bp.get("/admin/targets")
@admin_required
def list_targets():
    year = _target_year()
    split_form = _with_indicators(SplitTargetForm(formdata=None, year=year), splittable_only=True)
    return render_template("reference/targets.html", year=year, rows=queries.target_grid(year),
                           counties=queries.current_counties(), years=queries.target_years(),
                           plan_year=TARGET_YEAR, split_form=split_form, city_code=CITY_CODE,
                           plain=operations.plain_number)


@bp.route("/admin/targets/edit", methods=["GET", "POST"])
@admin_required
def edit_target():
    form = _with_indicators(TargetForm(data=_target_defaults()))
    form.county_code.choices = choices(queries.county_choices(include_city=True))
    if form.validate_on_submit() and submit(form, lambda: operations.set_target(
        current_user, form.indicator_key.data, form.county_code.data, form.year.data, form.value.data,
        form.comparator.data,
    )):
        flash("目标已保存。", "success")
        return redirect(url_for("reference.list_targets", year=form.year.data))
    return render_template("form_page.html", form=form, title="设置目标",
                           cancel_url=url_for("reference.list_targets"))


@bp.post("/admin/targets/split")
@admin_required
def split_target():
    form = _with_indicators(SplitTargetForm(), splittable_only=True)
    if not form.validate():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}：{error}", "error")
    elif submit(form, lambda: operations.split_city_target(
            current_user, form.indicator_key.data, form.year.data)):
        flash("已按各县区从业人员数分解全市目标。", "success")
    year = form.year.data if isinstance(form.year.data, int) else TARGET_YEAR
    return redirect(url_for("reference.list_targets", year=year))


def _target_defaults() -> dict:
    """Opened from a cell of the targets table: start from the target already set there, if any."""
    values = {"indicator_key": arguments.text("indicator", max_length=60),
              "county_code": arguments.text("county", max_length=12) or CITY_CODE,
              "year": _target_year()}
    target = db.session.scalar(sa.select(Target).filter_by(
        indicator_key=values["indicator_key"], county_code=values["county_code"], year=values["year"]))
    if target is not None:
        values |= {"value": Decimal(operations.plain_number(target.value)), "comparator": target.comparator}
    return values


def _target_year() -> int:
    """Targets exist only for the plan's years, so a year outside them names nothing to show or edit."""
    return arguments.integer("year", TARGET_YEAR, *operations.TARGET_YEARS)


def _with_indicators(form, splittable_only: bool = False):
    form.indicator_key.choices = choices(queries.indicator_choices(splittable_only))
    return form


@bp.get("/admin/counties")
@admin_required
def list_counties():
    return render_template("reference/counties.html", counties=queries.all_divisions())


@bp.route("/admin/counties/<code>/edit", methods=["GET", "POST"])
@admin_required
def edit_county(code: str):
    county = db.session.get(County, code) or abort(404)
    form = CountyForm(obj=county)
    if form.validate_on_submit() and submit(form, lambda: operations.set_county_denominator(
        current_user, county, form.employed_persons.data,
    )):
        flash(f"{county.name}的从业人员数已保存。", "success")
        return redirect(url_for("reference.list_counties"))
    return render_template("form_page.html", form=form, title=f"编辑县区 {county.name}（{county.code}）",
                           cancel_url=url_for("reference.list_counties"))


@bp.route("/admin/employment", methods=["GET", "POST"])
@admin_required
def employment():
    """从业人员数（按年）: each county's employed persons per year with its source, the denominator of the
    plan's 持证率 and 技能人才占比; entered here, listed below the form."""
    form = EmploymentForm()
    form.county_code.choices = choices(queries.county_choices(include_city=True))
    if form.validate_on_submit() and submit(form, lambda: operations.set_employment(
        current_user, form.county_code.data, form.year.data, form.employed_persons.data, form.source.data,
    )):
        flash(f"已保存{form.year.data}年的从业人员数。", "success")
        return redirect(url_for("reference.employment"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("reference/employment.html", form=form, rows=queries.employment_rows(),
                           first_year=operations.EMPLOYMENT_FIRST_YEAR), status
