"""Read-only oversight figures for other pages: open signals and audits per county and per agency."""
from dataclasses import dataclass

import sqlalchemy as sa

from registry.core.db import db
from registry.core.roles import Role
from registry.organizations.models import Agency
from registry.oversight.models import AuditStatus, SamplingAudit, SignalInstance, SignalStatus

OPEN_SIGNAL = sa.and_(SignalInstance.is_current, SignalInstance.status.in_([SignalStatus.OPEN,
                                                                            SignalStatus.EXPLAINED]))


@dataclass
class OpenWork:
    label: str
    signals: int = 0
    audits: int = 0


def open_work(user) -> tuple[list[OpenWork], list[OpenWork]]:
    """(per county, per agency) open signals (待处理/已说明, still found) and open audits the user may see."""
    signal_scope = SignalInstance.county_code == user.county_code if user.role is Role.COUNTY else sa.true()
    audit_scope = SamplingAudit.county_code == user.county_code if user.role is Role.COUNTY else sa.true()
    counties: dict[str, OpenWork] = {}
    agencies: dict[int, OpenWork] = {}
    for county, agency, name, number in db.session.execute(
            sa.select(SignalInstance.county_code, SignalInstance.agency_id, Agency.name, sa.func.count())
            .outerjoin(Agency, Agency.id == SignalInstance.agency_id).where(OPEN_SIGNAL, signal_scope)
            .group_by(SignalInstance.county_code, SignalInstance.agency_id, Agency.name)):
        counties.setdefault(county or "—", OpenWork(county or "—")).signals += number
        if agency:
            agencies.setdefault(agency, OpenWork(name)).signals += number
    for county, agency, name, number in db.session.execute(
            sa.select(SamplingAudit.county_code, SamplingAudit.agency_id, Agency.name, sa.func.count())
            .join(Agency, Agency.id == SamplingAudit.agency_id)
            .where(SamplingAudit.status == AuditStatus.OPEN, audit_scope)
            .group_by(SamplingAudit.county_code, SamplingAudit.agency_id, Agency.name)):
        counties.setdefault(county or "全市", OpenWork(county or "全市")).audits += number
        agencies.setdefault(agency, OpenWork(name)).audits += number
    by_load = lambda row: (-(row.signals + row.audits), row.label)  # noqa: E731
    return sorted(counties.values(), key=by_load), sorted(agencies.values(), key=by_load)
