"""The dashboards' SVG helpers: well-formed SVG, sizes proportional to the values, labels escaped,
empty and zero inputs handled."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from service.tracking.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, Bar, bar_chart, funnel_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def rect_widths(svg: str) -> list[float]:
    return [float(r.get("width")) for r in parse(svg).iter(f"{SVG}rect")]


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in parse(svg).iter(f"{SVG}text")]


def test_bars_are_proportional_to_the_largest_value():
    svg = bar_chart([("甲", 10), ("乙", 5), ("丙", 0)], "测试")
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    assert rect_widths(svg) == [span, span / 2, 0]
    assert texts(svg) == ["甲", "10", "乙", "5", "丙", "0"]
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "测试"
    assert root.find(f"{SVG}title").text == "测试"
    assert root.get("viewBox") == f"0 0 {WIDTH} 78"  # three rows


def test_labels_and_titles_are_escaped():
    svg = bar_chart([('<script>alert("x")</script>', 1)], 'a "title" & <more>')
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed
    assert root.get("aria-label") == 'a "title" & <more>'
    assert texts(svg)[0] == "<script>a…"  # the text node, unescaped by the parser, clipped


def test_decimal_values_suffix_and_negative_values():
    svg = bar_chart([Bar("平均", 2.25), Bar("错误", -3)], "小时", suffix="h")
    assert texts(svg) == ["平均", "2.2h", "错误", "0h"]  # negatives are drawn as zero
    assert rect_widths(svg)[1] == 0


@pytest.mark.parametrize("chart", [bar_chart, funnel_chart], ids=["bar", "funnel"])
def test_empty_input_gives_a_small_placeholder(chart):
    svg = chart([], "空")
    assert parse(svg).get("viewBox") == f"0 0 {WIDTH} 26"
    assert texts(svg) == ["—"]


def test_all_zero_bars_do_not_divide_by_zero():
    assert rect_widths(bar_chart([("a", 0), ("b", 0)], "零")) == [0, 0]
    assert rect_widths(funnel_chart([("a", 0), ("b", 0)], "零")) == [0, 0]


def test_funnel_stages_are_centred_and_relative_to_the_first():
    svg = funnel_chart([("申请", 40), ("通过", 10), ("接收", 5)], "漏斗")
    rects = list(parse(svg).iter(f"{SVG}rect"))
    widths = [float(r.get("width")) for r in rects]
    assert widths == [WIDTH, WIDTH / 4, WIDTH / 8]
    for rect in rects:  # centred
        assert float(rect.get("x")) * 2 + float(rect.get("width")) == pytest.approx(WIDTH)
    assert texts(svg) == ["申请 40 (100%)", "通过 10 (25%)", "接收 5 (12%)"]


def test_funnel_with_an_empty_first_stage():
    svg = funnel_chart([("申请", 0), ("通过", 3)], "漏斗")
    assert texts(svg) == ["申请 0 (—)", "通过 3 (—)"]
    assert max(rect_widths(svg)) <= WIDTH


def test_long_labels_are_clipped():
    svg = bar_chart([("一二三四五六七八九十十一", 1)], "长")
    assert texts(svg)[0] == "一二三四五六七八九…"
    assert re.search(r"<title>长</title>", svg)
