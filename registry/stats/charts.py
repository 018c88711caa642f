"""Charts as inline SVG, drawn on the server: readable without JavaScript, and printable as they are.

Each function takes plain rows and returns Markup for a template. The figures also sit in a table beside
every chart, so a chart may round and abbreviate; the table never does.
"""
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, BAR_HEIGHT, GAP, LABEL_WIDTH, VALUE_WIDTH = 640, 22, 6, 170, 90
LINE_HEIGHT, MARGIN = 240, 36
INK, ACCENT, TARGET, GRID = "#1d2733", "#b3261e", "#1b7f3b", "#d5dbe3"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(title: str, rows: Sequence[tuple[str, float]]) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; labels may be Chinese."""
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP) + GAP
    largest = max((value for _label, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [_open(title, WIDTH, height)]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = span * value / largest
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * .7:.1f}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{ACCENT}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR_HEIGHT * .7:.1f}">{_number(value)}</text>')
    if not rows:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2 + 5}" text-anchor="middle">暂无数据</text>')
    return Markup("".join(parts) + "</svg>")


def line_chart(title: str, points: Sequence[tuple[str, float]], target: float | None = None,
               target_label: str = "目标") -> Markup:
    """A line over (label, value) points in order — e.g. months — with an optional dashed target line."""
    top = max([value for _label, value in points] + [target or 0]) or 1
    plot_width, plot_height = WIDTH - 2 * MARGIN - 40, LINE_HEIGHT - 2 * MARGIN
    step = plot_width / max(len(points) - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return MARGIN + 40 + index * step, MARGIN + plot_height * (1 - value / top)

    parts = [_open(title, WIDTH, LINE_HEIGHT)]
    for fraction in (0, .5, 1):
        y = MARGIN + plot_height * (1 - fraction)
        parts.append(f'<line x1="{MARGIN + 40}" x2="{WIDTH - MARGIN}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{MARGIN + 34}" y="{y + 4:.1f}" text-anchor="end">{_number(top * fraction)}</text>')
    if target:
        y = xy(0, target)[1]
        parts.append(f'<line x1="{MARGIN + 40}" x2="{WIDTH - MARGIN}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" '
                     f'stroke-dasharray="6 4"/><text x="{WIDTH - MARGIN}" y="{y - 6:.1f}" text-anchor="end" '
                     f'fill="{TARGET}">{escape(target_label)} {_number(target)}</text>')
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, value) for i, (_l, value) in enumerate(points)))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
        # At most about eight axis labels, counted back from the last so that it never crowds its neighbour.
        every, last = max(len(points) // 8, 1), len(points) - 1
        for index, (label, _value) in enumerate(points):
            if (last - index) % every == 0:
                x = xy(index, 0)[0]
                parts.append(f'<text x="{x:.1f}" y="{LINE_HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>')
    else:
        parts.append(f'<text x="{WIDTH / 2}" y="{LINE_HEIGHT / 2}" text-anchor="middle">暂无数据</text>')
    return Markup("".join(parts) + "</svg>")


def _open(title: str, width: int, height: int) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}" font-size="12" fill="{INK}"><title>{escape(title)}</title>')
