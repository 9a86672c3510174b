"""Weekly trend charts as plain SVG geometry for templates/components/chart.html (no JavaScript)."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 24


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar
    value: str  # the figure, as the table beside the chart shows it


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, text) of the horizontal grid lines
    baseline: float
    left: int
    right: int


def bars(values: list[float | None], labels: list[str], texts: list[str], *, top: float | None = None,
         unit: str = "") -> Chart:
    """A bar per week, scaled to `top` (100 for a percentage) or to the largest value; None draws no bar."""
    known = [v for v in values if v is not None]
    top = top or max(_nice(max(known, default=0)), 1)  # at least one hour: the axis labels stay short
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(values), 1)
    out = []
    for i, (value, label, text) in enumerate(zip(values, labels, texts, strict=True)):
        h = 0 if value is None else inner_h * min(value, top) / top
        out.append(Bar(round(LEFT + i * step + step * 0.15, 1), round(TOP + inner_h - h, 1),
                       round(step * 0.7, 1), round(h, 1), label, text))
    ticks = [(round(TOP + inner_h * (1 - f), 1), f"{top * f:g}{unit}") for f in (0, 0.5, 1)]
    return Chart(WIDTH, HEIGHT, out, ticks, TOP + inner_h, LEFT, WIDTH - RIGHT)


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^n at or above the value: a round top for the axis."""
    if value <= 0:
        return 0
    scale = 1.0
    while scale * 10 < value:
        scale *= 10
    while scale > value:
        scale /= 10
    return next(m * scale for m in (1, 2, 5, 10) if m * scale >= value)


def percent(rate) -> str:
    """A quality.Rate as the page shows it: one decimal, or a dash when there is nothing to count."""
    return "—" if rate.rate is None else f"{rate.rate * 100:.1f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def for_quality(report) -> dict[str, Chart]:
    """The weekly charts of a quality.Report: timeliness and accuracy in %, median verification hours."""
    labels = [w.start.strftime("%m-%d") for w in report.weeks]
    out = {}
    for name in ("timeliness", "accuracy"):
        rates = [getattr(w.figures, name) for w in report.weeks]
        out[name] = bars([None if r.rate is None else r.rate * 100 for r in rates], labels,
                         [percent(r) for r in rates], top=100, unit="%")
    medians = [w.figures.verification_hours_median for w in report.weeks]
    out["verification"] = bars(medians, labels, [hours(m) for m in medians])
    return out
