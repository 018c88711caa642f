"""Checks the other areas' operations make against reference data, each written once: a current county or
district, and a work type (工种) of an occupation. InvalidInput names the field and says why, in Chinese."""
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.models import CITY_CODE, County, Occupation


def current_county(code: str | None) -> County | None:
    """The current county or district with this code; None for an unknown or retired code, or the city's."""
    county = db.session.get(County, code) if code else None
    if county is None or not county.is_current or county.code == CITY_CODE:
        return None
    return county


def current_county_code(code: str | None, field: str = "county_code", label: str = "所在县区") -> str:
    """Organisations sit in one current county or district, never in the city as a whole."""
    code = (code or "").strip()
    county = db.session.get(County, code) if code else None
    if county is None:
        raise InvalidInput(field, f"{label}：未知的县区代码 {code or '（空）'}")
    if county.code == CITY_CODE:
        raise InvalidInput(field, f"{label}：请选择具体县区，不能填市本级代码 {CITY_CODE}")
    if not county.is_current:
        successor = f"，请改用 {county.successor_code}" if county.successor_code else ""
        raise InvalidInput(field, f"{label}：县区代码 {code} 已撤销{successor}")
    return county.code


def checked_work_type(occupation: Occupation, work_type: str | None) -> str | None:
    """The work type as stored (None when blank): one of the occupation's, when it lists any."""
    work_type = (work_type or "").strip() or None
    if work_type is None:
        return None
    if len(work_type) > 60:
        raise InvalidInput("work_type", "工种：最多60个字符")
    if occupation.work_types and work_type not in occupation.work_types:
        raise InvalidInput("work_type", f"工种：职业 {occupation} 没有工种 {work_type}"
                                        f"（可选：{'、'.join(occupation.work_types)}）")
    return work_type
