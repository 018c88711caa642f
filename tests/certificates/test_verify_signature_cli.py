"""`registry verify-signature FILE SIG`: a bulk check's signed workbook is 有效 as downloaded, 无效 after a one-byte
edit or under another key; OpenSSL, knowing nothing of this registry, agrees using only the public key file."""
import shutil
import subprocess

import pytest

from registry.certificates import bulk_verification as bulk
from registry.certificates import rendering, signing


@pytest.fixture
def signed_files(app, tmp_path):
    answers = [bulk.Answer(2, "S000041800001254000001", "张三", "not_found")]
    result = bulk.signed_workbook(rendering.signing_key(), answers)
    workbook, signature = tmp_path / result.filename, tmp_path / (result.filename + ".sig")
    workbook.write_bytes(result.workbook)
    signature.write_bytes(result.signature)
    key = tmp_path / "public-key.pem"
    key.write_text(rendering.public_key_pem())
    return workbook, signature, key


def test_the_workbook_as_signed_is_valid(runner, signed_files):
    workbook, signature, key = signed_files
    result = runner.invoke(args=["verify-signature", str(workbook), str(signature)])
    assert result.exit_code == 0 and result.output.startswith("有效")
    with_key = runner.invoke(args=["verify-signature", str(workbook), str(signature), "--public-key", str(key)])
    assert with_key.exit_code == 0, with_key.output


def test_a_one_byte_edit_or_another_key_is_invalid(runner, signed_files, tmp_path):
    workbook, signature, _key = signed_files
    data = bytearray(workbook.read_bytes())
    data[len(data) // 2] ^= 1
    edited = tmp_path / "edited.xlsx"
    edited.write_bytes(bytes(data))
    result = runner.invoke(args=["verify-signature", str(edited), str(signature)])
    assert result.exit_code == 1 and result.output.startswith("无效")
    foreign = tmp_path / "foreign.pem"
    foreign.write_text(signing.public_key_pem(signing.load_private_key(signing.generate_signing_key())))
    assert runner.invoke(args=["verify-signature", str(workbook), str(signature),
                               "--public-key", str(foreign)]).exit_code == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="OpenSSL's command line tool is not installed")
def test_openssl_checks_it_with_the_public_key_alone(signed_files, tmp_path):
    """The command docs/VERIFICATION.md gives for readers without this software."""
    workbook, signature, key = signed_files

    def openssl(path) -> subprocess.CompletedProcess:
        return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
                               "-in", str(path), "-sigfile", str(signature)], capture_output=True, text=True)

    assert openssl(workbook).returncode == 0
    edited = tmp_path / "edited.xlsx"
    edited.write_bytes(workbook.read_bytes() + b"\0")
    assert openssl(edited).returncode != 0
