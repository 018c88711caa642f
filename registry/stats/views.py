"""The 人人持证 cockpit (持证统计): coverage against the targets, its trend and projection, as a page,
as .xlsx/CSV and as a monthly PDF report per county (the JSON is registry/api/stats_views.py)."""
import io
from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.listing import current_sorting
from registry.core.exports import send_export
from registry.oversight.queries import open_work
from registry.reference.models import CITY_CODE
from registry.reference.queries import current_counties
from registry.stats import county_table, indicators, numbers, trend
from registry.stats import coverage as coverage_queries
from registry.stats.charts import line_chart
from registry.stats.filters import ROLES, parse_as_of, visible_counties
from registry.stats.counting import is_recounting, labels
from registry.stats.tally import counted_kinds
from registry.stats.report import MonthlyReport, render_report

bp = Blueprint("stats", __name__)
_CITY = indicators.Scope(CITY_CODE, "开封市")
TABLE_TITLE = "各县区持证统计"
# Figures of the trend charts: (series attribute, target key, chart title).
TREND_CHARTS = (("holders", "holders", "持证人员"), ("skilled", "skilled", "技能人才"),
                ("high_skilled", "high_skilled", "高技能人才"))
REPORT_NOTES = (
    "持证人员：截至统计日至少持有一本有效证书（未撤销、未被更正替代）的人员，按人去重，计入其登记所在县区。",
    "技能人才：持有有效的一至五级职业技能等级证书或职业资格证书的人员；高技能人才：其中最高等级为三级及以上者。",
    "培训人次：按培训班所在县区、报名日期统计，2021年以来累计，与2021—2025年累计目标比较。",
    f"按此进度达标日期：以截至统计日的{trend.PACE_DAYS}天内新增的持证人数为速度，推算达到持证目标的日期。"
    f"按期达标每周需新增：自统计日至 {trend.DEADLINE.isoformat()}（规划期末）每周还需新增的持证人数。",
)


@bp.get("/stats")
@roles_required(*ROLES)
def cockpit():
    try:
        as_of, counties = _arguments(request.args.get("county"))
    except InvalidInput as error:
        return _invalid(error)
    city, rows = county_table.county_rows(as_of, counties)
    rows, sorting = _sorted(rows)
    # Everything above the county table is about one scope: the city, or the one county shown.
    scope_row = city if counties is None else rows[0]
    scope = indicators.Scope(scope_row.code, scope_row.name)
    readings = indicators.readings(scope, as_of)
    city_readings = None if counties is None else indicators.readings(_CITY, as_of)
    series = trend.monthly_series(counties, as_of, since=_trend_start(as_of))
    charts = [(title, line_chart(f"{scope.name}每月累计{title}", [(point.month, getattr(point, figure))
                                                                  for point in series],
                                 target=scope_row.figures.targets.get(target),
                                 target_label=f"{coverage_queries.TARGET_YEAR}年目标"))
              for figure, target, title in TREND_CHARTS]
    county_choices = current_counties() if current_user.role is Role.ADMIN else []  # an official has one
    oversight_counties, oversight_agencies = open_work(current_user)
    counted = counted_kinds()
    return render_template("stats/cockpit.html", oversight_counties=oversight_counties,
                           oversight_agencies=oversight_agencies, error=None, city=city.figures, city_row=city,
                           counties=rows,
                           key_columns=county_table.KEY_COLUMNS, more_columns=county_table.MORE_COLUMNS,
                           as_of=as_of, sorting=sorting, scope=scope,
                           scope_row=scope_row, readings=readings, city_readings=city_readings,
                           headline=indicators.HEADLINE, numbers=numbers,
                           series=series, charts=charts, deadline=trend.DEADLINE, pace_days=trend.PACE_DAYS,
                           county_choices=county_choices, asked_county=request.args.get("county") or "",
                           baseline_text=indicators.baselines(), target_year=coverage_queries.TARGET_YEAR,
                           counted_labels=labels(counted), recounting=is_recounting(counted))


@bp.get("/stats/counties.<any(xlsx, csv):file_format>")
@roles_required(*ROLES)
def export_counties(file_format: str):
    """The county table as on the page: same columns, rows, order and city row; audited like list exports."""
    try:
        as_of, counties = _arguments(request.args.get("county"))
    except InvalidInput as error:
        return _invalid(error)
    city, rows = county_table.county_rows(as_of, counties)
    rows, _sorting = _sorted(rows)
    table = county_table.export_rows([*rows, city])
    title = TABLE_TITLE if counties is None else f"{TABLE_TITLE}（{rows[0].name}）"
    return send_export(title, county_table.headers(), table, "stats_table", file_format,
                       audit={"list": TABLE_TITLE, "format": file_format}, dated=as_of)


@bp.get("/stats/counties/<county_code>/report.pdf")
@roles_required(*ROLES)
def county_report(county_code: str):
    """The monthly report of one county as of a date (default today): one click from the cockpit."""
    return _report(county_code)


@bp.get("/stats/report.pdf")
@roles_required(Role.ADMIN)
def city_report():
    """The monthly report of the whole city, beside the per-county ones (a county official has their own)."""
    return _report(None)


def _report(county_code: str | None):
    try:
        as_of, counties = _arguments(county_code)
    except InvalidInput as error:
        return _invalid(error)
    city, rows = county_table.county_rows(as_of, counties)
    row = city if county_code is None else rows[0]
    month_start = as_of.replace(day=1)
    added = trend.holders_added(month_start - timedelta(days=1), as_of)
    added_this_month = sum(added.values()) if county_code is None else added.get(county_code, 0)
    series = trend.monthly_series(counties, as_of, since=_trend_start(as_of))
    readings = indicators.readings(indicators.Scope(row.code, row.name), as_of)
    report = _monthly_report(row, city, series, added_this_month, as_of, readings)
    data = render_report(report)
    record_event(current_user, "export", "stats_report", county_code or CITY_CODE,
                 after={"as_of": as_of.isoformat()})
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{row.name}持证统计月报_{as_of:%Y%m%d}.pdf")


def _arguments(county: str | None) -> tuple[date, list[str] | None]:
    """as_of and the visible counties from the request; InvalidInput for bad input, 403 for another county."""
    as_of = parse_as_of(request.args.get("as_of"))
    try:
        return as_of, visible_counties(current_user, county or None)
    except Forbidden:
        abort(403)


def _invalid(error: InvalidInput):
    return render_template("stats/cockpit.html", error=error.message, city=None, counties=[],
                           as_of=date.today()), 400


def _sorted(rows: list[county_table.CountyRow]):
    sorting = current_sorting(dict.fromkeys(county_table.BY_KEY), county_table.DEFAULT_SORT)
    return county_table.sort_rows(rows, sorting.key, sorting.descending), sorting


def _trend_start(as_of: date) -> date | None:
    """The chart covers the plan period from 2021; a date before it shows the registry's whole history."""
    return coverage_queries.NEW_SINCE if as_of >= coverage_queries.NEW_SINCE else None


def _monthly_report(row: county_table.CountyRow, city: county_table.CountyRow, series: list[trend.MonthPoint],
                    added_this_month: int, as_of: date, readings: dict) -> MonthlyReport:
    columns = county_table.BY_KEY
    headline = [(columns[key].header, columns[key].text(row))
                for key in ("holders", "holders_target", "holders_progress")]
    headline.append((f"{as_of.month}月新增持证", f"{added_this_month:,}"))
    headline += [(columns[key].header, columns[key].text(row))
                 for key in ("skilled", "high_skilled", "added", "reached_on", "needed_weekly")]
    is_city = row is city
    scope = "全市（各县区合计）" if is_city else f"{row.name}（{row.code}），另列全市数字对照"
    return MonthlyReport(
        title=f"{row.name}人人持证月度报告",
        subtitle=f"{as_of.year}年{as_of.month}月 · 统计截至 {as_of.isoformat()} · 范围：{scope}",
        headline=headline,
        table_headers=["指标", row.name] if is_city else ["指标", row.name, city.name],
        table_rows=[[column.header, column.text(row)] + ([] if is_city else [column.text(city)])
                    for column in county_table.COLUMNS[1:]],
        more_tables=[(f"规划指标与进度预测（{row.name}）", PLAN_HEADERS, _plan_rows(readings))],
        series=[(point.month, point.holders, point.skilled, point.high_skilled) for point in series],
        target=row.figures.targets.get("holders"),
        notes=[*REPORT_NOTES, *(f"{reading.definition.label}：{reading.definition.text}"
                                for reading in readings.values())],
    )


PLAN_HEADERS = ["指标", "数值", "目标", "完成", "近90天每周", "按期需每周", "预计达标"]


def _plan_rows(readings: dict) -> list[list[str]]:
    rows = []
    for reading in readings.values():
        if reading.value is None:
            rows.append([reading.definition.label, "无数据", reading.missing, "", "", "", ""])
            continue
        has_target = reading.has_target
        rows.append([reading.definition.label, numbers.figure(reading, reading.value), numbers.target(reading),
                     numbers.share(reading.progress), numbers.pace(reading, reading.projection.weekly_pace),
                     numbers.needed(reading) if has_target else "", numbers.reached(reading) if has_target else ""])
    return rows
