"""Every page a user touches, with its address in the registry at hand: ids, names and numbers are read from
its database (never written into the benchmark), so the same page is timed in every registry and size."""
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa

from registry.core.db import db

COUNTY_CODE, COUNTY_NAME = "410221", "杞县"  # the county official's county
ADMIN, COUNTY = "admin", f"county official ({COUNTY_NAME})"
ANONYMOUS = "anyone"  # the public pages: no account
BOTH = (ADMIN, COUNTY)
HTML, XLSX, JSON = "text/html", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", \
    "application/json"
DEEP_PAGE = 2000  # the "page 2000" of every list
NOT_THIS_ROLE = "not this role's page"  # the one reason checked: the page must answer 403


@dataclass(frozen=True)
class Page:
    label: str  # how the table names it, the same at every size
    path: str
    roles: tuple[str, ...]
    marker: str  # HTML: the start of its <title>; a spreadsheet: its sheet's title; JSON: a key of the answer
    content_type: str = HTML
    is_list: bool = False  # paged: page 2000 and the last page are timed too
    form: dict[str, str] | None = None  # sent as a POST
    not_for: str = NOT_THIS_ROLE  # why the other roles are not timed
    expect: tuple[str, ...] = field(default=())  # more text the answer must contain
    # A file the task worker may write (a long leak list): timed from the request to the file downloaded.
    background: bool = False


@dataclass(frozen=True)
class Subjects:
    """What the detail pages, searches and verify show: read from the registry measured."""

    class_id: int
    class_name: str
    batch_id: int
    certificate_id: int
    certificate_number: str
    person_id: int
    person_name: str
    document_type: str
    document_number: str
    # Searched for too: a holder's name of two characters (more than half the demo's names), which no trigram
    # index answers, and one of three or more, which the trigram indexes do (registry/people/name_search.py).
    short_name: str
    long_name: str


def with_page(path: str, number: int) -> str:
    """`path` asking for page `number`, its other arguments kept."""
    parts = urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "page"] + [("page", str(number))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def subjects() -> Subjects:
    """In the county official's county, so both roles see the same things: the class with the most
    enrolments, the batch with the most results, the newest valid certificate and its holder."""
    from registry.assessment.models import AssessmentBatch, AssessmentResult
    from registry.certificates.models import Certificate, CertificateStatus
    from registry.people.models import Person
    from registry.people.operations import protector
    from registry.reference.models import County
    from registry.training.models import Enrollment, TrainingClass

    if db.session.scalar(sa.select(County.name).where(County.code == COUNTY_CODE)) != COUNTY_NAME:
        raise LookupError(f"no county {COUNTY_CODE} {COUNTY_NAME} in this registry")
    class_id = db.session.scalar(
        sa.select(Enrollment.class_id).join(TrainingClass, TrainingClass.id == Enrollment.class_id)
        .where(TrainingClass.county_code == COUNTY_CODE).group_by(Enrollment.class_id)
        .order_by(sa.func.count().desc(), Enrollment.class_id).limit(1))
    batch_id = db.session.scalar(
        sa.select(AssessmentResult.batch_id)
        .join(AssessmentBatch, AssessmentBatch.id == AssessmentResult.batch_id)
        .where(AssessmentBatch.county_code == COUNTY_CODE).group_by(AssessmentResult.batch_id)
        .order_by(sa.func.count().desc(), AssessmentResult.batch_id).limit(1))
    certificate = db.session.scalars(
        sa.select(Certificate).join(Person, Person.id == Certificate.person_id)
        .where(Person.county_code == COUNTY_CODE, Certificate.status == CertificateStatus.VALID)
        .order_by(Certificate.id.desc()).limit(1)).one()
    person = certificate.person
    if class_id is None or batch_id is None:
        raise LookupError(f"no class or batch in county {COUNTY_CODE}")
    class_name = db.session.get(TrainingClass, class_id).name
    short_name, long_name = (_holder_name(length) for length in (sa.func.length(Person.name) == 2,
                                                                  sa.func.length(Person.name) >= 3))
    return Subjects(class_id, class_name, batch_id, certificate.id, certificate.number, person.id,
                    person.name, person.document_type.value, protector().decrypt(person.document_cipher),
                    short_name, long_name)


def _holder_name(length: sa.ColumnElement[bool]) -> str:
    """The name of the county's newest valid certificate's holder among those whose name has this length."""
    from registry.certificates.models import Certificate, CertificateStatus
    from registry.people.models import Person

    name = db.session.scalar(
        sa.select(Person.name).join(Certificate, Certificate.person_id == Person.id)
        .where(Person.county_code == COUNTY_CODE, Certificate.status == CertificateStatus.VALID, length)
        .order_by(Certificate.id.desc()).limit(1))
    if name is None:
        raise LookupError(f"no holder in county {COUNTY_CODE} with a name of that length")
    return name


def pages(found: Subjects) -> list[Page]:
    from registry.stats.funnel import LEAKS
    from registry.stats.tables import DIMENSIONS

    county = f"county={COUNTY_CODE}"
    city_only = "city-wide: the official sees only its county (the next row)"
    listed = [Page("/dashboard", "/dashboard", BOTH, "首页"),
              Page("/stats", "/stats", BOTH, "持证统计"),
              Page(f"/stats {COUNTY_NAME}", f"/stats?{county}", (ADMIN,), "持证统计",
                   not_for="the official's /stats is its county's (row /stats)"),
              Page("/stats/counties.xlsx", "/stats/counties.xlsx", BOTH, "", XLSX)]
    for dimension, (title, _query, _uses_kind) in DIMENSIONS.items():
        path = f"/stats/drilldowns/{dimension}"
        listed += [Page(f"{path} city", path, (ADMIN,), "分项统计", not_for=city_only),
                   Page(f"{path} {COUNTY_NAME}", f"{path}?{county}", BOTH, "分项统计"),
                   Page(f"{path}.xlsx city", f"{path}?format=xlsx", (ADMIN,), "", XLSX, not_for=city_only),
                   Page(f"{path}.xlsx {COUNTY_NAME}", f"{path}?{county}&format=xlsx", BOTH, "", XLSX)]
    listed += [Page("/stats/funnel city", "/stats/funnel", (ADMIN,), "培训—认定—取证漏斗", not_for=city_only),
               Page(f"/stats/funnel {COUNTY_NAME}", f"/stats/funnel?{county}", BOTH, "培训—认定—取证漏斗"),
               Page("/stats/funnel.xlsx city", "/stats/funnel?format=xlsx", (ADMIN,), "", XLSX,
                    not_for=city_only),
               Page(f"/stats/funnel.xlsx {COUNTY_NAME}", f"/stats/funnel?{county}&format=xlsx", BOTH, "",
                    XLSX)]
    for leak, definition in LEAKS.items():
        path = f"/stats/funnel/{leak}"
        listed += [Page(f"{path} city", path, (ADMIN,), definition.title, is_list=True, not_for=city_only),
                   Page(f"{path} {COUNTY_NAME}", f"{path}?{county}", BOTH, definition.title, is_list=True),
                   Page(f"{path}.xlsx city", f"{path}?format=xlsx", (ADMIN,), "", XLSX, not_for=city_only,
                        background=True),
                   Page(f"{path}.xlsx {COUNTY_NAME}", f"{path}?{county}&format=xlsx", BOTH, "", XLSX,
                        background=True)]
    listed += [Page(f"/people by name ({length})", f"/people?{urlencode({'q': name})}", BOTH, "人员查询",
                    is_list=True, expect=(name,))
               for length, name in (("3+ characters", found.long_name), ("2 characters", found.short_name))]
    listed += [Page("/people by ID number", "/people", BOTH, "人员查询",
                    form={"q": found.document_number, "document_type": found.document_type},
                    expect=(found.person_name,))]
    for path, title, roles in (("/training/classes", "培训班", BOTH), ("/training/trainees", "学员", BOTH),
                               ("/assessment/batches", "认定批次", BOTH), ("/certificates", "证书", BOTH),
                               ("/admin/audit", "审计日志", (ADMIN,)), ("/admin/users", "用户", (ADMIN,)),
                               ("/admin/agencies", "评价机构", (ADMIN,)),
                               ("/admin/institutions", "培训机构", (ADMIN,))):
        listed.append(Page(path, path, roles, title, is_list=True))
    # Oversight's lists are not paged: each shows what is open (signals, audits, agencies) on one page.
    listed += [Page("/oversight/signals", "/oversight/signals", BOTH, "监管预警"),
               Page("/oversight/audits", "/oversight/audits", BOTH, "抽查"),
               Page("/oversight/agencies", "/oversight/agencies", BOTH, "机构与督导")]
    listed += [Page("class detail (largest class)", f"/training/classes/{found.class_id}", BOTH,
                    found.class_name, is_list=True),
               Page("batch detail (largest batch)", f"/assessment/batches/{found.batch_id}", BOTH,
                    f"认定批次 第 {found.batch_id} 批"),
               Page("certificate detail", f"/certificates/{found.certificate_id}", BOTH,
                    f"证书 {found.certificate_number}"),
               Page("person detail", f"/people/{found.person_id}", BOTH, found.person_name),
               Page("/verify/<number> (public page)", f"/verify/{found.certificate_number}", (ANONYMOUS,),
                    found.certificate_number),
               Page("verify API", f"/api/v1/certificates/{found.certificate_number}", (ANONYMOUS,), "outcome",
                    JSON)]
    return listed
