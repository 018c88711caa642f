"""Identity documents: types, and validation of resident ID numbers (GB 11643-1999)."""

import datetime
import enum
import operator
import re
import unicodedata


class DocumentType(enum.StrEnum):
    RESIDENT_ID = "resident_id"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    PASSPORT = "passport"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _DOCUMENT_LABELS[self]


_DOCUMENT_LABELS = {
    DocumentType.RESIDENT_ID: "居民身份证",
    DocumentType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    DocumentType.PASSPORT: "护照",
    DocumentType.OTHER: "其他证件",
}


class Gender(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label(self) -> str:
        return "男" if self is Gender.MALE else "女"


class InvalidDocument(ValueError):
    """A document number that cannot be accepted; `message` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# GB 11643's own example (440524188001010014) was born in 1880, so the floor only catches
# typing slips in the century digits, not old but genuine numbers.
_EARLIEST_BIRTH = datetime.date(1800, 1, 1)
# Permits are issued under the address code of the whole region (Hong Kong, Macao, Taiwan).
_HMT_PREFIXES = ("810000", "820000", "830000")
_OPAQUE_NUMBER = re.compile(r"[A-Z0-9-]{3,30}")


def resident_id_check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidDocument("身份证号码前17位应为数字")
    return _CHECK_CHARS[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


def _clean(raw: str) -> str:
    # NFKC folds full-width digits, letters and the ideographic space to ASCII.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def normalize_resident_id(raw: str) -> str:
    number = _clean(raw)
    if not number:
        raise InvalidDocument("身份证号码不能为空")
    if re.search(r"[^0-9X]", number):
        raise InvalidDocument("身份证号码包含非法字符")
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidDocument("15位旧身份证号码应全部为数字")
        # Legacy numbers carry a two-digit year of the 1900s and no check character.
        first17 = number[:6] + "19" + number[6:]
        number = first17 + resident_id_check_char(first17)
    if len(number) != 18:
        raise InvalidDocument("身份证号码长度应为18位（或15位旧号码）")
    if not number[:17].isdigit():
        raise InvalidDocument("身份证号码包含非法字符：X 只能出现在最后一位")
    # Retired address codes stay valid for life, so only the shape of the code is checked.
    if number[0] == "0":
        raise InvalidDocument("身份证号码中的地址码无效：不能以0开头")
    _parse_birth_date(number[6:14])
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        # Never the "right" check character: a clerk would type it in and turn a mistyped number into a
        # valid-looking wrong one.
        raise InvalidDocument(f"身份证号码校验码不符：末位 {number[17]} 与前17位不一致，"
                              "请对照证件原件核对（系统不提示“正确”的末位，以免照改了错号）")
    return number


def _parse_birth_date(digits: str) -> datetime.date:
    try:
        born_on = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidDocument(f"身份证号码中的出生日期 {digits} 无效") from None
    if born_on > datetime.date.today():
        raise InvalidDocument(f"身份证号码中的出生日期 {digits} 无效：晚于今天")
    if born_on < _EARLIEST_BIRTH:
        raise InvalidDocument(f"身份证号码中的出生日期 {digits} 无效：早于1800年")
    return born_on


def birth_date_from_resident_id(number18: str) -> datetime.date:
    return _parse_birth_date(normalize_resident_id(number18)[6:14])


def gender_from_resident_id(number18: str) -> Gender:
    return _gender_of(normalize_resident_id(number18))


def resident_id_facts(normalized: str) -> tuple[Gender, datetime.date]:
    """Sex and birth date of a number normalize_resident_id has already checked: imports ask on every row."""
    return _gender_of(normalized), _parse_birth_date(normalized[6:14])


def _gender_of(number: str) -> Gender:
    return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE


def normalize_hmt_permit(raw: str) -> str:
    # Permits were first issued in 2018, so there is no 15-digit form to convert.
    if len(_clean(raw)) == 15:
        raise InvalidDocument("港澳台居民居住证号码长度应为18位")
    number = normalize_resident_id(raw)
    if not number.startswith(_HMT_PREFIXES):
        raise InvalidDocument("港澳台居民居住证号码应以810000、820000或830000开头")
    return number


def normalize_opaque_number(raw: str) -> str:
    number = _clean(raw)
    if not _OPAQUE_NUMBER.fullmatch(number):
        raise InvalidDocument("证件号码只能包含字母、数字和连字符，长度3–30位")
    return number


def normalize_document(document_type: DocumentType, raw: str) -> str:
    document_type = DocumentType(document_type)
    if document_type is DocumentType.RESIDENT_ID:
        return normalize_resident_id(raw)
    if document_type is DocumentType.HMT_RESIDENCE_PERMIT:
        return normalize_hmt_permit(raw)
    return normalize_opaque_number(raw)
