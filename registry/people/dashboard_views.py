"""The dashboard (首页): each role's landing page after sign-in, with its few figures (registry/people/landing.py)."""
from flask import Blueprint, render_template
from flask_login import current_user

from registry.core.access import any_role_required
from registry.people.landing import landing_figures, landing_panels

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@any_role_required
def index():
    return render_template("people/dashboard.html", figures=landing_figures(current_user),
                           panels=landing_panels(current_user))
