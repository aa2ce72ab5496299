"""OctoEverywhere Gadget: AI print failure detection over OctoEverywhere's API.

The protocol (OctoEverywhere's api-docs and its Python SDK):

1. `POST {base}/api/gadget/v1/createcontext` with header `X-API-Key` and JSON
   `{"WarningConfidenceLevel": 1-5, "PauseConfidenceLevel": 1-5}` answers
   `ContextId`, `ProcessRequestUrl` and `FallbackProcessRequestUrl`. One context per
   print; creating one is free.
2. A multipart POST of one JPEG (at most 6 MiB) to the process URL answers
   `NextProcessIntervalSec`, `PrintQuality` (1-10), `WarningSuggested`,
   `PauseSuggested` and `Score` (0 perfect .. 100 failed). The next call must not come
   sooner than `NextProcessIntervalSec`.
3. Use the fallback URL only after a connection or server failure, then keep it for
   the rest of the context.

Errors are non-200 answers with `{"ErrorType": ..., "ErrorDetails": ...}`. Nothing here
imports Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import io
import logging
import time
from typing import Final

import aiohttp
from PIL import Image
from yarl import URL

from ...const import DEFAULT_GADGET_LEVEL, DEFAULT_GADGET_URL
from ...redact import redact_secrets
from ..verdict import (
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorFrameRejected,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
    Frame,
    Usage,
    Verdict,
)
from .bounded import AnswerTooLarge, finite_number, loads_or_none, read_body
from .pacing import Pacer

_LOGGER = logging.getLogger(__name__)

CREATE_CONTEXT_PATH: Final = "/api/gadget/v1/createcontext"
MAX_IMAGE_BYTES: Final = 6 * 1024 * 1024
"""The Process API takes one image of at most 6 MiB (6,291,456 bytes)."""
PRICE_PER_CALL_USD: Final = 0.0004
"""List price of one Process call beyond the free allowance (5,000-1m tier)."""
FREE_CALLS_PER_MONTH: Final = 5000
DEFAULT_INTERVAL: Final = 20.0
"""OctoEverywhere's recommended interval, used until the service names its own."""
SPAGHETTI_SCORE: Final = 50.0
"""From this raw Score on, the failure is reported as spaghetti (Gadget's specialty)."""
DEFAULT_TIMEOUT: Final = 60.0
MAX_INTERVAL: Final = 600.0
"""The longest wait between calls we accept from Gadget (`NextProcessIntervalSec`,
`Retry-After`); a longer one is cut to this, so detection never silently stops."""
MAX_FRAME_PIXELS: Final = 7680 * 4320
"""An oversized frame larger than 8K is not decoded to be shrunk."""
GADGET_DOMAIN: Final = "octoeverywhere.com"
"""Process URLs may point here (over https) or at the configured base URL's host."""

RETRY_LATER: Final = frozenset(
    {"OE_CONTEXT_RATE_LIMITED", "OE_BACKEND_THROTTLED", "OE_INTERNAL_ERROR"}
)
THROTTLED: Final = frozenset({"OE_CONTEXT_RATE_LIMITED", "OE_BACKEND_THROTTLED"})
KEY_REFUSED: Final = frozenset(
    {
        "OE_INVALID_API_KEY",
        "OE_API_KEY_DISABLED",
        "OE_API_KEY_BLOCKED_PAYMENT_FAILED",
        "OE_API_KEY_IP_RESTRICTED",
        "OE_FREE_USAGE_LIMIT_REACHED",
    }
)
OUR_BUG: Final = frozenset({"OE_BAD_ARGS", "OE_ARGS_PARSE_FAILED"})
IMAGE_DECODE_FAILED: Final = "OE_IMAGE_DECODE_FAILED"

_CONTEXT_GONE_WORDS: Final = (
    "not found",
    "unknown",
    "missing",
    "expired",
    "does not exist",
    "no longer",
    "invalid",
)
_QUALITY_TEXT: Final = {
    1: "print failure",
    2: "probable print failure",
    3: "possible print failure",
    4: "monitoring a possible issue",
    5: "monitoring a possible issue",
    6: "good",
    7: "good",
    8: "great",
    9: "great",
    10: "perfect",
}
# Shrinking an oversized frame: (scale, JPEG quality), tried in order.
_SHRINK_STEPS: Final = (
    (1.0, 85),
    (1.0, 70),
    (0.75, 70),
    (0.5, 70),
    (0.35, 70),
    (0.25, 65),
)
_MIN_LONG_SIDE: Final = 320


@dataclass(kw_only=True)
class _Context:
    """One print's Gadget context."""

    context_id: str
    process_url: str
    fallback_url: str
    use_fallback: bool = False

    @property
    def url(self) -> str:
        """The process URL in use."""
        return self.fallback_url if self.use_fallback else self.process_url


@dataclass(frozen=True, kw_only=True)
class _Answer:
    """One HTTP answer, read in full."""

    status: int
    body: object
    """Parsed JSON, or None when the body was not JSON."""
    retry_after: float | None
    """The Retry-After header in seconds, when present and numeric."""


class GadgetDetector:
    """Judge frames with OctoEverywhere's Gadget (one frame per call)."""

    name = "gadget"
    max_frames = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str = DEFAULT_GADGET_URL,
        *,
        warning_level: int = DEFAULT_GADGET_LEVEL,
        pause_level: int = DEFAULT_GADGET_LEVEL,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Set up the detector; nothing is sent until the first call.

        `warning_level` and `pause_level` are Gadget's confidence levels, 1 (most
        sensitive) to 5 (most confident). `clock` (seconds, monotonic) paces the calls.
        """
        if not api_key:
            raise ValueError("a Gadget API key is required")
        for label, level in (("warning", warning_level), ("pause", pause_level)):
            if not 1 <= level <= 5:
                raise ValueError(f"{label} level must be 1-5, got {level}")
        self._session = session
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._base = URL(self._base_url)
        self._untrusted_logged = False
        self._interval_logged = False
        self._warning_level = warning_level
        self._pause_level = pause_level
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()
        self._context: _Context | None = None
        self._interval = DEFAULT_INTERVAL
        self._pacer = Pacer("Gadget", clock)
        self._bad_args_logged = False

    @property
    def context_id(self) -> str | None:
        """The current print's context id, if one was created."""
        return self._context.context_id if self._context else None

    @property
    def using_fallback(self) -> bool:
        """Whether the current context switched to the fallback URL."""
        return self._context is not None and self._context.use_fallback

    async def async_validate(self) -> None:
        """Check the API key by creating a (free) context; raises DetectorError."""
        async with self._lock:
            await self._create_context()

    async def async_start_print(self, print_id: str) -> None:
        """Drop the context: the next analyze creates a fresh one for this print."""
        async with self._lock:
            self._context = None

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Send the newest frame to Gadget and return its verdict."""
        if not frames:
            raise DetectorFrameRejected("no frame to analyze")
        async with self._lock:
            self._pacer.check()
            jpeg = frames[-1].jpeg
            if len(jpeg) > MAX_IMAGE_BYTES:
                jpeg = await asyncio.get_running_loop().run_in_executor(
                    None, _shrink_jpeg, jpeg, MAX_IMAGE_BYTES
                )
            if self._context is None:
                self._context = await self._create_context()
            return await self._process(self._context, jpeg)

    async def _create_context(self) -> _Context:
        """Create a context, or raise the DetectorError that fits the answer."""
        payload = {
            "WarningConfidenceLevel": self._warning_level,
            "PauseConfidenceLevel": self._pause_level,
        }
        try:
            async with self._session.post(
                f"{self._base_url}{CREATE_CONTEXT_PATH}",
                json=payload,
                headers={"X-API-Key": self._api_key},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                answer = await _read(resp)
        except AnswerTooLarge as err:
            raise DetectorBadResponse(f"Gadget's answer is too large ({err})") from None
        except (aiohttp.ClientError, TimeoutError) as err:
            raise self._retry_later(
                DetectorUnavailable,
                f"Gadget could not be reached ({type(err).__name__})",
            ) from err
        if answer.status != 200:
            raise self._api_error(answer, None)
        body = answer.body
        if not isinstance(body, Mapping):
            raise DetectorBadResponse("Gadget's new context is not a JSON object")
        fields = ("ContextId", "ProcessRequestUrl", "FallbackProcessRequestUrl")
        values = [body.get(key) for key in fields]
        if not all(isinstance(value, str) and value for value in values):
            raise DetectorBadResponse("Gadget's new context misses an id or a URL")
        context_id, process_url, fallback_url = (str(value) for value in values)
        if len(context_id) > 1024:
            raise DetectorBadResponse("Gadget's new context id is too long")
        _LOGGER.debug("Gadget context %s created", context_id)
        return _Context(
            context_id=context_id,
            process_url=self._trusted_url(process_url),
            fallback_url=self._trusted_url(fallback_url),
        )

    def _is_trusted(self, url: URL) -> bool:
        """Whether the API key may go to `url`.

        Only https on Gadget's own domain, or the configured base URL's scheme
        and host.
        """
        if not url.absolute or url.user is not None or url.password is not None:
            return False
        host = (url.host or "").lower().rstrip(".")
        if url.scheme == "https" and (
            host == GADGET_DOMAIN or host.endswith(f".{GADGET_DOMAIN}")
        ):
            return True
        base_host = (self._base.host or "").lower().rstrip(".")
        return bool(host) and url.scheme == self._base.scheme and host == base_host

    def _trusted_url(self, raw: str) -> str:
        """Return `raw` if the key may go there, else its path on the configured base."""
        try:
            url = URL(raw)
        except ValueError:
            url = None
        if url is not None and self._is_trusted(url):
            return raw
        path = url.raw_path_qs if url is not None and url.absolute else "/"
        safe = f"{self._base.origin()}{path}"
        if not self._untrusted_logged:
            self._untrusted_logged = True
            _LOGGER.warning(
                "Gadget named a process URL on another host or without https (%s); "
                "sending to the configured URL %s instead",
                url.origin() if url is not None and url.absolute else "unreadable",
                self._base.origin(),
            )
        return safe

    async def _process(self, context: _Context, jpeg: bytes) -> Verdict:
        """Send one JPEG to the context's process URL."""
        form = aiohttp.FormData()
        form.add_field(
            "attachment", jpeg, filename="snapshot.jpg", content_type="image/jpeg"
        )
        started = time.perf_counter()
        try:
            async with self._session.post(
                context.url,
                data=form,
                headers={"X-API-Key": self._api_key},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                answer = await _read(resp)
        except AnswerTooLarge as err:
            raise self._retry_later(
                DetectorBadResponse, f"Gadget's answer is too large ({err})"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as err:
            self._switch_to_fallback(context, type(err).__name__)
            raise self._retry_later(
                DetectorUnavailable,
                f"Gadget could not be reached ({type(err).__name__})",
            ) from err
        latency_ms = (time.perf_counter() - started) * 1000
        if answer.status != 200:
            raise self._api_error(answer, context)
        interval, quality, warning, pause, score = _parse_result(answer.body)
        if interval > MAX_INTERVAL:
            if not self._interval_logged:
                self._interval_logged = True
                _LOGGER.warning(
                    "Gadget asked to wait %.0f s between checks; waiting %.0f s",
                    interval,
                    MAX_INTERVAL,
                )
            interval = MAX_INTERVAL
        self._interval = interval
        self._pacer.wait(interval)
        if score >= SPAGHETTI_SCORE:
            kind = FailureKind.SPAGHETTI
        elif warning or pause:
            kind = FailureKind.OTHER
        else:
            kind = FailureKind.NONE
        suggestion = (
            "pause suggested" if pause else "warning suggested" if warning else ""
        )
        reason = (
            f"Gadget: print quality {quality}/10 ({_QUALITY_TEXT[quality]}), "
            f"score {score:g}/100"
        )
        return Verdict(
            failure_score=score,
            print_quality=quality,
            warning=warning,
            pause=pause,
            kind=kind,
            reason=f"{reason}; {suggestion}" if suggestion else reason,
            detector=self.name,
            latency_ms=latency_ms,
            usage=Usage(calls=1, cost_usd=PRICE_PER_CALL_USD),
            next_check_after=interval,
        )

    def _switch_to_fallback(self, context: _Context, why: str) -> None:
        """After a connection or server failure, use the fallback URL for good."""
        if not context.use_fallback:
            context.use_fallback = True
            _LOGGER.info(
                "Gadget's process URL failed (%s); using the fallback URL for the rest "
                "of this print",
                why,
            )

    def _retry_later[E: DetectorError](self, cls: type[E], message: str) -> E:
        """Build a retryable error and hold further calls for the current interval."""
        return self._hold(cls(message, retry_after=self._interval))

    def _hold[E: DetectorError](self, err: E) -> E:
        """Refuse calls (without sending them) until `err.retry_after` has passed."""
        if err.retry_after is not None:
            self._pacer.wait(err.retry_after)
        return err

    def _api_error(self, answer: _Answer, context: _Context | None) -> DetectorError:
        """Map a non-200 answer onto the DetectorError to raise."""
        error_type, details = _error_of(answer.body)
        details = self._redact(details)[:200]
        if error_type is not None:  # a code, but it is the server's text
            error_type = self._redact(error_type)[:100]
        status = answer.status
        if error_type in KEY_REFUSED:
            return DetectorAuthError(
                f"Gadget refused the API key ({error_type})",
                error_type=error_type.lower(),
            )
        if error_type == IMAGE_DECODE_FAILED:
            return DetectorFrameRejected("Gadget could not decode the frame")
        if error_type in OUR_BUG:
            if not self._bad_args_logged:
                self._bad_args_logged = True
                _LOGGER.warning(
                    "Gadget rejected our request as invalid (%s: %s); please report "
                    "this as a Print Sentinel bug",
                    error_type,
                    details,
                )
            return DetectorBadResponse(f"Gadget rejected the request ({error_type})")
        if error_type == "OE_INTERNAL_ERROR" and context and _context_gone(details):
            _LOGGER.debug("Gadget context %s expired", context.context_id)
            self._context = None
            return self._retry_later(
                DetectorUnavailable, "Gadget's context expired; a new one follows"
            )
        if context is not None and status >= 500 and error_type not in THROTTLED:
            self._switch_to_fallback(context, f"HTTP {status}")
        if error_type in THROTTLED or (error_type is None and status == 429):
            wait = min(MAX_INTERVAL, max(self._interval, answer.retry_after or 0.0))
            return self._hold(
                DetectorRateLimited(
                    f"Gadget asked to slow down ({error_type or 'HTTP 429'})",
                    retry_after=wait,
                )
            )
        if error_type in RETRY_LATER or status >= 500:
            return self._retry_later(
                DetectorUnavailable,
                f"Gadget failed ({error_type or f'HTTP {status}'})",
            )
        if error_type is None and status == 401:
            return DetectorAuthError(
                "Gadget refused the API key (HTTP 401)",
                error_type="oe_invalid_api_key",
            )
        return DetectorBadResponse(
            f"Gadget answered HTTP {status} ({error_type or 'no error type'})"
        )

    def _redact(self, text: str) -> str:
        """Remove the API key from text the service sent back."""
        return redact_secrets(text, self._api_key)


async def _read(resp: aiohttp.ClientResponse) -> _Answer:
    """Read a bounded answer; the body is strict JSON or None.

    Raises AnswerTooLarge for a body larger than any Gadget answer.
    """
    body = loads_or_none(await read_body(resp))
    retry_after: float | None = None
    if header := resp.headers.get("Retry-After"):
        try:
            retry_after = finite_number(float(header))
        except ValueError:
            retry_after = None
        if retry_after is not None:
            retry_after = min(MAX_INTERVAL, max(0.0, retry_after))
    return _Answer(status=resp.status, body=body, retry_after=retry_after)


def _error_of(body: object) -> tuple[str | None, str]:
    """Return (ErrorType, ErrorDetails) of an error body; (None, "") if it has none."""
    if not isinstance(body, Mapping):
        return None, ""
    error_type = body.get("ErrorType")
    details = body.get("ErrorDetails")
    return (
        error_type if isinstance(error_type, str) and error_type else None,
        details if isinstance(details, str) else "",
    )


def _context_gone(details: str) -> bool:
    """Whether an internal error's details say the context is missing or unknown."""
    text = details.lower()
    return "context" in text and any(word in text for word in _CONTEXT_GONE_WORDS)


def _number(value: object) -> float | None:
    """Return a JSON number as a finite float (booleans are not numbers)."""
    return finite_number(value)


def _parse_result(body: object) -> tuple[float, int, bool, bool, float]:
    """Validate a Process answer: (interval, quality, warning, pause, score)."""
    if not isinstance(body, Mapping):
        raise DetectorBadResponse("Gadget's answer is not a JSON object")
    interval = _number(body.get("NextProcessIntervalSec"))
    quality = _number(body.get("PrintQuality"))
    score = _number(body.get("Score"))
    warning = body.get("WarningSuggested")
    pause = body.get("PauseSuggested")
    if interval is None or interval < 0:
        raise DetectorBadResponse("Gadget's answer has no valid NextProcessIntervalSec")
    if quality is None or not quality.is_integer() or not 1 <= quality <= 10:
        raise DetectorBadResponse("Gadget's answer has no valid PrintQuality")
    if score is None or not 0 <= score <= 100:
        raise DetectorBadResponse("Gadget's answer has no valid Score")
    if not isinstance(warning, bool) or not isinstance(pause, bool):
        raise DetectorBadResponse("Gadget's answer has no valid suggestions")
    return interval, int(quality), warning, pause, score


def _shrink_jpeg(jpeg: bytes, limit: int) -> bytes:
    """Re-encode an oversized frame until it fits `limit` (runs in an executor).

    Raises DetectorFrameRejected when the bytes are not an image or cannot be made
    small enough without becoming useless.
    """
    try:
        with Image.open(io.BytesIO(jpeg)) as opened:
            if opened.width * opened.height > MAX_FRAME_PIXELS:
                raise DetectorFrameRejected("frame is larger than 6 MiB and than 8K")
            opened.load()
            image = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise DetectorFrameRejected(
            "frame is larger than 6 MiB and not a readable image"
        ) from err
    for scale, quality in _SHRINK_STEPS:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if max(size) < _MIN_LONG_SIDE:
            break
        candidate = (
            image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        )
        out = io.BytesIO()
        candidate.save(out, format="JPEG", quality=quality)
        if out.tell() <= limit:
            return out.getvalue()
    raise DetectorFrameRejected("frame could not be made smaller than 6 MiB")
