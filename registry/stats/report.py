"""The monthly county report (持证统计月报) as a PDF: headline figures, the county table and the trend chart.

Pure: takes plain data, no Flask, no database. ReportLab with the certificates' embedded CJK font, the chart
drawn as vectors, and invariant=True, so the same data gives the same bytes.
"""
import io
from dataclasses import dataclass, field

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registry.certificates.pdf import register_font

# Layout, in millimetres.
MARGIN = 16 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN
CHART_HEIGHT = 70 * mm  # with the table of about twenty rows, one page holds it all
HEADLINE_COLUMNS = 3
INK, MUTED, GRID, HEADER_FILL = colors.HexColor("#1d2733"), colors.HexColor("#5b6675"), \
    colors.HexColor("#d5dbe3"), colors.HexColor("#eef1f5")
# One colour per line of the chart, in the order of MonthlyReport.series' figures; the target is dashed.
LINE_COLOURS = (colors.HexColor("#b3261e"), colors.HexColor("#1f5fa8"), colors.HexColor("#7a4fb0"))
TARGET_COLOUR = colors.HexColor("#1b7f3b")
SERIES_NAMES = ("持证人员", "技能人才", "高技能人才")
MAX_AXIS_LABELS = 8


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the report prints, as text and numbers the caller has already chosen and formatted."""

    title: str                                   # "杞县人人持证月度报告"
    subtitle: str                                # "2026年11月 · 统计截至 2026-11-27"
    headline: list[tuple[str, str]]              # (label, value) pairs, shown as a grid of figures
    table_headers: list[str]                     # ["指标", "杞县", "开封市"]
    table_rows: list[list[str]]
    series: list[tuple[str, int, int, int]]      # (month "2025-03", holders, skilled, highly skilled)
    target: int | None = None                    # the holders target, drawn as a dashed line
    notes: list[str] = field(default_factory=list)
    # (heading, headers, rows): the plan's indicators with their projection, printed after the main table
    more_tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    footer: str = "开封市职业技能证书登记系统"


def render_report(report: MonthlyReport) -> bytes:
    font = register_font()
    styles = _styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN, title=report.title, author=report.footer,
                                 subject=report.subtitle, creator=report.footer, invariant=True,
                                 pageCompression=1, initialFontName=font)

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, f"{report.footer} · {report.title}")
        canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    story = [
        Paragraph(_escape(report.title), styles["title"]),
        Paragraph(_escape(report.subtitle), styles["subtitle"]),
        _headline(report.headline, styles),
        Spacer(1, 6 * mm),
        Paragraph("各项指标", styles["heading"]),
        _table(report.table_headers, report.table_rows, styles),
        Spacer(1, 6 * mm),
    ]
    for heading, headers, rows in report.more_tables:
        story += [Paragraph(_escape(heading), styles["heading"]), _table(headers, rows, styles, first_share=.28),
                  Spacer(1, 6 * mm)]
    story += [
        KeepTogether([Paragraph("每月累计趋势", styles["heading"]),
                      trend_chart(report.series, report.target, font)]),
    ]
    if report.notes:
        story += [Spacer(1, 4 * mm), Paragraph("统计口径", styles["heading"])]
        story += [Paragraph(_escape(note), styles["note"]) for note in report.notes]
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def trend_chart(series: list[tuple[str, int, int, int]], target: int | None, font: str) -> Drawing:
    """Three cumulative lines by month and the target as a dashed line, with a legend; vectors only."""
    drawing = Drawing(CONTENT_WIDTH, CHART_HEIGHT, initialFontName=font)  # else it starts in Helvetica
    if not series:
        drawing.add(String(CONTENT_WIDTH / 2, CHART_HEIGHT / 2, "暂无数据", fontName=font, fontSize=10,
                           textAnchor="middle", fillColor=MUTED))
        return drawing
    chart = HorizontalLineChart()
    chart.x, chart.y = 18 * mm, 16 * mm
    chart.width, chart.height = CONTENT_WIDTH - 22 * mm, CHART_HEIGHT - 26 * mm
    data = [[point[index] for point in series] for index in (1, 2, 3)]
    if target:
        data.append([target] * len(series))
    chart.data = data
    top = max([value for line in data for value in line] + [1])
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top * 1.05
    chart.valueAxis.labelTextFormat = lambda value: f"{value:,.0f}"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.visibleGrid = True
    # At most about eight month labels, counted back from the last so that it is always labelled.
    every, last = max(-(-len(series) // MAX_AXIS_LABELS), 1), len(series) - 1
    chart.categoryAxis.categoryNames = [month if (last - index) % every == 0 else ""
                                        for index, (month, *_figures) in enumerate(series)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "n"
    for index, colour in enumerate(LINE_COLOURS):
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.5
    pairs = list(zip(LINE_COLOURS, SERIES_NAMES))
    if target:
        chart.lines[3].strokeColor = TARGET_COLOUR
        chart.lines[3].strokeDashArray = (4, 3)
        pairs.append((TARGET_COLOUR, f"持证目标 {target:,}"))
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 18 * mm, CHART_HEIGHT - 3 * mm
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 36 * mm
    legend.fontName, legend.fontSize = font, 8
    legend.colorNamePairs = pairs
    drawing.add(legend)
    return drawing


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", base, fontSize=17, leading=22, spaceAfter=2 * mm),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10, textColor=MUTED, spaceAfter=5 * mm),
        "heading": ParagraphStyle("heading", base, fontSize=12, leading=16, spaceAfter=2 * mm),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.6),
        "number": ParagraphStyle("number", base, fontSize=8, leading=9.6, alignment=TA_RIGHT),
        "figure": ParagraphStyle("figure", base, fontSize=14, leading=18),
        "label": ParagraphStyle("label", base, fontSize=8, textColor=MUTED),
        "note": ParagraphStyle("note", base, fontSize=8, leading=11, textColor=MUTED, spaceAfter=1 * mm),
    }


def _headline(figures: list[tuple[str, str]], styles: dict) -> Table:
    cells = [[Paragraph(_escape(label), styles["label"]), Paragraph(_escape(value), styles["figure"])]
             for label, value in figures]
    rows = [cells[start:start + HEADLINE_COLUMNS]
            for start in range(0, len(cells), HEADLINE_COLUMNS)] or [[""]]
    rows[-1] += [""] * (HEADLINE_COLUMNS - len(rows[-1]))
    table = Table(rows, colWidths=[CONTENT_WIDTH / HEADLINE_COLUMNS] * HEADLINE_COLUMNS)
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), .5, GRID), ("INNERGRID", (0, 0), (-1, -1), .5, GRID),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), _table_font(styles)]))
    return table


def _table(headers: list[str], rows: list[list[str]], styles: dict, first_share: float = .4) -> Table:
    first = CONTENT_WIDTH * first_share
    rest = (CONTENT_WIDTH - first) / max(len(headers) - 1, 1)
    body = [[Paragraph(_escape(str(cell)), styles["number" if row_index and index else "cell"])
             for index, cell in enumerate(row)] for row_index, row in enumerate([headers, *rows])]
    table = Table(body, colWidths=[first] + [rest] * (len(headers) - 1), repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), .5, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), _table_font(styles),
    ]))
    return table


def _table_font(styles: dict) -> tuple:
    # A table sets a font on every cell, Helvetica unless told: keep the PDF to the one embedded font.
    return ("FONTNAME", (0, 0), (-1, -1), styles["cell"].fontName)


def _escape(text: str) -> str:
    """Paragraph reads a little markup: county names and notes are text, never tags."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
