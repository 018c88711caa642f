"""专项职业能力考核批次: a batch for one item of the 专项 catalogue, without occupation or level. The caller commits.

Results, approval and issuing are those of every batch (registry/assessment/operations.py,
registry/certificates/issue_jobs.py); only planning differs: the agency must be filed for the item
(registry/organizations/special_filing.py), where a skills-level batch must fall inside its filed scope.
"""
from datetime import date

from registry.assessment.models import AssessmentBatch, BatchStatus
from registry.assessment.operations import batch_fields
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.roles import Role
from registry.organizations.models import Agency, AgencyStatus
from registry.reference.checks import current_county
from registry.reference.models import SpecialItem


def create_special_batch(actor, *, agency_id: int | None, special_item_id: int | None, assessed_on: date,
                         assessed_until: date | None = None, county_code: str) -> AssessmentBatch:
    if getattr(actor, "role", None) is Role.AGENCY:
        agency_id = actor.agency_id  # an agency only ever plans its own batches
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None:
        raise InvalidInput("agency_id", f"评价机构：机构 {agency_id or '（空）'} 不存在")
    if agency.status is not AgencyStatus.ACTIVE:
        raise InvalidInput("agency_id", f"评价机构：{agency.name} 备案状态为“{agency.status.label}”，不能安排考核")
    item = db.session.get(SpecialItem, special_item_id) if special_item_id else None
    if item is None or not item.is_active:
        raise InvalidInput("special_item_id", f"专项职业能力项目：未知或已停用的项目 {special_item_id or '（空）'}")
    check_filed(agency, item)
    if not isinstance(assessed_on, date):
        raise InvalidInput("assessed_on", "考核日期：不能为空")
    if assessed_until is not None and assessed_until < assessed_on:
        raise InvalidInput("assessed_until", "结束日期：不能早于考核日期")
    county = current_county(county_code)
    if county is None:
        raise InvalidInput("county_code", f"考核地点：未知或已撤销的县区代码 {county_code or '（空）'}")
    batch = AssessmentBatch(agency_id=agency.id, special_item_id=item.id, occupation_id=None, level=None,
                            assessed_on=assessed_on, assessed_until=assessed_until, county_code=county.code,
                            status=BatchStatus.PLANNED)
    db.session.add(batch)
    db.session.flush()
    record_event(actor, "create", "assessment_batch", batch.id, after=batch_fields(batch))
    return batch


def check_filed(agency: Agency, item: SpecialItem) -> None:
    """An agency assesses and issues only the 专项 items it is filed for (also checked again at issue)."""
    if not agency.files_special_item(item.id):
        raise InvalidInput("special_item_id",
                           f"专项职业能力项目：{agency.name} 未备案“{item.name}”（{item.code}），不能考核或发证")
