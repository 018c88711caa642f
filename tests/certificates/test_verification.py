"""Public verification as a service: each outcome, masked fields only, QR claims, and uploaded files."""
import hashlib
from datetime import date

import pytest

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import signing
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.pdf import render_certificate
from registry.certificates.rendering import render_snapshot, signing_key, verify_url
from registry.certificates.verification import (
    DIFFERENT_WORDING, EXACT_WORDING, FACTS_BY_NUMBER, UPLOAD_MAX_BYTES, check_qr, parse_number, verify_number,
    verify_upload,
)
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.people.operations import protector

ISSUED_ON = date(2025, 6, 1)


@pytest.fixture
def certificate(make_agency, make_batch, make_person):
    """A valid certificate of 张三明, issued by an agency with a known filing number."""
    agency = make_agency(name="开封测试职业技能评价中心", filing_number="豫人社认定备〔2023〕017号",
                         filed_on="2023-02-03", scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name="张三明"), theory=85, practical=90)
    approve_batch(None, batch)
    issued = issue_batch(None, batch, ISSUED_ON)[0]
    db.session.commit()
    return issued


def issued_pdf(certificate) -> bytes:
    """The file as issued; stores its hash when issuing did not (before PDF-at-issue existed)."""
    data = render_snapshot(certificate.snapshot)
    if certificate.pdf_sha256 is None:
        certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
        db.session.commit()
    assert certificate.pdf_sha256 == hashlib.sha256(data).hexdigest()
    return data


def plain_document_number(certificate) -> str:
    return protector().decrypt(certificate.snapshot["document_cipher"])


# --- by number --------------------------------------------------------------------------------------------

def test_a_valid_certificate(certificate):
    verdict = verify_number(certificate.number)
    assert (verdict.outcome, verdict.wording) == ("valid", "证书有效")
    assert verdict.certificate.id == certificate.id and verdict.revocation is None
    assert verdict.replacement_number is None


def test_every_printed_field_with_name_and_document_number_masked(certificate):
    fields = dict(verify_number(certificate.number).labelled_fields)
    assert fields == {
        "证书名称": "职业技能等级证书", "姓名": "张*明", "证件类型": "居民身份证",
        "证件号码": certificate.snapshot["document_masked"], "职业名称": certificate.snapshot["occupation_name"],
        "工种/职业方向": "--", "职业技能等级": "四级/中级工", "证书编号": certificate.number,
        "评价机构": "开封测试职业技能评价中心", "发证日期": "2025-06-01",
    }
    assert "*" in fields["证件号码"]


def test_the_json_form_never_carries_the_plain_name_or_number(certificate):
    body = str(verify_number(certificate.number).as_json())
    assert "张三明" not in body and plain_document_number(certificate) not in body
    assert "document_cipher" not in body and certificate.snapshot["document_cipher"] not in body


def test_the_agency_filing_details(certificate):
    assert verify_number(certificate.number).agency == {
        "name": "开封测试职业技能评价中心", "filing_number": "豫人社认定备〔2023〕017号", "filed_on": "2023-02-03",
        "status": "active", "status_label": "正常"}


def test_a_revoked_certificate_says_when_and_why(certificate):
    revoke_certificate(None, certificate, "冒名顶替参加认定")
    db.session.commit()
    verdict = verify_number(certificate.number)
    assert (verdict.outcome, verdict.wording) == ("revoked", "证书已撤销")
    assert verdict.revocation["reason"] == "冒名顶替参加认定"
    assert date.fromisoformat(verdict.revocation["revoked_on"]) >= ISSUED_ON


def test_a_corrected_certificate_names_its_replacement(certificate):
    replacement = correct_certificate(None, certificate, "姓名录入错误", name="张三民", issued_on=ISSUED_ON)
    db.session.commit()
    verdict = verify_number(certificate.number)
    assert (verdict.outcome, verdict.wording) == ("superseded", "证书已更正，已被新证书替代")
    assert verdict.replacement_number == replacement.number
    assert verify_number(replacement.number).fields["name_masked"] == "张*民"


@pytest.mark.parametrize("state", ["valid", "revoked", "superseded"])
def test_the_verdicts_plain_read_gives_the_row_sqlalchemy_gives(certificate, state):
    if state == "revoked":
        revoke_certificate(None, certificate, "冒名顶替参加认定")
    elif state == "superseded":
        correct_certificate(None, certificate, "姓名录入错误", name="张三民", issued_on=ISSUED_ON)
    db.session.commit()
    core = db.session.execute(FACTS_BY_NUMBER.statement, {"number": certificate.number}).one()
    plain = FACTS_BY_NUMBER.first(db.engine, number=certificate.number)
    assert tuple(plain) == tuple(core) and plain._fields == tuple(core._fields)
    assert [type(value) for value in plain] == [type(value) for value in core]
    assert plain.status.value == state and (plain.replacement_number is not None) == (state == "superseded")


def test_an_unknown_number_is_not_found(app):
    verdict = verify_number("S000041900001254999999")
    assert (verdict.outcome, verdict.wording, verdict.certificate) == ("not_found", "未找到该证书编号", None)
    assert verdict.fields == {} and verdict.agency is None


@pytest.mark.parametrize("raw", ["", "   ", "证书", "S0000419/0001", "A" * 41, "S00004190000125400000'--"])
def test_malformed_numbers_are_refused(app, raw):
    with pytest.raises(InvalidInput, match="证书编号：") as raised:
        verify_number(raw)
    assert raised.value.field == "number"


def test_typed_numbers_are_read_tolerantly():
    assert parse_number(" s0000 4190 0001 2540 00001 ") == "S000041900001254000001"
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in "s000041900001254000001")
    assert parse_number(full_width) == "S000041900001254000001"


def test_the_holders_name_is_checked_when_given(certificate):
    assert verify_number(certificate.number).name_matches is None
    assert verify_number(certificate.number, " 张三明 ").name_matches is True
    assert verify_number(certificate.number, "李四").name_matches is False


# --- the QR claim -----------------------------------------------------------------------------------------

def claim_args(claim: signing.QrClaim) -> dict:
    return {"d": claim.issued_on, "l": claim.level, "o": claim.occupation_code, "n": claim.masked_name,
            "s": claim.signature}


def test_the_issued_qr_claim_checks_out(certificate):
    verdict = verify_number(certificate.number)
    genuine = claim_args(signing.sign(signing_key(), certificate.snapshot))
    assert check_qr(signing_key().public_key(), verdict, genuine)
    assert check_qr(signing_key().public_key(), verdict, {}) is None


@pytest.mark.parametrize("field", ["d", "l", "o", "n", "s"])
def test_a_forged_or_edited_qr_claim_fails(certificate, field):
    args = claim_args(signing.sign(signing_key(), certificate.snapshot))
    args[field] = "X" + args[field][1:] if field != "s" else args["s"][::-1]
    assert check_qr(signing_key().public_key(), verify_number(certificate.number), args) is False


def test_a_claim_signed_with_another_key_or_for_another_certificate_fails(certificate, approved_batch):
    other_key = signing.load_private_key(signing.generate_signing_key())
    verdict = verify_number(certificate.number)
    foreign = claim_args(signing.sign(other_key, certificate.snapshot))
    assert check_qr(signing_key().public_key(), verdict, foreign) is False
    another = issue_batch(None, approved_batch(passed=1, failed=0), ISSUED_ON)[0]
    db.session.commit()
    # A genuine claim, but about another certificate: copied onto this number it must not pass.
    assert check_qr(signing_key().public_key(), verdict,
                    claim_args(signing.sign(signing_key(), another.snapshot))) is False
    assert check_qr(signing_key().public_key(), verify_number("S000041900001254999999"),
                    claim_args(signing.sign(signing_key(), certificate.snapshot))) is False
    assert check_qr(signing_key().public_key(), verdict, {"s": ""}) is False


# --- uploaded files ---------------------------------------------------------------------------------------

def test_the_issued_file_matches_byte_for_byte(certificate):
    verdict = verify_upload(issued_pdf(certificate))
    assert (verdict.outcome, verdict.wording) == ("exact", EXACT_WORDING)
    assert verdict.certificate.id == certificate.id


def test_the_issued_file_of_a_revoked_certificate_still_matches_and_says_revoked(certificate):
    data = issued_pdf(certificate)
    revoke_certificate(None, certificate, "违规发证")
    db.session.commit()
    verdict = verify_upload(data)
    assert verdict.is_exact and verdict.certificate.status.value == "revoked"


def test_a_file_with_one_byte_changed_differs_and_names_the_certificate(certificate):
    data = issued_pdf(certificate)
    edited = data.replace(b"000000+08'00'", b"000001+08'00'", 1)  # the file's creation time, one second on
    assert len(edited) == len(data) and edited != data
    verdict = verify_upload(edited)
    assert verdict.outcome == "different" and verdict.certificate.id == certificate.id
    assert verdict.wording.startswith(DIFFERENT_WORDING) and certificate.number in verdict.wording


def test_a_rerendered_copy_with_another_name_differs(certificate):
    issued_pdf(certificate)
    forged = dict(certificate.snapshot, name="李四")
    data = render_certificate(forged, plain_document_number(certificate), "forged",
                              verify_url(certificate.number))
    verdict = verify_upload(data)
    assert verdict.outcome == "different" and verdict.certificate.id == certificate.id


def test_a_pdf_naming_no_registered_certificate(app):
    snapshot = {"title": "职业技能等级证书", "number": "S000041900001254999999", "name": "王五",
                "document_type": "居民身份证", "occupation_name": "焊工", "work_type": "--",
                "level_label": "四级/中级工", "agency_name": "某机构", "issued_on": "2025-06-01"}
    data = render_certificate(snapshot, "410221199001010011", "x", "http://x/verify/S000041900001254999999")
    verdict = verify_upload(data)
    assert verdict.outcome == "unknown" and verdict.certificate is None
    assert "S000041900001254999999" in verdict.wording and DIFFERENT_WORDING in verdict.wording


def test_a_broken_pdf_is_an_answer_not_an_error(app):
    verdict = verify_upload(b"%PDF-1.4\n" + bytes(range(256)) * 10)
    assert verdict.outcome == "unknown" and verdict.claimed_number is None


@pytest.mark.parametrize(("data", "message"), [
    (b"", "请选择要上传的 PDF 文件"),
    (b"PK\x03\x04 a zip, not a pdf", "上传的文件不是 PDF"),
    ("证书".encode() * 100, "上传的文件不是 PDF"),
    (b"%PDF-1.4\n" + b"0" * UPLOAD_MAX_BYTES, "超过 5 MB 上限"),
])
def test_uploads_that_are_not_a_pdf_or_too_large_are_refused(app, data, message):
    with pytest.raises(InvalidInput, match=message):
        verify_upload(data)
