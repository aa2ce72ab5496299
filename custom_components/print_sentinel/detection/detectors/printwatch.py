"""PrintWatch (printpal.io): AI print defect detection over PrintWatch's API.

One JSON `POST {base}/api/v2/infer` per frame, shaped as PrintWatch's own clients send
it (the OctoPrint plugin's `comm.py`, the Klipper client and the `printwatch` Python
client): `api_key`, `printer_id`, `ticket_id` (new per print), `state`, the base64 JPEG
in `image_array`, the detection settings (`conf`, `buffer_length`, `buffer_percent`,
`thresholds`), the trailing `scores` of this print, from which the service computes its
`levels` (notify, action), and the job's `printTime`, `printTimeLeft` (seconds),
`progress` (percent) and `job_name`, read from the printer when the detector is given a
`printer_info` callable (without one: printing, zeros and no name).

Two answer shapes are accepted:

- the full one: `statusCode`, `defect_detected`, `score` (0-1), `levels`, `smas`,
  `boxes` (a list of boxes);
- the one PrintWatch's API guide shows: `{'statusCode': 200, 'defect_detected': True,
  'boxes': '[[0.1262, 0.1627, 0.2892, 0.3740], ...]'}`, with no `score` and `boxes` a
  string holding a JSON list.

`defect_detected` may be a boolean or its Python repr ("True"/"False"). Without a
`score` the failure score is derived (see `DEFECT_SCORE`); without `defect_detected` a
defect is `score >= conf`. An answer with neither is an error, never a failure. Boxes
that cannot be read are counted as none (they only name the kind of failure, never
raise the score). Status 213 (HTTP or `statusCode`) means back off 300 s.
Nothing here imports Home Assistant.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping, Sequence
import logging
import time
from typing import Final
import uuid

import aiohttp

from ...const import DEFAULT_PRINTWATCH_URL
from ...printers.base import PrinterSnapshot, PrinterState
from ...redact import redact_secrets
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
from .bounded import (
    AnswerTooLarge,
    NotJSON,
    finite_number,
    loads,
    loads_or_none,
    read_body,
)
from .pacing import Pacer

_LOGGER = logging.getLogger(__name__)

INFER_PATH: Final = "/api/v2/infer"
BACKOFF_STATUS: Final = 213
BACKOFF_SECONDS: Final = 300.0
CLIENT_VERSION: Final = "print_sentinel"
PRINTING_STATE: Final = 0
"""PrintWatch's printer states: 0 printing, 1 paused, 2 online (500: anything else)."""
_STATE_CODES: Final = {
    PrinterState.PRINTING: 0,
    PrinterState.PAUSED: 1,
    PrinterState.IDLE: 2,
    PrinterState.READY: 2,
    PrinterState.BUSY: 2,
    PrinterState.FINISHED: 2,
    PrinterState.STOPPED: 2,
}
"""Our states as PrintWatch's OctoPrint plugin maps OctoPrint's (printing, paused,
online); error, attention and unknown get its catch-all 500."""
OTHER_STATE: Final = 500
DEFECT_SCORE: Final = 80.0
"""The failure score (0-100) of an answer with `defect_detected` true and no `score`.

PrintWatch only reports a defect once its model is at least `conf` sure (0.60 by
default), so an unscored positive is a clear one. 80 puts it above the positive mark of
every policy (50 for `two_yes` and `printwatch`; 50-70 for a bad frame and 65-75 for the
newest frame of `sentinel`), so a run of such answers can fail a print at any
sensitivity, while each policy's confirmation keeps one answer from doing it alone. An
answer with `defect_detected` false and no `score` scores 0. The boxes do not change the
score: a defect with boxes is kind OTHER, one without is kind NONE, as with a score.
Derived scores are not sent back in `scores` (only scores PrintWatch gave are)."""
SCORE_HISTORY_FACTOR: Final = 4
"""How many buffers of past scores are sent back (the plugin's MAX_MULTIPLIER)."""
DEFAULT_TIMEOUT: Final = 30.0
MAX_INTERVAL: Final = 600.0
"""The longest `interval` (seconds) we accept from PrintWatch; a longer one is cut
to this, so detection never silently stops for the print."""
MAX_BOXES_CHARS: Final = 64 * 1024
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
        printer_info: Callable[[], PrinterSnapshot | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Set up the detector; nothing is sent until the first call.

        `confidence` and the thresholds are 0-1 as PrintWatch takes them;
        `buffer_percent` (0-100) is the share of defective frames in the buffer the
        action level needs. `feedback_images` lets PrintWatch keep frames for training.
        `printer_info` returns the printer's latest snapshot (or None), read at each
        call for the request's state, print time, progress and job name.
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
        self._printer_info = printer_info
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()
        self._ticket_id = uuid.uuid4().hex
        self._scores: list[float] = []
        self._sma = 0.0
        self._pacer = Pacer("PrintWatch", clock)
        self._failures = 0
        self._interval_logged = False

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
                    # the key is in the body: a redirect would resend it elsewhere
                    allow_redirects=False,
                ) as resp:
                    status = resp.status
                    raw = await read_body(resp)
            except AnswerTooLarge as err:
                raise DetectorBadResponse(
                    f"PrintWatch's answer is too large ({err})"
                ) from None
            except (aiohttp.ClientError, TimeoutError) as err:
                raise self._unavailable(
                    f"PrintWatch could not be reached ({type(err).__name__})"
                ) from err
            latency_ms = (time.perf_counter() - started) * 1000
            body = loads_or_none(raw)
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
            "force": "False",
            "image_array": base64.b64encode(jpeg).decode("ascii"),
            "conf": self._confidence,
            "buffer_length": self._buffer_size,
            "buffer_percent": self._buffer_percent,
            "thresholds": list(self._thresholds),
            "scores": list(self._scores),
            "sma_spaghetti": self._sma,
            **self._print_fields(),
            "enable_feedback_images": self._feedback_images,
        }

    def _print_fields(self) -> dict[str, object]:
        """The printer's state and job as PrintWatch's clients send them."""
        snapshot = self._printer_info() if self._printer_info is not None else None
        if snapshot is None:
            return {
                "state": PRINTING_STATE,
                "printTime": 0,
                "printTimeLeft": 0,
                "progress": 0.0,
                "job_name": "",
            }
        job = snapshot.job
        name = ""
        if job is not None:
            name = job.name or (job.path or "").rsplit("/", 1)[-1]
        return {
            "state": _STATE_CODES.get(snapshot.state, OTHER_STATE),
            "printTime": (job.time_printing or 0) if job else 0,
            "printTimeLeft": (job.time_remaining or 0) if job else 0,
            "progress": float(job.progress or 0.0) if job else 0.0,
            "job_name": name,
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
        is_result = (
            not failed
            and isinstance(body, Mapping)
            and ("score" in body or "defect_detected" in body)
        )
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
        raw_score = body.get("score")
        score: float | None = None
        if raw_score is not None:  # null counts as missing
            score = finite_number(raw_score)
            if score is None:
                raise DetectorBadResponse("PrintWatch's score is not a number")
            if not 0 <= score <= 1:
                raise DetectorBadResponse("PrintWatch's score is outside 0-1")
        raw_defect = body.get("defect_detected")
        defect = _parse_bool(raw_defect)
        if raw_defect is not None and defect is None:
            raise DetectorBadResponse(
                "PrintWatch's answer has no valid defect_detected"
            )
        if defect is None:
            if score is None:
                raise DetectorBadResponse(
                    "PrintWatch's answer has neither a score nor defect_detected"
                )
            defect = score >= self._confidence
        boxes = _count_boxes(body.get("boxes"))
        if boxes is None:
            _LOGGER.debug("PrintWatch's boxes are malformed; counting none")
            boxes = 0
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
        next_check = self._interval_of(body.get("interval"))

        if score is not None:
            failure_score = round(score * 100, 1)
            self._scores.append(score)
            del self._scores[: -self._buffer_size * SCORE_HISTORY_FACTOR]
            parts = [f"PrintWatch: score {score:.2f}"]
        else:
            failure_score = DEFECT_SCORE if defect else 0.0
            parts = [f"PrintWatch: no score (counted as {failure_score:.0f})"]
        if (sma := _first_sma(body.get("smas"))) is not None:
            self._sma = sma

        parts.append("defect detected" if defect else "no defect")
        if boxes:
            parts.append(f"{boxes} region(s) flagged")
        if pause:
            parts.append("action level reached")
        elif warning and levels is not None:
            parts.append("notify level reached")
        return Verdict(
            failure_score=failure_score,
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

    def _interval_of(self, value: object) -> float | None:
        """The wait PrintWatch asks for, finite and at most MAX_INTERVAL."""
        interval = finite_number(value)
        if interval is None or interval < 0:
            return None
        if interval > MAX_INTERVAL:
            if not self._interval_logged:
                self._interval_logged = True
                _LOGGER.warning(
                    "PrintWatch asked to wait %.0f s between checks; waiting %.0f s",
                    interval,
                    MAX_INTERVAL,
                )
            return MAX_INTERVAL
        return interval

    def _redact(self, text: str) -> str:
        """Remove the API key from text the service sent back (then shorten it)."""
        return redact_secrets(text, self._api_key)[:MAX_ERROR_TEXT]


MAX_ERROR_TEXT = 200
"""Characters of the service's error text kept in a message."""


def _error_text(body: object) -> str:
    """Return the human-readable part of an error body, shortened."""
    if not isinstance(body, Mapping):
        return "no JSON body"
    for key in ("detail", "message", "error", "msg"):
        if (value := body.get(key)) is not None:
            # whole: a key it quotes is redacted before the text is cut
            return str(value)
    return "no error text"


def _says_key_invalid(body: object) -> bool:
    """Whether an error body says the API key is wrong."""
    text = _error_text(body)[:MAX_ERROR_TEXT].lower()
    return "key" in text and any(word in text for word in _INVALID_WORDS)


def _parse_bool(value: object) -> bool | None:
    """PrintWatch sends booleans, or their Python repr ("True"/"False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _count_boxes(value: object) -> int | None:
    """Count the boxes (lists of numbers); None when malformed.

    PrintWatch sends a list, or (as its API guide shows) a string holding a JSON list.
    """
    if value is None:
        return 0
    if isinstance(value, str):
        if len(value) > MAX_BOXES_CHARS:
            return None
        try:
            value = loads(value)
        except NotJSON:
            return None
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
    return finite_number(first)
