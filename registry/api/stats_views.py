"""Statistics over the API: the cockpit's coverage figures, drill-downs and funnel as JSON, with the pages'
filters and scope (registry/stats/filters.py)."""
from flask import g, jsonify, request

from registry.api.auth import api_access
from registry.api.errors import ApiError
from registry.api.schemas import ID
from registry.api.spec import documented, exactly
from registry.api.views import bp
from registry.core.errors import Forbidden, InvalidInput
from registry.stats import coverage as coverage_queries, drilldown_tables, drilldowns
from registry.stats.filters import ROLES, parse_as_of, parse_filters, visible_counties
from registry.stats.tables import DIMENSIONS, drilldown_table, funnel_tables, recent_months

FILTER_QUERY = [
    {"name": "county", "in": "query", "schema": {"type": "string"}},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "kind", "in": "query", "schema": {"type": "string"}},
    {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": drilldowns.MAX_TOP}},
    {"name": "institution_id", "in": "query", "schema": ID},
]
# A row maps column keys to plain values: a label, a count, or a rate (0–1, null without a denominator).
ROW = {"type": "object", "additionalProperties": {"type": ["string", "integer", "number", "null"]}}
TABLE = exactly({
    "title": {"type": "string"},
    "columns": {"type": "array", "items": exactly({
        "key": {"type": "string"}, "header": {"type": "string"}, "is_rate": {"type": "boolean"}})},
    "rows": {"type": "array", "items": ROW}, "total": ROW | {"type": ["object", "null"]}})


def table_json(table: drilldown_tables.Table) -> dict:
    def plain(row: dict | None) -> dict | None:
        return None if row is None else {key: value for key, value in row.items() if not key.startswith("_")}

    return {"title": table.title,
            "columns": [{"key": c.key, "header": c.header, "is_rate": c.is_rate} for c in table.columns],
            "rows": [plain(row) for row in table.rows], "total": plain(table.total)}


def _filters():
    try:
        return parse_filters(request.args, g.api_user)
    except InvalidInput as error:
        raise ApiError(400, error.message, [{"field": error.field}]) from None
    except Forbidden:
        raise ApiError(403, "只能查看本县区的统计") from None


# Declared with the other operations whose schemas need the areas' types (registry/api/openapi.py).
@bp.get("/api/v1/stats/coverage")
@api_access(*ROLES)
def coverage():
    try:
        as_of = parse_as_of(request.args.get("as_of"))
        counties = visible_counties(g.api_user, request.args.get("county") or None)
    except InvalidInput as error:
        raise ApiError(400, error.message, [{"field": error.field}], code="invalid") from None
    except Forbidden as error:
        raise ApiError(403, str(error)) from None
    city, rows = coverage_queries.coverage(as_of, counties)
    return jsonify(as_of=as_of.isoformat(), city=city.as_json() | {"baseline_2020": coverage_queries.baseline_2020()},
                   counties=[row.as_json() for row in rows])


@bp.get("/api/v1/stats/drilldowns/<dimension>")
@api_access(*ROLES)
@documented("GET", "/api/v1/stats/drilldowns/{dimension}", "统计分项（按等级、职业、重点群体、专项工程、评价机构、培训机构、月份）",
            "statistics", response=TABLE, statuses=(400, 401, 403, 404), query=[
                {"name": "dimension", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": list(DIMENSIONS)}}, *FILTER_QUERY])
def drilldown(dimension: str):
    if dimension not in DIMENSIONS:
        raise ApiError(404, f"未知的统计分项：{dimension}（可用：{'、'.join(DIMENSIONS)}）")
    filters = _filters()
    if dimension == "month" and filters.date_from is None:
        filters = recent_months(filters)
    return jsonify(table_json(drilldown_table(dimension, filters)))


@bp.get("/api/v1/stats/funnel")
@api_access(*ROLES)
@documented("GET", "/api/v1/stats/funnel", "培训—认定—取证漏斗（按县区、按培训机构）", "statistics",
            query=FILTER_QUERY, statuses=(400, 401, 403),
            response=exactly({"county": TABLE, "institution": TABLE}))
def funnel():
    return jsonify({name: table_json(table) for name, table in funnel_tables(_filters()).items()})
