"""县区目标: the admin sets every county's target for one indicator on one form — pasted from Excel, or the
city's target split by a stated key, previewed first. A bad row saves nothing; the request commits once."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core.access import admin_required
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.stats import county_targets
from registry.stats.coverage import TARGET_YEAR
from registry.stats.views import bp


@bp.route("/stats/targets", methods=["GET", "POST"], endpoint="county_targets")
@admin_required
def county_targets_page():
    form = request.form if request.method == "POST" else request.args
    indicators = county_targets.settable_indicators()
    context = dict(indicators=indicators, split_keys=county_targets.SPLIT_KEYS, form=form, rows=None,
                   error=None, target_year=TARGET_YEAR, action=form.get("action", ""))
    if request.method == "GET":
        return render_template("stats/targets.html", **context)
    try:
        indicator = county_targets.indicator_or_error(form.get("indicator_key"))
        as_of = county_targets.checked_as_of(form.get("as_of"))
        if form.get("action") in ("preview_split", "save_split"):
            rows = county_targets.split_preview(indicator, form.get("key", ""), as_of)
        else:
            rows = county_targets.parse_paste(indicator, form.get("paste", ""), as_of)
    except InvalidInput as error:
        return render_template("stats/targets.html", **(context | {"error": error.message})), 400
    if form.get("action") == "preview_split":
        return render_template("stats/targets.html", **(context | {"rows": rows, "indicator": indicator}))
    county_targets.save(current_user, indicator, rows)
    db.session.commit()
    for row in rows:
        if row.notice:
            flash(row.notice, "warning")
    flash(f"已保存 {len(rows)} 个县区的{indicator.name}{TARGET_YEAR}年目标。", "success")
    return redirect(url_for("stats.cockpit"))
