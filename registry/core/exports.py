"""List exports (.xlsx or CSV): in the page's order, audited with their filter, sent as a dated attachment."""
import io
from datetime import date

import sqlalchemy as sa
from flask import request, send_file
from flask_login import current_user

from registry.core.audit import record_event
from registry.core.db import db
from registry.core.listing import current_sorting, ordering
from registry.core.spreadsheet_files import write_csv, write_xlsx

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"xlsx": XLSX_MIMETYPE, "csv": "text/csv"}


def sorted_statement(statement: sa.Select, columns: dict, default: str, tie_breaker,
                     newest_first: bool = False) -> sa.Select:
    """The export's order is the page's order, so the file reads like the list on screen."""
    sorting = current_sorting(columns, default, newest_first)
    return statement.order_by(*ordering(columns[sorting.key], [tie_breaker], sorting.descending))


def send_export(title: str, headers: list[str], rows: list[list], entity_type: str, fmt: str, *,
                audit: dict | None = None, dated: date | None = None):
    """A list export carries personal data out of the registry, so each one is logged with its filter (the
    query string) and what it held: by default {"list": title, "rows": n}, or `audit` with "rows" added.
    The request commits here, after the audit record. The file is named after the title and `dated` (today)."""
    data = write_xlsx(headers, rows, title) if fmt == "xlsx" else write_csv(headers, rows)
    return send_export_file(title, io.BytesIO(data), len(rows), entity_type, fmt, audit=audit, dated=dated)


def send_export_file(title: str, source, rows: int, entity_type: str, fmt: str, *, audit: dict | None = None,
                     dated: date | None = None):
    """send_export for a file already written (a path or a file object) of `rows` rows."""
    record_event(current_user, "export", entity_type, None,
                 after={**request.args.to_dict(), **(audit or {"list": title}), "rows": rows})
    db.session.commit()
    response = send_file(source, mimetype=MEDIA_TYPES[fmt], as_attachment=True,
                         download_name=f"{title}_{dated or date.today():%Y%m%d}.{fmt}")
    response.headers["Cache-Control"] = "no-store"  # personal data: no browser or proxy keeps a copy
    return response
