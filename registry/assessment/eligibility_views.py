"""申报条件 page: the administrator views and sets each level's eligibility rule (registry/assessment/eligibility.py),
as `registry eligibility set|clear` does; every change audited, every refusal a Chinese message."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.assessment import eligibility
from registry.assessment.views import bp
from registry.core.access import admin_required
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.models import LEVEL_LABELS

LEVELS = (5, 4, 3, 2, 1)
YEAR_FIELDS = {"previous_level_years": "持低一级证书年限", "work_years": eligibility.WORK_YEARS}


@bp.route("/admin/eligibility", methods=["GET", "POST"], endpoint="eligibility_rules")
@admin_required
def eligibility_page():
    error, failed_level = None, None
    if request.method == "POST":
        form = request.form
        try:
            level = _level(form.get("level"))
            failed_level = level
            if form.get("action") == "clear":
                eligibility.clear_rule(current_user, level)
                message = f"{LEVEL_LABELS[level]}：不再检查申报条件。"
            else:
                rule = eligibility.set_rule(current_user, level, *(_years(form, name) for name in YEAR_FIELDS),
                                            _educations(form.get("education", "")))
                message = f"{LEVEL_LABELS[level]}的申报条件已保存：{eligibility.describe(rule)}。"
        except InvalidInput as failure:
            db.session.rollback()
            error = failure.message
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("assessment.eligibility_rules"))
    rules = {rule.level: rule for rule in eligibility.rules()}
    return render_template("assessment/eligibility.html", levels=LEVELS, level_labels=LEVEL_LABELS, rules=rules,
                           describe=eligibility.describe, error=error, failed_level=failed_level,
                           submitted=request.form if error else {}), 400 if error else 200


def _level(value: str | None) -> int:
    if value not in {str(level) for level in LEVELS}:
        raise InvalidInput("level", f"等级：应为1–5，实为“{value or '（空）'}”")
    return int(value)


def _years(form, name: str) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(name, f"{YEAR_FIELDS[name]}：应为0–{eligibility.MAX_YEARS}的整数，实为“{text}”")
    return int(text)


def _educations(text: str) -> list[str]:
    # The page takes 、，, or line breaks between educations; stored "、"-separated as the command does.
    for separator in ("，", ",", "\n", "\r"):
        text = text.replace(separator, "、")
    return text.split("、")
