"""Tiny server-side SVG charts (horizontal bars and a funnel) for the dashboards: no JavaScript, readable
at 360 px (the SVG scales to its container), and always shown next to a table of the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320  # the viewBox width; the SVG scales to the page
ROW = 26  # height of one bar row
LABEL_WIDTH = 110
VALUE_WIDTH = 46
PALETTE = ("#c8102e", "#d9480f", "#e8890c", "#2b8a3e", "#1864ab", "#5f3dc4", "#868e96")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _bars(items: Sequence[tuple[str, float]] | Sequence[Bar]) -> list[Bar]:
    bars = [item if isinstance(item, Bar) else Bar(str(item[0]), float(item[1] or 0)) for item in items]
    return [Bar(b.label, max(0.0, float(b.value))) for b in bars]


def _frame(title: str, height: int, body: list[str]) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{label}" preserveAspectRatio="xMinYMin meet"><title>{label}</title>{"".join(body)}</svg>')


def _empty(title: str) -> Markup:
    return _frame(title, ROW, [f'<text x="0" y="17" class="chart-empty">{escape("—")}</text>'])


def bar_chart(items: Sequence[tuple[str, float]] | Sequence[Bar], title: str, *, suffix: str = "") -> Markup:
    """One horizontal bar per item, lengths proportional to the largest value, each labelled with its value."""
    bars = _bars(items)
    if not bars:
        return _empty(title)
    top = max(b.value for b in bars) or 1.0
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    for index, bar in enumerate(bars):
        y = index * ROW
        length = round(span * bar.value / top, 1)
        colour = PALETTE[index % len(PALETTE)]
        body.append(
            f'<g class="bar"><text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end" class="chart-label">'
            f'{escape(_clip(bar.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{length}" height="{ROW - 10}" fill="{colour}" rx="2"/>'
            f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 17}" class="chart-value">'
            f'{escape(_number(bar.value) + suffix)}</text></g>')
    return _frame(title, ROW * len(bars), body)


def funnel_chart(items: Sequence[tuple[str, float]] | Sequence[Bar], title: str) -> Markup:
    """Centred bars, widths proportional to the first stage, each with its count and its share of the first."""
    bars = _bars(items)
    if not bars:
        return _empty(title)
    first = bars[0].value or max(b.value for b in bars) or 1.0
    row = ROW + 6
    body = []
    for index, bar in enumerate(bars):
        y = index * row
        width = round(WIDTH * min(bar.value / first, 1.0), 1)
        x = round((WIDTH - width) / 2, 1)
        share = f"{100 * bar.value / bars[0].value:.0f}%" if bars[0].value else "—"
        body.append(
            f'<g class="stage"><rect x="{x}" y="{y + 2}" width="{width}" height="{row - 4}" '
            f'fill="{PALETTE[index % len(PALETTE)]}" opacity="0.35" rx="3"/>'
            f'<text x="{WIDTH / 2}" y="{y + row / 2 + 5}" text-anchor="middle" class="chart-stage">'
            f'{escape(_clip(bar.label, 14))} {escape(_number(bar.value))} ({escape(share)})</text></g>')
    return _frame(title, row * len(bars), body)


def _clip(text: str, limit: int = 10) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
