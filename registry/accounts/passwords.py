"""Password policy: long enough, not a common password, and not easy to guess (zxcvbn's estimate).

zxcvbn (Dropbox's estimator, Python port on PyPI) ships frequency lists of the 30,000 most common passwords
from public leaks (with pinyin ones such as woaini, 5201314, qq123456), common words and names, and finds
keyboard runs, sequences, repeats and dates; it also catches l33t and reversed spellings of all of them.
"""
from zxcvbn import zxcvbn

from registry.core.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn's score 3: more than 10^8 guesses, "safely unguessable" for an online attack even without throttling.
MIN_SCORE = 3
# zxcvbn's run time grows quickly with length; past this many characters the rest only adds strength.
SCORED_PREFIX = 72
# Words anyone guessing at this registry would try first.
SITE_WORDS = ("kaifeng", "开封", "renshe", "rensheju", "hrss", "zhengshu", "jineng", "registry")

PATTERN_NAMES = {
    "spatial": "键盘序列",
    "repeat": "重复字符",
    "sequence": "连续字符",
    "date": "日期",
    "regex": "年份",
}


def check_password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Raise InvalidInput with the reason in Chinese; `user_inputs` are the account's own names."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"密码：至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", f"密码：最多 {MAX_LENGTH} 位")
    result = zxcvbn(password[:SCORED_PREFIX], user_inputs=[*SITE_WORDS, *(word for word in user_inputs if word)])
    matches = result["sequence"]
    if len(matches) == 1 and matches[0].get("dictionary_name") == "passwords":
        raise InvalidInput("password", "密码：是常见密码，极易被猜中，请换一个")
    if result["score"] < MIN_SCORE:
        found = "、".join(dict.fromkeys(filter(None, map(_describe, matches))))
        raise InvalidInput("password", "密码：强度不足，容易被猜到" + (f"（含{found}）" if found else "")
                           + "，请用更长的密码，例如几个不相关的词加数字")


def _describe(match: dict) -> str | None:
    """What a guesser would try first, named so the user knows what to change."""
    if match["pattern"] == "dictionary":
        if match["dictionary_name"] == "user_inputs":
            return f"用户名、姓名或本系统名称“{match['token']}”"
        if match["dictionary_name"] == "passwords":
            return f"常见密码“{match['token']}”"
        return f"常见单词或姓名“{match['token']}”"
    if label := PATTERN_NAMES.get(match["pattern"]):
        return f"{label}“{match['token']}”"
    return None
