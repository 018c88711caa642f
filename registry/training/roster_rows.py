"""Parsing the roster's own cells; the person cells every import shares are in registry.people.person_rows."""
import re
from typing import Any

from registry.core.imports import RowError
from registry.people.identity import Gender
from registry.people.models import KEY_GROUP_LABELS

GENDER, PHONE, KEY_GROUPS, ENROLLED_ON = "性别", "手机号码", "重点群体", "入班日期"

GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE}
GROUPS_BY_LABEL = {label: int(group) for group, label in KEY_GROUP_LABELS.items()}
GROUP_SEPARATORS = re.compile(r"[、,，;；/\s]+")


def parse_gender(value: Any) -> Gender | None:
    text = str(value or "").strip()
    if not text:
        return None
    if text not in GENDERS:
        raise RowError(GENDER, f"应为“男”或“女”，实为“{text}”")
    return GENDERS[text]


def parse_phone(value: Any) -> str | None:
    text = re.sub(r"[\s-]", "", str(value or ""))
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text:
        return None
    if not re.fullmatch(r"\+?\d{5,20}", text):
        raise RowError(PHONE, f"格式不正确：{value}")
    return text


def parse_key_groups(value: Any) -> int:
    text = str(value or "").strip()
    flags = 0
    for label in filter(None, GROUP_SEPARATORS.split(text)):
        if label not in GROUPS_BY_LABEL:
            raise RowError(KEY_GROUPS, f"未知的重点群体：{label}（可填 {'、'.join(GROUPS_BY_LABEL)}，用顿号分隔）")
        flags |= GROUPS_BY_LABEL[label]
    return flags
