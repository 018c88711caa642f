"""`registry verify-qr`: 有效 for the registry's own QR codes, 伪造 for edited ones or foreign keys; offline."""
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from registry.certificates import rendering, signing
from registry.certificates.operations import issue_batch
from registry.core.db import db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "VERIFICATION.md"


@pytest.fixture
def certificate(approved_batch):
    certificate = issue_batch(None, approved_batch(passed=1, failed=0))[0]
    db.session.commit()
    return certificate


def qr_of(certificate) -> str:
    claim = signing.sign(rendering.signing_key(), certificate.snapshot)
    return signing.qr_text(claim, rendering.public_url())


@pytest.fixture
def public_key_file(tmp_path, app):
    path = tmp_path / "registry-public-key.pem"
    path.write_text(rendering.public_key_pem())
    return path


def test_a_genuine_qr_is_valid_and_its_fields_are_printed(runner, certificate):
    result = runner.invoke(args=["verify-qr", qr_of(certificate)])
    assert result.exit_code == 0, result.output
    snapshot = certificate.snapshot
    assert result.output.startswith("有效\n")
    for expected in (snapshot["number"], snapshot["issued_on"], "4（四级/中级工）", "6-18-02-04",
                     snapshot["name"][0] + "*"):
        assert expected in result.output


def test_an_edited_field_is_forged(runner, certificate):
    text = qr_of(certificate)
    edited = re.sub(r"([?&]d=)\d{4}", r"\g<1>2019", text)
    assert edited != text
    result = runner.invoke(args=["verify-qr", edited])
    assert result.exit_code == 1 and result.output.startswith("伪造：签名与所列字段不符")
    renamed = re.sub(r"([?&]n=)[^&]+", lambda match: match.group(1) + quote("李*四"), text)
    assert runner.invoke(args=["verify-qr", renamed]).exit_code == 1


def test_another_registrys_key_makes_it_forged(runner, certificate, tmp_path):
    other = signing.load_private_key(signing.generate_signing_key())
    foreign = tmp_path / "foreign.pem"
    foreign.write_text(signing.public_key_pem(other))
    assert runner.invoke(args=["verify-qr", qr_of(certificate), "--public-key", str(foreign)]).exit_code == 1
    signed_elsewhere = signing.qr_text(signing.sign(other, certificate.snapshot), rendering.public_url())
    result = runner.invoke(args=["verify-qr", signed_elsewhere])
    assert result.exit_code == 1 and "伪造" in result.output


def test_text_that_is_no_certificate_qr_is_refused(runner, app):
    result = runner.invoke(args=["verify-qr", "https://example.com/some/page"])
    assert result.exit_code == 1
    assert result.output == "伪造：二维码内容不是本系统的证书验证链接\n"


def test_a_key_file_that_is_not_a_public_key_is_named(runner, app, tmp_path):
    garbage = tmp_path / "key.pem"
    garbage.write_text("not a key")
    result = runner.invoke(args=["verify-qr", "https://x/verify/1?d=1&l=1&o=1&n=1&s=1", "--public-key",
                                 str(garbage)])
    assert result.exit_code == 1 and f"公钥文件 {garbage} 不是 PEM 格式的 Ed25519 公钥" in result.output


def test_offline_with_the_public_key_file_needs_no_database(certificate, public_key_file, tmp_path):
    """A separate process whose database URL points nowhere: the check must not try to connect."""
    environment = os.environ | {"REGISTRY_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",
                                "REGISTRY_INSTANCE_PATH": str(tmp_path / "elsewhere")}
    command = [str(Path(sys.executable).parent / "registry"), "verify-qr", qr_of(certificate), "--public-key",
               str(public_key_file)]
    genuine = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert genuine.returncode == 0, genuine.stderr
    assert genuine.stdout.startswith("有效") and certificate.number in genuine.stdout
    command[2] = command[2].replace("d=2", "d=1")
    forged = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert forged.returncode == 1 and forged.stdout.startswith("伪造")


def test_the_documented_python_check_agrees(certificate, public_key_file):
    """docs/VERIFICATION.md's example, run as printed: it must tell genuine from forged too."""
    example = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    assert len([line for line in example.splitlines() if line.strip()]) <= 15
    namespace: dict = {}
    exec(compile(example, str(DOCS), "exec"), namespace)
    pem = public_key_file.read_bytes()
    text = qr_of(certificate)
    assert namespace["verify"](text, pem) is True
    assert namespace["verify"](text.replace("l=4", "l=3"), pem) is False
