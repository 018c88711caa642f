"""The certificate PDF: every mandatory field as extractable text, an embedded CJK subset, a QR that decodes."""
import shutil
import subprocess

import pytest

from registry.certificates.pdf import render_certificate

SNAPSHOT = {
    "title": "职业技能等级证书", "number": "S000041900001254000001", "name": "张三明",
    "document_type": "居民身份证", "document_masked": "110105********002X", "document_cipher": "x",
    "occupation_name": "焊工", "occupation_code": "6-18-02-04", "work_type": "--", "level": 4,
    "level_label": "四级/中级工", "agency_name": "开封演示职业技能评价中心（演示数据）",
    "agency_filing_number": "豫人社认定备〔演示〕001号", "issued_on": "2025-06-01",
}
NUMBER = "11010519491231002X"
QR = "http://127.0.0.1/verify/S000041900001254000001?s=test"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: scripts/system-deps installs it (poppler-utils, zbar-tools)")
    return path


def render(**overrides) -> bytes:
    return render_certificate(SNAPSHOT, NUMBER, QR, "http://127.0.0.1/verify/S000041900001254000001", **overrides)


def pdf_text(data: bytes, tmp_path) -> str:
    # Raw content order: -layout would drop the rotated 已撤销 mark.
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run([tool("pdftotext"), "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_every_mandatory_field_is_printed(tmp_path):
    text = pdf_text(render(), tmp_path)
    for expected in ("职业技能等级证书", "张三明", "居民身份证", NUMBER, "焊工", "--", "四级/中级工",
                     "S000041900001254000001", "开封演示职业技能评价中心（演示数据）", "2025-06-01",
                     "http://jndj.osta.org.cn", "http://pjjg.osta.org.cn", "未上传照片", "工种/职业方向"):
        assert expected in text, expected


def test_the_chinese_font_is_an_embedded_subset(tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render())
    fonts = subprocess.run([tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all("+" in row[0] and row[-5:-3] == ["yes", "yes"] for row in rows), fonts


def test_rendering_is_deterministic():
    assert render() == render()
    assert render() != render(revoked=True)


def test_the_qr_code_decodes_from_the_page_image(tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render())
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
                   check=True)
    decoded = subprocess.run([tool("zbarimg"), "-q", "--raw", str(tmp_path / "page.png")], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == QR


def test_a_revoked_certificate_says_so(tmp_path):
    # Rotated text comes out one character per line: compare without whitespace.
    assert "已撤销" in "".join(pdf_text(render(revoked=True), tmp_path).split())
    assert "已撤销" not in "".join(pdf_text(render(), tmp_path).split())
