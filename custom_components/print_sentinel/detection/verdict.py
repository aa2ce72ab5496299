"""What every failure detector returns, and what it raises.

Detectors are pluggable: an OpenAI-compatible vision model, Home Assistant's AI Task,
OctoEverywhere's Gadget, PrintWatch. Each turns a few camera frames into one
normalised `Verdict`. Nothing here imports Home Assistant.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class FailureKind(StrEnum):
    """What a detector believes is going wrong."""

    NONE = "none"
    SPAGHETTI = "spaghetti"
    DETACHMENT = "detachment"
    BLOB = "blob"
    LAYER_SHIFT = "layer_shift"
    UNDER_EXTRUSION = "under_extrusion"
    STRINGING = "stringing"
    WARPING = "warping"
    OTHER = "other"

    @classmethod
    def parse(cls, value: object) -> FailureKind:
        """Map a detector's free-form kind onto ours; unknown kinds become OTHER."""
        if not isinstance(value, str):
            return cls.OTHER
        normalised = value.strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return cls(normalised)
        except ValueError:
            return cls.OTHER


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One camera image, already downscaled and JPEG-encoded."""

    jpeg: bytes
    captured_at: datetime
    width: int
    height: int

    def as_stored(self) -> dict[str, object] | None:
        """The frame as JSON data (for the file kept across restarts); None if too big."""
        if len(self.jpeg) > MAX_STORED_FRAME:
            return None
        return {
            "jpeg": base64.b64encode(self.jpeg).decode("ascii"),
            "width": self.width,
            "height": self.height,
        }


MAX_STORED_FRAME = 1_000_000
"""Bytes of the largest JPEG kept on disk with a failure (a detector frame is far
smaller; a bigger one is not worth a large file written on every save)."""


def stored_frame(data: object, captured_at: datetime) -> Frame | None:
    """Read back `Frame.as_stored` data; None for anything that is not a JPEG."""
    if not isinstance(data, dict) or not isinstance(text := data.get("jpeg"), str):
        return None
    if len(text) > MAX_STORED_FRAME * 4 // 3 + 4 or not text.isascii():
        return None
    try:
        jpeg = base64.b64decode(text, validate=True)
    except binascii.Error, ValueError:
        return None
    if not jpeg.startswith(b"\xff\xd8"):
        return None

    def size(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            return 0
        return value if 0 < value <= 100_000 else 0

    return Frame(
        jpeg=jpeg,
        captured_at=captured_at,
        width=size(data.get("width")),
        height=size(data.get("height")),
    )


@dataclass(frozen=True, kw_only=True)
class Usage:
    """What one detector call cost, for cost accounting."""

    calls: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    image_tokens_estimate: int = 0
    """Image tokens estimated from the provider's published rules."""
    cost_usd: float = 0.0
    """At list prices, where known."""


def storable_text(text: str) -> str:
    r"""`text` without lone surrogates (a JSON answer may escape one: `"\ud800"`).

    Python's json reads them; nothing can write them as UTF-8 (HA's states, the
    print record), so they become `?`.
    """
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """A detector's normalised judgement of a few frames."""

    failure_score: float
    """0 (perfect) to 100 (certainly failed)."""
    print_quality: int | None
    """1 (ruined) to 10 (perfect), where the detector gives one."""
    warning: bool
    """The detector suggests warning the user."""
    pause: bool
    """The detector suggests pausing the print."""
    kind: FailureKind
    reason: str
    detector: str
    latency_ms: float
    usage: Usage = field(default_factory=Usage)
    next_check_after: float | None = None
    """Seconds the detector asks us to wait before the next call (Gadget, PrintWatch)."""

    def __post_init__(self) -> None:
        """Keep the reason writable wherever it goes (states, events, records)."""
        object.__setattr__(self, "reason", storable_text(self.reason))

    def as_dict(self) -> dict[str, object]:
        """Return the verdict as JSON-friendly data (service responses, events)."""
        return {
            "failure_score": round(self.failure_score, 1),
            "print_quality": self.print_quality,
            "warning": self.warning,
            "pause": self.pause,
            "kind": self.kind.value,
            "reason": self.reason,
            "detector": self.detector,
            "latency_ms": round(self.latency_ms, 1),
            "usage": {
                "calls": self.usage.calls,
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
                "image_tokens_estimate": self.usage.image_tokens_estimate,
                "cost_usd": round(self.usage.cost_usd, 6),
            },
        }


def stored_verdict(data: object) -> Verdict | None:
    """Read back a verdict kept as `Verdict.as_dict` data; None for anything unusable."""
    if not isinstance(data, dict):
        return None
    score = data.get("failure_score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    if not 0 <= score <= 100:
        return None
    quality = data.get("print_quality")
    reason = data.get("reason")
    detector = data.get("detector")
    return Verdict(
        failure_score=float(score),
        print_quality=(
            quality
            if isinstance(quality, int)
            and not isinstance(quality, bool)
            and 1 <= quality <= 10
            else None
        ),
        warning=data.get("warning") is True,
        pause=data.get("pause") is True,
        kind=FailureKind.parse(data.get("kind")),
        reason=reason[:MAX_STORED_TEXT] if isinstance(reason, str) else "",
        detector=detector[:MAX_STORED_TEXT] if isinstance(detector, str) else "",
        latency_ms=0.0,
    )


MAX_STORED_TEXT = 2000
"""The most of a stored verdict's reason or detector name read back."""


class DetectorError(Exception):
    """A detector call failed; the check is skipped and never counts as a failure."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Initialise with an optional wait (seconds) before the next call."""
        super().__init__(storable_text(message))
        self.retry_after = retry_after


class DetectorUnavailable(DetectorError):
    """The service could not be reached, timed out or answered 5xx."""


class DetectorRateLimited(DetectorError):
    """The service asked us to slow down (429, Gadget throttling, PrintWatch 213)."""


class DetectorPaced(DetectorRateLimited):
    """Not sent: the wait the service asked for is still running (our own pacing).

    Nothing failed; a check on demand (`vision_check`) can start such a wait just
    before a scheduled check.
    """


class DetectorBadResponse(DetectorError):
    """The answer was malformed or did not match the schema (never read as YES)."""


class DetectorFrameRejected(DetectorError):
    """The service could not use this frame (e.g. it failed to decode it)."""


class DetectorAuthError(DetectorError):
    """The API key is wrong, disabled, blocked or out of quota: stop and ask the user."""

    def __init__(self, message: str, *, error_type: str = "invalid_api_key") -> None:
        """Initialise with a machine-readable reason (for the repair issue)."""
        super().__init__(message)
        self.error_type = error_type


class Detector(Protocol):
    """A failure detector."""

    name: str
    """Stable id: openai, ai_task, gadget, printwatch."""
    max_frames: int
    """How many frames one call takes (1 for Gadget and PrintWatch)."""

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Judge the newest frames (oldest first). Raises DetectorError subclasses."""

    async def async_start_print(self, print_id: str) -> None:
        """A new print begins: drop any per-print context (Gadget context, tickets)."""
