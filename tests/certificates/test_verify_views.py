"""Public verify pages and JSON: no login, wording per outcome, masked data, QR and upload checks, 429."""
import hashlib
import io
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.assessment.operations import approve_batch, record_result
from registry.certificates import signing
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.rendering import render_snapshot, signing_key
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.operations import protector

MISSING = "S000041900001254999999"


@pytest.fixture
def certificate(make_agency, make_batch, make_person):
    agency = make_agency(name="开封测试职业技能评价中心", filing_number="豫人社认定备〔2023〕017号",
                         scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name="张三明"), theory=85, practical=90)
    approve_batch(None, batch)
    issued = issue_batch(None, batch, date(2025, 6, 1))[0]
    db.session.commit()
    return issued


def html(response) -> str:
    return response.get_data(as_text=True)


def qr_path(certificate) -> str:
    """What a phone opens after scanning the printed QR code."""
    text = signing.qr_text(signing.sign(signing_key(), certificate.snapshot), "http://registry.example")
    parts = urlsplit(text)
    return f"{parts.path}?{parts.query}"


def issued_pdf(certificate) -> bytes:
    data = render_snapshot(certificate.snapshot)
    if certificate.pdf_sha256 is None:  # issued before PDF-at-issue stored the hash
        certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
        db.session.commit()
    return data


def upload(client, data: bytes, filename: str = "certificate.pdf"):
    return client.post("/verify/upload", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def outcome_box(page: str) -> str:
    """The text of the page's outcome banners, so wording elsewhere on the page cannot satisfy a test."""
    return " ".join(re.findall(r'<div class="outcome[^"]*"[^>]*>(.*?)</div>', page, re.S))


# --- the form ---------------------------------------------------------------------------------------------

def test_the_form_needs_no_login_and_sends_the_visitor_to_the_result(client, certificate):
    assert "证书编号" in html(client.get("/verify"))
    response = client.get("/verify", query_string={"number": certificate.number.lower(), "name": "张三明"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{certificate.number}?name=%E5%BC%A0%E4%B8%89%E6%98%8E"


@pytest.mark.parametrize(("number", "message"), [("", "请填写证书编号"), ("证书 12", "格式不正确")])
def test_the_form_explains_a_missing_or_malformed_number(client, number, message):
    response = client.get("/verify", query_string={"number": number})
    assert response.status_code == 200 and message in html(response)


def test_anonymous_visitors_find_the_link_and_the_public_pages_show_no_staff_menu(client, make_user, login):
    assert 'href="/verify"' in html(client.get("/login"))
    login(make_user(Role.ADMIN))
    page = html(client.get("/verify"))
    assert "审计日志" not in page and "退出" not in page


# --- each outcome -----------------------------------------------------------------------------------------

def test_a_valid_certificate_shows_every_field_masked(client, certificate):
    response = client.get(f"/verify/{certificate.number}")
    page = html(response)
    assert response.status_code == 200 and "证书有效" in outcome_box(page)
    for shown in ("张*明", certificate.snapshot["document_masked"], "居民身份证", "焊工", "四级/中级工", "2025-06-01",
                  "开封测试职业技能评价中心", "豫人社认定备〔2023〕017号", "正常", "工种/职业方向"):
        assert shown in page, shown
    assert "张三明" not in page
    assert protector().decrypt(certificate.snapshot["document_cipher"]) not in page


def test_scanning_then_revoking_then_scanning_again(client, certificate):
    path = qr_path(certificate)
    assert "证书有效" in outcome_box(html(client.get(path)))
    revoke_certificate(None, certificate, "冒名顶替参加认定")
    db.session.commit()
    box = outcome_box(html(client.get(path)))
    assert "证书已撤销" in box and "撤销日期：" in box and "原因：冒名顶替参加认定" in box
    assert "证书有效" not in box


def test_a_corrected_certificate_links_to_its_replacement(client, certificate):
    replacement = correct_certificate(None, certificate, "姓名录入错误", name="张三民")
    db.session.commit()
    box = outcome_box(html(client.get(f"/verify/{certificate.number}")))
    assert "证书已更正，已被新证书替代" in box
    assert f'href="/verify/{replacement.number}"' in box


def test_an_unknown_number_is_not_found(client, app):
    box = outcome_box(html(client.get(f"/verify/{MISSING}")))
    assert "未找到该证书编号" in box and MISSING in box


def test_a_malformed_number_in_the_address(client, app):
    response = client.get("/verify/ab")
    assert response.status_code == 400 and "格式不正确" in html(response)


def test_a_wrong_name_is_pointed_out(client, certificate):
    assert "所填姓名与该证书持证人不一致" in html(client.get(f"/verify/{certificate.number}?name=李四"))
    assert "所填姓名与证书持证人一致" in html(client.get(f"/verify/{certificate.number}?name=张三明"))


# --- the QR signature -------------------------------------------------------------------------------------

def test_a_genuine_qr_is_reported_valid(client, certificate):
    box = outcome_box(html(client.get(qr_path(certificate))))
    assert "二维码签名有效" in box and "可能为伪造" not in box


@pytest.mark.parametrize("edit", [
    lambda query: re.sub(r"s=[^&]+", "s=" + "A" * 86, query),
    lambda query: query.replace("l=4", "l=3"),
    lambda query: re.sub(r"n=[^&]+", "n=%E6%9D%8E%2A", query),
], ids=["signature", "level", "name"])
def test_a_forged_qr_is_never_shown_as_valid(client, certificate, edit):
    path, query = qr_path(certificate).split("?")
    box = outcome_box(html(client.get(f"{path}?{edit(query)}")))
    assert "二维码签名无效，可能为伪造" in box and "二维码签名有效" not in box


def test_a_plain_number_address_makes_no_qr_claim(client, certificate):
    page = html(client.get(f"/verify/{certificate.number}"))
    assert "二维码签名" not in page


# --- JSON -------------------------------------------------------------------------------------------------

def test_json_for_a_valid_certificate(client, certificate):
    response = client.get(f"/api/v1/certificates/{certificate.number}")
    body = response.get_json()
    assert response.status_code == 200
    assert {key: body[key] for key in ("number", "outcome", "status", "replacement", "revocation")} == {
        "number": certificate.number, "outcome": "valid", "status": "valid", "replacement": None,
        "revocation": None}
    assert body["certificate"]["name_masked"] == "张*明"
    assert body["certificate"]["document_masked"] == certificate.snapshot["document_masked"]
    assert body["agency"]["filing_number"] == "豫人社认定备〔2023〕017号"
    text = response.get_data(as_text=True)
    assert "张三明" not in text and protector().decrypt(certificate.snapshot["document_cipher"]) not in text


def test_json_for_revoked_and_superseded(client, certificate):
    replacement = correct_certificate(None, certificate, "工种录入错误", work_type="电焊")
    revoke_certificate(None, replacement, "材料造假")
    db.session.commit()
    old = client.get(f"/api/v1/certificates/{certificate.number}").get_json()
    assert (old["outcome"], old["replacement"]) == ("superseded", {"number": replacement.number})
    new = client.get(f"/api/v1/certificates/{replacement.number}").get_json()
    assert new["outcome"] == "revoked" and new["revocation"]["reason"] == "材料造假"


def test_json_not_found_and_malformed(client, app):
    response = client.get(f"/api/v1/certificates/{MISSING}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "未找到该证书编号", "details": []}
    response = client.get("/api/v1/certificates/%E8%AF%81%E4%B9%A6")
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_number" and "格式不正确" in body["message"]
    assert body["details"][0]["field"] == "number"


# --- upload -----------------------------------------------------------------------------------------------

def test_uploading_the_issued_pdf_matches(client, certificate):
    response = upload(client, issued_pdf(certificate))
    box = outcome_box(html(response))
    assert response.status_code == 200 and "与签发文件完全一致" in box and certificate.number in box


def test_uploading_an_edited_copy_does_not_match(client, certificate):
    edited = issued_pdf(certificate).replace(b"000000+08'00'", b"000001+08'00'", 1)
    box = outcome_box(html(upload(client, edited)))
    assert "文件与签发的证书不一致" in box and certificate.number in box and "有效" in box
    assert "完全一致" not in box


def test_uploading_a_copy_rendered_with_another_name_does_not_match(client, certificate):
    issued_pdf(certificate)
    forged = render_snapshot(dict(certificate.snapshot, name="李四"))
    box = outcome_box(html(upload(client, forged)))
    assert "文件与签发的证书不一致" in box and certificate.number in box


@pytest.mark.parametrize(("data", "message"), [
    (b"GIF89a not a pdf", "上传的文件不是 PDF"),
    (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "超过 5 MB 上限"),
    (b"%PDF-1.4\n" + b"0" * (7 * 1024 * 1024), "超过 5 MB 上限"),
], ids=["not-a-pdf", "just-over", "far-over"])
def test_bad_uploads_are_explained_and_nothing_is_stored(client, certificate, data, message):
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = upload(client, data)
    assert response.status_code == 400 and message in html(response)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 1


def test_an_upload_without_a_file(client, app):
    response = client.post("/verify/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择要上传的 PDF 文件" in html(response)


# --- rate limits ------------------------------------------------------------------------------------------

def test_pages_share_one_limit_per_client_and_answer_429_in_chinese(client, app, certificate):
    app.config["VERIFY_PAGE_LIMITS"] = "3/minute"
    for path in ("/verify", f"/verify/{certificate.number}", "/verify/upload"):
        assert client.get(path).status_code == 200
    response = client.get(f"/verify/{certificate.number}")
    assert response.status_code == 429 and "查询过于频繁" in html(response)
    assert "Retry-After" in response.headers
    other = app.test_client()
    assert other.get("/verify", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_the_json_limit_answers_429_as_json(client, app, certificate):
    app.config["VERIFY_API_LIMITS"] = "2/minute"
    for _ in range(2):
        assert client.get(f"/api/v1/certificates/{certificate.number}").status_code == 200
    response = client.get(f"/api/v1/certificates/{certificate.number}")
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited" and "查询过于频繁" in response.get_json()["message"]


def test_the_public_api_calls_count_each_on_their_own_and_say_what_is_left(client, app, certificate):
    # Their limits are declared on their blueprint (registry/api/public_views.py), not on each view.
    app.config["VERIFY_API_LIMITS"] = "2/minute"
    answers = [client.get(f"/api/v1/certificates/{certificate.number}") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert [answer.headers.get("X-RateLimit-Remaining") for answer in answers[:2]] == ["1", "0"]
    assert "Retry-After" in answers[2].headers
    assert client.get("/api/v1/signing-key").status_code == 200


def test_uploads_have_their_own_tighter_limit(client, app, certificate):
    app.config["VERIFY_UPLOAD_LIMITS"] = "1/minute"
    assert upload(client, b"not a pdf").status_code == 400
    assert upload(client, b"not a pdf").status_code == 429
    assert client.get("/verify/upload").status_code == 200


def test_name_guesses_count_against_the_page_limit_on_the_page_and_the_api_alike(client, app, certificate):
    # A name check confirms who holds a certificate: guessing names must cost the page's budget whichever
    # door the guesses come through, not the JSON endpoint's larger one.
    app.config["VERIFY_PAGE_LIMITS"] = "3/minute"
    app.config["VERIFY_API_LIMITS"] = "100/minute"
    assert client.get(f"/verify/{certificate.number}?name=王一").status_code == 200
    for guess in ("王二", "王三"):
        assert client.get(f"/api/v1/certificates/{certificate.number}?name={guess}").status_code == 200
    response = client.get(f"/api/v1/certificates/{certificate.number}?name=王四")
    assert response.status_code == 429 and response.get_json()["error"] == "rate_limited"
    assert client.get(f"/verify/{certificate.number}?name=王五").status_code == 429
    # Looking a number up without a name stays within the API's own limit.
    assert client.get(f"/api/v1/certificates/{certificate.number}").status_code == 200


@pytest.fixture
def broken_counter_file(app):
    """The rate-limit counters' file made unusable before any request opened it; the limiter's memory of
    the dead store (kept on the one Limiter object) is forgotten afterwards, so later apps count in files."""
    from registry.core.ratelimit import limiter

    def breaking(how: str) -> None:
        path = app.config["RATELIMIT_STORAGE_URI"].removeprefix("sqlite:///")
        if how == "not a database":
            with open(path, "wb") as handle:
                handle.write(b"this is not an SQLite file" * 100)
        else:
            __import__("os").makedirs(path, exist_ok=True)  # a folder where the file should be

    yield breaking
    limiter._storage_dead = False


@pytest.mark.parametrize("how", ["not a database", "a folder"])
def test_the_verify_pages_still_answer_when_the_rate_limit_store_fails(client, certificate,
                                                                       broken_counter_file, how):
    broken_counter_file(how)
    for _ in range(3):  # the first request finds the store dead; the ones after it answer without it
        assert client.get(f"/verify/{certificate.number}").status_code == 200
        api = client.get(f"/api/v1/certificates/{certificate.number}")
        assert api.status_code == 200 and api.get_json()["outcome"] == "valid"
        assert client.get(f"/api/v1/certificates/{certificate.number}?name=张三明").get_json()["name_matches"]
