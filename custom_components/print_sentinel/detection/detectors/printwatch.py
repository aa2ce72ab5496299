"""PrintWatch (printpal.io): AI print defect detection over PrintWatch's API.

One JSON `POST {base}/api/v2/infer` per frame, shaped as PrintWatch's own clients send
it (the OctoPrint plugin's `comm.py` and the `printwatch` Python client): `api_key`,
`printer_id`, `ticket_id` (new per print), `state`, the base64 JPEG in `image_array`,
the detection settings (`conf`, `buffer_length`, `buffer_percent`, `thresholds`) and the
trailing `scores` of this print, from which the service computes its `levels`
(notify, action). The answer carries `statusCode`, `defect_detected`, `score` (0-1),
`levels`, `smas` and `boxes`. Status 213 (HTTP or `statusCode`) means back off 300 s.
Nothing here imports Home Assistant.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping, Sequence
import json
import logging
import time
from typing import Final
import uuid

import aiohttp

from ...const import DEFAULT_PRINTWATCH_URL
from ..verdict import (
    DetectorAuthError,
    DetectorBadResponse,
    DetectorFrameRejected,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
    Frame,
    Usage,
    Verdict,
)
from .pacing import Pacer

_LOGGER = logging.getLogger(__name__)

INFER_PATH: Final = "/api/v2/infer"
BACKOFF_STATUS: Final = 213
BACKOFF_SECONDS: Final = 300.0
CLIENT_VERSION: Final = "print_sentinel"
PRINTING_STATE: Final = 0
"""PrintWatch's printer states: 0 printing, 1 paused, 2 online."""
SCORE_HISTORY_FACTOR: Final = 4
"""How many buffers of past scores are sent back (the plugin's MAX_MULTIPLIER)."""
DEFAULT_TIMEOUT: Final = 30.0
_INVALID_WORDS: Final = ("invalid", "not valid", "unknown", "expired", "revoked")


class PrintWatchDetector:
    """Judge frames with PrintWatch (one frame per call)."""

    name = "printwatch"
    max_frames = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str = DEFAULT_PRINTWATCH_URL,
        *,
        printer_id: str,
        buffer_size: int = 16,
        confidence: float = 0.60,
        buffer_percent: int = 60,
        notify_threshold: float = 0.30,
        action_threshold: float = 0.60,
        feedback_images: bool = False,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Set up the detector; nothing is sent until the first call.

        `confidence` and the thresholds are 0-1 as PrintWatch takes them;
        `buffer_percent` (0-100) is the share of defective frames in the buffer the
        action level needs. `feedback_images` lets PrintWatch keep frames for training.
        """
        if not api_key:
            raise ValueError("a PrintWatch API key is required")
        if not printer_id:
            raise ValueError("a printer id is required")
        if buffer_size < 1:
            raise ValueError("buffer size must be at least 1")
        for label, value in (
            ("confidence", confidence),
            ("notify threshold", notify_threshold),
            ("action threshold", action_threshold),
        ):
            if not 0 <= value <= 1:
                raise ValueError(f"{label} must be 0-1, got {value}")
        if not 0 <= buffer_percent <= 100:
            raise ValueError(f"buffer percent must be 0-100, got {buffer_percent}")
        self._session = session
        self._api_key = api_key
        self._url = f"{base_url.rstrip('/')}{INFER_PATH}"
        self._printer_id = printer_id
        self._buffer_size = buffer_size
        self._confidence = confidence
        self._buffer_percent = buffer_percent
        self._thresholds = [notify_threshold, action_threshold]
        self._feedback_images = feedback_images
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()
        self._ticket_id = uuid.uuid4().hex
        self._scores: list[float] = []
        self._sma = 0.0
        self._pacer = Pacer("PrintWatch", clock)
        self._failures = 0

    @property
    def ticket_id(self) -> str:
        """The current print's ticket id."""
        return self._ticket_id

    async def async_start_print(self, print_id: str) -> None:
        """Open a new ticket and forget the previous print's scores."""
        async with self._lock:
            self._ticket_id = uuid.uuid4().hex
            self._scores = []
            self._sma = 0.0

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Send the newest frame to PrintWatch and return its verdict."""
        if not frames:
            raise DetectorFrameRejected("no frame to analyze")
        async with self._lock:
            self._pacer.check()
            started = time.perf_counter()
            try:
                async with self._session.post(
                    self._url,
                    json=self._payload(frames[-1].jpeg),
                    headers={"User-Agent": CLIENT_VERSION},
                    timeout=self._timeout,
                ) as resp:
                    status = resp.status
                    raw = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as err:
                raise self._unavailable(
                    f"PrintWatch could not be reached ({type(err).__name__})"
                ) from err
            latency_ms = (time.perf_counter() - started) * 1000
            try:
                body: object = json.loads(raw)
            except ValueError:
                body = None
            verdict = self._verdict(self._result_of(status, body), latency_ms)
            self._failures = 0
            return verdict

    def _payload(self, jpeg: bytes) -> dict[str, object]:
        """Build the infer request, keyed as PrintWatch's OctoPrint plugin sends it."""
        return {
            "api_key": self._api_key,
            "printer_id": self._printer_id,
            "ticket_id": self._ticket_id,
            "version": CLIENT_VERSION,
            "state": PRINTING_STATE,
            "force": "False",
            "image_array": base64.b64encode(jpeg).decode("ascii"),
            "conf": self._confidence,
            "buffer_length": self._buffer_size,
            "buffer_percent": self._buffer_percent,
            "thresholds": list(self._thresholds),
            "scores": list(self._scores),
            "sma_spaghetti": self._sma,
            "printTime": 0,
            "printTimeLeft": 0,
            "progress": 0.0,
            "job_name": "",
            "enable_feedback_images": self._feedback_images,
        }

    def _unavailable(self, message: str) -> DetectorUnavailable:
        """Build a retryable failure, backing off as PrintWatch's plugin does."""
        self._failures += 1
        wait = 10.0 + 5.0 * self._failures if self._failures < 10 else 120.0
        return DetectorUnavailable(message, retry_after=wait)

    def _result_of(self, status: int, body: object) -> Mapping[str, object]:
        """Return a result body, or raise the DetectorError the answer calls for."""
        code = body.get("statusCode") if isinstance(body, Mapping) else None
        if BACKOFF_STATUS in (status, code):
            self._pacer.wait(BACKOFF_SECONDS)
            raise DetectorRateLimited(
                "PrintWatch asked to back off (213)", retry_after=BACKOFF_SECONDS
            )
        if status in (401, 403) or code in (401, 403):
            raise DetectorAuthError(
                f"PrintWatch refused the API key (HTTP {status})",
                error_type="invalid_api_key",
            )
        failed = status != 200 or (code is not None and code != 200)
        is_result = not failed and isinstance(body, Mapping) and "score" in body
        if not is_result and _says_key_invalid(body):
            raise DetectorAuthError(
                "PrintWatch says the API key is invalid", error_type="invalid_api_key"
            )
        if status >= 500 or (isinstance(code, int) and code >= 500):
            raise self._unavailable(f"PrintWatch failed (HTTP {status}, code {code})")
        if failed:
            raise DetectorBadResponse(
                f"PrintWatch answered HTTP {status} (code {code}): "
                f"{self._redact(_error_text(body))}"
            )
        if not isinstance(body, Mapping):
            raise DetectorBadResponse("PrintWatch's answer is not a JSON object")
        return body

    def _verdict(self, body: Mapping[str, object], latency_ms: float) -> Verdict:
        """Validate a result and map it onto a Verdict; remember its score."""
        score = body.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise DetectorBadResponse("PrintWatch's answer has no numeric score")
        if not 0 <= score <= 1:
            raise DetectorBadResponse("PrintWatch's score is outside 0-1")
        defect = _parse_bool(body.get("defect_detected"))
        if defect is None:
            raise DetectorBadResponse(
                "PrintWatch's answer has no valid defect_detected"
            )
        boxes = _count_boxes(body.get("boxes"))
        if boxes is None:
            raise DetectorBadResponse("PrintWatch's boxes are malformed")
        levels = body.get("levels")
        if levels is None:
            warning, pause = defect, False
        elif (
            isinstance(levels, list)
            and len(levels) >= 2
            and all(isinstance(level, bool) for level in levels[:2])
        ):
            warning, pause = bool(levels[0]), bool(levels[1])
        else:
            raise DetectorBadResponse("PrintWatch's levels are malformed")
        interval = body.get("interval")
        next_check = (
            float(interval)
            if isinstance(interval, int | float) and not isinstance(interval, bool)
            else None
        )

        self._scores.append(float(score))
        del self._scores[: -self._buffer_size * SCORE_HISTORY_FACTOR]
        if (sma := _first_sma(body.get("smas"))) is not None:
            self._sma = sma

        parts = [f"PrintWatch: score {score:.2f}"]
        parts.append("defect detected" if defect else "no defect")
        if boxes:
            parts.append(f"{boxes} region(s) flagged")
        if pause:
            parts.append("action level reached")
        elif warning and levels is not None:
            parts.append("notify level reached")
        return Verdict(
            failure_score=round(float(score) * 100, 1),
            print_quality=None,
            warning=warning,
            pause=pause,
            kind=FailureKind.OTHER if boxes else FailureKind.NONE,
            reason=", ".join(parts),
            detector=self.name,
            latency_ms=latency_ms,
            usage=Usage(calls=1),
            next_check_after=next_check,
        )

    def _redact(self, text: str) -> str:
        """Remove the API key from text the service sent back."""
        return text.replace(self._api_key, "**REDACTED**")


def _error_text(body: object) -> str:
    """Return the human-readable part of an error body, shortened."""
    if not isinstance(body, Mapping):
        return "no JSON body"
    for key in ("detail", "message", "error", "msg"):
        if (value := body.get(key)) is not None:
            return str(value)[:200]
    return "no error text"


def _says_key_invalid(body: object) -> bool:
    """Whether an error body says the API key is wrong."""
    text = _error_text(body).lower()
    return "key" in text and any(word in text for word in _INVALID_WORDS)


def _parse_bool(value: object) -> bool | None:
    """PrintWatch sends booleans, or their Python repr ("True"/"False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _count_boxes(value: object) -> int | None:
    """Count the boxes ([cx, cy, w, h] lists); None when malformed."""
    if value is None:
        return 0
    if not isinstance(value, list):
        return None
    for box in value:
        if not isinstance(box, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in box
        ):
            return None
    return len(value)


def _first_sma(value: object) -> float | None:
    """Return the spaghetti moving average (`smas[0][0]` or `smas[0]`), if any."""
    if not isinstance(value, list) or not value:
        return None
    first = value[0]
    if isinstance(first, list) and first:
        first = first[0]
    if isinstance(first, bool) or not isinstance(first, int | float):
        return None
    return float(first)
