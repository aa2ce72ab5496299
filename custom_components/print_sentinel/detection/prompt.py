"""What vision models are asked, the shape of their answer, and its strict reading.

Shared by the OpenAI-compatible detector (JSON schema for Structured Outputs) and the
Home Assistant AI Task detector (the same fields as an AI Task `structure`). The
instructions are deliberately short: every check sends them, and at the default
settings text is about half of the tokens paid for. Nothing here imports Home
Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
from typing import Any, Final

from .detectors.bounded import NotJSON, loads
from .verdict import DetectorBadResponse, FailureKind

TASK_NAME: Final = "print_sentinel_failure_check"
SCHEMA_NAME: Final = "print_verdict"

SCORE_MIN: Final = 0
SCORE_MAX: Final = 100
QUALITY_MIN: Final = 1
QUALITY_MAX: Final = 10
REASON_MAX_CHARS: Final = 200
"""Longer reasons are cut (a chatty model is not a broken one)."""

WARNING_SCORE: Final = 50.0
"""A failure score at or above this suggests warning the user."""
PAUSE_SCORE: Final = 80.0
"""A failure score at or above this suggests pausing the print."""
CONTRADICTING_QUALITY: Final = 8
"""A print quality this good beside a failing score makes the answer unclear."""

KINDS: Final = tuple(kind.value for kind in FailureKind)

INSTRUCTIONS: Final = (
    "You watch a 3D printer camera. Is the print failing?\n"
    "Kinds: spaghetti (loose tangled filament, printing in air); detachment (part "
    "knocked over, moved or on the nozzle); blob (filament lump on nozzle or part); "
    "layer_shift (layers offset sideways); under_extrusion (thin, gappy or missing "
    "layers); stringing (fine hairs); warping (corners lifting off the bed); other.\n"
    "Normal: a clean part growing layer by layer, firmly on the bed. Nozzle, clips, "
    "purge lines, bed texture, shadows, blur and darkness are not failures.\n"
    "Be conservative: stringing or slight warping alone scores below 50; 80+ only "
    "for clear, print-ruining failure.\n"
    "failure_score: 0 fine to 100 certainly failed. print_quality: 1 ruined to 10 "
    'perfect. kind: "none" unless failing. reason: at most 12 words.'
)


def frames_caption(frame_count: int) -> str:
    """Describe the images that follow in the request."""
    if frame_count == 1:
        return "One frame, just taken."
    return f"{frame_count} frames, oldest to newest; judge the newest."


def instructions_for(frame_count: int) -> str:
    """Return the full instructions for one request of `frame_count` frames."""
    return f"{INSTRUCTIONS}\n{frames_caption(frame_count)}"


VERDICT_JSON_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "failure_score": {
            "type": "number",
            "minimum": SCORE_MIN,
            "maximum": SCORE_MAX,
        },
        "print_quality": {
            "type": "integer",
            "minimum": QUALITY_MIN,
            "maximum": QUALITY_MAX,
        },
        "kind": {"type": "string", "enum": list(KINDS)},
        "reason": {"type": "string"},
    },
    "required": ["failure_score", "print_quality", "kind", "reason"],
    "additionalProperties": False,
}
"""The answer's JSON schema, within OpenAI's strict Structured Outputs subset."""


def response_format() -> dict[str, Any]:
    """Return the Chat Completions `response_format` asking for a strict verdict."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": SCHEMA_NAME,
            "strict": True,
            "schema": json.loads(json.dumps(VERDICT_JSON_SCHEMA)),
        },
    }


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A model's answer that passed validation."""

    failure_score: float
    print_quality: int
    kind: FailureKind
    reason: str

    @property
    def warning(self) -> bool:
        """Suggest warning the user."""
        return self.failure_score >= WARNING_SCORE

    @property
    def pause(self) -> bool:
        """Suggest pausing the print."""
        return self.failure_score >= PAUSE_SCORE


def _is_number(value: object) -> bool:
    """Return whether `value` is a finite JSON number (bools are not numbers)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def parse_answer(data: object) -> Answer:
    """Validate a decoded answer strictly; raise DetectorBadResponse otherwise.

    Everything is checked: an object with exactly the four keys, a number in
    0-100, an integer in 1-10, a known kind and a string reason. Nothing that fails
    is ever read as a verdict, let alone as a failure.
    """
    if not isinstance(data, dict):
        raise DetectorBadResponse(f"answer is {type(data).__name__}, not an object")
    expected = set(VERDICT_JSON_SCHEMA["required"])
    keys = set(data)
    if missing := expected - keys:
        raise DetectorBadResponse(f"answer lacks {sorted(missing)}")
    if extra := keys - expected:
        names = sorted(str(key)[:40] for key in extra)
        raise DetectorBadResponse(f"answer has unexpected keys {names}")
    score = data["failure_score"]
    if not _is_number(score) or not SCORE_MIN <= score <= SCORE_MAX:
        raise DetectorBadResponse("failure_score is not a number in 0-100")
    quality = data["print_quality"]
    if (
        not _is_number(quality)
        or quality != int(quality)
        or not QUALITY_MIN <= quality <= QUALITY_MAX
    ):
        raise DetectorBadResponse("print_quality is not an integer in 1-10")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise DetectorBadResponse("kind is not one of the failure kinds")
    reason = data["reason"]
    if not isinstance(reason, str):
        raise DetectorBadResponse("reason is not a string")
    # an answer that contradicts itself is unclear, and unclear never pauses
    if kind == FailureKind.NONE.value and score >= WARNING_SCORE:
        raise DetectorBadResponse(
            "answer contradicts itself: a high failure_score with kind none"
        )
    if score >= PAUSE_SCORE and quality >= CONTRADICTING_QUALITY:
        raise DetectorBadResponse(
            "answer contradicts itself: a failing score with a good print_quality"
        )
    return Answer(
        failure_score=float(score),
        print_quality=int(quality),
        kind=FailureKind(kind),
        reason=reason.strip()[:REASON_MAX_CHARS],
    )


def parse_answer_text(text: str | None) -> Answer:
    """Decode and validate a JSON answer; raise DetectorBadResponse otherwise."""
    if text is None or not text.strip():
        raise DetectorBadResponse("answer is empty")
    try:
        data = loads(text)
    except NotJSON as err:
        raise DetectorBadResponse("answer is not JSON") from err
    return parse_answer(data)
