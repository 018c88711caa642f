"""Demo county targets (演示县区目标): after `registry demo`, each demo county gets plausible 2025 targets and an
employed-persons figure, so a new user's cockpit shows progress and a forecast instead of 未设目标.

Plausible means sized to the fictional registry, not to the real plan: a count's target is what the county
reaches by the end of the demo's campaign (2025-12-31) plus a tenth, so the county stands near 90% at the
end; rates take the plan's own thresholds. Only targets and figures not yet set are written, through the
audited operations, so an administrator's own targets are never overwritten. Never for production."""
import math
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from registry.core.db import db
from registry.demo import COUNTY_WEIGHTS
from registry.reference.models import CountyEmployment, Indicator, Target
from registry.reference.operations import set_employment, set_target
from registry.reference.queries import current_counties
from registry.stats import indicators
from registry.stats.coverage import TARGET_YEAR

CAMPAIGN_END = date(TARGET_YEAR, 12, 31)  # the last day registry.demo_data writes
HEADROOM = Decimal("1.1")  # a count's target: the county's figure at the campaign's end, plus a tenth
# Rates: the plan's threshold (plan_targets.csv) and its comparator.
RATE_TARGETS = {"holder_rate_of_employed": (Decimal(60), ">"), "skilled_share_of_employed": (Decimal(40), "="),
                "high_skilled_share": (Decimal(30), ">=")}
EMPLOYED_PER_HOLDER = 2  # a demo county's employed persons: twice its holders, a 50% rate against the 60% target
EMPLOYMENT_SOURCE = "演示数据（虚构，按持证人数的2倍估算）"


def seed_demo_targets(actor=None) -> int:
    """Targets and employed persons for every demo county that has demo figures; returns how many rows it
    wrote (0 on a second run). The caller commits."""
    units = {key: unit for key, unit in db.session.execute(sa.select(Indicator.key, Indicator.unit))}
    existing = {(key, code) for key, code in db.session.execute(
        sa.select(Target.indicator_key, Target.county_code).where(Target.year == TARGET_YEAR))}
    employed = set(db.session.scalars(sa.select(CountyEmployment.county_code)))
    written = 0
    for county in current_counties():
        if county.code not in COUNTY_WEIGHTS:
            continue
        readings = indicators.readings(indicators.Scope(county.code, county.name), CAMPAIGN_END)
        holders = readings["skilled_holders_total"].value
        if not holders:
            continue  # no demo data in this county (yet)
        if county.code not in employed:
            set_employment(actor, county.code, TARGET_YEAR, holders * EMPLOYED_PER_HOLDER, EMPLOYMENT_SOURCE)
            written += 1
        for key, reading in readings.items():
            if key in indicators.NO_SOURCE or key not in units or (key, county.code) in existing:
                continue
            if reading.definition.is_rate:
                value, comparator = RATE_TARGETS[key]
            elif reading.value:
                value, comparator = _in_unit(math.ceil(reading.value * HEADROOM), units[key]), "="
            else:
                continue  # nothing of this kind in the county: no target to aim at
            set_target(actor, key, county.code, TARGET_YEAR, value, comparator)
            written += 1
    return written


def _in_unit(count: int, unit: str) -> Decimal:
    """A count of persons (人次, 家) in the indicator's unit: 万 units keep four decimals, one person."""
    return Decimal(count) / 10_000 if unit.startswith("万") else Decimal(count)
