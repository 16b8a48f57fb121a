"""Charts drawn on the server as SVG geometry: no third-party script, nothing to download.

The geometry is computed here in integer pixels from integer nano-USD; the template
turns it into `<svg>` elements, so every label goes through Jinja's escaping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.money import NANOS_PER_USD, Money
from domain.reports import Bucket, TimePoint
from entrypoints.dashboard.formatting import usd

PALETTE = (
    "#4f6bed",
    "#f59f0b",
    "#10a37f",
    "#e5484d",
    "#8e4ec6",
    "#0ea5b7",
    "#d6409f",
    "#7c8a9a",
)
OTHER_COLOR = "#c3cad3"
MAX_SERIES = 7
WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
MAX_X_LABELS = 10
NONE_LABEL = "(none)"
OTHER_LABEL = "other"


@dataclass(frozen=True, slots=True)
class Segment:
    x: int
    y: int
    width: int
    height: int
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: int
    label: str


@dataclass(frozen=True, slots=True)
class LegendItem:
    color: str
    label: str
    total: Money


@dataclass(frozen=True, slots=True)
class StackedChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    segments: list[Segment]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[LegendItem]

    @property
    def empty(self) -> bool:
        return not self.segments


def bucket_starts(start: datetime, end: datetime, bucket: Bucket) -> list[datetime]:
    step = timedelta(hours=1) if bucket is Bucket.HOUR else timedelta(days=1)
    result, current = [], start
    while current < end:
        result.append(current)
        current += step
    return result


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A 1-2-5 step (in nano-USD) so that `ticks` steps cover `maximum`."""
    if maximum <= 0:
        return NANOS_PER_USD // 100
    raw = -(-maximum // ticks)
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _series_order(points: Sequence[TimePoint]) -> tuple[list[str], dict[str, Money]]:
    totals: dict[str, int] = defaultdict(int)
    for point in points:
        totals[point.group or NONE_LABEL] += point.totals.cost.nanos
    ordered = sorted(totals, key=lambda name: (-totals[name], name))
    return ordered, {name: Money(nanos) for name, nanos in totals.items()}


def stacked_chart(
    points: Sequence[TimePoint], start: datetime, end: datetime, bucket: Bucket
) -> StackedChart:
    """Cost per bucket stacked by group; the biggest groups keep a colour, the rest is "other"."""
    starts = bucket_starts(start, end, bucket)
    ordered, totals = _series_order(points)
    named = ordered if len(ordered) <= MAX_SERIES + 1 else ordered[:MAX_SERIES]
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(named)}
    cells: dict[tuple[datetime, str], int] = defaultdict(int)
    for point in points:
        name = point.group or NONE_LABEL
        cells[(point.bucket_start, name if name in colors else OTHER_LABEL)] += (
            point.totals.cost.nanos
        )
    series = [*named, *([OTHER_LABEL] if len(named) < len(ordered) else [])]
    stack_max = max((sum(cells.get((s, name), 0) for name in series) for s in starts), default=0)
    step = nice_step(stack_max)
    top_value = step * max(1, -(-stack_max // step))
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(1, len(starts))
    bar = max(1, int(slot * 0.72))
    segments: list[Segment] = []
    for index, bucket_start in enumerate(starts):
        x = LEFT + int(index * slot + (slot - bar) / 2)
        base = 0
        for name in series:
            nanos = cells.get((bucket_start, name), 0)
            if nanos <= 0:
                continue
            y0 = plot_height * base // top_value
            y1 = plot_height * (base + nanos) // top_value
            base += nanos
            segments.append(
                Segment(
                    x,
                    TOP + plot_height - y1,
                    bar,
                    max(1, y1 - y0),
                    colors.get(name, OTHER_COLOR),
                    f"{_bucket_label(bucket_start, bucket, long=True)} · {name}: {usd(Money(nanos))}",
                )
            )
    y_ticks = [
        Tick(TOP + plot_height - plot_height * value // top_value, axis_label(value, step))
        for value in range(0, top_value + 1, step)
    ]
    every = max(1, -(-len(starts) // MAX_X_LABELS))
    x_ticks = [
        Tick(LEFT + int(index * slot + slot / 2), _bucket_label(s, bucket, long=False))
        for index, s in enumerate(starts)
        if index % every == 0
    ]
    legend = [LegendItem(colors[name], name, totals[name]) for name in named]
    if len(named) < len(ordered):
        other = sum(totals[name].nanos for name in ordered[len(named) :])
        legend.append(LegendItem(OTHER_COLOR, f"{len(ordered) - len(named)} more", Money(other)))
    return StackedChart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, segments, y_ticks, x_ticks, legend
    )


def axis_label(nanos: int, step: int) -> str:
    """An axis amount with as many decimals as its step needs: $0.005, $0.010, $0.015."""
    decimals = 2
    while decimals < 9 and step % 10 ** (9 - decimals):
        decimals += 1
    whole, fraction = divmod(nanos, NANOS_PER_USD)
    digits = f"{fraction:09d}"[:decimals]
    return f"${whole:,}.{digits}"


def _bucket_label(instant: datetime, bucket: Bucket, long: bool) -> str:
    if bucket is Bucket.HOUR:
        return (
            instant.strftime("%b %d %H:00")
            if long or instant.hour == 0
            else instant.strftime("%H:00")
        )
    return instant.strftime("%a %b %d" if long else "%b %d")


def sparkline(values: Sequence[int], width: int = 96, height: int = 24) -> str:
    """SVG path data for a small trend line: numbers only, nothing to escape."""
    if not values or max(values) <= 0:
        return f"M0,{height - 1} L{width},{height - 1}"
    peak = max(values)
    steps = max(1, len(values) - 1)
    coords = [
        (width * i // steps, height - 1 - (height - 2) * v // peak) for i, v in enumerate(values)
    ]
    return "M" + " L".join(f"{x},{y}" for x, y in coords)
