"""Tests for unified social credit code validation."""

import pytest
from hypothesis import given, strategies as st

from registry.organizations.credit_code import (
    InvalidCreditCode,
    credit_code_check_char,
    normalize_credit_code,
)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PUBLISHED = "91420000757013137P"


@st.composite
def credit_codes(draw):
    first17 = draw(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
    return first17 + credit_code_check_char(first17)


def test_published_example_passes():
    assert normalize_credit_code(PUBLISHED) == PUBLISHED
    assert credit_code_check_char(PUBLISHED[:17]) == "P"


def test_input_is_normalised():
    assert normalize_credit_code(" ９１４２００００７５７０１３１３７ｐ\u3000") == PUBLISHED


@given(credit_codes())
def test_generated_codes_pass(code):
    assert normalize_credit_code(code) == code
    assert normalize_credit_code(code.lower()) == code


@given(credit_codes(), st.integers(0, 17), st.data())
def test_every_single_character_corruption_fails(code, position, data):
    replacement = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    corrupted = code[:position] + replacement + code[position + 1:]
    with pytest.raises(InvalidCreditCode):
        normalize_credit_code(corrupted)


def test_wrong_check_char_message():
    with pytest.raises(InvalidCreditCode) as excinfo:
        normalize_credit_code(PUBLISHED[:17] + "Q")
    assert str(excinfo.value) == "统一社会信用代码校验码不符：末位 Q 与前17位不一致，请对照营业执照核对"
    assert excinfo.value.message == str(excinfo.value)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letters_are_rejected(letter):
    with pytest.raises(InvalidCreditCode) as excinfo:
        normalize_credit_code(PUBLISHED[:10] + letter + PUBLISHED[11:])
    assert str(excinfo.value) == f"统一社会信用代码包含非法字符 {letter}（不使用 I、O、Z、S、V）"


@pytest.mark.parametrize("raw", [PUBLISHED[:17], PUBLISHED + "0", ""])
def test_wrong_length_is_rejected(raw):
    with pytest.raises(InvalidCreditCode, match="统一社会信用代码"):
        normalize_credit_code(raw)


def test_wrong_length_message_names_the_rule():
    with pytest.raises(InvalidCreditCode, match="^统一社会信用代码应为18位"):
        normalize_credit_code(PUBLISHED[:17])


def test_other_illegal_characters_are_rejected():
    with pytest.raises(InvalidCreditCode, match="非法字符 -"):
        normalize_credit_code("914200-00757013137P")
