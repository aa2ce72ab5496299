"""Tests of the remote detectors (Gadget, PrintWatch) against their simulators."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.print_sentinel.detection.verdict import Frame
from simulators.scene import Scene, render_frame


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at `start` seconds."""
        self.now = start

    def __call__(self) -> float:
        """Return the current time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


def make_frame(
    failure: int = 0,
    kind: str = "none",
    *,
    width: int = 640,
    height: int = 360,
    seed: int = 0,
) -> Frame:
    """Render a camera frame showing `failure` (0-100) of `kind`."""
    return raw_frame(render_frame(Scene(failure, kind), width, height, seed))


def raw_frame(jpeg: bytes, width: int = 640, height: int = 360) -> Frame:
    """Wrap arbitrary bytes as a frame."""
    return Frame(jpeg=jpeg, captured_at=datetime.now(UTC), width=width, height=height)
