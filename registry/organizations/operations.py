"""Organisation operations: filing agencies and their scope, registering institutions. The caller commits."""
import re
from datetime import date

import sqlalchemy as sa

from registry.core.audit import changes, record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.checks import checked_work_type, current_county_code
from registry.organizations.credit_code import InvalidCreditCode, normalize_credit_code
from registry.organizations.models import (
    Agency, AgencyScope, AgencyStatus, AgencyType, InstitutionKind, TrainingInstitution,
)
from registry.reference.models import LEVEL_LABELS, Occupation

DEFAULT_MINISTRY_CODE = "0000"
# [0-9] rather than \d: \d also accepts full-width and other Unicode digits.
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIX_DIGITS = re.compile(r"[0-9]{6}")


# --- agencies ---------------------------------------------------------------------------------------------

def agency_fields(agency: Agency) -> dict:
    return {
        "name": agency.name,
        "agency_type": agency.agency_type.value,
        "ministry_code": agency.ministry_code,
        "site_code": agency.site_code,
        "filing_number": agency.filing_number,
        "credit_code": agency.credit_code,
        "filed_on": agency.filed_on.isoformat(),
        "county_code": agency.county_code,
        "status": agency.status.value,
    }


def create_agency(
    actor, *, name: str, agency_type: AgencyType | str, site_code: str, filing_number: str, filed_on: date,
    county_code: str, ministry_code: str = DEFAULT_MINISTRY_CODE,
    status: AgencyStatus | str = AgencyStatus.ACTIVE, credit_code: str | None = None,
) -> Agency:
    values = _agency_values(None, name, agency_type, ministry_code, site_code, filing_number, filed_on,
                            county_code, status, credit_code)
    agency = Agency(**values)
    db.session.add(agency)
    db.session.flush()
    record_event(actor, "create", "agency", agency.id, after=agency_fields(agency))
    return agency


def update_agency(
    actor, agency: Agency, *, name: str, agency_type: AgencyType | str, ministry_code: str, site_code: str,
    filing_number: str, filed_on: date, county_code: str, status: AgencyStatus | str,
    credit_code: str | None = None,
) -> None:
    # Everything is checked before any attribute changes, so a look-up never autoflushes a half-edited row.
    values = _agency_values(agency, name, agency_type, ministry_code, site_code, filing_number, filed_on,
                            county_code, status, credit_code)
    before = agency_fields(agency)
    for key, value in values.items():
        setattr(agency, key, value)
    old, new = changes(before, agency_fields(agency))
    if new:
        record_event(actor, "update", "agency", agency.id, before=old, after=new)


def _agency_values(agency: Agency | None, name, agency_type, ministry_code, site_code, filing_number,
                   filed_on, county_code, status, credit_code=None) -> dict:
    others = sa.true() if agency is None else Agency.id != agency.id
    # The name is printed on certificates exactly as filed: only surrounding blanks are dropped.
    name = _required_text("name", "机构名称", name, 120)
    if db.session.scalar(sa.select(Agency.id).where(Agency.name == name, others)):
        raise InvalidInput("name", f"机构名称：{name} 已备案")
    ministry_code = (ministry_code or "").strip()
    if not _FOUR_DIGITS.fullmatch(ministry_code):
        raise InvalidInput("ministry_code", f"人社部机构代码：应为4位数字（省级备案填 {DEFAULT_MINISTRY_CODE}）")
    site_code = (site_code or "").strip()
    if not _SIX_DIGITS.fullmatch(site_code):
        raise InvalidInput("site_code", "站点序列码：应为6位数字")
    if db.session.scalar(sa.select(Agency.id).where(Agency.site_code == site_code, others)):
        raise InvalidInput("site_code", f"站点序列码：{site_code} 已被其他评价机构使用")
    if not isinstance(filed_on, date):
        raise InvalidInput("filed_on", "备案日期：不能为空")
    return {
        "name": name,
        "agency_type": _member(AgencyType, agency_type, "agency_type", "机构类型"),
        "ministry_code": ministry_code,
        "site_code": site_code,
        "filing_number": _required_text("filing_number", "备案编号", filing_number, 60),
        "credit_code": _optional_credit_code(credit_code),
        "filed_on": filed_on,
        "county_code": current_county_code(county_code),
        "status": _member(AgencyStatus, status, "status", "备案状态"),
    }


def _optional_credit_code(raw: str | None) -> str | None:
    """A blank code is allowed (an agency filed before it was asked for); a typed one must pass GB 32100."""
    if not (raw or "").strip():
        return None
    try:
        return normalize_credit_code(raw)
    except InvalidCreditCode as error:
        raise InvalidInput("credit_code", "统一社会信用代码：" + error.message.removeprefix("统一社会信用代码")) from None


# --- filed scope ------------------------------------------------------------------------------------------

def scope_fields(scope: AgencyScope) -> dict:
    return {
        "agency_id": scope.agency_id,
        "occupation_id": scope.occupation_id,
        "work_type": scope.work_type,
        "lowest_level": scope.lowest_level,
        "highest_level": scope.highest_level,
        "valid_from": scope.valid_from.isoformat(),
        "valid_to": scope.valid_to.isoformat() if scope.valid_to else None,
    }


def add_scope(
    actor, agency: Agency, occupation_id: int | None, work_type: str | None, lowest_level: int,
    highest_level: int, valid_from: date, valid_to: date | None,
) -> AgencyScope:
    occupation = db.session.get(Occupation, occupation_id) if occupation_id is not None else None
    if occupation is None or not occupation.is_active:
        raise InvalidInput("occupation_id", f"职业：未知或已停用的职业 {occupation_id or '（空）'}")
    work_type = checked_work_type(occupation, work_type)
    _check_level_range(occupation, lowest_level, highest_level)
    if not isinstance(valid_from, date):
        raise InvalidInput("valid_from", "有效期起：不能为空")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput("valid_to", f"有效期止：{valid_to.isoformat()} 早于有效期起 {valid_from.isoformat()}")
    scope = AgencyScope(occupation_id=occupation.id, work_type=work_type, lowest_level=lowest_level,
                        highest_level=highest_level, valid_from=valid_from, valid_to=valid_to)
    agency.scopes.append(scope)
    db.session.flush()
    record_event(actor, "create", "agency_scope", scope.id, after=scope_fields(scope))
    return scope


def remove_scope(actor, scope: AgencyScope) -> None:
    before = scope_fields(scope)
    scope_id = scope.id
    scope.agency.scopes.remove(scope)
    db.session.flush()
    record_event(actor, "delete", "agency_scope", scope_id, before=before)


def _check_level_range(occupation: Occupation, lowest_level: int, highest_level: int) -> None:
    bounds = (("lowest_level", "最低等级", lowest_level), ("highest_level", "最高等级", highest_level))
    for field, label, level in bounds:
        if level not in LEVEL_LABELS:
            raise InvalidInput(field, f"{label}：应为1–5的等级数字，实为 {level}")
    # Digits run backwards: 5 is 五级/初级工, 1 is 一级/高级技师, so the higher level has the smaller digit.
    if highest_level > lowest_level:
        raise InvalidInput("highest_level", f"最高等级：{LEVEL_LABELS[highest_level]} 低于最低等级"
                                            f" {LEVEL_LABELS[lowest_level]}")
    for level in range(highest_level, lowest_level + 1):
        if level not in occupation.allowed_levels:
            field = "lowest_level" if level == lowest_level else "highest_level"
            raise InvalidInput(field, f"等级：职业 {occupation} 没有 {LEVEL_LABELS[level]}")


# --- training institutions --------------------------------------------------------------------------------

def institution_fields(institution: TrainingInstitution) -> dict:
    return {
        "name": institution.name,
        "credit_code": institution.credit_code,
        "kind": institution.kind.value,
        "county_code": institution.county_code,
        "is_active": institution.is_active,
    }


def create_institution(
    actor, *, name: str, credit_code: str, kind: InstitutionKind | str, county_code: str,
    is_active: bool = True,
) -> TrainingInstitution:
    values = _institution_values(None, name, credit_code, kind, county_code, is_active)
    institution = TrainingInstitution(**values)
    db.session.add(institution)
    db.session.flush()
    record_event(actor, "create", "institution", institution.id, after=institution_fields(institution))
    return institution


def update_institution(
    actor, institution: TrainingInstitution, *, name: str, credit_code: str, kind: InstitutionKind | str,
    county_code: str, is_active: bool,
) -> None:
    values = _institution_values(institution, name, credit_code, kind, county_code, is_active)
    before = institution_fields(institution)
    for key, value in values.items():
        setattr(institution, key, value)
    old, new = changes(before, institution_fields(institution))
    if new:
        record_event(actor, "update", "institution", institution.id, before=old, after=new)


def _institution_values(institution: TrainingInstitution | None, name, credit_code, kind, county_code,
                        is_active) -> dict:
    try:
        credit_code = normalize_credit_code(credit_code)
    except InvalidCreditCode as error:
        raise InvalidInput("credit_code", "统一社会信用代码：" + error.message.removeprefix("统一社会信用代码")) from None
    others = sa.true() if institution is None else TrainingInstitution.id != institution.id
    holder = db.session.scalar(
        sa.select(TrainingInstitution.name).where(TrainingInstitution.credit_code == credit_code, others)
    )
    if holder:
        raise InvalidInput("credit_code", f"统一社会信用代码：{credit_code} 已登记为 {holder}")
    return {
        "name": _required_text("name", "机构名称", name, 120),
        "credit_code": credit_code,
        "kind": _member(InstitutionKind, kind, "kind", "机构类型"),
        "county_code": current_county_code(county_code),
        "is_active": bool(is_active),
    }


# --- shared checks ----------------------------------------------------------------------------------------

def _required_text(field: str, label: str, value: str | None, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field, f"{label}：不能为空")
    if len(value) > max_length:
        raise InvalidInput(field, f"{label}：最多{max_length}个字符")
    return value


def _member(enum_class, value, field: str, label: str):
    try:
        return enum_class(value)
    except ValueError:
        raise InvalidInput(field, f"{label}：无效的选项 {value}") from None
