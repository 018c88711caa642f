"""申报条件 (eligibility): may this candidate be assessed at the batch's level? Any one route of the level's rule.

Checked at the results import, row by row, with the reason in Chinese; an agency may record an exception with a
reason (申报条件例外原因), which is stored with the result, audited, and listed to officials on the batch page.
The certificate route needs the person's certificates, which sit above assessment: the certificates area
registers the look-up here (registry/certificates/awards.py), as it does for the no-double-award rule.
"""
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch, EligibilityRule
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.roles import Role
from registry.reference.models import LEVEL_LABELS

WORK_YEARS, EDUCATION, EXCEPTION = "从事本职业年限", "学历", "申报条件例外原因"
# {person id: the earliest issue date of a valid certificate of `occupation_id` at `level`}
CertificateDates = Callable[[int, int, list[int]], dict[int, date]]
CERTIFICATE_DATES: list[CertificateDates] = []


def register_certificate_dates(finder: CertificateDates) -> CertificateDates:
    if finder not in CERTIFICATE_DATES:
        CERTIFICATE_DATES.append(finder)
    return finder


def rule_for(level: int | None) -> EligibilityRule | None:
    """None for a 专项职业能力 batch (no level): no level's rule applies to it."""
    return db.session.get(EligibilityRule, level) if level is not None else None


def describe(rule: EligibilityRule) -> str:
    """The routes in words: "持五级/初级工证书满4年；从事本职业满6年；学历为技工学校、中等职业学校"."""
    routes = []
    if rule.previous_level_years is not None and rule.level < 5:
        routes.append(f"持本职业{LEVEL_LABELS[rule.level + 1]}证书满{rule.previous_level_years}年")
    if rule.work_years is not None:
        routes.append(f"从事本职业满{rule.work_years}年")
    if rule.educations:
        routes.append(f"学历为{'、'.join(rule.educations)}")
    return "；".join(routes)


def held_since(batch: AssessmentBatch, person_ids: list[int]) -> dict[int, date]:
    """When each person got the certificate one level below the batch's, same occupation (earliest valid)."""
    if batch.level is None or batch.level >= 5 or not person_ids:
        return {}
    found: dict[int, date] = {}
    for finder in CERTIFICATE_DATES:
        for person_id, issued_on in finder(batch.occupation_id, batch.level + 1, person_ids).items():
            found[person_id] = min(issued_on, found.get(person_id, issued_on))
    return found


def parse_work_years(value) -> float | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        years = float(text.removesuffix("年"))
    except ValueError:
        raise InvalidInput("work_years", f"{WORK_YEARS}：应为数字（年），实为“{text}”") from None
    if not 0 <= years <= 60:
        raise InvalidInput("work_years", f"{WORK_YEARS}：应在0–60之间，实为 {text}")
    return years


def refusal(rule: EligibilityRule, batch: AssessmentBatch, since: date | None, work_years: float | None,
            education: str) -> str | None:
    """None when a route is met; else why not, naming the routes and what the row has."""
    if rule.previous_level_years is not None and since is not None and rule.level < 5 \
            and _add_years(since, rule.previous_level_years) <= batch.assessed_on:
        return None
    if rule.work_years is not None and work_years is not None and work_years >= rule.work_years:
        return None
    if education and education in rule.educations:
        return None
    held = (f"{since.isoformat()} 取得{LEVEL_LABELS[rule.level + 1]}证书" if since
            else f"未持本职业{LEVEL_LABELS[rule.level + 1]}证书") if rule.level < 5 else ""
    facts = "，".join(part for part in (held, f"从事本职业 {_years(work_years)}", f"学历 {education or '空'}") if part)
    return f"不符合{LEVEL_LABELS[rule.level]}申报条件（须满足其一：{describe(rule)}；本行：{facts}）"


MAX_YEARS = 60


def set_rule(actor, level: int, previous_level_years: int | None, work_years: int | None,
             educations: list[str]) -> EligibilityRule:
    """Set one level's rule (audited); the caller commits. The city decides: only the administrator (or the
    `registry eligibility` command, actor None) may."""
    _check_admin(actor)
    if level not in LEVEL_LABELS:
        raise InvalidInput("level", f"等级：应为1–5，实为 {level}")
    if previous_level_years is not None and level == 5:
        raise InvalidInput("previous_level_years", "持低一级证书年限：五级/初级工没有更低的等级，应留空")
    for field, label, years in (("previous_level_years", "持低一级证书年限", previous_level_years),
                                ("work_years", WORK_YEARS, work_years)):
        if years is not None and not 0 <= years <= MAX_YEARS:
            raise InvalidInput(field, f"{label}：应为0–{MAX_YEARS}的整数，实为 {years}")
    education = "、".join(part.strip() for part in educations if part.strip())
    if len(education) > 200:
        raise InvalidInput("education", f"{EDUCATION}：最多200个字符")
    # Checked on a detached candidate, so a refused rule leaves the stored one untouched in the session.
    if not describe(EligibilityRule(level=level, previous_level_years=previous_level_years, work_years=work_years,
                                    education=education)):
        raise InvalidInput("level", f"等级：{LEVEL_LABELS[level]}的申报条件至少要有一条途径")
    before = _rule_fields(rule_for(level))
    rule = rule_for(level) or EligibilityRule(level=level)
    rule.previous_level_years, rule.work_years, rule.education = previous_level_years, work_years, education
    db.session.add(rule)
    record_event(actor, "set_eligibility_rule", "eligibility_rule", level, before=before, after=_rule_fields(rule))
    return rule


def clear_rule(actor, level: int) -> None:
    _check_admin(actor)
    rule = rule_for(level)
    if rule is not None:
        before = _rule_fields(rule)
        db.session.delete(rule)
        record_event(actor, "clear_eligibility_rule", "eligibility_rule", level, before=before)


def _rule_fields(rule: EligibilityRule | None) -> dict | None:
    if rule is None:
        return None
    return {"previous_level_years": rule.previous_level_years, "work_years": rule.work_years,
            "education": rule.education}


def _check_admin(actor) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden("only the administrator sets eligibility rules")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _years(value: float | None) -> str:
    return "未填" if value is None else f"{value:g} 年"


def rules() -> list[EligibilityRule]:
    return list(db.session.scalars(sa.select(EligibilityRule).order_by(EligibilityRule.level.desc())))
