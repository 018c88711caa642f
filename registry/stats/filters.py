"""The statistics' filters, shared by the pages and the API: the statistics date, the counties a user may
see, and the drill-down filter bar. InvalidInput (400) for bad values, Forbidden (403) for a county out of scope."""
from dataclasses import dataclass
from datetime import date

from registry.certificates.models import CertificateKind
from registry.core.arguments import MAX_ID
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.roles import Role
from registry.organizations.models import TrainingInstitution
from registry.reference.queries import current_counties
from registry.stats import drilldowns

ROLES = (Role.ADMIN, Role.COUNTY)


def parse_as_of(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        as_of = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("as_of", f"统计日期：格式应为 YYYY-MM-DD，实为“{text}”") from None
    if as_of > date.today():
        raise InvalidInput("as_of", f"统计日期：{as_of.isoformat()} 晚于今天，不能统计未来")
    return as_of


def visible_counties(user, asked: str | None) -> list[str] | None:
    """The county codes the user may see (None = all); a county official asking for another county is refused."""
    codes = {county.code for county in current_counties()}
    if asked and asked not in codes:
        raise InvalidInput("county", f"县区：未知的县区代码 {asked}")
    if user.role is Role.COUNTY:
        if asked and asked != user.county_code:
            raise Forbidden("只能查看本县区的统计")
        return [user.county_code]
    return [asked] if asked else None




@dataclass(frozen=True)
class Filters:
    """The filter bar as asked (for the form) and as applied (for the queries)."""

    county: str | None
    county_codes: list[str] | None
    date_from: date | None
    date_to: date | None
    kind: CertificateKind | None = None
    top: int = drilldowns.DEFAULT_TOP
    institution_id: int | None = None

    @property
    def kinds(self) -> list[CertificateKind] | None:
        return None if self.kind is None else [self.kind]


def parse_filters(args, user) -> Filters:
    """Read the filter bar; InvalidInput (400) for bad values, Forbidden (403) for a county out of scope."""
    county = (args.get("county") or "").strip() or None
    county_codes = visible_counties(user, county)
    date_from = _date(args.get("from"), "from", "起始日期")
    date_to = _date(args.get("to"), "to", "截止日期")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("from", f"日期范围：起始日期 {date_from.isoformat()} 晚于截止日期 {date_to.isoformat()}")
    return Filters(county, county_codes, date_from, date_to, _kind(args.get("kind")), _top(args.get("top")),
                   _institution(args.get("institution_id")))


def _date(text: str | None, field: str, label: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{label}：格式应为 YYYY-MM-DD，实为“{text}”") from None
    if day > date.today():
        raise InvalidInput(field, f"{label}：{day.isoformat()} 晚于今天，不能统计未来")
    return day


def _kind(text: str | None) -> CertificateKind | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return CertificateKind(text)
    except ValueError:
        raise InvalidInput("kind", f"证书类别：未知的类别“{text}”") from None


def _top(text: str | None) -> int:
    text = (text or "").strip()
    if not text:
        return drilldowns.DEFAULT_TOP
    if not _is_number(text) or not 1 <= int(text) <= drilldowns.MAX_TOP:
        raise InvalidInput("top", f"显示前几名：应为 1–{drilldowns.MAX_TOP} 的整数，实为“{text}”")
    return int(text)


def _institution(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _is_number(text) or int(text) > MAX_ID or db.session.get(TrainingInstitution, int(text)) is None:
        raise InvalidInput("institution_id", f"培训机构：未知的机构“{text}”")
    return int(text)


def _is_number(text: str) -> bool:
    # str.isdigit() also accepts "²" and other digits int() refuses.
    return text.isascii() and text.isdigit()


