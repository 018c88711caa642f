"""Tests for the certificate pages: list, filters and export, one certificate, revocation and correction."""
import csv
import io
import re
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.operations import issue_batch, revoke_certificate
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.operations import protector
from tests.conftest import csrf_token_from
from tests.helpers import count

WELDER = "6-18-02-04"


AGENCY = dict(name="开封测试焊接评价中心", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])  # the `agency` fixture (tests/conftest.py)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def issue(batch, issued_on: date = date(2025, 6, 1)) -> list[Certificate]:
    certificates = issue_batch(None, batch, issued_on)
    db.session.commit()
    return certificates


@pytest.fixture
def staff(make_user, agency):
    return make_user(Role.AGENCY, organization_id=agency.id)


@pytest.fixture
def staff_client(staff, login):
    return login(staff)


@pytest.fixture
def certificates(approved_batch, agency):
    """Three certificates of the agency, issued for a batch held in 杞县 (410221)."""
    return issue(approved_batch(agency=agency, passed=3, failed=1))


# --- the certificate page -------------------------------------------------------------------------------

def test_certificate_page_shows_every_printed_field_and_only_the_masked_number(staff_client, certificates):
    certificate = certificates[0]
    html = html_of(staff_client.get(f"/certificates/{certificate.id}"))
    printed = certificate.snapshot
    for key in ("number", "name", "document_type", "document_masked", "occupation_name", "occupation_code",
                "work_type", "level_label", "agency_name", "agency_filing_number", "issued_on", "title"):
        assert str(printed[key]) in html, key
    assert protector().decrypt(printed["document_cipher"]) not in html
    assert printed["document_cipher"] not in html and "四级/中级工" in html
    assert "撤销证书" in html and "更正证书" in html


def test_certificate_page_links_its_pdf_unless_imported(staff_client, certificates):
    certificate = certificates[0]
    download = f'href="/certificates/{certificate.id}/pdf"'
    assert download in html_of(staff_client.get(f"/certificates/{certificate.id}"))
    certificate.is_imported = True  # as the history import stores them: no file was ever issued here
    db.session.commit()
    assert download not in html_of(staff_client.get(f"/certificates/{certificate.id}"))


def test_revoking_without_a_reason_is_refused_and_changes_nothing(staff_client, certificates):
    certificate = certificates[0]
    page = html_of(staff_client.get(f"/certificates/{certificate.id}/revoke"))
    assert "撤销后证书立即失效" in page and f"确定撤销证书 {certificate.number}？" in page
    before = count(AuditEvent)
    response = staff_client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "   "})
    assert response.status_code == 200 and "撤销原因：不能为空" in html_of(response)
    assert certificate.status is CertificateStatus.VALID and count(AuditEvent) == before
    response = staff_client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "长" * 201})
    assert "撤销原因：最多200个字符" in html_of(response) and certificate.status is CertificateStatus.VALID


def test_revocation_records_the_reason_who_and_when(staff_client, staff, certificates):
    certificate = certificates[0]
    response = staff_client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "经核查考试作弊"},
                                 follow_redirects=True)
    html = html_of(response)
    assert f"证书 {certificate.number} 已撤销" in html and "撤销原因：经核查考试作弊" in html
    assert staff.username in html and "撤销证书" not in html
    assert certificate.status is CertificateStatus.REVOKED and certificate.revoked_by_id == staff.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "revoke")).one()
    assert event.entity_id == str(certificate.id) and event.after["reason"] == "经核查考试作弊"
    again = staff_client.get(f"/certificates/{certificate.id}/revoke", follow_redirects=True)
    assert "只能撤销或更正有效证书" in html_of(again)
    again = staff_client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "再撤"},
                              follow_redirects=True)
    assert "只能撤销或更正有效证书" in html_of(again) and certificate.revocation_reason == "经核查考试作弊"


def test_correction_issues_a_replacement_and_both_link_to_each_other(staff_client, certificates):
    original = certificates[1]
    response = staff_client.post(f"/certificates/{original.id}/correct", data={"reason": ""})
    assert "更正原因：不能为空" in html_of(response) and count(Certificate) == 3
    response = staff_client.post(f"/certificates/{original.id}/correct",
                                 data={"reason": "姓名录入错误", "name": "张更正", "work_type": ""})
    replacement = db.session.scalar(sa.select(Certificate).where(Certificate.superseded_by_id.is_(None),
                                                                 Certificate.id > certificates[-1].id))
    assert response.status_code == 302 and response.location.endswith(f"/certificates/{replacement.id}")
    html = html_of(staff_client.get(response.location))
    assert f"已签发更正证书 {replacement.number}，原证书 {original.number} 已被替代" in html
    assert f'href="/certificates/{original.id}"' in html and "张更正" in html
    assert replacement.snapshot["work_type"] == "--"
    old = html_of(staff_client.get(f"/certificates/{original.id}"))
    assert f'href="/certificates/{replacement.id}"' in old and "更正原因：姓名录入错误" in old
    assert original.status is CertificateStatus.SUPERSEDED and "撤销证书" not in old


@pytest.mark.csrf
def test_revoke_and_correct_forms_carry_csrf_tokens(client, staff, certificates):
    client.post("/login", data={"username": staff.username, "password": "correct-horse-1",
                                "csrf_token": csrf_token_from(html_of(client.get("/login")))})
    url = f"/certificates/{certificates[0].id}/revoke"
    assert client.post(url, data={"reason": "作弊"}).status_code == 400
    token = csrf_token_from(html_of(client.get(url)))
    assert client.post(url, data={"reason": "作弊", "csrf_token": token}).status_code == 302
    url = f"/certificates/{certificates[1].id}/correct"
    token = csrf_token_from(html_of(client.get(url)))
    assert client.post(url, data={"reason": "更正", "csrf_token": token}).status_code == 302
    assert count(Certificate) == 4


# --- scope by URL ---------------------------------------------------------------------------------------

def certificate_urls(certificate) -> list[tuple[str, str]]:
    base = f"/certificates/{certificate.id}"
    return [("get", base), ("get", f"{base}/revoke"), ("post", f"{base}/revoke"), ("get", f"{base}/correct"),
            ("post", f"{base}/correct")]


@pytest.fixture
def foreign(approved_batch, make_agency):
    """Another agency's certificate, assessed in 尉氏县 (410223) for a holder of 杞县 (410221)."""
    other = make_agency(name="别家评价机构", scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    return issue(approved_batch(agency=other, passed=1, failed=0, county_code="410223"))[0]


def test_another_agency_gets_404_by_url_and_changes_nothing(staff_client, foreign):
    before = count(AuditEvent)
    for method, url in certificate_urls(foreign):
        response = getattr(staff_client, method)(url, data={"reason": "越权", "name": "某某"})
        assert response.status_code == 404, url
    assert count(AuditEvent) == before and count(Certificate) == 1
    assert foreign.status is CertificateStatus.VALID
    assert foreign.number not in html_of(staff_client.get("/certificates"))


def test_county_reads_by_holder_or_by_place_but_never_writes(make_user, login, foreign, make_person,
                                                            approved_batch, make_agency):
    holder_county = login(make_user(Role.COUNTY, county_code="410221"))
    for method, url in certificate_urls(foreign):
        response = getattr(holder_county, method)(url, data={"reason": "越权"})
        assert response.status_code == (200 if url.endswith(f"/certificates/{foreign.id}") else 403), url
    html = html_of(holder_county.get(f"/certificates/{foreign.id}"))
    assert "撤销证书" not in html and "更正证书" not in html and foreign.status is CertificateStatus.VALID
    # The batch was held in 尉氏县, outside this county: the certificate is shown, its batch is not linked.
    assert f"/assessment/batches/{foreign.batch_id}" not in html
    place_county = login(make_user(Role.COUNTY, county_code="410223"))
    assert foreign.number in html_of(place_county.get("/certificates"))
    assert place_county.get(f"/certificates/{foreign.id}").status_code == 200
    unrelated = login(make_user(Role.COUNTY, county_code="410222"))
    assert unrelated.get(f"/certificates/{foreign.id}").status_code == 404
    assert foreign.number not in html_of(unrelated.get("/certificates"))


def test_institution_reaches_no_certificate_page(make_user, make_institution, login, foreign):
    client = login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert client.get("/certificates").status_code == 403
    for method, url in certificate_urls(foreign):
        assert getattr(client, method)(url).status_code == 403, url


# --- the list and its export ----------------------------------------------------------------------------

@pytest.fixture
def listed(certificates, approved_batch, agency, foreign):
    """The agency's three 四级 certificates of 2025-06-01, one of them revoked, and a 三级 one of 2025-09-01."""
    revoke_certificate(None, certificates[2], "作弊")
    db.session.commit()
    senior = issue(approved_batch(agency=agency, level=3, passed=1, failed=0), date(2025, 9, 1))
    return {"fourth": certificates, "senior": senior[0], "foreign": foreign}


def numbers_in(html: str) -> set[str]:
    return set(re.findall(r"[YS]\d{21}", html))


def test_certificate_list_filters_within_scope(staff_client, listed):
    fourth, senior = [c.number for c in listed["fourth"]], listed["senior"].number
    assert numbers_in(html_of(staff_client.get("/certificates"))) == {*fourth, senior}
    typed = f"  {fourth[0].lower()} "
    found = staff_client.get("/certificates", query_string={"number": typed})
    assert numbers_in(html_of(found)) == {fourth[0]}
    assert numbers_in(html_of(staff_client.get("/certificates?status=revoked"))) == {fourth[2]}
    assert numbers_in(html_of(staff_client.get("/certificates?level=3"))) == {senior}
    assert numbers_in(html_of(staff_client.get("/certificates?issued_from=2025-07-01"))) == {senior}
    assert numbers_in(html_of(staff_client.get("/certificates?county_code=410222"))) == set()
    of_batch = staff_client.get(f"/certificates?batch_id={listed['senior'].batch_id}")
    assert numbers_in(html_of(of_batch)) == {senior}
    html = html_of(staff_client.get("/certificates?issued_to=2025-13-01"))
    assert "日期格式应为" in html and len(numbers_in(html)) == 4


def test_certificate_list_sorts(staff_client, listed):
    html = html_of(staff_client.get("/certificates?sort=issued_on&dir=desc"))
    assert html.index(listed["senior"].number) < html.index(listed["fourth"][0].number)


def test_certificate_export_masks_every_number_and_is_audited(staff_client, listed):
    response = staff_client.get("/certificates?sort=number&status=valid&per_page=1&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    column = {name: index for index, name in enumerate(header)}
    valid = sorted([listed["fourth"][0].number, listed["fourth"][1].number, listed["senior"].number])
    assert [row[0] for row in body] == valid
    assert all("*" in row[column["证件号码（脱敏）"]] for row in body)
    plain = {protector().decrypt(certificate.snapshot["document_cipher"])
             for certificate in (*listed["fourth"], listed["senior"])}
    assert not plain & {cell for row in body for cell in row}
    first = dict(zip(header, next(row for row in body if row[0] == listed["fourth"][0].number)))
    assert first["等级"] == "四级/中级工" and first["发证机构"] == "开封测试焊接评价中心" and first["状态"] == "有效"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.entity_type == "certificate_list" and event.after["rows"] == 3
    response = staff_client.get("/certificates?status=revoked&format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert response.mimetype == "text/csv" and len(rows) == 2 and rows[1][header.index("撤销原因")] == "作弊"


def test_no_certificate_page_shows_a_plain_document_number(staff_client, listed):
    pages = [html_of(staff_client.get("/certificates"))]
    for certificate in (*listed["fourth"], listed["senior"]):
        pages.append(html_of(staff_client.get(f"/certificates/{certificate.id}")))
        pages.append(html_of(staff_client.get(f"/assessment/batches/{certificate.batch_id}")))
        plain = protector().decrypt(certificate.snapshot["document_cipher"])
        assert certificate.snapshot["document_masked"] in pages[0]
        assert not any(plain in page for page in pages)
