"""Issued PDFs: the hash stored at issue, the identical reprint (here and in another process), the QR."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.certificates import rendering, signing
from registry.certificates.models import Certificate
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.pdf_signature import unsigned_prefix
from registry.core.db import db
from registry.people.operations import protector

ISSUED_ON = date(2025, 6, 1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: scripts/system-deps installs it (poppler-utils, zbar-tools)")
    return path


@pytest.fixture
def issued(approved_batch):
    def factory(passed: int = 2, **values) -> list[Certificate]:
        certificates = issue_batch(None, approved_batch(passed=passed, failed=0, **values), ISSUED_ON)
        db.session.commit()
        return certificates

    return factory


def test_issue_stores_the_hash_of_the_rendered_pdf(issued):
    certificates = issued(passed=3)
    hashes = {certificate.pdf_sha256 for certificate in certificates}
    assert len(hashes) == 3 and all(len(digest) == 64 for digest in hashes)
    for certificate in certificates:
        assert sha256(rendering.render(certificate)) == certificate.pdf_sha256


def test_a_correction_stores_the_hash_of_the_replacement(issued):
    original = issued(passed=1)[0]
    replacement = correct_certificate(None, original, "姓名录入错误", name="张更正", issued_on=date(2025, 7, 1))
    db.session.commit()
    assert replacement.pdf_sha256 not in (None, original.pdf_sha256)
    assert sha256(rendering.render(replacement)) == replacement.pdf_sha256
    # The superseded certificate keeps the hash of the file it was issued as.
    assert sha256(rendering.render(original)) == original.pdf_sha256


def test_a_revoked_reprint_is_marked_and_no_longer_the_issued_file(issued, make_user):
    certificate = issued(passed=1)[0]
    stored = certificate.pdf_sha256
    revoke_certificate(make_user(Role.ADMIN), certificate, "考试作弊")
    db.session.commit()
    assert certificate.pdf_sha256 == stored
    assert sha256(rendering.render(certificate)) != stored
    assert sha256(rendering.render_snapshot(certificate.snapshot)) == stored


def test_the_page_prints_the_decrypted_number_and_a_signed_qr(issued, monkeypatch):
    certificate = issued(passed=1)[0]
    snapshot, number, qr_text, verify_url, photo, revoked = rendering.page_arguments(certificate.snapshot)
    assert number == protector().decrypt(certificate.snapshot["document_cipher"]) and len(number) == 18
    assert verify_url == f"http://127.0.0.1:5000/verify/{certificate.number}"
    assert qr_text.startswith(verify_url + "?")
    assert signing.is_authentic(rendering.signing_key().public_key(), signing.parse_qr_text(qr_text))
    assert photo is None and revoked is False


def test_the_same_certificate_renders_the_same_bytes_in_another_process(app, issued):
    """A fresh interpreter (its own hash seed, font cache and key objects) must produce the issued file."""
    certificate = issued(passed=1)[0]
    script = (
        "import json, sys\n"
        "from registry import create_app\n"
        "from registry.certificates.rendering import render_snapshot\n"
        "with create_app().app_context():\n"
        "    sys.stdout.buffer.write(render_snapshot(json.load(sys.stdin)))\n"
    )
    environment = os.environ | {"REGISTRY_SIGNING_KEY": app.config["SIGNING_KEY"], "PYTHONHASHSEED": "random"}
    rendered = subprocess.run([sys.executable, "-c", script], input=json.dumps(certificate.snapshot).encode(),
                              capture_output=True, env=environment, check=True, timeout=120).stdout
    assert rendered == rendering.render(certificate)
    assert sha256(rendered) == certificate.pdf_sha256


def test_a_referenced_photo_is_printed_or_refused(issued, make_person):
    from PIL import Image

    from registry.people.photos import upload_photo

    certificate = issued(passed=1)[0]
    assert rendering.photo_for(certificate.snapshot) is None
    with pytest.raises(rendering.PhotoUnavailable, match="不在照片库中"):
        rendering.photo_for(certificate.snapshot | {"photo_sha256": "0" * 64})
    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 180, 160)).save(buffer, "PNG")
    photo = upload_photo(None, certificate.person, buffer.getvalue())
    db.session.commit()
    with_photo = certificate.snapshot | {"photo_sha256": photo.sha256}
    assert rendering.photo_for(with_photo) == photo.data
    assert rendering.render_snapshot(with_photo) != rendering.render_snapshot(certificate.snapshot)


def test_the_signing_key_and_public_key_agree(app):
    pem = rendering.public_key_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    claim = signing.sign(rendering.signing_key(), {"number": "S1", "issued_on": "2025-06-01", "level": 4,
                                                  "occupation_code": "6-18-02-04", "name": "张三"})
    assert signing.is_authentic(signing.load_public_key(pem), claim)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


# --- the download views ---
def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(data)
    return subprocess.run([tool("pdftotext"), "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def qr_from_page(data: bytes, tmp_path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(data)
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    return subprocess.run([tool("zbarimg"), "-q", "--raw", str(tmp_path / "page.png")], capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def agency_client(issued, make_user, login):
    """Signed in as the issuing agency, with one issued certificate."""
    certificate = issued(passed=1)[0]
    return login(make_user(Role.AGENCY, organization_id=certificate.agency_id)), certificate


def test_the_download_is_the_issued_file_and_prints_every_mandatory_field(agency_client, tmp_path):
    from registry.core.audit import AuditEvent

    client, certificate = agency_client
    response = client.get(f"/certificates/{certificate.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert f"{certificate.number}.pdf" in response.headers["Content-Disposition"]
    # Signed on the way out (PAdES): the stored hash is of the unsigned rendering the download begins with.
    assert sha256(unsigned_prefix(response.data)) == certificate.pdf_sha256 != sha256(response.data)
    assert unsigned_prefix(client.get(f"/certificates/{certificate.id}/pdf").data) == unsigned_prefix(response.data)
    snapshot = certificate.snapshot
    text = pdf_text(response.data, tmp_path)
    for expected in ("职业技能等级证书", snapshot["name"], "居民身份证", protector().decrypt(snapshot["document_cipher"]),
                     snapshot["occupation_name"], "工种/职业方向", "--", "四级/中级工", certificate.number,
                     snapshot["agency_name"], "2025年06月01日", "http://jndj.osta.org.cn",
                     "http://pjjg.osta.org.cn",
                     "照片未采集", f"http://127.0.0.1:5000/verify/{certificate.number}"):
        assert expected in text, expected
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reveal_document")).all()[-1]
    assert (event.entity_type, event.entity_id) == ("person", str(certificate.person_id))
    assert event.after["certificate"] == certificate.number


def test_a_county_download_is_logged_as_revealing_the_holders_full_number(issued, make_user, login):
    """The file prints the full ID number: the person page's reveal event, on the person, not a "download"."""
    from registry.core.audit import AuditEvent

    certificate = issued(passed=1)[0]
    full_number = protector().decrypt(certificate.snapshot["document_cipher"])
    county_user = make_user(Role.COUNTY, county_code="410221")
    client = login(county_user)
    assert client.get(f"/certificates/{certificate.id}/pdf").status_code == 200
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.actor_id == county_user.id,
                                                            AuditEvent.action != "login")).all()
    assert [(event.action, event.entity_type, event.entity_id) for event in events] == [
        ("reveal_document", "person", str(certificate.person_id))]
    assert events[0].after["certificate"] == certificate.number
    assert events[0].after["document"] == certificate.snapshot["document_masked"]
    assert full_number not in str(events[0].after)


def test_the_printed_qr_verifies_with_the_published_key(agency_client, app, tmp_path):
    client, certificate = agency_client
    decoded = qr_from_page(client.get(f"/certificates/{certificate.id}/pdf").data, tmp_path)
    assert decoded.startswith(f"http://127.0.0.1:5000/verify/{certificate.number}?")
    published = app.test_client().get("/certificates/public-key.pem")
    assert published.status_code == 200 and published.mimetype == "application/x-pem-file"
    key_file = tmp_path / "public-key.pem"
    key_file.write_bytes(published.data)
    assert signing.is_authentic(signing.load_public_key(published.get_data(as_text=True)),
                                signing.parse_qr_text(decoded))
    runner = app.test_cli_runner()
    genuine = runner.invoke(args=["verify-qr", decoded, "--public-key", str(key_file)])
    assert genuine.exit_code == 0 and genuine.output.startswith("有效")
    forged = runner.invoke(args=["verify-qr", decoded.replace("l=4", "l=3"), "--public-key", str(key_file)])
    assert forged.exit_code == 1 and forged.output.startswith("伪造")


def test_a_revoked_certificate_downloads_with_the_mark(agency_client, tmp_path):
    client, certificate = agency_client
    revoke_certificate(None, certificate, "考试作弊")
    db.session.commit()
    data = client.get(f"/certificates/{certificate.id}/pdf").data
    assert sha256(data) != certificate.pdf_sha256
    assert "已撤销" in "".join(pdf_text(data, tmp_path).split())


@pytest.mark.parametrize(("role", "scope", "status"), [
    (Role.ADMIN, None, 200),
    (Role.COUNTY, "410221", 200),  # the holder's county and the county the batch was held in
    (Role.COUNTY, "410202", 404),
    (Role.AGENCY, "other", 404),
    (Role.INSTITUTION, None, 403),
])
def test_who_may_download(issued, make_user, make_agency, make_institution, login, role, scope, status):
    certificate = issued(passed=1)[0]
    if role is Role.AGENCY:
        user = make_user(role, organization_id=make_agency().id)
    elif role is Role.INSTITUTION:
        user = make_user(role, organization_id=make_institution().id)
    else:
        user = make_user(role, county_code=scope)
    assert login(user).get(f"/certificates/{certificate.id}/pdf").status_code == status


def test_anonymous_visitors_get_the_public_key_but_no_certificate(client, issued):
    certificate = issued(passed=1)[0]
    assert client.get("/certificates/public-key.pem").get_data(as_text=True) == rendering.public_key_pem()
    response = client.get(f"/certificates/{certificate.id}/pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_imported_certificate_has_no_file_to_download(agency_client):
    client, certificate = agency_client
    certificate.is_imported = True  # as the history import stores them (no file was ever issued here)
    db.session.commit()
    response = client.get(f"/certificates/{certificate.id}/pdf", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "该证书为历史导入记录，不是本系统签发的，没有可下载的证书文件。" in response.get_data(as_text=True)
