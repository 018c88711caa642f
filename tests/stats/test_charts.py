"""The SVG charts: well-formed, labelled, scaled to the largest value, and escaping what they are given."""
import xml.etree.ElementTree as ElementTree

from registry.stats.charts import bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_scale_to_the_largest_and_carry_their_labels():
    svg = ElementTree.fromstring(str(bar_chart("按县区", [("杞县", 200), ("兰考县", 100), ("<b>", 0)])))
    assert svg.get("aria-label") == "按县区" and svg.find(f"{SVG}title").text == "按县区"
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert "杞县" in texts and "<b>" in texts and "200" in texts


def test_a_line_has_one_point_per_month_and_a_target_line():
    points = [(f"2025-{month:02d}", month * 10) for month in range(1, 13)]
    svg = ElementTree.fromstring(str(line_chart("每月持证人数", points, target=200)))
    assert len(svg.find(f"{SVG}polyline").get("points").split()) == 12
    assert any("目标 200" == text.text for text in svg.iter(f"{SVG}text"))


def test_empty_charts_say_so():
    assert "暂无数据" in bar_chart("空", []) and "暂无数据" in line_chart("空", [])


def test_axis_labels_are_spaced_evenly_back_from_the_last():
    points = [(f"m{index}", index) for index in range(23)]
    svg = ElementTree.fromstring(str(line_chart("月", points)))
    labels = [text.text for text in svg.iter(f"{SVG}text") if text.text.startswith("m")]
    assert labels[-1] == "m22" and labels[-2] == "m20" and len(labels) == 12
