"""Charts drawn on the server as inline SVG: an indicator's trend over its periods, with its
target as a dashed line. Text in the picture is real text (read aloud, found by search), a
``<title>`` says what it shows, and nothing needs a script or a stylesheet but the page's."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

from bot.i18n import _
from bot.outputs.digest import amount_text
from web.pages import Trend

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 28, 28, 34, 30  # margins inside the picture


def _scale(trend: Trend) -> tuple[Decimal, Decimal]:
    """The lowest and highest values the chart's height spans."""
    known = [v for v in trend.values if v is not None]
    if trend.target is not None:
        known.append(trend.target.value)
    if trend.unit == "%":
        return Decimal(0), max([Decimal(100), *known])
    if not known:
        return Decimal(0), Decimal(1)
    low, high = min([Decimal(0), *known]), max(known)
    return (low, high) if high > low else (low, low + 1)


def trend_svg(trend: Trend, title: str) -> Markup:
    """The trend as an SVG element: one point per period (a gap where a period has no data),
    joined by a line, each labelled with its value; the periods under the axis."""
    low, high = _scale(trend)
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    count = len(trend.values)
    step = inner_w / max(count - 1, 1)

    def x(index: int) -> float:
        return LEFT + (index * step if count > 1 else inner_w / 2)

    def y(value: Decimal) -> float:
        return TOP + inner_h - float((value - low) / (high - low)) * inner_h

    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + inner_h}"/>',
    ]
    if trend.target is not None:
        ty = y(trend.target.value)
        goal = trend.target_label or amount_text(trend.target.value, trend.unit)
        label = _("mục tiêu {target}").format(target=goal)
        parts.append(
            f'<line class="target" x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}"/>'
        )
        # the legend, above the plot: a piece of the dashed line, then what it is
        parts.append(f'<line class="target" x1="{LEFT}" y1="10" x2="{LEFT + 18}" y2="10"/>')
        parts.append(f'<text class="t-target" x="{LEFT + 22}" y="13">{escape(label)}</text>')
    run: list[str] = []
    for index, value in enumerate(trend.values):
        if value is None:
            if len(run) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
            run = []
            continue
        run.append(f"{x(index):.1f},{y(value):.1f}")
    if len(run) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
    for index, value in enumerate(trend.values):
        label = trend.labels[index]
        anchor = "middle"  # the side margins leave room for half a label
        parts.append(
            f'<text class="t-period" x="{x(index):.1f}" y="{HEIGHT - BOTTOM + 14}" '
            f'text-anchor="{anchor}">{escape(_short(label))}</text>'
        )
        if value is None:
            parts.append(
                f'<text class="t-none" x="{x(index):.1f}" y="{TOP + inner_h - 4}" '
                f'text-anchor="middle">–</text>'
            )
            continue
        met = trend.target is None or trend.target.met(value)
        css = "point" if met else "point below"
        parts.append(f'<circle class="{css}" cx="{x(index):.1f}" cy="{y(value):.1f}" r="3.5">')
        parts.append(f"<title>{escape(label)}: {escape(amount_text(value, trend.unit))}</title>")
        parts.append("</circle>")
        parts.append(
            f'<text class="t-value" x="{x(index):.1f}" y="{y(value) - 6:.1f}" '
            f'text-anchor="{anchor}">{escape(amount_text(value, trend.unit))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str) -> str:
    """A period's label short enough to stand under its point (``tháng 11/2026`` → ``11/2026``)."""
    words = label.split(" (")[0].split()
    return words[-1] if words else label
