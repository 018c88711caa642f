"""The PDF signature (PAdES) of a downloaded certificate: poppler's pdfsig reads it, verify-by-upload reports it."""
import hashlib
import io
import re
import shutil
import subprocess
from datetime import date

import pytest

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import pdf_keys, pdf_signature
from registry.certificates.operations import issue_batch
from registry.certificates.rendering import render_snapshot
from registry.certificates.reprint import reprint
from registry.certificates.verification import verify_upload
from registry.core.db import db


@pytest.fixture
def certificate(make_agency, make_batch, make_person):
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name="张三明"), theory=85, practical=90)
    approve_batch(None, batch)
    issued = issue_batch(None, batch, date(2025, 6, 1))[0]
    db.session.commit()
    return issued


def pdfsig(data: bytes, tmp_path) -> str:
    tool = shutil.which("pdfsig")
    if tool is None:
        pytest.fail("pdfsig is missing: scripts/system-deps installs poppler-utils")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, str(path)], capture_output=True, text=True).stdout


def one_byte_edited(data: bytes) -> bytes:
    """One byte of the signed rendering changed (a digit of the file's date), the signature left as it was."""
    at = data.index(b"000000+08'00'")
    return data[:at] + b"1" + data[at + 1:]


def test_a_downloaded_certificate_is_signed_and_pdfsig_finds_it_valid(certificate, tmp_path):
    signed = reprint(None, certificate)
    report = pdfsig(signed, tmp_path)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report and "开封市职业技能证书登记系统" in report


def test_pdfsig_finds_a_one_byte_edit(certificate, tmp_path):
    report = pdfsig(one_byte_edited(reprint(None, certificate)), tmp_path)
    assert "Signature #1" in report and "Signature is Valid" not in report, report
    assert "Digest Mismatch" in report


def test_the_stored_hash_is_of_the_unsigned_rendering_the_signed_file_begins_with(certificate):
    signed = reprint(None, certificate)
    unsigned = render_snapshot(certificate.snapshot)
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)
    assert pdf_signature.unsigned_prefix(signed) == unsigned
    assert certificate.pdf_sha256 == hashlib.sha256(unsigned).hexdigest()


def test_upload_reports_a_valid_signature_and_matches_the_issued_file(certificate):
    verdict = verify_upload(reprint(None, certificate))
    assert verdict.is_exact and verdict.certificate.id == certificate.id
    assert verdict.signature.is_valid and verdict.signature.wording.startswith("PDF数字签名有效")


def test_upload_of_an_edited_signed_file_reports_the_broken_signature(certificate):
    verdict = verify_upload(one_byte_edited(reprint(None, certificate)))
    assert not verdict.is_exact
    assert not verdict.signature.is_valid and "签名后文件内容被改动过" in verdict.signature.wording


def test_a_file_signed_with_another_key_is_not_ours(certificate):
    key_pem, chain_pem = pdf_signature.generate_development_chain(pdf_keys.REGISTRY_NAME)
    stranger = pdf_signature.sign_pdf(render_snapshot(certificate.snapshot),
                                      pdf_signature.load_signer(key_pem, chain_pem))
    verdict = verify_upload(stranger)
    assert verdict.signature.intact and not verdict.signature.ours and not verdict.is_exact
    assert "不是本系统的签名" in verdict.signature.wording


def test_an_unsigned_copy_still_matches_and_says_it_has_no_signature(client, certificate):
    unsigned = render_snapshot(certificate.snapshot)
    verdict = verify_upload(unsigned)
    assert verdict.is_exact and verdict.signature is None
    page = client.post("/verify/upload", data={"file": (io.BytesIO(unsigned), "c.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "文件没有PDF数字签名" in page


def test_the_upload_page_shows_the_signature(client, certificate):
    page = client.post("/verify/upload", data={"file": (io.BytesIO(reprint(None, certificate)), "c.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    box = re.search(r'<div class="outcome[^"]*" id="pdf-signature"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "PDF数字签名有效" in box and "签名时间" in box


def test_development_generates_a_key_and_chain_once_into_the_instance_folder(app, certificate):
    from pathlib import Path

    reprint(None, certificate)
    key_file, chain_file = Path(app.config["PDF_SIGNING_KEY_FILE"]), Path(app.config["PDF_SIGNING_CHAIN_FILE"])
    assert key_file.parent == chain_file.parent == Path(app.config["INSTANCE_PATH"])
    assert key_file.stat().st_mode & 0o777 == 0o600
    chain = pdf_keys.chain()
    assert len(chain) == 2 and chain[0].issuer == chain[1].subject
    before = chain_file.read_bytes()
    reprint(None, certificate)
    assert chain_file.read_bytes() == before


def test_anything_appended_after_the_signature_is_not_the_issued_file(certificate):
    signed = reprint(None, certificate)
    previous = re.findall(rb"startxref\s+(\d+)", signed)[-1]
    appended = signed + b"\n% saved again by an editor\nstartxref\n" + previous + b"\n%%EOF\n"
    verdict = verify_upload(appended)
    assert not verdict.is_exact and verdict.certificate.id == certificate.id
    assert not verdict.signature.is_valid and "签名不覆盖整个文件" in verdict.signature.wording


def test_signing_and_checking_work_where_an_event_loop_is_already_running(app, certificate):
    """pyHanko's synchronous calls start an event loop of their own; a caller already running one (as a test
    session driving Playwright does) must still get a signed file and a true report, not a RuntimeError. The
    loop runs on a thread of its own here, since this test's thread may already run Playwright's."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    unsigned = render_snapshot(certificate.snapshot)

    async def inside_a_loop():
        signed = pdf_signature.sign_pdf(unsigned, pdf_keys.signer())
        return signed, pdf_signature.inspect(signed, pdf_keys.chain())

    def in_a_running_loop():
        with app.app_context():
            return asyncio.run(inside_a_loop())

    with ThreadPoolExecutor(max_workers=1) as pool:
        signed, report = pool.submit(in_a_running_loop).result()
    assert pdf_signature.unsigned_prefix(signed) == unsigned and len(signed) > len(unsigned)
    assert report.intact and report.whole_file and report.ours
