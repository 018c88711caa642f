"""The monthly county report PDF: every figure as extractable text, one embedded CJK font, a vector chart,
the same bytes for the same data."""
import io
from dataclasses import replace

from pypdf import PdfReader

from registry.stats.report import MonthlyReport, render_report

SERIES = [(f"2025-{month:02d}", month * 100, month * 60, month * 10) for month in range(1, 13)] + \
         [(f"2026-{month:02d}", 1200 + month * 30, 720, 120) for month in range(1, 12)]
REPORT = MonthlyReport(
    title="杞县人人持证月度报告",
    subtitle="2026年11月 · 统计截至 2026-11-27",
    headline=[("持证人员", "1,530"), ("持证目标", "125,000"), ("持证完成率（%）", "1.2%"), ("11月新增持证", "27"),
              ("按此进度达标日期", "按当前进度无法达到"), ("按期达标每周需新增", "期限已过")],
    table_headers=["指标", "杞县", "开封市"],
    table_rows=[["持证人员", "1,530", "4,872"], ["技能人才", "720", "2,001"],
                ["按此进度达标日期", "2031-04-02", "已达标"]],
    series=SERIES,
    target=3_000,
    notes=["持证人员：至少持有一本有效证书的人员，<按人去重>。"],
)


def pages(data: bytes) -> list:
    return PdfReader(io.BytesIO(data)).pages


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pages(data))


def test_the_headline_the_table_and_the_notes_are_printed():
    text = text_of(render_report(REPORT))
    for expected in ("杞县人人持证月度报告", "2026年11月 · 统计截至 2026-11-27", "1,530", "125,000", "1.2%",
                     "11月新增持证", "按当前进度无法达到", "期限已过", "指标", "开封市", "4,872", "2,001",
                     "2031-04-02", "已达标", "统计口径", "<按人去重>", "开封市职业技能证书登记系统"):
        assert expected in text, expected


def test_the_chart_is_labelled_with_months_lines_and_the_target():
    text = text_of(render_report(REPORT))
    for expected in ("每月累计趋势", "持证人员", "技能人才", "高技能人才", "持证目标 3,000", "2025-02", "2026-11",
                     "3,000"):
        assert expected in text, expected
    # At most about eight month labels, counted back from the last month (23 months: every third).
    assert sum(f"{month}" in text for month, *_ in SERIES) <= 9


def test_the_chart_is_drawn_as_vectors_in_the_one_embedded_font():
    page = pages(render_report(REPORT))[0]
    assert not page.images
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts and all(str(font["/BaseFont"]).endswith("WenQuanYiZenHei-0") for font in fonts)
    assert all("+" in str(font["/BaseFont"]) and "/FontFile2" in font["/FontDescriptor"] for font in fonts)


def test_rendering_is_deterministic():
    assert render_report(REPORT) == render_report(REPORT)
    assert render_report(REPORT) != render_report(replace(REPORT, target=None))
    metadata = PdfReader(io.BytesIO(render_report(REPORT))).metadata
    assert metadata.title == "杞县人人持证月度报告"


def test_without_a_target_or_any_month_the_report_still_renders():
    text = text_of(render_report(replace(REPORT, target=None, series=[])))
    assert "暂无数据" in text and "持证目标 3,000" not in text
    assert "持证目标 " not in text_of(render_report(replace(REPORT, target=None)))


def test_a_long_table_continues_on_a_second_page():
    rows = [[f"指标{index}", str(index), str(index * 2)] for index in range(80)]
    data = render_report(replace(REPORT, table_rows=rows))
    assert len(pages(data)) >= 2 and "指标79" in text_of(data) and "第 2 页" in text_of(data)
