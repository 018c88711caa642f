"""Drill-down and funnel pages of the cockpit (added to the `stats` blueprint): a filter bar, tables with
server-drawn charts, the lists behind each funnel leak, and every table as .xlsx or CSV exactly as shown."""
import io
from dataclasses import dataclass
from datetime import date

from flask import abort, render_template, request, send_file, url_for
from flask_login import current_user

from registry.accounts.access import roles_required
from registry.accounts.models import Role
from registry.certificates.models import CertificateKind
from registry.core import arguments as query_args  # `arguments` names a query's arguments here
from registry.core.arguments import MAX_ID
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.spreadsheets import write_csv, write_xlsx
from registry.organizations.models import TrainingInstitution
from registry.reference.queries import county_choices
from registry.stats import drilldowns, funnel
from registry.stats.charts import bar_chart, line_chart
from registry.stats.views import ROLES, bp, visible_counties

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTHS_BY_DEFAULT = 24
CHART_BARS = 20  # the table lists every row; a chart of hundreds of institutions would be unreadable
# dimension → (menu label, query, whether the certificate kind applies)
DIMENSIONS = {
    "level": ("按等级", drilldowns.holders_by_level, True),
    "occupation": ("按职业", drilldowns.by_occupation, True),
    "key_group": ("按重点群体", drilldowns.by_key_group, True),
    "program": ("按专项工程", drilldowns.training_by_program, False),
    "agency": ("按评价机构", drilldowns.by_agency, True),
    "institution": ("按培训机构", drilldowns.training_by_institution, False),
    "month": ("按月份", drilldowns.by_month, True),
}
FUNNEL_TABLES = {"county": ("培训—认定—取证漏斗（按县区）", "县区"),
                 "institution": ("培训—认定—取证漏斗（按培训机构）", "培训机构")}


@dataclass(frozen=True)
class Filters:
    """The filter bar as asked (for the form) and as applied (for the queries)."""

    county: str | None
    county_codes: list[str] | None
    date_from: date | None
    date_to: date | None
    kind: CertificateKind | None = None
    top: int = drilldowns.DEFAULT_TOP
    institution_id: int | None = None

    @property
    def kinds(self) -> list[CertificateKind] | None:
        return None if self.kind is None else [self.kind]


def parse_filters(args, user) -> Filters:
    """Read the filter bar; InvalidInput (400) for bad values, Forbidden (403) for a county out of scope."""
    county = (args.get("county") or "").strip() or None
    county_codes = visible_counties(user, county)
    date_from = _date(args.get("from"), "from", "起始日期")
    date_to = _date(args.get("to"), "to", "截止日期")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("from", f"日期范围：起始日期 {date_from.isoformat()} 晚于截止日期 {date_to.isoformat()}")
    return Filters(county, county_codes, date_from, date_to, _kind(args.get("kind")), _top(args.get("top")),
                   _institution(args.get("institution_id")))


def _date(text: str | None, field: str, label: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{label}：格式应为 YYYY-MM-DD，实为“{text}”") from None
    if day > date.today():
        raise InvalidInput(field, f"{label}：{day.isoformat()} 晚于今天，不能统计未来")
    return day


def _kind(text: str | None) -> CertificateKind | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return CertificateKind(text)
    except ValueError:
        raise InvalidInput("kind", f"证书类别：未知的类别“{text}”") from None


def _top(text: str | None) -> int:
    text = (text or "").strip()
    if not text:
        return drilldowns.DEFAULT_TOP
    if not _is_number(text) or not 1 <= int(text) <= drilldowns.MAX_TOP:
        raise InvalidInput("top", f"显示前几名：应为 1–{drilldowns.MAX_TOP} 的整数，实为“{text}”")
    return int(text)


def _institution(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _is_number(text) or int(text) > MAX_ID or db.session.get(TrainingInstitution, int(text)) is None:
        raise InvalidInput("institution_id", f"培训机构：未知的机构“{text}”")
    return int(text)


def _is_number(text: str) -> bool:
    # str.isdigit() also accepts "²" and other digits int() refuses.
    return text.isascii() and text.isdigit()


# --- drill-downs --------------------------------------------------------------------------------------------

@bp.get("/stats/drilldowns/<dimension>")
@roles_required(*ROLES)
def drilldown(dimension: str):
    if dimension not in DIMENSIONS:
        abort(404)
    uses_kind = DIMENSIONS[dimension][2]
    try:
        filters = parse_filters(request.args, current_user)
    except InvalidInput as error:
        return _page("stats/drilldown.html", error.message, dimension=dimension, uses_kind=uses_kind), 400
    except Forbidden:
        abort(403)
    if dimension == "month" and filters.date_from is None:
        filters = recent_months(filters)
    table = drilldown_table(dimension, filters)
    if fmt := query_args.export_format():
        return _export(table.title, [column.header for column in table.columns], table.body(), fmt)
    return _page("stats/drilldown.html", None, dimension=dimension, uses_kind=uses_kind, filters=filters,
                 table=table, charts=_charts(table, dimension))


def drilldown_table(dimension: str, filters: Filters) -> drilldowns.Table:
    """The table of one dimension under the filter bar: what the page shows, exports and the API returns."""
    _label, query, uses_kind = DIMENSIONS[dimension]
    arguments = {"county_codes": filters.county_codes, "date_from": filters.date_from,
                 "date_to": filters.date_to}
    if uses_kind:
        arguments["kinds"] = filters.kinds
    if dimension == "occupation":
        arguments["top"] = filters.top
    return query(**arguments)


def funnel_tables(filters: Filters) -> dict[str, drilldowns.Table]:
    by = {"county": funnel.funnel_by_county, "institution": funnel.funnel_by_institution}
    tables = {}
    for name, (title, label) in FUNNEL_TABLES.items():
        total, rows = by[name](filters.county_codes, filters.date_from, filters.date_to)
        tables[name] = funnel.funnel_table(title, label, total, rows)
    return tables


def recent_months(filters: Filters) -> Filters:
    """The month table defaults to the 24 months up to the end date, not to the first certificate ever."""
    last = filters.date_to or date.today()
    month = last.year * 12 + last.month - MONTHS_BY_DEFAULT  # months since year 0, zero-based
    first = date(month // 12, month % 12 + 1, 1)
    return Filters(filters.county, filters.county_codes, first, filters.date_to, filters.kind, filters.top)


def _charts(table: drilldowns.Table, dimension: str) -> list[tuple[str, object]]:
    """(caption, SVG) per charted column; bars stop at the first rows, in the table's order (months never do)."""
    charts = []
    for key in table.charts:
        caption = next(column.header for column in table.columns if column.key == key)
        points = table.points(key)
        if dimension == "month":
            charts.append((caption, line_chart(f"{table.title}：{caption}", points)))
            continue
        if len(points) > CHART_BARS:
            points, caption = points[:CHART_BARS], f"{caption}（图中为表中前 {CHART_BARS} 行）"
        charts.append((caption, bar_chart(f"{table.title}：{caption}", points)))
    return charts


# --- the funnel ---------------------------------------------------------------------------------------------

@bp.get("/stats/funnel")
@roles_required(*ROLES)
def funnel_page():
    try:
        filters = parse_filters(request.args, current_user)
        wanted = request.args.get("table") or "county"
        if wanted not in FUNNEL_TABLES:
            raise InvalidInput("table", f"表格：未知的表格“{wanted}”，应为 county 或 institution")
    except InvalidInput as error:
        return _page("stats/funnel.html", error.message), 400
    except Forbidden:
        abort(403)
    tables = funnel_tables(filters)
    if fmt := query_args.export_format():
        table = tables[wanted]
        return _export(table.title, [column.header for column in table.columns], table.body(), fmt)
    for name, table in tables.items():
        _link_leaks(table, name, filters)
    total = tables["county"].total
    chart = bar_chart("培训—认定—取证漏斗", [(label, total[stage]) for stage, label in funnel.STAGES.items()])
    return _page("stats/funnel.html", None, filters=filters, tables=tables, chart=chart)


def _link_leaks(table: drilldowns.Table, name: str, filters: Filters) -> None:
    """Each leak figure links to its list, narrowed to the row's county or institution and the same dates."""
    dates = {key: value.isoformat() for key, value in (("from", filters.date_from), ("to", filters.date_to))
             if value}
    for row in [*table.rows, table.total]:
        scope = {"county": filters.county}
        if row is not table.total:
            scope = {"county": row["key"]} if name == "county" else {"county": filters.county,
                                                                      "institution_id": row["key"]}
        scope = {key: value for key, value in scope.items() if value}
        row["_links"] = {leak: url_for("stats.funnel_leaks", leak=leak, **scope, **dates)
                         for leak in funnel.LEAKS}


@bp.get("/stats/funnel/<leak>")
@roles_required(*ROLES)
def funnel_leaks(leak: str):
    if leak not in funnel.LEAKS:
        abort(404)
    try:
        filters = parse_filters(request.args, current_user)
    except InvalidInput as error:
        return _page("stats/funnel_leaks.html", error.message, leak=leak, title=funnel.LEAKS[leak].title), 400
    except Forbidden:
        abort(403)
    arguments = (leak, filters.county_codes, filters.institution_id, filters.date_from, filters.date_to)
    title, headers = funnel.LEAKS[leak].title, funnel.leak_headers(leak)
    if fmt := query_args.export_format():
        return _export(title, headers, funnel.leak_rows(*arguments), fmt)
    page = Page(query_args.integer("page", 1), funnel.leak_count(*arguments))
    rows = funnel.leak_rows(*arguments, limit=page.per_page, offset=page.offset)
    institution = filters.institution_id and db.session.get(TrainingInstitution, filters.institution_id)
    return _page("stats/funnel_leaks.html", None, leak=leak, title=title, headers=headers, rows=rows,
                 page=page, filters=filters, institution=institution)


@dataclass
class Page:
    """Just what the pager macro reads, for a list counted and sliced by plain queries."""

    page: int
    total: int
    per_page: int = 50

    def __post_init__(self):
        self.page = max(self.page, 1)

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)


# --- shared -------------------------------------------------------------------------------------------------

def _page(template: str, error: str | None, **context):
    """A page with its filter bar; an error (400) shows the bar and the message but no figures."""
    counties = county_choices()
    if current_user.role is Role.COUNTY:
        counties = [(code, label) for code, label in counties if code == current_user.county_code]
    context.setdefault("filters", None)
    return render_template(template, error=error, counties=counties, kinds=list(CertificateKind),
                           dimensions={key: value[0] for key, value in DIMENSIONS.items()},
                           leaks=funnel.LEAKS, is_admin=current_user.role is Role.ADMIN, **context)


def _export(title: str, headers: list[str], rows: list[list], file_format: str):
    """Send a table in the format asked; each export is logged with its filter, like the list exports."""
    data = write_xlsx(headers, rows) if file_format == "xlsx" else write_csv(headers, rows)
    record_event(current_user, "export", "stats_table", None,
                 after={**request.args.to_dict(), "table": title, "rows": len(rows)})
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE if file_format == "xlsx" else "text/csv",
                     as_attachment=True, download_name=f"{title}_{date.today():%Y%m%d}.{file_format}")
