"""Parsing one roster cell at a time; each parser raises RowError naming its column in Chinese."""
import re
from typing import Any

from registry.core.imports import RowError
from registry.people.identity import (
    DocumentType, Gender, InvalidDocument, birth_date_from_resident_id, gender_from_resident_id, normalize_document,
)
from registry.people.models import KEY_GROUP_LABELS

DOCUMENT_TYPE, DOCUMENT_NUMBER, NAME, GENDER = "证件类型", "证件号码", "姓名", "性别"
COUNTY, PHONE, KEY_GROUPS, ENROLLED_ON = "所在县区", "手机号码", "重点群体", "入班日期"

DOCUMENT_TYPES = {document_type.label: document_type for document_type in DocumentType} | {
    "身份证": DocumentType.RESIDENT_ID, "居住证": DocumentType.HMT_RESIDENCE_PERMIT}
GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE}
GROUPS_BY_LABEL = {label: int(group) for group, label in KEY_GROUP_LABELS.items()}
GROUP_SEPARATORS = re.compile(r"[、,，;；/\s]+")


def parse_document(values: dict[str, Any]) -> tuple[DocumentType, str]:
    label = str(values.get("document_type") or "").strip()
    document_type = DOCUMENT_TYPES.get(label or "居民身份证")
    if document_type is None:
        raise RowError(DOCUMENT_TYPE, f"未知的证件类型：{label}（可填 {'、'.join(t.label for t in DocumentType)}）")
    raw = values.get("document_number")
    if isinstance(raw, float) or (isinstance(raw, int) and len(str(raw)) > 15):
        # Excel keeps 15 significant digits: an ID typed into a number cell has already lost its tail.
        raise RowError(DOCUMENT_NUMBER, "被 Excel 存成了数字，末尾几位已丢失；请将该列设为“文本”后重新录入")
    if raw is None or not str(raw).strip():
        raise RowError(DOCUMENT_NUMBER, "不能为空")
    try:
        return document_type, normalize_document(document_type, str(raw))
    except InvalidDocument as error:
        raise RowError(DOCUMENT_NUMBER, error.message) from None


def identity_facts(document_type: DocumentType, number: str) -> tuple[Gender | None, Any]:
    """Sex and birth date stated by a resident ID number; nothing for other documents."""
    if document_type is not DocumentType.RESIDENT_ID:
        return None, None
    return gender_from_resident_id(number), birth_date_from_resident_id(number)


def parse_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise RowError(NAME, "不能为空")
    if len(name) > 60:
        raise RowError(NAME, "最多60个字符")
    return name


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
