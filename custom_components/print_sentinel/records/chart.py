"""The detection timeline of one print as a picture, drawn with Pillow alone.

The failure score over time against the warning and failure levels; checks the
detector could not answer are gaps (grey bands) in the line; warnings and failures
are markers above the plot; pauses, resumes and false-alarm marks are vertical
lines; the flagged frames are thumbnails under the plot, joined to their time.

`draw_chart` is blocking Pillow work: Home Assistant callers run it in the
executor. Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
import io
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageDraw, ImageFont

WIDTH: Final = 1280
HEIGHT: Final = 720
LEFT: Final = 70
RIGHT: Final = WIDTH - 30
TOP: Final = 90
BOTTOM: Final = 470
LANE_Y: Final = 70
"""Centre of the lane of warning and failure markers, above the plot."""
THUMB_TOP: Final = 530
THUMB_SIZE: Final = (160, 120)

BACKGROUND: Final = (255, 255, 255)
GRID: Final = (225, 225, 225)
TEXT: Final = (40, 40, 40)
SCORE_COLOR: Final = (33, 102, 172)
WARNING_COLOR: Final = (245, 158, 11)
FAILURE_COLOR: Final = (200, 30, 30)
GAP_COLOR: Final = (200, 200, 200)
PAUSE_COLOR: Final = (150, 30, 150)
RESUME_COLOR: Final = (30, 150, 60)
FALSE_ALARM_COLOR: Final = (0, 160, 200)
LINE_COLORS: Final = {
    "pause": PAUSE_COLOR,
    "resume": RESUME_COLOR,
    "false_alarm": FALSE_ALARM_COLOR,
}
LEGEND: Final = (
    ("score", SCORE_COLOR),
    ("warning", WARNING_COLOR),
    ("failure", FAILURE_COLOR),
    ("no answer", GAP_COLOR),
    ("pause", PAUSE_COLOR),
    ("resume", RESUME_COLOR),
    ("false alarm", FALSE_ALARM_COLOR),
)
LABELS: Final = {"pause": "pause", "resume": "resume", "false_alarm": "false alarm"}


@dataclass(kw_only=True)
class ChartSpec:
    """What a chart shows."""

    title: str
    start: datetime
    end: datetime
    timeline: Sequence[dict[str, Any]]
    warning_level: float = 50.0
    failure_level: float = 80.0
    flagged: Sequence[tuple[datetime, Path]] = field(default_factory=list)
    """Flagged frames with the time they were taken."""


def parse_time(value: object) -> datetime | None:
    """Return a timeline entry's time, or None if it has none."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class Layout:
    """Where a time and a score are on the chart (shared with the tests)."""

    def __init__(self, start: datetime, end: datetime) -> None:
        """Map `start`..`end` onto the plot's width."""
        self.start = start
        self.span = max((end - start).total_seconds(), 1.0)

    def x(self, when: datetime) -> int:
        """Return the column of a time (clamped to the plot)."""
        seconds = (when - self.start).total_seconds()
        fraction = min(max(seconds / self.span, 0.0), 1.0)
        return round(LEFT + fraction * (RIGHT - LEFT))

    @staticmethod
    def y(score: float) -> int:
        """Return the row of a score 0-100 (clamped)."""
        score = min(max(score, 0.0), 100.0)
        return round(BOTTOM - score / 100.0 * (BOTTOM - TOP))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except OSError, ValueError:  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _elapsed(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _dashed(
    draw: ImageDraw.ImageDraw, y: int, color: tuple[int, int, int], dash: int = 8
) -> None:
    for x in range(LEFT, RIGHT, dash * 2):
        draw.line([(x, y), (min(x + dash, RIGHT), y)], fill=color, width=2)


def draw_chart(spec: ChartSpec) -> bytes:
    """Draw the chart; return it as PNG."""
    layout = Layout(spec.start, spec.end)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, normal = _font(13), _font(18)
    draw.text((LEFT, 14), spec.title, fill=TEXT, font=normal)

    # legend
    legend_x = RIGHT
    for label, color in reversed(LEGEND):
        width = round(draw.textlength(label, font=small))
        legend_x -= width + 26
        draw.rectangle([(legend_x, 18), (legend_x + 14, 30)], fill=color, outline=color)
        draw.text((legend_x + 18, 24), label, fill=TEXT, font=small, anchor="lm")

    # grid and axes
    for score in range(0, 101, 20):
        y = layout.y(score)
        draw.line([(LEFT, y), (RIGHT, y)], fill=GRID, width=1)
        draw.text((LEFT - 8, y), str(score), fill=TEXT, font=small, anchor="rm")
    ticks = 6
    for i in range(ticks + 1):
        x = round(LEFT + i * (RIGHT - LEFT) / ticks)
        draw.line([(x, TOP), (x, BOTTOM)], fill=GRID, width=1)
        label = _elapsed(layout.span * i / ticks)
        draw.text((x, BOTTOM + 8), label, fill=TEXT, font=small, anchor="mt")

    entries = sorted(
        (
            (when, entry)
            for entry in spec.timeline
            if (when := parse_time(entry.get("t"))) is not None
        ),
        key=lambda pair: pair[0],
    )

    # detector errors: a grey band from the error to the next answered check
    gap_start: datetime | None = None
    for when, entry in entries:
        if entry.get("type") != "check":
            continue
        if entry.get("error"):
            gap_start = gap_start or when
        elif gap_start is not None:
            draw.rectangle(
                [(layout.x(gap_start), TOP), (max(layout.x(when) - 1, 0), BOTTOM)],
                fill=GAP_COLOR,
            )
            gap_start = None
    if gap_start is not None:
        draw.rectangle([(layout.x(gap_start), TOP), (RIGHT, BOTTOM)], fill=GAP_COLOR)

    _dashed(draw, layout.y(spec.warning_level), WARNING_COLOR)
    _dashed(draw, layout.y(spec.failure_level), FAILURE_COLOR)

    # the score: segments between answered checks, broken by every error
    points: list[tuple[int, int]] = []
    segments: list[list[tuple[int, int]]] = [points]
    for when, entry in entries:
        if entry.get("type") == "pause" and points:
            points = []  # no checks while paused: no line across the pause
            segments.append(points)
        if entry.get("type") != "check":
            continue
        value = entry.get("score")
        if entry.get("error") or not isinstance(value, int | float):
            if points:
                points = []
                segments.append(points)
            continue
        points.append((layout.x(when), layout.y(float(value))))
    for segment in segments:
        if len(segment) > 1:
            draw.line(segment, fill=SCORE_COLOR, width=3, joint="curve")
        for x, y in segment:
            draw.ellipse([(x - 3, y - 3), (x + 3, y + 3)], fill=SCORE_COLOR)

    # pauses, resumes, false alarms; warning and failure markers
    labels = 0
    for when, entry in entries:
        kind = str(entry.get("type"))
        x = layout.x(when)
        if kind in LINE_COLORS:
            draw.line([(x, TOP), (x, BOTTOM)], fill=LINE_COLORS[kind], width=3)
            row = TOP + 2 + (labels % 3) * 16  # staggered, so close labels stay legible
            labels += 1
            draw.text((x + 4, row), LABELS[kind], fill=LINE_COLORS[kind], font=small)
        elif kind in ("warning", "failure"):
            color = WARNING_COLOR if kind == "warning" else FAILURE_COLOR
            draw.polygon(
                [(x - 8, LANE_Y - 8), (x + 8, LANE_Y - 8), (x, LANE_Y + 8)], fill=color
            )

    # flagged frames under the plot, joined to their time
    next_free = LEFT
    for when, path in spec.flagged:
        x = layout.x(when)
        left = max(next_free, min(x - THUMB_SIZE[0] // 2, RIGHT - THUMB_SIZE[0]))
        if left + THUMB_SIZE[0] > WIDTH:
            break
        try:
            with Image.open(path) as frame:
                frame.draft("RGB", THUMB_SIZE)
                thumb = frame.convert("RGB")
                thumb.thumbnail(THUMB_SIZE)
        except OSError, ValueError:
            continue
        image.paste(thumb, (left, THUMB_TOP))
        draw.rectangle(
            [(left, THUMB_TOP), (left + thumb.width - 1, THUMB_TOP + thumb.height - 1)],
            outline=FAILURE_COLOR,
            width=2,
        )
        draw.line(
            [(x, BOTTOM + 28), (left + thumb.width // 2, THUMB_TOP)],
            fill=FAILURE_COLOR,
            width=1,
        )
        next_free = left + thumb.width + 8

    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
