"""Drill-down and funnel pages of the cockpit (added to the `stats` blueprint): a filter bar, tables with
server-drawn charts, the lists behind each funnel leak, and every table as .xlsx or CSV exactly as shown."""
from dataclasses import dataclass
from datetime import date

from flask import abort, jsonify, render_template, request, url_for
from flask_login import current_user

from registry.core.access import roles_required
from registry.core.roles import Role
from registry.certificates.models import CertificateKind
from registry.core import arguments as query_args  # `arguments` names a query's arguments here
from registry.core.arguments import MAX_ID, BadArgument
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core import background_files
from registry.core.exports import send_export, send_export_file
from registry.organizations.models import TrainingInstitution
from registry.reference.queries import county_choices
from registry.stats import drilldown_tables, funnel, leak_exports
from registry.stats.charts import bar_chart, line_chart
from registry.stats.filters import ROLES, Filters, parse_filters
from registry.stats.tables import DIMENSIONS, FUNNEL_TABLES, drilldown_table, funnel_tables, recent_months
from registry.stats.views import bp

CHART_BARS = 20  # the table lists every row; a chart of hundreds of institutions would be unreadable



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


def _charts(table: drilldown_tables.Table, dimension: str) -> list[tuple[str, object]]:
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


def _link_leaks(table: drilldown_tables.Table, name: str, filters: Filters) -> None:
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
        total = funnel.leak_count(*arguments)
        if total <= leak_exports.inline_limit():
            return _export(title, headers, funnel.leak_rows(*arguments), fmt)
        return _leak_file(leak_exports.export_for(current_user.id, *arguments, fmt), title, total)
    page = Page(query_args.integer("page", 1), funnel.leak_count(*arguments))
    cursors = funnel.page_cursors(*arguments, page=page.page, total=page.total, after=_cursor("after"),
                                  before=_cursor("before"))
    page.first_cursor, page.last_cursor = (cursors[0], cursors[-1]) if cursors else (None, None)
    rows = funnel.leak_rows(*arguments, cursors=cursors)
    institution = filters.institution_id and db.session.get(TrainingInstitution, filters.institution_id)
    return _page("stats/funnel_leaks.html", None, leak=leak, title=title, headers=headers, rows=rows,
                 page=page, filters=filters, institution=institution)


@bp.get("/stats/funnel/<leak>/export-progress")
@roles_required(*ROLES)
def funnel_leak_export_progress(leak: str):
    if leak not in funnel.LEAKS:
        abort(404)
    filters = parse_filters(request.args, current_user)
    fmt = query_args.export_format() or "xlsx"
    export = leak_exports.export_for(current_user.id, leak, filters.county_codes, filters.institution_id,
                                     filters.date_from, filters.date_to, fmt)
    return jsonify(background_files.status_of(export))


def _leak_file(export: leak_exports.LeakExport, title: str, total: int):
    """A long list: the file once the worker has written it, until then a page that follows its progress."""
    status = leak_exports.requested(export, total, retry=request.args.get("retry") == "1")
    if status["state"] == "ready":
        facts = export.facts()
        return send_export_file(title, export.path, facts.get("rows", 0), "stats_table", export.fmt,
                                audit={"table": title, "written_at": facts.get("written_at")})
    leak = export.leak_arguments[0]
    arguments = {key: value for key, value in request.args.items() if key != "retry"}
    listed = {key: value for key, value in arguments.items() if key != "format"}
    return _page("stats/leak_export.html", None, title=title, status=status, total=total, fmt=export.fmt,
                 list_url=url_for("stats.funnel_leaks", leak=leak, **listed),
                 file_url=url_for("stats.funnel_leaks", leak=leak, **arguments),
                 progress_url=url_for("stats.funnel_leak_export_progress", leak=leak, **arguments)), 202


def _cursor(name: str) -> funnel.Cursor | None:
    """A pager link's position "YYYY-MM-DD.ID" (an enrolment day and id); a garbled one is a 400."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    day, _, number = text.partition(".")
    try:
        cursor = date.fromisoformat(day), int(number)
    except ValueError:
        raise BadArgument(name, f"{name}：分页位置应为“日期.编号”，实为“{text[:40]}”") from None
    if not number.isascii() or not number.isdigit() or not 0 < cursor[1] <= MAX_ID:
        raise BadArgument(name, f"{name}：分页位置应为“日期.编号”，实为“{text[:40]}”")
    return cursor


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

    # Where the rows shown start and end, for the keyset links of the pager (funnel_leaks).
    first_cursor: object = None
    last_cursor: object = None

    def cursor_args(self) -> dict:
        """The query arguments of the previous and next page: a keyset step, and the page number to show."""
        steps = {}
        if self.has_prev and self.first_cursor:
            steps["prev"] = {"page": self.prev_num, "before": _cursor_text(self.first_cursor), "after": None}
        if self.has_next and self.last_cursor:
            steps["next"] = {"page": self.next_num, "after": _cursor_text(self.last_cursor), "before": None}
        return steps

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)


def _cursor_text(cursor) -> str:
    return f"{cursor[0].isoformat()}.{cursor[1]}"


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
    """A table in the format asked, logged with its filter like the list exports."""
    return send_export(title, headers, rows, "stats_table", file_format, audit={"table": title})
