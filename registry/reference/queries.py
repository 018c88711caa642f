"""Read-only look-ups of reference data used by forms across the registry."""
import sqlalchemy as sa

from registry.core.db import db
from registry.reference.models import CITY_CODE, County, Occupation, Program


def county_choices(include_city: bool = False) -> list[tuple[str, str]]:
    statement = sa.select(County.code, County.name).where(County.is_current).order_by(County.code)
    if not include_city:
        statement = statement.where(County.code != CITY_CODE)
    return [(code, f"{name}（{code}）") for code, name in db.session.execute(statement)]


def occupation_choices() -> list[tuple[int, str]]:
    statement = sa.select(Occupation).where(Occupation.is_active).order_by(Occupation.code)
    return [(occupation.id, str(occupation)) for occupation in db.session.scalars(statement)]


def program_choices() -> list[tuple[str, str]]:
    return [(program.key, program.name) for program in db.session.scalars(sa.select(Program).order_by(Program.name))]


def resolve_county(code: str) -> County | None:
    """A county by code; a retired code resolves to the county that replaced it."""
    county = db.session.get(County, code.strip())
    if county is not None and not county.is_current and county.successor is not None:
        return county.successor
    return county
