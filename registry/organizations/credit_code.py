"""Unified social credit codes (统一社会信用代码, GB 32100-2015)."""

import re
import unicodedata

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}
_WEIGHTS = tuple(pow(3, position, 31) for position in range(17))
# Left out of the alphabet because they are easily mistaken for 1, 0, 2, 5 and U.
_EXCLUDED_LETTERS = "IOZSV"


class InvalidCreditCode(ValueError):
    """A credit code that cannot be accepted; `message` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def credit_code_check_char(first17: str) -> str:
    if len(first17) != 17 or any(char not in _VALUES for char in first17):
        raise InvalidCreditCode("统一社会信用代码前17位包含非法字符")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS))
    return _ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str) -> str:
    code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()
    if not code:
        raise InvalidCreditCode("统一社会信用代码不能为空")
    for char in code:
        if char in _EXCLUDED_LETTERS:
            raise InvalidCreditCode(f"统一社会信用代码包含非法字符 {char}（不使用 I、O、Z、S、V）")
        if char not in _VALUES:
            raise InvalidCreditCode(f"统一社会信用代码包含非法字符 {char}")
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，实为{len(code)}位")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        # As for ID numbers: name the wrong character, never the one that would make the code pass.
        raise InvalidCreditCode(f"统一社会信用代码校验码不符：末位 {code[17]} 与前17位不一致，请对照营业执照核对")
    return code
