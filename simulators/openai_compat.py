"""A loopback OpenAI-compatible vision API that judges synthetic print frames.

Serves `POST /v1/chat/completions` and `GET /v1/models` (`/v1/models/{id}`) the way
api.openai.com does, so the official `openai` SDK talks to it unchanged:

* Auth: `Authorization: Bearer <api_key>`; anything else is a 401 with OpenAI's
  error JSON (`invalid_api_key`, the key masked as OpenAI masks it).
* Validation (400 `invalid_request_error`, 404 `model_not_found`): a known model,
  a non-empty `messages` list, images only as base64 `data:image/...` URLs with a
  valid `detail`, and a `response_format` of type `json_schema` that satisfies the
  strict-mode rules (every property required, `additionalProperties: false`).
  Images that do not decode are rejected with `invalid_image_format`.
* Judgement: every image is read back with `simulators.scene.read_scene`, and the
  answer follows a seeded noise model meant to look like a small vision model:

  - the request's truth is the mean of the encoded failure scores, weighted
    towards the newest frame (weights 1, 2, ..., n); its kind is the kind of the
    most failed frame showing >= 30, else "none";
  - a frame that looks fine (truth < 30) scores `truth / 2 + U(0, 12)`, and with
    probability `false_positive_rate` (default 3 %) a false positive spike of
    U(40, 75) blamed on stringing or a blob;
  - a failing frame scores `truth + N(0, noise)` (default sd 7), clipped to 0-100;
  - `print_quality` is `10 - score / 11`, rounded and clipped to 1-10.

  Scripted verdicts (`script()` or `POST /_sim/script`) replace the judgement, one
  per request, in order.
* Usage, as OpenAI reports it: `prompt_tokens` = text (~4 characters a token,
  plus 3 per message and 3 to prime the reply) + the response schema + image
  tokens by OpenAI's documented rules (`simulators/openai_tokens.py`, written from
  the documentation, not from the integration: tiles for gpt-4o-class models,
  patches x multiplier for gpt-4.1-mini/nano); `completion_tokens` from
  the answer's length. A `max_completion_tokens` too small for the answer cuts it
  and sets `finish_reason: "length"`.

Switches (`set_mode()` or `POST /_sim/mode`, optionally for the next `count`
requests only): `rate_limit` (429 + `retry-after`), `quota` (429
`insufficient_quota`), `forbidden` (403), `server_error` (500), `unavailable`
(503), `hang` (never answers until stopped), `malformed` (non-JSON message
content), `off_schema` (`{"answer": "YES"}`), `refusal`, `empty_choices`,
`garbage_body` (a 200 whose body is not JSON); the hostile answers `deep_json`
(a 200 nested 200,000 deep), `list_body` (a JSON list), `huge_body` (a good answer
after 3 MiB of whitespace), `usage_null`, `usage_huge` (10**30 tokens),
`message_null`, `choices_strings` (`choices: ["x"]`), `nan_score` (`failure_score`
NaN in the content), `deep_content` (the content nested 200,000 deep) and
`redirect` (a 307 to `redirect_to`); plus `delay` (seconds before every answer)
and `models_body` (a raw body answered with 200 to `GET /v1/models`). Every request is logged (`requests`, `GET /_sim/requests`).

Run alone: `python -m simulators.openai_compat --port 8089 --api-key sk-test`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum
import io
import itertools
import json
import math
import random
import re
import sys
import time
from typing import Any, Final

from aiohttp import web
from PIL import Image

from simulators.openai_tokens import (
    DETAILS,
    MESSAGE_TOKENS,
    MODELS,
    REPLY_TOKENS,
    image_tokens,
    text_tokens,
)
from simulators.scene import KINDS, read_scene

DEFAULT_API_KEY = "sk-sim-0123456789abcdef"
FAILING_TRUTH = 30
"""Encoded failure at or above which a frame shows a failure."""
_DATA_URL = re.compile(r"^data:image/(jpeg|jpg|png|webp|gif);base64,(.*)$", re.DOTALL)
_ONLY_DATA_URLS = "The simulator only accepts base64 data URLs for images."
_FALSE_POSITIVE_KINDS = ("stringing", "blob")


class SimMode(StrEnum):
    """How the simulator answers."""

    NORMAL = "normal"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"
    FORBIDDEN = "forbidden"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    HANG = "hang"
    MALFORMED = "malformed"
    OFF_SCHEMA = "off_schema"
    REFUSAL = "refusal"
    EMPTY_CHOICES = "empty_choices"
    GARBAGE_BODY = "garbage_body"
    DEEP_JSON = "deep_json"
    LIST_BODY = "list_body"
    HUGE_BODY = "huge_body"
    USAGE_NULL = "usage_null"
    USAGE_HUGE = "usage_huge"
    MESSAGE_NULL = "message_null"
    CHOICES_STRINGS = "choices_strings"
    NAN_SCORE = "nan_score"
    DEEP_CONTENT = "deep_content"
    REDIRECT = "redirect"


DEEP: Final = "[" * 200_000 + "]" * 200_000


@dataclass
class LoggedRequest:
    """One request as the simulator saw it."""

    method: str
    path: str
    status: int
    authorized: bool
    model: str | None = None
    mode: str = SimMode.NORMAL.value
    image_count: int = 0
    image_sizes: list[tuple[int, int]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    scenes: list[tuple[int, str]] = field(default_factory=list)
    """(failure, kind) read back from each image."""
    prompt_tokens: int = 0
    image_tokens: int = 0
    completion_tokens: int = 0
    response_format: dict[str, Any] | None = None
    max_completion_tokens: int | None = None
    texts: list[str] = field(default_factory=list)


class _RequestError(Exception):
    """An OpenAI-style error answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param


def _error_response(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Build OpenAI's error JSON."""
    body = {
        "error": {"message": message, "type": error_type, "param": param, "code": code}
    }
    return web.json_response(body, status=status, headers=headers)


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI's 401 message does."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


def _check_strict_schema(schema: object, where: str) -> None:
    """Apply OpenAI's strict Structured Outputs rules to an object schema."""
    if not isinstance(schema, dict):
        raise _RequestError(400, f"Invalid schema: {where} is not an object.")
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            raise _RequestError(
                400,
                "Invalid schema for response_format: In context="
                f"{where}, 'additionalProperties' is required to be supplied and "
                "to be false.",
                param="response_format",
            )
        required = schema.get("required", [])
        if not isinstance(properties, dict) or set(required) != set(properties):
            raise _RequestError(
                400,
                "Invalid schema for response_format: In context="
                f"{where}, 'required' is required to be supplied and to be an "
                "array including every key in properties.",
                param="response_format",
            )
        for name, sub in properties.items():
            _check_strict_schema(sub, f"{where}.{name}")


@dataclass
class _Judgement:
    score: float
    kind: str
    reason: str


class OpenAISimulator:
    """The simulated OpenAI-compatible service."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        models: tuple[str, ...] | None = None,
        seed: int = 0,
        false_positive_rate: float = 0.03,
        noise: float = 7.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure; nothing listens until `start()`."""
        self.api_key = api_key
        self.models = tuple(models) if models is not None else tuple(MODELS)
        self.false_positive_rate = false_positive_rate
        self.noise = noise
        self.host = host
        self.port = port
        self.delay = 0.0
        self.retry_after: float | None = 2.0
        self.models_body: str | None = None
        self.redirect_to: str | None = None
        self.requests: list[LoggedRequest] = []
        self._rng = random.Random(seed)
        self._mode = SimMode.NORMAL
        self._mode_count: int | None = None
        self._script: list[dict[str, Any] | str] = []
        self._ids = itertools.count(1)
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.app = self._build_app()

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        """The base URL clients use (`.../v1`)."""
        return f"{self.root_url}/v1"

    @property
    def root_url(self) -> str:
        """The server root (the `/_sim/...` control API lives here)."""
        return f"http://{self.host}:{self.port}"

    @property
    def mode(self) -> SimMode:
        """The current answer mode."""
        return self._mode

    def set_mode(
        self,
        mode: SimMode | str,
        *,
        count: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer in `mode` (for the next `count` requests, or until changed).

        Leaving `hang` releases the requests that hang (they get a 503, if their
        client still listens), as a real server's stuck requests end when it
        recovers.
        """
        if self._mode is SimMode.HANG and SimMode(mode) is not SimMode.HANG:
            self._released.set()
            self._released = asyncio.Event()
        self._mode = SimMode(mode)
        self._mode_count = count
        if retry_after is not None:
            self.retry_after = retry_after

    def script(self, verdicts: list[dict[str, Any] | str]) -> None:
        """Answer the next requests with these contents, in order (dicts as JSON)."""
        self._script.extend(verdicts)

    def script_left(self) -> int:
        """How many scripted answers are still to be given."""
        return len(self._script)

    def reset(self) -> None:
        """Back to normal answers, no delay, no script, an empty log."""
        self.set_mode(SimMode.NORMAL)
        self._script.clear()
        self.delay = 0.0
        self.retry_after = 2.0
        self.models_body = None
        self.redirect_to = None
        self.requests.clear()

    async def start(self) -> None:
        """Listen on `host:port` (port 0 picks a free one)."""
        self._released = asyncio.Event()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:
            if isinstance(address, tuple):
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        """Release hanging requests and stop listening."""
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpenAISimulator:
        """Start, for `async with`."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop, for `async with`."""
        await self.stop()

    # ------------------------------------------------------------------- server

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        app.router.add_post("/_sim/mode", self._sim_mode)
        app.router.add_post("/_sim/script", self._sim_script)
        app.router.add_post("/_sim/reset", self._sim_reset)
        app.router.add_get("/_sim/requests", self._sim_requests)
        return app

    def _take_mode(self) -> SimMode:
        """Return the mode for this request, counting down a limited mode."""
        mode = self._mode
        if self._mode_count is not None:
            self._mode_count -= 1
            if self._mode_count <= 0:
                self._mode = SimMode.NORMAL
                self._mode_count = None
        return mode

    def _check_auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return _error_response(
                401,
                "You didn't provide an API key. You need to provide your API key in "
                "an Authorization header using Bearer auth (i.e. Authorization: "
                "Bearer YOUR_KEY).",
            )
        given = header[7:].strip()
        if given != self.api_key:
            return _error_response(
                401,
                f"Incorrect API key provided: {mask_key(given)}. You can find your "
                "API key at https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def _model_entry(self, model: str) -> dict[str, Any]:
        return {
            "id": model,
            "object": "model",
            "created": 1_700_000_000,
            "owned_by": "system",
        }

    async def _list_models(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        self.requests.append(
            LoggedRequest(
                method="GET",
                path=request.path,
                status=401 if denied else 200,
                authorized=denied is None,
            )
        )
        if denied is not None:
            return denied
        if self.models_body is not None:
            return web.Response(text=self.models_body, content_type="application/json")
        data = [self._model_entry(model) for model in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _get_model(self, request: web.Request) -> web.Response:
        denied = self._check_auth(request)
        model = request.match_info["model"]
        found = model in self.models
        status = 401 if denied else (200 if found else 404)
        self.requests.append(
            LoggedRequest(
                method="GET",
                path=request.path,
                status=status,
                authorized=denied is None,
                model=model,
            )
        )
        if denied is not None:
            return denied
        if not found:
            return _model_not_found(model)
        return web.json_response(self._model_entry(model))

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        log = LoggedRequest(
            method="POST", path=request.path, status=0, authorized=False
        )
        self.requests.append(log)
        denied = self._check_auth(request)
        if denied is not None:
            log.status = denied.status
            return denied
        log.authorized = True
        try:
            body = await request.json()
        except ValueError:
            log.status = 400
            return _error_response(
                400,
                "We could not parse the JSON body of your request.",
            )
        try:
            images = self._validate(body, log)
        except _RequestError as err:
            log.status = err.status
            return _error_response(
                err.status,
                err.message,
                error_type=err.error_type,
                code=err.code,
                param=err.param,
            )
        mode = self._take_mode()
        log.mode = mode.value
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        response = await self._answer(mode, body, images, log)
        log.status = response.status
        return response

    def _validate(
        self, body: object, log: LoggedRequest
    ) -> list[tuple[Image.Image, bytes, str]]:
        """Check the request as OpenAI would; return each image and its detail."""
        if not isinstance(body, dict):
            raise _RequestError(400, "The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _RequestError(
                400, "you must provide a model parameter", param="model"
            )
        log.model = model
        if model not in self.models:
            raise _ModelNotFound(model)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is not None:
            if (
                not isinstance(max_tokens, int)
                or isinstance(max_tokens, bool)
                or max_tokens < 1
            ):
                raise _RequestError(
                    400,
                    "max_completion_tokens must be a positive integer.",
                    param="max_completion_tokens",
                )
            log.max_completion_tokens = max_tokens
        response_format = body.get("response_format")
        if (
            not isinstance(response_format, dict)
            or response_format.get("type") != "json_schema"
        ):
            raise _RequestError(
                400,
                "The simulator expects response_format of type 'json_schema'.",
                param="response_format",
            )
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _RequestError(
                400,
                "Missing required parameter: 'response_format.json_schema.name'.",
                param="response_format",
            )
        if spec.get("strict") is True:
            _check_strict_schema(spec.get("schema"), spec["name"])
        log.response_format = response_format
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _RequestError(
                400, "messages must be a non-empty array.", param="messages"
            )
        images: list[tuple[Image.Image, bytes, str]] = []
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in {
                "system",
                "developer",
                "user",
                "assistant",
            }:
                raise _RequestError(
                    400, f"Invalid message at messages[{index}].", param="messages"
                )
            content = message.get("content")
            if isinstance(content, str):
                log.texts.append(content)
                continue
            if not isinstance(content, list):
                raise _RequestError(
                    400, f"Invalid content at messages[{index}].", param="messages"
                )
            for part in content:
                images.extend(self._validate_part(part, index, log))
        return images

    def _validate_part(
        self, part: object, index: int, log: LoggedRequest
    ) -> list[tuple[Image.Image, bytes, str]]:
        if not isinstance(part, dict):
            raise _RequestError(400, f"Invalid content part in messages[{index}].")
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            log.texts.append(part["text"])
            return []
        if part.get("type") != "image_url" or not isinstance(
            part.get("image_url"), dict
        ):
            raise _RequestError(
                400,
                f"Invalid content part type in messages[{index}].",
                param="messages",
            )
        image_url = part["image_url"]
        detail = image_url.get("detail", "auto")
        if detail not in DETAILS:
            raise _RequestError(
                400,
                f"Invalid value: '{detail}'. Supported values are: 'low', 'high', and 'auto'.",
                param="messages",
            )
        url = image_url.get("url")
        match = _DATA_URL.match(url) if isinstance(url, str) else None
        if match is None:
            raise _RequestError(400, _ONLY_DATA_URLS, param="messages")
        try:
            raw = base64.b64decode(match.group(2), validate=True)
            img = Image.open(io.BytesIO(raw))
            img.load()
        except (binascii.Error, OSError, ValueError) as err:
            raise _RequestError(
                400,
                "You uploaded an unsupported image. Please make sure your image is valid.",
                code="invalid_image_format",
                param="messages",
            ) from err
        return [(img, raw, detail)]

    # ------------------------------------------------------------------ answers

    async def _answer(
        self,
        mode: SimMode,
        body: dict[str, Any],
        images: list[tuple[Image.Image, bytes, str]],
        log: LoggedRequest,
    ) -> web.StreamResponse:
        headers = {"x-request-id": f"req_sim{next(self._ids):06d}"}
        retry = (
            {"retry-after": f"{self.retry_after:g}"}
            if self.retry_after is not None
            else {}
        )
        if mode is SimMode.RATE_LIMIT:
            return _error_response(
                429,
                f"Rate limit reached for {body['model']} on requests per min (RPM): "
                "Limit 3, Used 3, Requested 1.",
                error_type="requests",
                code="rate_limit_exceeded",
                headers=headers | retry,
            )
        if mode is SimMode.QUOTA:
            return _error_response(
                429,
                "You exceeded your current quota, please check your plan and billing "
                "details.",
                error_type="insufficient_quota",
                code="insufficient_quota",
                headers=headers,
            )
        if mode is SimMode.FORBIDDEN:
            return _error_response(
                403,
                "Country, region, or territory not supported",
                error_type="request_forbidden",
                code="unsupported_country_region_territory",
                headers=headers,
            )
        if mode is SimMode.SERVER_ERROR:
            return _error_response(
                500,
                "The server had an error while processing your request. Sorry about that!",
                error_type="server_error",
                headers=headers,
            )
        if mode is SimMode.UNAVAILABLE:
            return _error_response(
                503,
                "The engine is currently overloaded, please try again later.",
                error_type="server_error",
                headers=headers | retry,
            )
        if mode is SimMode.HANG:
            await self._released.wait()
            return _error_response(503, "Simulator stopped.", error_type="server_error")
        if mode is SimMode.DEEP_JSON:
            return web.Response(text=DEEP, content_type="application/json")
        if mode is SimMode.LIST_BODY:
            return web.json_response([{"choices": []}])
        if mode is SimMode.REDIRECT:
            return web.Response(
                status=307, headers={"Location": self.redirect_to or "/"}
            )
        if mode is SimMode.GARBAGE_BODY:
            return web.Response(
                text="<html><body>502 Bad Gateway</body></html>",
                status=200,
                content_type="application/json",
                headers=headers,
            )

        for img, raw, detail in images:
            scene = read_scene(raw)
            log.scenes.append((scene.failure, scene.kind))
            log.image_sizes.append(img.size)
            log.details.append(detail)
        log.image_count = len(images)

        refusal: str | None = None
        content: str | None
        choices_empty = False
        if mode is SimMode.MALFORMED:
            content = "The print looks fine to me, no failure. YES it is printing."
        elif mode is SimMode.OFF_SCHEMA:
            content = json.dumps({"answer": "YES"})
        elif mode is SimMode.REFUSAL:
            content = None
            refusal = "I'm sorry, I can't help with that request."
        elif mode is SimMode.EMPTY_CHOICES:
            content = None
            choices_empty = True
        elif mode is SimMode.NAN_SCORE:
            content = (
                '{"failure_score": NaN, "print_quality": 9, "kind": "none", '
                '"reason": "fine"}'
            )
        elif mode is SimMode.DEEP_CONTENT:
            content = DEEP
        elif self._script:
            item = self._script.pop(0)
            content = item if isinstance(item, str) else json.dumps(item)
        else:
            content = json.dumps(self._verdict(self._judge(log.scenes)))

        model = str(body["model"])
        log.image_tokens = sum(
            image_tokens(model, detail, img.width, img.height)
            for img, _, detail in images
        )
        log.prompt_tokens = self._prompt_tokens(body, log)
        answer_text = content if content is not None else (refusal or "")
        log.completion_tokens = text_tokens(answer_text)
        finish_reason = "stop"
        if (
            log.max_completion_tokens is not None
            and log.completion_tokens > log.max_completion_tokens
            and content is not None
        ):
            content = content[: log.max_completion_tokens * 4]
            log.completion_tokens = log.max_completion_tokens
            finish_reason = "length"
        choices = (
            []
            if choices_empty
            else [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ]
        )
        completion = {
            "id": f"chatcmpl-sim{next(self._ids):08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
            "usage": {
                "prompt_tokens": log.prompt_tokens,
                "completion_tokens": log.completion_tokens,
                "total_tokens": log.prompt_tokens + log.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_simulator",
        }
        if mode is SimMode.USAGE_NULL:
            completion["usage"] = None
        elif mode is SimMode.USAGE_HUGE:
            completion["usage"] = {
                "prompt_tokens": 10**30,
                "completion_tokens": 10**30,
                "total_tokens": 2 * 10**30,
            }
        elif mode is SimMode.MESSAGE_NULL:
            choices[0]["message"] = None
        elif mode is SimMode.CHOICES_STRINGS:
            completion["choices"] = ["x"]
        elif mode is SimMode.HUGE_BODY:
            return web.Response(
                text=" " * (3 * 1024 * 1024) + json.dumps(completion),
                content_type="application/json",
                headers=headers,
            )
        return web.json_response(completion, headers=headers)

    def _prompt_tokens(self, body: dict[str, Any], log: LoggedRequest) -> int:
        """Count prompt tokens as OpenAI reports them (text estimated)."""
        messages: list[Any] = body["messages"]
        tokens = REPLY_TOKENS + MESSAGE_TOKENS * len(messages)
        tokens += sum(text_tokens(text) for text in log.texts)
        schema = body["response_format"]["json_schema"].get("schema", {})
        tokens += text_tokens(json.dumps(schema, separators=(",", ":")))
        return tokens + log.image_tokens

    def _judge(self, scenes: list[tuple[int, str]]) -> _Judgement:
        """Turn the frames' ground truth into a noisy verdict."""
        if not scenes:
            return _Judgement(score=0.0, kind="none", reason="No image to judge.")
        weights = range(1, len(scenes) + 1)
        truth = sum(w * f for w, (f, _) in zip(weights, scenes, strict=True)) / sum(
            weights
        )
        failing = [(f, k) for f, k in scenes if f >= FAILING_TRUTH and k != "none"]
        rng = self._rng
        if truth < FAILING_TRUTH:
            if rng.random() < self.false_positive_rate:
                kind = rng.choice(_FALSE_POSITIVE_KINDS)
                return _Judgement(
                    score=rng.uniform(40, 75),
                    kind=kind,
                    reason=f"Possible {kind} near the part.",
                )
            return _Judgement(
                score=truth / 2 + rng.uniform(0, 12),
                kind="none",
                reason="Part looks clean and attached to the bed.",
            )
        kind = max(failing)[1] if failing else "other"
        score = min(100.0, max(0.0, rng.gauss(truth, self.noise)))
        return _Judgement(
            score=score,
            kind=kind,
            reason=f"Signs of {kind.replace('_', ' ')} in the newest frame.",
        )

    @staticmethod
    def _verdict(judgement: _Judgement) -> dict[str, Any]:
        score = round(judgement.score)
        quality = min(10, max(1, round(10 - score / 11)))
        return {
            "failure_score": score,
            "print_quality": quality,
            "kind": judgement.kind,
            "reason": judgement.reason,
        }

    # ------------------------------------------------------------- control API

    async def _sim_mode(self, request: web.Request) -> web.Response:
        data = await _control_body(request)
        if data is None:
            return web.json_response(
                {"error": "body must be a JSON object"}, status=400
            )
        try:
            self.set_mode(
                data.get("mode", SimMode.NORMAL),
                count=data.get("count"),
                retry_after=data.get("retry_after"),
            )
        except ValueError:
            return web.json_response(
                {"error": f"unknown mode {data.get('mode')!r}"}, status=400
            )
        if "delay" in data:
            self.delay = float(data["delay"])
        for name in ("models_body", "redirect_to"):
            if name in data:
                value = data[name]
                setattr(self, name, None if value is None else str(value))
        return web.json_response({"mode": self._mode.value, "delay": self.delay})

    async def _sim_script(self, request: web.Request) -> web.Response:
        data = await _control_body(request)
        if data is None:
            return web.json_response(
                {"error": "body must be a JSON object"}, status=400
            )
        verdicts = data.get("verdicts")
        if not isinstance(verdicts, list):
            return web.json_response({"error": "verdicts must be a list"}, status=400)
        self.script(verdicts)
        return web.json_response({"queued": len(self._script)})

    async def _sim_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"mode": self._mode.value})

    async def _sim_requests(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(entry) for entry in self.requests])


async def _control_body(request: web.Request) -> dict[str, Any] | None:
    """Return a control request's JSON object, or None if it is not one."""
    try:
        data = await request.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class _ModelNotFound(_RequestError):
    def __init__(self, model: str) -> None:
        super().__init__(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )


def _model_not_found(model: str) -> web.Response:
    err = _ModelNotFound(model)
    return _error_response(
        err.status, err.message, error_type=err.error_type, code=err.code
    )


def _positive(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError("must be a non-negative number")
    return number


async def _serve(args: argparse.Namespace) -> None:
    sim = OpenAISimulator(
        args.api_key,
        seed=args.seed,
        false_positive_rate=args.false_positive_rate,
        host=args.host,
        port=args.port,
    )
    sim.delay = args.delay
    await sim.start()
    sys.stdout.write(
        f"OpenAI-compatible simulator on {sim.url} (kinds: {', '.join(KINDS)})\n"
    )
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main() -> None:
    """Run the simulator until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--false-positive-rate", type=_positive, default=0.03)
    parser.add_argument("--delay", type=_positive, default=0.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
