"""The few figures each role's dashboard (its landing page) opens with: counts of organisations and persons,
or the user's own organisation."""
import sqlalchemy as sa

from registry.accounts.models import User
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
            ("登记人员", _count(sa.select(sa.func.count(Person.id)))),
        ]
    if user.role is Role.COUNTY:
        return [
            ("本县区登记人员", _count(sa.select(sa.func.count(Person.id)).where(Person.county_code == user.county_code))),
            ("本县区培训机构", _count(
                sa.select(sa.func.count(TrainingInstitution.id)).where(TrainingInstitution.county_code == user.county_code)
            )),
        ]
    if user.role is Role.AGENCY:
        agency = user.agency
        return [("机构状态", agency.status.label), ("备案范围条目", len(agency.scopes)), ("证书编号前缀", agency.number_prefix)]
    institution = user.institution
    return [("机构类型", institution.kind.label), ("统一社会信用代码", institution.credit_code)]
