"""The few figures each role's dashboard (its landing page) opens with: counts of organisations and persons,
or the user's own organisation; and the panels higher areas add to a role's dashboard.

The dashboard lives here, below training and assessment, so it cannot import what they know. An area above
registers a panel instead (register_panel): a template and a function giving its context for the user, called
when the page is built. The app factory installs the panels (registry/app.py), as it installs the statistics'
hooks, so nothing depends on which module happened to be imported first.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from registry.accounts.models import User
from registry.core import row_counts
from registry.core.roles import Role
from registry.core.db import db
from registry.organizations.models import Agency, AgencyStatus, TrainingInstitution
from registry.people.models import Person


def _count(statement: sa.Select) -> int:
    return db.session.scalar(statement) or 0


def landing_figures(user: User) -> list[tuple[str, object]]:
    if user.role is Role.ADMIN:
        return [
            ("备案评价机构（正常）", _count(sa.select(sa.func.count()).where(Agency.status == AgencyStatus.ACTIVE))),
            ("培训机构", _count(sa.select(sa.func.count(TrainingInstitution.id)))),
            ("登记人员", row_counts.rows_in(Person.__tablename__)),
        ]
    if user.role is Role.COUNTY:
        return [
            ("本县区登记人员", row_counts.rows_in(Person.__tablename__, user.county_code)),
            ("本县区培训机构", _count(
                sa.select(sa.func.count(TrainingInstitution.id)).where(TrainingInstitution.county_code == user.county_code)
            )),
        ]
    if user.role is Role.AGENCY:
        agency = user.agency
        return [("机构状态", agency.status.label), ("备案范围条目", len(agency.scopes)), ("证书编号前缀", agency.number_prefix)]
    institution = user.institution
    return [("机构类型", institution.kind.label), ("统一社会信用代码", institution.credit_code)]


@dataclass(frozen=True)
class Panel:
    """A block of a role's dashboard (首页) that a higher area fills: its template and its context."""
    template: str
    context: Callable[[User], dict[str, Any]]


PANELS: dict[Role, list[Panel]] = {}


def register_panel(role: Role, panel: Panel) -> None:
    """Add a panel to the role's dashboard; registering the same template again replaces it (an app factory
    may run more than once in a process, as the tests do)."""
    panels = PANELS.setdefault(role, [])
    panels[:] = [each for each in panels if each.template != panel.template] + [panel]


def landing_panels(user: User) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of each panel of the user's role, in the order registered."""
    return [(panel.template, panel.context(user)) for panel in PANELS.get(user.role, [])]
