"""A county official's home page opens on their county's headline cards — the question they come with is how
far the county is from its targets — through the dashboard's panel hook (registry/people/landing.py)."""
from datetime import date
from typing import Any

from registry.accounts.models import User
from registry.core.roles import Role
from registry.people.landing import Panel, register_panel
from registry.reference.models import CITY_CODE
from registry.reference.queries import current_counties
from registry.stats import indicators, numbers, trend


def county_home(user: User) -> dict[str, Any]:
    names = {county.code: county.name for county in current_counties()}
    as_of = date.today()
    scope = indicators.Scope(user.county_code, names.get(user.county_code, user.county_code))
    return {"scope": scope, "as_of": as_of, "readings": indicators.readings(scope, as_of),
            "city_readings": indicators.readings(indicators.Scope(CITY_CODE, "开封市"), as_of),
            "headline": indicators.HEADLINE, "numbers": numbers, "pace_days": trend.PACE_DAYS}


def init_county_home() -> None:
    register_panel(Role.COUNTY, Panel("stats/home_panel.html", county_home))
