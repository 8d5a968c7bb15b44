"""Small server-rendered SVG plots for the dashboard: stacked bars per day, lines per hour.

No JavaScript and nothing fetched: each function returns one escaped ``<svg>`` element, with a
``<title>`` on every bar and point so hovering shows the figure.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22


def _scale(value: float) -> tuple[float, float]:
    """(top, step) of a y axis with four gridline intervals: step is 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^n and
    ``4 * step`` covers ``value`` (an empty plot gets 0..4)."""
    if value <= 4:
        return 4.0, 1.0
    magnitude = 10 ** (len(str(int(value / 4))) - 1)
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= 4 * step * magnitude:
            return 4 * step * magnitude, step * magnitude
    return 40.0 * magnitude, 10.0 * magnitude


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _frame(top: float, unit: str, labels: Sequence[str], label_every: int) -> list[str]:
    """Five horizontal grid lines with their values, the unit, and the x labels."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = []
    for i in range(5):
        y = TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value))}</text>')
    if unit:
        parts.append(f'<text x="{LEFT - 4}" y="{HEIGHT - 4}" text-anchor="end" class="unit">{escape(unit)}</text>')
    step = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % label_every == 0 or i == len(labels) - 1:
            x = LEFT + step * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(label)}</text>')
    return parts


def stacked_bars(labels: Sequence[str], stacks: Mapping[str, Sequence[float]], colours: dict[str, str], *,
                 title: str, unit: str = "", label_every: int = 2) -> SafeString:
    """Bars per label, one stacked segment per series (in dict order). Returns an ``<svg>`` element."""
    totals = [sum(series[i] for series in stacks.values()) for i in range(len(labels))]
    top, _ = _scale(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    bar_w = max(2.0, step * 0.7)
    parts = _frame(top, unit, labels, label_every)
    for i, label in enumerate(labels):
        x = LEFT + step * i + (step - bar_w) / 2
        base = float(TOP + plot_h)
        for name, series in stacks.items():
            value = series[i]
            if not value:
                continue
            h = plot_h * value / top
            base -= h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{colours[name]}"><title>{escape(label)}: {escape(_fmt(value))} {escape(name)}'
                         f'</title></rect>')
    return _svg(title, parts)


def lines(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], colours: dict[str, str], *,
          title: str, unit: str = "", label_every: int = 3) -> SafeString:
    """One polyline per series (gaps where a value is None), a dot per point. Returns an ``<svg>``."""
    values = [v for s in series.values() for v in s if v is not None]
    top, _ = _scale(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    parts = _frame(top, unit, labels, label_every)
    for name, points in series.items():
        segment: list[str] = []
        for i, value in enumerate([*points, None]):
            if value is None:
                if len(segment) > 1:
                    parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colours[name]}" '
                                 f'stroke-width="2"/>')
                segment = []
                continue
            x, y = LEFT + step * (i + 0.5), TOP + plot_h * (1 - value / top)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colours[name]}"><title>'
                         f'{escape(labels[i])}: {escape(name)} {escape(_fmt(value))} {escape(unit)}</title></circle>')
    return _svg(title, parts)


def _svg(title: str, parts: list[str]) -> SafeString:
    body = "".join(parts)
    return mark_safe(  # every text above is escaped; the numbers are formatted floats
        f'<svg class="ops-plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')
