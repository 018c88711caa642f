"""The certificate PDF (A4, one page), drawn from the frozen snapshot only: the same input gives the same bytes.

Pure: no Flask, no database. Chinese text uses an embedded TrueType subset (WenQuanYi Zen Hei, GPL with a
font-embedding exception), so every viewer renders the same glyphs; the QR code and the seal are vectors.
"""
import io
import math
import os
from functools import cache
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_NAME = "WenQuanYiZenHei"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)
NATIONAL_CERTIFICATE_QUERY = "http://jndj.osta.org.cn"
NATIONAL_AGENCY_QUERY = "http://pjjg.osta.org.cn"

# Layout, in millimetres from the bottom-left corner of the A4 page.
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
TITLE_Y = 250 * mm
BODY_TOP = 228 * mm
FIELD_TOP = 200 * mm
FIELD_STEP = 11 * mm
LABEL_X, VALUE_X = 30 * mm, 68 * mm
PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H = 150 * mm, 170 * mm, 35 * mm, 45 * mm
QR_X, QR_Y, QR_SIZE = 28 * mm, 32 * mm, 34 * mm
SEAL_X, SEAL_Y, SEAL_R = 160 * mm, 82 * mm, 21 * mm
SEAL_RED = colors.Color(0.8, 0.1, 0.1)

FIELDS = (
    ("姓名", "name"), ("证件类型", "document_type"), ("证件号码", None), ("职业名称", "occupation_name"),
    ("工种/职业方向", "work_type"), ("职业技能等级", "level_label"), ("证书编号", "number"),
    ("评价机构", "agency_name"), ("发证日期", "issued_on"),
)
# Layout 2 (snapshots with "layout": 2, issued from 2026-12) also prints 性别, the occupation code, the
# agency's filing number and credit code, dates as 2022年07月24日, a plain photo frame, and Chinese file
# properties dated the issue day. Earlier snapshots keep layout 1, byte for byte: their stored SHA-256 and
# every copy already handed out must keep matching a fresh download.
LAYOUT = 2
FIELDS_2 = (
    ("姓名", "name"), ("性别", "gender"), ("证件类型", "document_type"), ("证件号码", None),
    ("职业名称", "occupation_name"), ("职业编码", "occupation_code"), ("工种/职业方向", "work_type"),
    ("职业技能等级", "level_label"), ("证书编号", "number"), ("评价机构", "agency_name"),
    ("机构备案编号", "agency_filing_number"), ("统一社会信用代码", "agency_credit_code"), ("发证日期", "issued_on"),
)
# 专项职业能力证书 (issued from 2026-12, always layout 2): the item instead of occupation, 工种 and level.
SPECIAL_TITLE = "专项职业能力证书"
FIELDS_SPECIAL = (
    ("姓名", "name"), ("性别", "gender"), ("证件类型", "document_type"), ("证件号码", None),
    ("专项职业能力", "occupation_name"), ("项目编码", "occupation_code"), ("证书编号", "number"),
    ("评价机构", "agency_name"), ("机构备案编号", "agency_filing_number"), ("统一社会信用代码", "agency_credit_code"),
    ("发证日期", "issued_on"),
)
FIELD_TOP_2, FIELD_STEP_2 = 206 * mm, 8.6 * mm
REGISTRY_NAME = "开封市职业技能证书登记系统"


class FontMissing(RuntimeError):
    """No embeddable CJK TrueType font: scripts/system-deps installs Debian's fonts-wqy-zenhei."""


@cache
def font_path() -> str:
    for candidate in (os.environ.get("REGISTRY_CJK_FONT"), *FONT_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    raise FontMissing("未找到可嵌入的中文 TrueType 字体（fonts-wqy-zenhei）；请运行 scripts/system-deps")


@cache
def register_font() -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, font_path(), subfontIndex=0))
    return FONT_NAME


def render_certificate(snapshot: dict, document_number: str, qr_text: str, verify_url: str,
                       photo: bytes | None = None, revoked: bool = False) -> bytes:
    """One A4 page; `document_number` is the decrypted number the snapshot keeps encrypted."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1, initialFontName=register_font())
    canvas.setTitle(f"{snapshot['title']} {snapshot['number']}")
    canvas.setAuthor(snapshot["agency_name"])
    if layout_of(snapshot) >= 2:
        describe_file(canvas, snapshot["title"], snapshot["issued_on"])
    draw_page(canvas, snapshot, document_number, qr_text, verify_url, photo, revoked)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def layout_of(snapshot: dict) -> int:
    return snapshot.get("layout", 1)


def describe_file(canvas: Canvas, subject: str, issued_on: str) -> None:
    """The file's properties in Chinese, dated the issue day at midnight China time: the same snapshot still
    gives the same bytes (ReportLab's invariant mode would otherwise write 2000-01-01 and "anonymous")."""
    canvas.setCreator(REGISTRY_NAME)
    canvas.setProducer(REGISTRY_NAME)
    canvas.setSubject(subject)
    stamp = "D:" + issued_on.replace("-", "") + "000000+08'00'"
    canvas.setDateFormatter(lambda *_: stamp)


def draw_page(canvas: Canvas, snapshot: dict, document_number: str, qr_text: str, verify_url: str,
              photo: bytes | None, revoked: bool) -> None:
    """Draw one certificate on the current page (batch output calls this once per page)."""
    font = register_font()
    _frame(canvas)
    canvas.setFont(font, 30)
    canvas.drawCentredString(PAGE_WIDTH / 2, TITLE_Y, snapshot["title"])
    _body(canvas, font, snapshot)
    if layout_of(snapshot) >= 2:
        _fields_2(canvas, font, snapshot, document_number)
        _photo_2(canvas, font, photo)
    else:
        _fields(canvas, font, snapshot, document_number)
        _photo(canvas, font, photo)
    _qr(canvas, font, qr_text, verify_url)
    _seal(canvas, font, snapshot["agency_name"])
    if revoked:
        _revoked_mark(canvas, font)


def _frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(colors.Color(0.55, 0.42, 0.16))
    canvas.setLineWidth(2)
    canvas.rect(MARGIN, MARGIN, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN)
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN + 3 * mm, MARGIN + 3 * mm, PAGE_WIDTH - 2 * MARGIN - 6 * mm, PAGE_HEIGHT - 2 * MARGIN - 6 * mm)


def _body(canvas: Canvas, font: str, snapshot: dict) -> None:
    canvas.setFillColor(colors.black)
    canvas.setFont(font, 12)
    lines = ("本证书由评价机构依据国家职业技能标准颁发，", "表明持证人经职业技能等级认定，具备相应职业（工种）的技能等级水平。")
    if snapshot.get("title") == SPECIAL_TITLE:
        lines = ("本证书由评价机构依据专项职业能力考核规范颁发，", "表明持证人经专项职业能力考核合格，具备相应的专项职业能力。")
    for index, line in enumerate(lines):
        canvas.drawString(LABEL_X, BODY_TOP - index * 7 * mm, line)


def _fields(canvas: Canvas, font: str, snapshot: dict, document_number: str) -> None:
    for index, (label, key) in enumerate(FIELDS):
        y = FIELD_TOP - index * FIELD_STEP
        canvas.setFont(font, 11)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(LABEL_X, y, label)
        canvas.setFont(font, 13)
        canvas.setFillColor(colors.black)
        canvas.drawString(VALUE_X, y, str(document_number if key is None else snapshot[key]))


def _fields_2(canvas: Canvas, font: str, snapshot: dict, document_number: str) -> None:
    fields = FIELDS_SPECIAL if snapshot.get("title") == SPECIAL_TITLE else FIELDS_2
    for index, (label, key) in enumerate(fields):
        y = FIELD_TOP_2 - index * FIELD_STEP_2
        canvas.setFont(font, 11)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(LABEL_X, y, label)
        canvas.setFont(font, 13)
        canvas.setFillColor(colors.black)
        canvas.drawString(VALUE_X, y, _printed(key, snapshot, document_number))


def _printed(key: str | None, snapshot: dict, document_number: str) -> str:
    if key is None:
        return document_number
    value = snapshot.get(key) or "--"
    if key == "issued_on":
        day = value.split("-")
        return f"{day[0]}年{day[1]}月{day[2]}日"
    return str(value)


def _photo_2(canvas: Canvas, font: str, photo: bytes | None) -> None:
    """The photo in a thin frame; without one, the same frame empty with a small note under it."""
    canvas.saveState()
    canvas.setStrokeColor(colors.Color(0.7, 0.7, 0.7))
    canvas.setLineWidth(0.5)
    canvas.rect(PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H)
    if photo:
        from reportlab.lib.utils import ImageReader

        canvas.drawImage(ImageReader(io.BytesIO(photo)), PHOTO_X + 1, PHOTO_Y + 1, PHOTO_W - 2, PHOTO_H - 2,
                         preserveAspectRatio=True, anchor="c")
    else:
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.Color(0.55, 0.55, 0.55))
        canvas.drawCentredString(PHOTO_X + PHOTO_W / 2, PHOTO_Y - 4 * mm, "照片未采集")
    canvas.restoreState()


def _photo(canvas: Canvas, font: str, photo: bytes | None) -> None:
    if photo:
        from reportlab.lib.utils import ImageReader

        canvas.drawImage(ImageReader(io.BytesIO(photo)), PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H,
                         preserveAspectRatio=True, anchor="c")
        return
    # No photo uploaded: a marked empty box, so a missing photo is visible rather than silently absent.
    canvas.setDash(3, 2)
    canvas.setStrokeColor(colors.grey)
    canvas.rect(PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H)
    canvas.setDash()
    canvas.setFont(font, 10)
    canvas.setFillColor(colors.grey)
    canvas.drawCentredString(PHOTO_X + PHOTO_W / 2, PHOTO_Y + PHOTO_H / 2, "（未上传照片）")


def qr_modules(text: str) -> list[list[bool]]:
    # A fixed mask pattern skips qrcode's mask search: ≈9× faster and always the same matrix.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def _qr(canvas: Canvas, font: str, text: str, verify_url: str) -> None:
    matrix = qr_modules(text)
    cell = QR_SIZE / len(matrix)
    canvas.setFillColor(colors.white)
    canvas.rect(QR_X - 2 * mm, QR_Y - 2 * mm, QR_SIZE + 4 * mm, QR_SIZE + 4 * mm, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        y = QR_Y + QR_SIZE - (row_index + 1) * cell
        column = 0
        while column < len(row):
            if row[column]:
                start = column
                while column < len(row) and row[column]:
                    column += 1
                path.rect(QR_X + start * cell, y, (column - start) * cell, cell)
            else:
                column += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFont(font, 9)
    canvas.drawString(QR_X + QR_SIZE + 5 * mm, QR_Y + QR_SIZE - 4 * mm, "扫描二维码在线验证本证书")
    canvas.drawString(QR_X + QR_SIZE + 5 * mm, QR_Y + QR_SIZE - 10 * mm, verify_url)
    canvas.drawString(QR_X + QR_SIZE + 5 * mm, QR_Y + 8 * mm, f"证书查询：{NATIONAL_CERTIFICATE_QUERY}")
    canvas.drawString(QR_X + QR_SIZE + 5 * mm, QR_Y + 3 * mm, f"评价机构查询：{NATIONAL_AGENCY_QUERY}")


def _seal(canvas: Canvas, font: str, agency_name: str) -> None:
    """The agency's seal as vector strokes: a ring, a star and the name along the upper arc."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(1.6)
    canvas.circle(SEAL_X, SEAL_Y, SEAL_R)
    _star(canvas, SEAL_X, SEAL_Y, 5 * mm)
    name = agency_name[:18]
    span = min(240.0, 16.0 * len(name))
    canvas.setFont(font, 9 if len(name) > 12 else 10)
    for index, char in enumerate(name):
        angle = 90 + span / 2 - (span * (index + 0.5) / len(name))
        canvas.saveState()
        canvas.translate(SEAL_X + (SEAL_R - 5 * mm) * math.cos(math.radians(angle)),
                         SEAL_Y + (SEAL_R - 5 * mm) * math.sin(math.radians(angle)))
        canvas.rotate(angle - 90)
        canvas.drawCentredString(0, 0, char)
        canvas.restoreState()
    canvas.restoreState()


def _star(canvas: Canvas, x: float, y: float, radius: float) -> None:
    points = [(x + radius * (1 if k % 2 == 0 else 0.38) * math.cos(math.radians(90 + k * 36)),
               y + radius * (1 if k % 2 == 0 else 0.38) * math.sin(math.radians(90 + k * 36))) for k in range(10)]
    path = canvas.beginPath()
    path.moveTo(*points[0])
    for point in points[1:]:
        path.lineTo(*point)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def _revoked_mark(canvas: Canvas, font: str) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.85, 0.05, 0.05, alpha=0.55))
    canvas.setFont(font, 96)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(35)
    canvas.drawCentredString(0, 0, "已撤销")
    canvas.restoreState()
