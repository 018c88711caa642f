"""Certificate PDFs: our rendering of issued certificates beside plain ReportLab drawing the same page.

"Ours" is what a download runs: `rendering.render(certificate)` (decrypt the frozen document number, sign the
QR claim, draw, embed the font subset) and, for a batch, `batch_output.build_in_memory` as PDF and as ZIP.
"Plain" is a straightforward ReportLab canvas given the finished texts — the same strings, the same
WenQuanYi Zen Hei TTF, the same qrcode matrix, frame, photo box and seal — written here without any of our
code, so decrypting and signing count against us. Each side runs three times (or --repeat); the best
wall-clock and the best CPU time count (CPU time barely moves when other processes compete for the cores).
The plain QR is one rectangle per dark module, as a straightforward drawing has it; ours merges each run
of dark modules into one (≈ 3 ms of its lead per page). Rendering does not touch the database, so it runs
on SQLite only. Target (the [Certificates] issue): at
least 0.7× the plain rate, i.e. at most 1/0.7 ≈ 1.43× its time.
"""
import hashlib
import io
import math
import zipfile
from collections.abc import Callable, Iterator

import qrcode
import sqlalchemy as sa
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from benchmarks.common import BenchmarkFailed, Options, Result, clocked, fresh_app, timed
from registry.core.db import db

NAME = "certificate_pdf"
DEFAULT_ROWS = 300
RATIO_LIMIT = 1 / 0.7
RUNS = 3
PLAIN_FONT = "PlainWenQuanYi"
BODY = ("本证书由评价机构依据国家职业技能标准颁发，", "表明持证人经职业技能等级认定，具备相应职业（工种）的技能等级水平。")
LABELS = ("姓名", "证件类型", "证件号码", "职业名称", "工种/职业方向", "职业技能等级", "证书编号", "评价机构", "发证日期")


def issue_certificates(count: int) -> list:
    """A welding agency's approved batch of `count` passed candidates, issued through issue_batch."""
    from datetime import date, timedelta

    from registry.assessment.operations import approve_batch, create_batch, record_result
    from registry.certificates.operations import issue_batch
    from registry.organizations.models import AgencyStatus, AgencyType
    from registry.organizations.operations import add_scope, create_agency
    from registry.people.identity import DocumentType, resident_id_check_char
    from registry.people.operations import register_person
    from registry.reference.models import Occupation

    occupation_id = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))
    agency = create_agency(None, name="开封基准测试职业技能评价中心", agency_type=AgencyType.SOCIAL,
                           ministry_code="0000", site_code="900001", filing_number="豫人社认定备〔基准〕1号",
                           filed_on=date(2023, 1, 1), county_code="410202", status=AgencyStatus.ACTIVE)
    add_scope(None, agency, occupation_id, None, 5, 3, date(2024, 1, 1), None)
    batch = create_batch(None, agency_id=agency.id, occupation_id=occupation_id, work_type=None, level=4,
                         assessed_on=date(2025, 5, 10), county_code="410221")
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰"
    for index in range(count):
        first17 = f"410221{date(1970, 1, 1) + timedelta(days=index):%Y%m%d}{index % 1000:03d}"
        name = surnames[index % 20] + given[(index * 7) % 20] + given[(index * 3) % 20]
        number = first17 + resident_id_check_char(first17)
        person = register_person(None, DocumentType.RESIDENT_ID, number, name, "410221")
        record_result(None, batch, person, theory=85, practical=85)
    approve_batch(None, batch)
    certificates, seconds = timed(lambda: issue_batch(None, batch, date(2025, 6, 1)))
    db.session.commit()
    return certificates, seconds


def plain_inputs(certificate) -> tuple:
    """The finished strings a plain renderer would be handed: decrypting and signing are not its work."""
    from registry.certificates import rendering

    snapshot, number, qr_text, verify_url, _photo, _revoked = rendering.page_arguments(certificate.snapshot)
    values = (snapshot["name"], snapshot["document_type"], number, snapshot["occupation_name"],
              snapshot["work_type"], snapshot["level_label"], snapshot["number"], snapshot["agency_name"],
              snapshot["issued_on"])
    return snapshot["title"], values, qr_text, verify_url, snapshot["agency_name"]


def plain_font() -> str:
    from registry.certificates.pdf import font_path

    if PLAIN_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PLAIN_FONT, font_path(), subfontIndex=0))
    return PLAIN_FONT


def plain_page(canvas: Canvas, title: str, values: tuple, qr_text: str, verify_url: str, agency: str) -> None:
    width, height = A4
    canvas.setStrokeColor(colors.Color(0.55, 0.42, 0.16))
    canvas.setLineWidth(2)
    canvas.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)
    canvas.setLineWidth(0.6)
    canvas.rect(17 * mm, 17 * mm, width - 34 * mm, height - 34 * mm)
    canvas.setFont(PLAIN_FONT, 30)
    canvas.drawCentredString(width / 2, 250 * mm, title)
    canvas.setFont(PLAIN_FONT, 12)
    for index, line in enumerate(BODY):
        canvas.drawString(30 * mm, 228 * mm - index * 7 * mm, line)
    for index, (label, value) in enumerate(zip(LABELS, values)):
        canvas.setFont(PLAIN_FONT, 11)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(30 * mm, 200 * mm - index * 11 * mm, label)
        canvas.setFont(PLAIN_FONT, 13)
        canvas.setFillColor(colors.black)
        canvas.drawString(68 * mm, 200 * mm - index * 11 * mm, str(value))
    canvas.setDash(3, 2)
    canvas.setStrokeColor(colors.grey)
    canvas.rect(150 * mm, 170 * mm, 35 * mm, 45 * mm)
    canvas.setDash()
    canvas.setFont(PLAIN_FONT, 10)
    canvas.setFillColor(colors.grey)
    canvas.drawCentredString(167.5 * mm, 192.5 * mm, "（未上传照片）")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(qr_text)
    matrix = code.get_matrix()
    cell = 34 * mm / len(matrix)
    canvas.setFillColor(colors.white)
    canvas.rect(26 * mm, 30 * mm, 38 * mm, 38 * mm, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                path.rect(28 * mm + column * cell, 66 * mm - (row_index + 1) * cell, cell, cell)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFont(PLAIN_FONT, 9)
    for y, text in ((62, "扫描二维码在线验证本证书"), (56, verify_url), (40, "证书查询：http://jndj.osta.org.cn"),
                    (35, "评价机构查询：http://pjjg.osta.org.cn")):
        canvas.drawString(67 * mm, y * mm, text)
    plain_seal(canvas, agency)


def plain_seal(canvas: Canvas, agency: str) -> None:
    x, y, radius = 160 * mm, 82 * mm, 21 * mm
    canvas.saveState()
    canvas.setStrokeColor(colors.Color(0.8, 0.1, 0.1))
    canvas.setFillColor(colors.Color(0.8, 0.1, 0.1))
    canvas.circle(x, y, radius)
    star = canvas.beginPath()
    star.moveTo(x, y + 5 * mm)
    for k in range(1, 10):
        r = 5 * mm * (1 if k % 2 == 0 else 0.38)
        star.lineTo(x + r * math.cos(math.radians(90 + k * 36)), y + r * math.sin(math.radians(90 + k * 36)))
    star.close()
    canvas.drawPath(star, stroke=0, fill=1)
    name = agency[:18]
    canvas.setFont(PLAIN_FONT, 9 if len(name) > 12 else 10)
    for index, char in enumerate(name):
        angle = 90 + min(240.0, 16.0 * len(name)) * (0.5 - (index + 0.5) / len(name))
        canvas.saveState()
        canvas.translate(x + (radius - 5 * mm) * math.cos(math.radians(angle)),
                         y + (radius - 5 * mm) * math.sin(math.radians(angle)))
        canvas.rotate(angle - 90)
        canvas.drawCentredString(0, 0, char)
        canvas.restoreState()
    canvas.restoreState()


def plain_document(pages: list[tuple]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1, initialFontName=plain_font())
    for page in pages:
        plain_page(canvas, *page)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def plain_zip(pages: list[tuple]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, page in enumerate(pages):
            archive.writestr(f"{index}.pdf", plain_document([page]))
    return buffer.getvalue()


def best_of(work: Callable[[], object], count: int) -> tuple[object, float, float]:
    """The result, and the least wall-clock and the least CPU seconds of `count` runs.

    The least, not the median: rendering is pure CPU work, so noise from other processes only ever adds.
    """
    runs = [clocked(work) for _ in range(count)]
    return runs[0][0], min(run[1] for run in runs), min(run[2] for run in runs)


def run(options: Options) -> Iterator[Result]:
    from registry.certificates import rendering
    from registry.certificates.batch_output import build_in_memory

    count = options.rows or DEFAULT_ROWS
    runs = max(options.repeat, RUNS)
    backend = options.backends[0]
    with fresh_app(backend, options.workdir, f"{backend.name}-certificates"):
        certificates, issuing = issue_certificates(count)
        pages = [plain_inputs(certificate) for certificate in certificates]
        rendering.render(certificates[0]), plain_document(pages[:1])  # load the font outside the clock
        ours_single, single, single_cpu = best_of(lambda: [rendering.render(c) for c in certificates], runs)
        wrong = [c.number for c, data in zip(certificates, ours_single)
                 if hashlib.sha256(data).hexdigest() != c.pdf_sha256]
        if wrong:
            raise BenchmarkFailed(f"reprint differs from the issued file: {wrong[:3]}")
        plain_single, raw_single, raw_single_cpu = best_of(lambda: [plain_document([p]) for p in pages], runs)
        ours_batch, batch, batch_cpu = best_of(lambda: build_in_memory(certificates, "pdf"), runs)
        plain_batch, raw_batch, raw_batch_cpu = best_of(lambda: plain_document(pages), runs)
        ours_zip, zipped, zipped_cpu = best_of(lambda: build_in_memory(certificates, "zip"), runs)
        _plain_zip, raw_zip, raw_zip_cpu = best_of(lambda: plain_zip(pages), runs)
    size = sum(map(len, ours_single)) / count / 1024
    plain_size = sum(map(len, plain_single)) / count / 1024
    yield Result("certificate PDF, single", backend.name, count, single, raw_single, limit=RATIO_LIMIT,
                 cpu_ratio=single_cpu / raw_single_cpu,
                 note=f"{rate_ratio(single_cpu, raw_single_cpu)}; {size:.0f} KB each, "
                      f"plain {plain_size:.0f} KB")
    yield Result("certificate PDF, batch (one file)", backend.name, count, batch, raw_batch,
                 limit=RATIO_LIMIT, cpu_ratio=batch_cpu / raw_batch_cpu,
                 note=f"{rate_ratio(batch_cpu, raw_batch_cpu)}; {len(ours_batch) / 2**20:.1f} MB, "
                      f"plain {len(plain_batch) / 2**20:.1f} MB")
    yield Result("certificate PDF, batch ZIP", backend.name, count, zipped, raw_zip, limit=RATIO_LIMIT,
                 cpu_ratio=zipped_cpu / raw_zip_cpu,
                 note=f"{rate_ratio(zipped_cpu, raw_zip_cpu)}; {len(ours_zip) / 2**20:.1f} MB")
    yield Result("issue_batch incl. render + SHA-256", backend.name, count, issuing,
                 note="numbering, snapshots, one render per certificate, flush")


def rate_ratio(ours_cpu: float, plain_cpu: float) -> str:
    """The issue's figure: our rate as a multiple of plain's (the table's ratios are our time ÷ plain's)."""
    return f"CPU rate ours/plain {plain_cpu / ours_cpu:.2f}× (target ≥ 0.7×)"
