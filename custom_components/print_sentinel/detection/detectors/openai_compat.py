"""Failure detection by any OpenAI-compatible vision model (OpenAI, Ollama, ...).

One Chat Completions request per check: the instructions, then every frame (oldest
first) as a base64 JPEG data URL at the configured `detail`, with a strict JSON
schema as `response_format`. The answer is read raw, at most 1 MiB and within the
timeout, parsed as strict JSON (no NaN, no deep nesting) and validated field by
field; anything off (no JSON, wrong types, out of range, a refusal, no choices, a
null message) is a `DetectorBadResponse`, never a failure and never an exception
of another type. Redirects are not followed. The API key lives only inside the SDK
client: it is never logged nor put in an exception message.

The SDK (`openai`, ~800 modules) is imported only when a detector builds its
client, in the executor (`async_prepare`): an entry without an OpenAI-compatible
detector never imports it, and importing the integration stays cheap.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import functools
import importlib
import json
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Final, cast

import httpx
from yarl import URL

from ...validation import normalize_url
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
    Answer,
    frames_caption,
    parse_answer,
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
from .bounded import MAX_ANSWER_BYTES, NotJSON, loads

if TYPE_CHECKING:
    import openai

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
MAX_RETRY_AFTER: Final = 600.0
"""The longest wait a service may ask for before the next check (seconds)."""
MAX_TOKENS: Final = 10_000_000
"""Reported usage beyond this (per request) is not believed; the estimate is used."""
SDK_LAZY_MODULES: Final = (
    "openai.resources.chat.completions.completions",
    "openai.resources.models",
    "openai.types.chat.chat_completion",
    "openai.pagination",
    "openai._legacy_response",
)
"""What the SDK imports on first use (~0.3 s): imported in the executor instead."""
SDK_LAZY_PACKAGES: Final = (
    "openai.resources",
    "openai.resources.chat",
    "openai.resources.chat.completions",
)
"""Packages whose names newer SDKs (3.2x) resolve through a module `__getattr__`
that calls `importlib.import_module` on first access: resolved in the executor too."""


if TYPE_CHECKING:

    class AnswerTooLargeError(openai.OpenAIError):
        """The answer is larger than MAX_ANSWER_BYTES (the rest was not read)."""

else:

    def __getattr__(name: str) -> Any:
        """`AnswerTooLargeError`, made when first asked for (it imports the SDK)."""
        if name == "AnswerTooLargeError":
            return _answer_too_large_error()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _answer_too_large_error() -> type[AnswerTooLargeError]:
    """The SDK error raised for an answer too large (the SDK passes it on as is)."""
    import openai  # only with a detector: see the module doc

    class Error(openai.OpenAIError):
        """The answer is larger than MAX_ANSWER_BYTES (the rest was not read)."""

    Error.__module__ = __name__
    Error.__name__ = Error.__qualname__ = "AnswerTooLargeError"
    return cast("type[AnswerTooLargeError]", Error)


class _NoTransport(httpx.AsyncBaseTransport):
    """Never used: every request goes through the wrapped client."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("requests go through the shared client")


class BoundedClient(httpx.AsyncClient):
    """Home Assistant's shared httpx client, with every answer bounded.

    The SDK takes an `httpx.AsyncClient`; this one builds requests itself and
    sends them through `inner` without following redirects, reading at most
    `limit` bytes of each answer.
    """

    def __init__(self, inner: httpx.AsyncClient, limit: int = MAX_ANSWER_BYTES) -> None:
        """Wrap `inner` (it stays shared: closing this client leaves it open)."""
        super().__init__(transport=_NoTransport(), trust_env=False)
        self._inner = inner
        self._limit = limit

    async def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send `request`; return the answer read in full, or raise if too large."""
        kwargs["follow_redirects"] = False
        response = await self._inner.send(request, stream=True, **kwargs)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._limit:
                raise _answer_too_large_error()(
                    f"the answer announces {declared} bytes"
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._limit:
                    raise _answer_too_large_error()(
                        f"the answer is larger than {self._limit} bytes"
                    )
        finally:
            await response.aclose()
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=bytes(body),
            request=request,
        )


def valid_base_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL with a host (the SDK's base URL).

    The host must be an IP address or a valid (IDNA) host name, and the URL free
    of spaces and control characters: the SDK's URL parser refuses the rest.
    """
    try:
        parsed = URL(url)
        normalize_url(url)
        return (
            parsed.scheme in ("http", "https")
            and bool(parsed.host)
            and parsed.user is None
            and (parsed.explicit_port is None or 0 < parsed.explicit_port < 65536)
        )
    except ValueError:
        return False


_PRELOAD_LOCK: Final = threading.Lock()


def preload_sdk() -> None:
    """Import what the SDK loads lazily on first use (blocking: run in the executor).

    One thread at a time: the SDK's modules import each other, and two threads
    importing them at once can meet in Python's import deadlock detection.
    """
    with _PRELOAD_LOCK:
        for module in SDK_LAZY_MODULES:
            importlib.import_module(module)
        for package in SDK_LAZY_PACKAGES:
            _resolve_lazy_exports(importlib.import_module(package))


_LAZY_RESOURCES: Final = ("chat", "models")
"""The resources of openai.resources this integration uses."""


def _resolve_lazy_exports(module: Any) -> None:
    """Resolve the names a lazily exporting package would import on first access.

    Only the chat and models resources of `openai.resources` (all of them would
    import the whole SDK); every name of the chat packages.
    """
    exports = getattr(module, "_EXPORTS", None)
    submodules = getattr(module, "_SUBMODULES", None)
    if not isinstance(exports, Mapping) and not isinstance(
        submodules, (set, frozenset)
    ):
        return  # an SDK that imports eagerly (3.10): nothing lazy here
    names: set[str] = set(exports or ()) | set(submodules or ())
    if module.__name__ == "openai.resources":
        names = {
            name
            for name in names
            if name in _LAZY_RESOURCES
            or (
                isinstance(exports, Mapping)
                and exports.get(name, ("",))[0].lstrip(".") in _LAZY_RESOURCES
            )
        }
    for name in sorted(names):
        getattr(module, name, None)


def _usage_of(body: Mapping[str, Any]) -> tuple[int, int] | None:
    """The reported (prompt, completion) tokens, if present and believable."""
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        return None
    values = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
    if all(
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_TOKENS
        for value in values
    ):
        return cast(int, values[0]), cast(int, values[1])
    _LOGGER.debug("The vision API reported unusable token usage; estimating it")
    return None


def _choice_of(body: object) -> tuple[str | None, Mapping[str, Any]]:
    """Return (finish_reason, message) of the first choice, checked."""
    if not isinstance(body, Mapping):
        raise DetectorBadResponse("the answer is not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise DetectorBadResponse("the answer has no choices")
    choice = choices[0]
    if not isinstance(choice, Mapping):
        raise DetectorBadResponse("the answer's choice is not an object")
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise DetectorBadResponse("the answer has no message")
    finish_reason = choice.get("finish_reason")
    return (finish_reason if isinstance(finish_reason, str) else None), message


def _answer_of(content: object) -> Answer:
    """Decode and validate the message content (strict JSON, bounded)."""
    if not isinstance(content, str) or not content.strip():
        raise DetectorBadResponse("answer is empty")
    try:
        data = loads(content)
    except NotJSON:
        raise DetectorBadResponse("answer is not JSON") from None
    return parse_answer(data)


def _json_body(raw: Any) -> object:
    """The body of a raw SDK response, as strict JSON."""
    try:
        return loads(raw.http_response.content)
    except NotJSON:
        raise DetectorBadResponse("the vision API answered with no JSON") from None


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

    `retry-after` may be seconds or an HTTP date; anything unreadable is None, and
    a wait longer than MAX_RETRY_AFTER is cut to it (detection must not stop).
    """
    wait = _retry_after(headers)
    return None if wait is None else min(wait, MAX_RETRY_AFTER)


def _retry_after(headers: Mapping[str, str]) -> float | None:
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
    import openai  # loaded already: `err` is one of its errors

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
        self._prepare_lock = asyncio.Lock()
        if not valid_base_url(base_url):
            raise ValueError("the base URL must be an http(s) URL with a host")
        self._http_client = http_client
        self._api_key = api_key or "no-key"
        self._base_url = base_url
        self._sdk_client: openai.AsyncOpenAI | None = None

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

    def _build_client(self) -> openai.AsyncOpenAI:
        """Import the SDK and build its client (blocking: run in the executor)."""
        import openai  # only with this detector: see the module doc

        return openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self._base_url,
            # The SDK speaks httpx2 and accepts legacy httpx clients at runtime,
            # which is what Home Assistant shares (as openai_conversation does).
            http_client=cast(Any, BoundedClient(self._http_client)),
            max_retries=0,
            timeout=self._timeout,
        )

    @property
    def _client(self) -> openai.AsyncOpenAI:
        """The SDK client (built by `async_prepare`, which every call awaits)."""
        if self._sdk_client is None:
            raise RuntimeError("the SDK client is built by async_prepare")
        return self._sdk_client

    def _prepare(self) -> None:
        with _PRELOAD_LOCK:  # one thread at a time imports the SDK
            if self._sdk_client is None:
                try:
                    self._sdk_client = self._build_client()
                except Exception as err:  # noqa: BLE001 - e.g. the SDK's httpx2.InvalidURL
                    raise DetectorUnavailable(
                        f"the vision API's address cannot be used ({type(err).__name__})"
                    ) from None
        preload_sdk()
        self._client.platform_headers()
        # The client's resources are built on first access, importing lazily.
        _ = self._client.chat.completions.with_raw_response
        _ = self._client.models.with_raw_response

    async def async_prepare(self) -> None:
        """Do the SDK's blocking first-use work in the executor (call at set-up).

        Imports the SDK and builds its client, reads the platform headers and
        imports what the SDK loads lazily, which would otherwise block the event
        loop for ~0.3-0.6 s on the first call.
        """
        async with self._prepare_lock:
            if not self._platform_ready:
                await asyncio.get_running_loop().run_in_executor(None, self._prepare)
                self._platform_ready = True

    async def _async_prepare(self) -> None:
        await self.async_prepare()

    @staticmethod
    def _sdk_errors() -> type[openai.OpenAIError]:
        import openai  # loaded already by async_prepare

        return openai.OpenAIError

    async def _async_call(self, call: Any, limit: float) -> object:
        """Run one raw SDK call within `limit` s; return its body as strict JSON.

        Every failure is a DetectorError: the SDK's, a timeout, a body too large
        or not JSON, or anything the SDK raised reading it.
        """
        try:
            async with asyncio.timeout(limit):
                raw = await call()
        except TimeoutError:
            raise DetectorUnavailable(f"no answer within {limit:g} s") from None
        except self._sdk_errors() as err:
            mapped = map_openai_error(err, limit)
            _LOGGER.debug("Vision API call failed: %s", mapped)
            raise mapped from None
        except (ValueError, TypeError, RecursionError, httpx.HTTPError) as err:
            raise DetectorBadResponse(
                f"unreadable answer from the vision API ({type(err).__name__})"
            ) from None
        return _json_body(raw)

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
        messages = self.build_messages(frames)
        started = time.perf_counter()
        body = await self._async_call(
            lambda: self._client.chat.completions.with_raw_response.create(
                model=self._model,
                messages=cast(Any, messages),
                response_format=cast(Any, response_format()),
                **extra,
            ),
            self._timeout,
        )
        latency_ms = (time.perf_counter() - started) * 1000

        finish_reason, message = _choice_of(body)
        if message.get("refusal"):
            raise DetectorBadResponse("the model refused to judge the frames")
        if finish_reason == "length":
            raise DetectorBadResponse("the answer was cut off (max tokens)")
        if finish_reason == "content_filter":
            raise DetectorBadResponse("the answer was withheld by a content filter")
        content = message.get("content")
        answer = _answer_of(content)

        estimated_input, image_estimate = self.estimate_input_tokens(frames)
        assert isinstance(body, Mapping)  # checked by _choice_of
        if (usage := _usage_of(body)) is not None:
            input_tokens, output_tokens = usage
        else:
            input_tokens = estimated_input
            output_tokens = estimate_text_tokens(str(content))
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
        timeout = min(self._timeout, VALIDATE_TIMEOUT)
        body = await self._async_call(
            lambda: self._client.models.with_raw_response.list(timeout=timeout),
            timeout,
        )
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise DetectorBadResponse("the vision API does not list its models")
        offered = {
            model["id"]
            for model in data
            if isinstance(model, Mapping) and isinstance(model.get("id"), str)
        }
        # Ollama lists "llava:latest" for a model pulled as "llava".
        if offered and not {self._model, f"{self._model}:latest"} & offered:
            raise DetectorModelNotFound("the vision API does not offer this model")
