"""The 人人持证 cockpit (持证统计): coverage against the targets, as a page and as JSON."""
from datetime import date

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user

from registry.accounts.access import api_roles_required, roles_required
from registry.accounts.models import Role
from registry.core.errors import Forbidden, InvalidInput
from registry.core.listing import current_sorting
from registry.reference.queries import current_counties
from registry.stats import coverage as coverage_queries

bp = Blueprint("stats", __name__)
ROLES = (Role.ADMIN, Role.COUNTY)
# Sortable columns of the county table; progress sorts counties without a target last.
SORT_KEYS = {
    "code": lambda row: row.code,
    "holders": lambda row: row.holders,
    "holders_progress": lambda row: row.progress("holders") or 0,
    "skilled": lambda row: row.skilled,
    "high_skilled": lambda row: row.high_skilled,
    "enrolments": lambda row: row.enrolments_since_2021,
}


def parse_as_of(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        as_of = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("as_of", f"统计日期：格式应为 YYYY-MM-DD，实为“{text}”") from None
    if as_of > date.today():
        raise InvalidInput("as_of", f"统计日期：{as_of.isoformat()} 晚于今天，不能统计未来")
    return as_of


def visible_counties(user, asked: str | None) -> list[str] | None:
    """The county codes the user may see (None = all); a county official asking for another county is refused."""
    codes = {county.code for county in current_counties()}
    if asked and asked not in codes:
        raise InvalidInput("county", f"县区：未知的县区代码 {asked}")
    if user.role is Role.COUNTY:
        if asked and asked != user.county_code:
            raise Forbidden("只能查看本县区的统计")
        return [user.county_code]
    return [asked] if asked else None


@bp.get("/stats")
@roles_required(*ROLES)
def cockpit():
    try:
        as_of = parse_as_of(request.args.get("as_of"))
        counties = visible_counties(current_user, request.args.get("county") or None)
    except InvalidInput as error:
        return render_template("stats/cockpit.html", error=error.message, city=None, counties=[],
                               as_of=date.today()), 400
    except Forbidden:
        abort(403)
    city, rows = coverage_queries.coverage(as_of, counties)
    sorting = current_sorting(dict.fromkeys(SORT_KEYS), "code")
    rows.sort(key=SORT_KEYS[sorting.key], reverse=sorting.descending)
    return render_template("stats/cockpit.html", error=None, city=city, counties=rows, as_of=as_of,
                           sorting=sorting, baseline=coverage_queries.baseline_2020())


@bp.get("/api/v1/stats/coverage")
@api_roles_required(*ROLES)
def api_coverage():
    try:
        as_of = parse_as_of(request.args.get("as_of"))
        counties = visible_counties(current_user, request.args.get("county") or None)
    except InvalidInput as error:
        return jsonify(error="invalid", message=error.message, details=[{"field": error.field}]), 400
    except Forbidden as error:
        return jsonify(error="forbidden", message=str(error), details=[]), 403
    city, rows = coverage_queries.coverage(as_of, counties)
    return jsonify(as_of=as_of.isoformat(), city=city.as_json() | {"baseline_2020": coverage_queries.baseline_2020()},
                   counties=[row.as_json() for row in rows])
