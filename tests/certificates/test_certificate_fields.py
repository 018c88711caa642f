"""A new certificate prints what a holder and an employer look for (性别, occupation code, the agency's filing
number and 统一社会信用代码, dates as 2022年07月24日, a plain photo frame) and its file says in Chinese who made
it and when: checked with pdftotext and pdfinfo on a certificate issued through the ordinary operations."""
import shutil
import subprocess
from datetime import date

import pytest

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import rendering
from registry.certificates.operations import issue_batch
from registry.core.db import db
from registry.core.errors import InvalidInput

CREDIT_CODE = "91410200MA40ABCD1U"


def tool(name: str) -> str:
    return shutil.which(name) or pytest.fail(f"{name} is missing: scripts/system-deps installs poppler-utils")


def run(name: str, data: bytes, tmp_path, *options: str) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run([tool(name), *options, str(path), *(["-"] if name == "pdftotext" else [])],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture
def certificate(make_agency, make_batch, make_person):
    from registry.organizations.credit_code import credit_code_check_char

    code = CREDIT_CODE[:17] + credit_code_check_char(CREDIT_CODE[:17])
    agency = make_agency(name="开封市焊接职业技能评价中心", filing_number="豫人社认定备〔2022〕018号",
                         credit_code=code, scopes=[("6-18-02-04", None, 5, 3, "2022-01-01", None)])
    batch = make_batch(agency=agency, assessed_on=date(2022, 7, 10))
    record_result(None, batch, make_person(name="李秀英", born="19880315"), theory=80, practical=85)
    approve_batch(None, batch)
    (issued,) = issue_batch(None, batch, date(2022, 7, 24))
    db.session.commit()
    return issued, code


def test_pdftotext_shows_every_added_field(certificate, tmp_path):
    issued, code = certificate
    text = run("pdftotext", rendering.render(issued), tmp_path, "-raw")
    for expected in ("性别", "职业编码 6-18-02-04", "机构备案编号 豫人社认定备〔2022〕018号",
                     f"统一社会信用代码 {code}", "发证日期 2022年07月24日", "照片未采集"):
        assert expected in text, expected
    assert "（未上传照片）" not in text and "2022-07-24" not in text
    gender = issued.person.gender.label
    assert f"性别 {gender}" in text


def test_file_properties_name_the_registry_and_the_issue_day(certificate, tmp_path):
    issued, _code = certificate
    rendered = rendering.render(issued)
    info = run("pdfinfo", rendered, tmp_path, "-isodates")
    assert "Creator:         开封市职业技能证书登记系统" in info and "Producer:        开封市职业技能证书登记系统" in info
    assert "CreationDate:    2022-07-24T00:00:00+08" in info and "anonymous" not in info
    assert rendering.render(issued) == rendered  # still deterministic


def test_certificates_issued_before_keep_their_page(certificate, tmp_path):
    """A snapshot without a layout (issued before) renders the page it was issued with: its hash still holds."""
    issued, _code = certificate
    earlier = {key: value for key, value in issued.snapshot.items()
               if key not in ("layout", "gender", "agency_credit_code")}
    text = run("pdftotext", rendering.render_snapshot(earlier), tmp_path, "-raw")
    assert "2022-07-24" in text and "性别" not in text and "（未上传照片）" in text


def test_the_agency_credit_code_is_checked(make_agency):
    with pytest.raises(InvalidInput, match="统一社会信用代码"):
        make_agency(credit_code="91410200MA40ABCD10")
