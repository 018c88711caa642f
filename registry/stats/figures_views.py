"""The public figures page (/figures): no sign-in, no personal data, cacheable for a few minutes."""
from datetime import date

from flask import make_response, render_template, request
from flask_login import current_user

from registry.stats import numbers
from registry.stats.coverage import TARGET_YEAR
from registry.stats.public import FIGURES, public_figures
from registry.stats.views import bp

# The kept totals change with every certificate; five minutes old is fresh enough for the public page and
# lets a proxy answer a crowd (the day figures are announced) without touching the database.
PUBLIC_MAX_AGE = 300


@bp.get("/figures")
def public():
    as_of = date.today()
    city, counties = public_figures(as_of)
    response = make_response(render_template(
        "stats/public.html", city=city, counties=counties, figures=FIGURES, as_of=as_of, target_year=TARGET_YEAR,
        numbers=numbers))
    # A signed-in visitor's copy carries their name in the header bar, so only an anonymous one may be shared.
    if current_user.is_authenticated:
        response.cache_control.private = True
        response.cache_control.no_store = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    response.vary.add("Cookie")
    response.add_etag()
    return response.make_conditional(request)
