"""Tests for resident ID validation and document normalisation."""

import datetime

import pytest
from hypothesis import given, strategies as st

from registry.people.identity import (
    DocumentType,
    Gender,
    InvalidDocument,
    birth_date_from_resident_id,
    gender_from_resident_id,
    normalize_document,
    normalize_resident_id,
    resident_id_check_char,
)

KNOWN_VALID = ["11010519491231002X", "440524188001010014"]


@st.composite
def resident_ids(draw):
    address = draw(st.integers(100000, 999999))
    born_on = draw(st.dates(datetime.date(1900, 1, 1), datetime.date.today()))
    sequence = draw(st.integers(0, 999))
    first17 = f"{address}{born_on:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_published_vectors_pass(number):
    assert normalize_resident_id(number) == number


def test_check_char_of_published_vectors():
    assert resident_id_check_char("11010519491231002") == "X"
    assert resident_id_check_char("44052418800101001") == "4"


@given(resident_ids())
def test_generated_numbers_pass_and_round_trip(number):
    assert normalize_resident_id(number) == number
    assert normalize_resident_id(normalize_resident_id(number)) == number


@given(resident_ids(), st.integers(0, 17), st.data())
def test_every_single_character_corruption_fails(number, position, data):
    allowed = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in allowed if c != number[position]]))
    corrupted = number[:position] + replacement + number[position + 1:]
    with pytest.raises(InvalidDocument):
        normalize_resident_id(corrupted)


def test_wrong_check_char_message():
    with pytest.raises(InvalidDocument) as excinfo:
        normalize_resident_id("110105194912310023")
    assert str(excinfo.value) == "身份证号码校验码不符：末位 3 与前17位不一致，请对照证件原件核对（系统不提示“正确”的末位，以免照改了错号）"
    assert excinfo.value.message == str(excinfo.value)


def test_fifteen_digit_number_is_converted():
    assert normalize_resident_id("110105491231002") == "11010519491231002X"


def test_full_width_spaces_and_lower_case_x_are_normalised():
    assert normalize_resident_id("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert normalize_resident_id(" 110105 19491231\u3000002x\n") == "11010519491231002X"


@pytest.mark.parametrize("address", ["410211", "410224"])
def test_retired_address_codes_are_accepted(address):
    first17 = f"{address}19800101001"
    number = first17 + resident_id_check_char(first17)
    assert normalize_resident_id(number) == number


def _with_birth_date(digits):
    first17 = f"410202{digits}001"
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("digits", ["19900230", "19491331", "17991231", "00000000"])
def test_impossible_birth_dates_are_rejected(digits):
    with pytest.raises(InvalidDocument, match=f"^身份证号码中的出生日期 {digits} 无效"):
        normalize_resident_id(_with_birth_date(digits))


def test_future_birth_date_is_rejected():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    digits = f"{tomorrow:%Y%m%d}"
    with pytest.raises(InvalidDocument, match=f"^身份证号码中的出生日期 {digits} 无效"):
        normalize_resident_id(_with_birth_date(digits))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1101051949123100", "身份证号码长度应为18位（或15位旧号码）"),
        ("11010519491231002Y", "身份证号码包含非法字符"),
        ("110105-19491231002X", "身份证号码包含非法字符"),
        ("", "身份证号码不能为空"),
    ],
)
def test_malformed_numbers_are_rejected(raw, message):
    with pytest.raises(InvalidDocument) as excinfo:
        normalize_resident_id(raw)
    assert str(excinfo.value) == message


def test_address_code_must_not_start_with_zero():
    first17 = "01010519491231002"
    with pytest.raises(InvalidDocument, match="地址码"):
        normalize_resident_id(first17 + resident_id_check_char(first17))


def test_birth_date_and_gender_are_extracted():
    assert birth_date_from_resident_id("11010519491231002X") == datetime.date(1949, 12, 31)
    assert gender_from_resident_id("11010519491231002X") == Gender.FEMALE
    assert birth_date_from_resident_id("440524188001010014") == datetime.date(1880, 1, 1)
    assert gender_from_resident_id("440524188001010014") == Gender.MALE


def test_labels_are_chinese():
    assert DocumentType.RESIDENT_ID.label == "居民身份证"
    assert DocumentType.HMT_RESIDENCE_PERMIT.label == "港澳台居民居住证"
    assert DocumentType.PASSPORT.label == "护照"
    assert DocumentType.OTHER.label == "其他证件"
    assert Gender.MALE.label == "男" and Gender.FEMALE.label == "女"


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hmt_permit_is_validated_like_resident_id(prefix):
    first17 = f"{prefix}19900101001"
    number = first17 + resident_id_check_char(first17)
    assert normalize_document(DocumentType.HMT_RESIDENCE_PERMIT, number.lower()) == number


def test_hmt_permit_requires_region_prefix():
    with pytest.raises(InvalidDocument, match="810000"):
        normalize_document(DocumentType.HMT_RESIDENCE_PERMIT, "11010519491231002X")


def test_hmt_permit_with_bad_check_char_is_rejected():
    first17 = "81000019900101001"
    wrong = "0" if resident_id_check_char(first17) != "0" else "1"
    with pytest.raises(InvalidDocument, match="校验码"):
        normalize_document(DocumentType.HMT_RESIDENCE_PERMIT, first17 + wrong)


def test_resident_id_dispatch_accepts_string_type():
    assert normalize_document("resident_id", "11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("document_type", "raw", "expected"),
    [
        (DocumentType.PASSPORT, " e１２３４５６７８ ", "E12345678"),
        (DocumentType.PASSPORT, "ab-12\u30003", "AB-123"),
        (DocumentType.OTHER, "h1234567890", "H1234567890"),
    ],
)
def test_opaque_documents_are_normalised(document_type, raw, expected):
    assert normalize_document(document_type, raw) == expected


@pytest.mark.parametrize("raw", ["E1", "", "E123/456", "护照123", "A" * 31])
def test_opaque_documents_are_rejected(raw):
    with pytest.raises(InvalidDocument) as excinfo:
        normalize_document(DocumentType.PASSPORT, raw)
    assert str(excinfo.value) == "证件号码只能包含字母、数字和连字符，长度3–30位"
