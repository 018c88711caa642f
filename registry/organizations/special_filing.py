"""专项职业能力备案: which catalogue items an agency is filed for. Set by the administrator, audited; the caller
commits. An agency may plan batches and issue certificates only for the items it is filed for
(registry/assessment/special_batches.py checks it)."""
from datetime import date

from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.organizations.models import Agency, AgencySpecialItem
from registry.reference.models import SpecialItem


def file_special_item(actor, agency: Agency, special_item_id: int | None, filed_on: date) -> AgencySpecialItem:
    item = db.session.get(SpecialItem, special_item_id) if special_item_id else None
    if item is None or not item.is_active:
        raise InvalidInput("special_item_id", f"专项职业能力项目：未知或已停用的项目 {special_item_id or '（空）'}")
    if agency.files_special_item(item.id):
        raise InvalidInput("special_item_id", f"专项职业能力项目：{agency.name} 已备案 {item.name}")
    if not isinstance(filed_on, date):
        raise InvalidInput("filed_on", "备案日期：不能为空")
    filing = AgencySpecialItem(special_item_id=item.id, filed_on=filed_on)
    agency.special_filings.append(filing)
    db.session.flush()
    record_event(actor, "file_special_item", "agency", agency.id,
                 after={"special_item": item.code, "name": item.name, "filed_on": filed_on.isoformat()})
    return filing


def withdraw_special_item(actor, agency: Agency, special_item_id: int) -> None:
    filing = next((filing for filing in agency.special_filings if filing.special_item_id == special_item_id), None)
    if filing is None:
        raise InvalidInput("special_item_id", f"专项职业能力项目：{agency.name} 未备案该项目")
    item = filing.special_item
    agency.special_filings.remove(filing)
    db.session.flush()
    record_event(actor, "withdraw_special_item", "agency", agency.id,
                 before={"special_item": item.code, "name": item.name, "filed_on": filing.filed_on.isoformat()})
