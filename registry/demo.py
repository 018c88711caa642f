"""Fictional demo organisations and one account per role, for `make run` (never for production)."""
from datetime import date

import sqlalchemy as sa

from registry.accounts.models import Role, User
from registry.accounts.operations import create_user
from registry.core.db import db
from registry.organizations.models import (
    Agency, AgencyScope, AgencyStatus, AgencyType, InstitutionKind, TrainingInstitution,
)
from registry.reference.models import Occupation
from registry.reference.seeding import SEED_DIR, read_rows

DEMO_DIR = SEED_DIR / "demo"


def seed_demo_organisations() -> int:
    added = 0
    existing_sites = set(db.session.scalars(sa.select(Agency.site_code)))
    occupations = {code: id_ for id_, code in db.session.execute(sa.select(Occupation.id, Occupation.code))}
    for row in read_rows(DEMO_DIR / "agencies.csv"):
        if row["site_code"] in existing_sites:
            continue
        agency = Agency(
            name=row["name"], agency_type=AgencyType(row["agency_type"]), ministry_code=row["ministry_code"],
            site_code=row["site_code"], filing_number=row["filing_number"],
            filed_on=date.fromisoformat(row["filed_on"]), county_code=row["county_code"],
            status=AgencyStatus(row["status"]),
        )
        for scope in read_rows(DEMO_DIR / "agency_scopes.csv"):
            if scope["agency_site_code"] == row["site_code"]:
                agency.scopes.append(AgencyScope(
                    occupation_id=occupations[scope["occupation_code"]], work_type=scope["work_type"] or None,
                    lowest_level=int(scope["lowest_level"]), highest_level=int(scope["highest_level"]),
                    valid_from=date.fromisoformat(scope["valid_from"]),
                    valid_to=date.fromisoformat(scope["valid_to"]) if scope["valid_to"] else None,
                ))
        db.session.add(agency)
        added += 1
    existing_codes = set(db.session.scalars(sa.select(TrainingInstitution.credit_code)))
    for row in read_rows(DEMO_DIR / "institutions.csv"):
        if row["credit_code"] not in existing_codes:
            db.session.add(TrainingInstitution(name=row["name"], credit_code=row["credit_code"],
                                               kind=InstitutionKind(row["kind"]), county_code=row["county_code"]))
            added += 1
    db.session.flush()
    return added


def demo_accounts() -> list[dict[str, str]]:
    return read_rows(DEMO_DIR / "users.csv")


def seed_demo_accounts() -> int:
    added = 0
    for row in demo_accounts():
        if db.session.scalar(sa.select(User.id).where(User.username == row["username"])):
            continue
        organization_id = None
        if row["role"] == Role.AGENCY:
            organization_id = db.session.scalar(sa.select(Agency.id).where(Agency.site_code == row["organization"]))
        elif row["role"] == Role.INSTITUTION:
            organization_id = db.session.scalar(
                sa.select(TrainingInstitution.id).where(TrainingInstitution.credit_code == row["organization"])
            )
        create_user(None, row["username"], row["password"], Role(row["role"]), row["county_code"] or None,
                    organization_id, row["display_name"])
        added += 1
    return added
