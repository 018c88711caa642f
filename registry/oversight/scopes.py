"""Who sees and acts on which oversight records: the admin everything, a county official their county, an
agency its own audits, supervision records and roster."""
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch
from registry.core.errors import Forbidden
from registry.core.roles import Role
from registry.organizations.models import Agency, TrainingInstitution
from registry.oversight.models import SamplingAudit, SignalInstance
from registry.training.models import TrainingClass


def readable_signals(user) -> sa.ColumnElement[bool]:
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.COUNTY:
        return SignalInstance.county_code == user.county_code
    return sa.false()


def may_handle_signal(user, instance: SignalInstance) -> bool:
    return user.role is Role.ADMIN or (user.role is Role.COUNTY and instance.county_code == user.county_code)


def readable_audits(user) -> sa.ColumnElement[bool]:
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.COUNTY:
        return SamplingAudit.county_code == user.county_code
    if user.role is Role.AGENCY:
        return SamplingAudit.agency_id == user.agency_id
    return sa.false()


def may_read_audit(user, audit: SamplingAudit) -> bool:
    return (user.role is Role.ADMIN or (user.role is Role.COUNTY and audit.county_code == user.county_code)
            or (user.role is Role.AGENCY and audit.agency_id == user.agency_id))


def may_conduct_audit(user, audit: SamplingAudit) -> bool:
    """The officials who drew it (the admin, or the county it samples) record findings and close it."""
    return user.role is Role.ADMIN or (user.role is Role.COUNTY and audit.county_code == user.county_code)


def agencies_in_county(county_code: str) -> sa.ColumnElement[bool]:
    """Agencies filed in the county, or that held a batch there."""
    return sa.or_(Agency.county_code == county_code,
                  sa.exists().where(AssessmentBatch.agency_id == Agency.id,
                                    AssessmentBatch.county_code == county_code))


def institutions_in_county(county_code: str) -> sa.ColumnElement[bool]:
    return sa.or_(TrainingInstitution.county_code == county_code,
                  sa.exists().where(TrainingClass.institution_id == TrainingInstitution.id,
                                    TrainingClass.county_code == county_code))


def readable_agencies(user) -> sa.ColumnElement[bool]:
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.COUNTY:
        return agencies_in_county(user.county_code)
    if user.role is Role.AGENCY:
        return Agency.id == user.agency_id
    return sa.false()


def check(condition: bool) -> None:
    if not condition:
        raise Forbidden("outside the user's oversight scope")
