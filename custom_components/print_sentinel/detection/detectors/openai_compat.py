"""Failure detection by any OpenAI-compatible vision model (OpenAI, Ollama, ...).

One Chat Completions request per check: the instructions, then every frame (oldest
first) as a base64 JPEG data URL at the configured `detail`, with a strict JSON
schema as `response_format`. The answer is validated field by field; anything off
(no JSON, wrong types, out of range, a refusal, no choices) is a
`DetectorBadResponse`, never a failure. The API key lives only inside the SDK
client: it is never logged nor put in an exception message.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import math
import time
from typing import Any, Final, cast

import httpx
import openai

from ..cost import (
    DEFAULT_DETAIL,
    DEFAULT_FRAME_COUNT,
    DEFAULT_MODEL,
    DETAILS,
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    estimate_text_tokens,
    image_tokens,
    request_cost,
)
from ..prompt import (
    INSTRUCTIONS,
    VERDICT_JSON_SCHEMA,
    frames_caption,
    parse_answer_text,
    response_format,
)
from ..verdict import (
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorFrameRejected,
    DetectorRateLimited,
    DetectorUnavailable,
    Frame,
    Usage,
    Verdict,
)

_LOGGER = logging.getLogger(__name__)

NAME: Final = "openai"
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_OUTPUT_TOKENS: Final = 300
"""Caps a runaway answer; a verdict takes ~40 tokens (reasoning models need more)."""
VALIDATE_TIMEOUT: Final = 10.0
_IMAGE_ERROR_CODES: Final = frozenset(
    {"invalid_image", "invalid_image_format", "image_parse_error", "invalid_image_url"}
)
_QUOTA_CODES: Final = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


class DetectorModelNotFound(DetectorBadResponse):
    """The service does not offer the configured model."""


def _error_code(err: openai.APIStatusError) -> str | None:
    """Return OpenAI's machine-readable error code, if the body carries one."""
    code = err.code
    if code is None and isinstance(err.body, Mapping):
        inner = err.body.get("error")
        if isinstance(inner, Mapping):
            value = inner.get("code") or inner.get("type")
            code = value if isinstance(value, str) else None
    return code if isinstance(code, str) and code else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Return the wait the service asks for (`retry-after-ms` or `retry-after`).

    `retry-after` may be seconds or an HTTP date; anything unreadable is None.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    if (millis := lowered.get("retry-after-ms")) is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except TypeError, ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def map_openai_error(err: openai.OpenAIError, timeout: float) -> DetectorError:
    """Turn an SDK error into our DetectorError (never carrying the API key)."""
    if isinstance(err, openai.APITimeoutError):
        return DetectorUnavailable(f"no answer within {timeout:g} s")
    if isinstance(err, openai.APIConnectionError):
        return DetectorUnavailable("cannot connect to the vision API")
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        code = _error_code(err)
        retry_after = parse_retry_after(err.response.headers)
        if status == 429 and code in _QUOTA_CODES:
            return DetectorAuthError(
                "the vision API account is out of quota",
                error_type="insufficient_quota",
            )
        if status == 429:
            return DetectorRateLimited(
                "the vision API is rate limiting requests", retry_after=retry_after
            )
        if status in (401, 403):
            return DetectorAuthError(
                f"the vision API rejected the API key (HTTP {status}, {code or 'no code'})",
                error_type=code
                or ("invalid_api_key" if status == 401 else "forbidden"),
            )
        if status >= 500:
            return DetectorUnavailable(
                f"the vision API failed (HTTP {status})", retry_after=retry_after
            )
        if code in _IMAGE_ERROR_CODES:
            return DetectorFrameRejected(f"the vision API rejected a frame ({code})")
        if status == 404 and code == "model_not_found":
            return DetectorModelNotFound("the vision API does not offer this model")
        return DetectorBadResponse(
            f"the vision API refused the request (HTTP {status}, {code or 'no code'})"
        )
    return DetectorBadResponse(
        f"unreadable answer from the vision API ({type(err).__name__})"
    )


def _data_url(frame: Frame) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(frame.jpeg).decode("ascii")


class OpenAIDetector:
    """A Detector backed by an OpenAI-compatible Chat Completions endpoint."""

    name = NAME

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        api_key: str,
        base_url: str,
        model: str = DEFAULT_MODEL,
        detail: str = DEFAULT_DETAIL,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        max_frames: int = DEFAULT_FRAME_COUNT,
        max_output_tokens: int | None = DEFAULT_MAX_OUTPUT_TOKENS,
    ) -> None:
        """Build the SDK client on Home Assistant's shared httpx client.

        Local servers (Ollama) take any non-empty key; an empty one is replaced.
        """
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        self.max_frames = max_frames
        self._model = model
        self._detail = detail
        self._timeout = float(timeout)
        self._max_output_tokens = max_output_tokens
        self._platform_ready = False
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "no-key",
            base_url=base_url,
            # The SDK speaks httpx2 and accepts legacy httpx clients at runtime,
            # which is what Home Assistant shares (as openai_conversation does).
            http_client=cast(Any, http_client),
            max_retries=0,
            timeout=self._timeout,
        )

    @property
    def model(self) -> str:
        """The configured model."""
        return self._model

    @property
    def detail(self) -> str:
        """The image detail sent with every frame."""
        return self._detail

    def __repr__(self) -> str:
        """Describe the detector without its key."""
        return f"OpenAIDetector(model={self._model!r}, detail={self._detail!r})"

    async def _async_prepare(self) -> None:
        """Read the SDK's platform headers once, off the event loop (blocking I/O)."""
        if not self._platform_ready:
            await asyncio.get_running_loop().run_in_executor(
                None, self._client.platform_headers
            )
            self._platform_ready = True

    def build_messages(self, frames: Sequence[Frame]) -> list[dict[str, Any]]:
        """Return the chat messages for `frames` (oldest first)."""
        content: list[dict[str, Any]] = [
            {"type": "text", "text": frames_caption(len(frames))}
        ]
        content.extend(
            {
                "type": "image_url",
                "image_url": {"url": _data_url(frame), "detail": self._detail},
            }
            for frame in frames
        )
        return [
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": content},
        ]

    def estimate_input_tokens(self, frames: Sequence[Frame]) -> tuple[int, int]:
        """Estimate (all input tokens, image tokens) of one request for `frames`."""
        images = sum(
            image_tokens(self._model, self._detail, frame.width, frame.height)
            for frame in frames
        )
        text = (
            estimate_text_tokens(INSTRUCTIONS)
            + estimate_text_tokens(frames_caption(len(frames)))
            + estimate_text_tokens(
                json.dumps(VERDICT_JSON_SCHEMA, separators=(",", ":"))
            )
            + 2 * MESSAGE_OVERHEAD_TOKENS
            + REPLY_PRIMING_TOKENS
        )
        return text + images, images

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Judge the newest `max_frames` frames in one request."""
        if not frames:
            raise DetectorFrameRejected("no frame to judge")
        frames = list(frames)[-self.max_frames :]
        await self._async_prepare()
        extra: dict[str, Any] = {}
        if self._max_output_tokens is not None:
            extra["max_completion_tokens"] = self._max_output_tokens
        started = time.perf_counter()
        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                messages=cast(Any, self.build_messages(frames)),
                response_format=cast(Any, response_format()),
                **extra,
            )
        except openai.OpenAIError as err:
            mapped = map_openai_error(err, self._timeout)
            _LOGGER.debug("Vision API call failed: %s", mapped)
            raise mapped from None
        except ValueError:
            # The SDK hands a 200 whose body is not JSON to json.loads.
            raise DetectorBadResponse("the vision API answered with no JSON") from None
        latency_ms = (time.perf_counter() - started) * 1000

        if (
            not isinstance(getattr(response, "choices", None), list)
            or not response.choices
        ):
            raise DetectorBadResponse("the answer has no choices")
        choice = response.choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            raise DetectorBadResponse("the model refused to judge the frames")
        if choice.finish_reason == "length":
            raise DetectorBadResponse("the answer was cut off (max tokens)")
        if choice.finish_reason == "content_filter":
            raise DetectorBadResponse("the answer was withheld by a content filter")
        content = message.content
        answer = parse_answer_text(content if isinstance(content, str) else None)

        estimated_input, image_estimate = self.estimate_input_tokens(frames)
        usage = response.usage
        if usage is not None:
            input_tokens = int(usage.prompt_tokens)
            output_tokens = int(usage.completion_tokens)
        else:
            input_tokens = estimated_input
            output_tokens = estimate_text_tokens(content or "")
        verdict = Verdict(
            failure_score=answer.failure_score,
            print_quality=answer.print_quality,
            warning=answer.warning,
            pause=answer.pause,
            kind=answer.kind,
            reason=answer.reason,
            detector=self.name,
            latency_ms=latency_ms,
            usage=Usage(
                calls=1,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                image_tokens_estimate=image_estimate,
                cost_usd=request_cost(self._model, input_tokens, output_tokens),
            ),
        )
        _LOGGER.debug(
            "%s judged %d frame(s): score %.0f, kind %s, %d+%d tokens",
            self._model,
            len(frames),
            verdict.failure_score,
            verdict.kind,
            input_tokens,
            output_tokens,
        )
        return verdict

    async def async_start_print(self, print_id: str) -> None:
        """Nothing to reset: every request is self-contained."""

    async def async_validate(self) -> None:
        """Check the key and that the service offers the model (options flow).

        Lists the models (no tokens spent). Raises DetectorAuthError,
        DetectorUnavailable, DetectorRateLimited, DetectorModelNotFound (a
        DetectorBadResponse) like `async_analyze`.
        """
        await self._async_prepare()
        try:
            page = await self._client.models.list(
                timeout=min(self._timeout, VALIDATE_TIMEOUT)
            )
        except openai.OpenAIError as err:
            raise map_openai_error(err, min(self._timeout, VALIDATE_TIMEOUT)) from None
        except ValueError:
            raise DetectorBadResponse("the vision API answered with no JSON") from None
        offered = {model.id for model in page.data}
        # Ollama lists "llava:latest" for a model pulled as "llava".
        if offered and not {self._model, f"{self._model}:latest"} & offered:
            raise DetectorModelNotFound("the vision API does not offer this model")
