"""OctoEverywhere's Gadget AI failure detection API, simulated.

Speaks the two calls of the real service, as strictly:

- `POST /api/gadget/v1/createcontext` with header `X-API-Key` and a JSON object with
  the optional `WarningConfidenceLevel` / `PauseConfidenceLevel` (1-5, default 3)
  answers `ContextId`, `ProcessRequestUrl` and `FallbackProcessRequestUrl`. The
  primary URL points at a second listener (the "regional" host, `primary_url`), the
  fallback at the main one, so a test can fail the primary alone.
- `POST /api/gadget/v1/process/{id}` with `X-API-Key` and a multipart body holding
  exactly one JPEG file (at most 6 MiB) answers `NextProcessIntervalSec`,
  `PrintQuality`, `WarningSuggested`, `PauseSuggested` and `Score`.

Frames are judged with `simulators.scene.read_scene` plus seeded Gaussian noise; a
simple temporal model per context averages the last three raw scores into `Score`
and suggests a warning after `WarningConfidenceLevel` consecutive frames scoring 50+
and a pause after `PauseConfidenceLevel + 2` consecutive frames scoring 70+. A call
sooner than the context's last `NextProcessIntervalSec` gets 429
`OE_CONTEXT_RATE_LIMITED` (`enforce_interval`, judged with `clock`).

Errors are non-200 with `{"ErrorType", "ErrorDetails"}`; the HTTP statuses are the
documented ones where documented (401, 403, 429) and assumed otherwise (400 for bad
arguments and undecodable images, 402 for failed payment, 500 for internal errors,
503 for throttling). An unknown or expired context answers 500 `OE_INTERNAL_ERROR`
"Context not found or expired".

Test switches (attributes, or `POST /_sim/switches` with a JSON object):
`next_interval`, `enforce_interval`, `delay` (seconds before answering a process
call), `hang` (hold process calls until cleared or stopped, then answer 504),
`retry_after` (a Retry-After header, in seconds, on 429 answers), `malformed` (a raw body
answered with 200 to process calls), `create_malformed` (the same for create context:
deep JSON, HTML, a list), `process_url_base` / `fallback_url_base` (the scheme and host
the new context's process URLs name instead of the simulator's own, e.g. another host
over plain http), `primary` ("up", "refused", "error" for a 502, "hang"). Hostile
intervals (1e9, Infinity) are scripted answers (`{"NextProcessIntervalSec": 1e9}`). `POST /_sim/fail` with `{"error_type", "details"?, "count"?, "endpoint"?}`
queues well-known errors ("process", "createcontext" or "any"), `POST /_sim/script`
with a JSON list of partial answers (`{"Score": 90, "PauseSuggested": true}`, ...)
answers the next process calls with them instead of judging, `POST /_sim/expire`
forgets every context, `POST /_sim/reset` forgets everything, `GET /_sim/requests`
lists the requests and `GET /_sim/state` the switches and contexts.

Run alone: `python -m simulators.gadget --port 8091 --api-key K`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import json
import random
import secrets
import time
from typing import Any, Final, Literal

from aiohttp import BodyPartReader, web

from simulators.scene import read_scene

CREATE_PATH: Final = "/api/gadget/v1/createcontext"
PROCESS_PATH: Final = "/api/gadget/v1/process/{context_id}"
MAX_IMAGE_BYTES: Final = 6 * 1024 * 1024
DEFAULT_API_KEY: Final = "prod_gadget_sim_key"
ERROR_STATUS: Final = {
    "OE_BAD_ARGS": 400,
    "OE_ARGS_PARSE_FAILED": 400,
    "OE_IMAGE_DECODE_FAILED": 400,
    "OE_INVALID_API_KEY": 401,
    "OE_API_KEY_BLOCKED_PAYMENT_FAILED": 402,
    "OE_API_KEY_DISABLED": 403,
    "OE_API_KEY_IP_RESTRICTED": 403,
    "OE_CONTEXT_RATE_LIMITED": 429,
    "OE_FREE_USAGE_LIMIT_REACHED": 429,
    "OE_INTERNAL_ERROR": 500,
    "OE_BACKEND_THROTTLED": 503,
}
CONTEXT_GONE: Final = "Context not found or expired."
WARNING_SCORE: Final = 50
PAUSE_SCORE: Final = 70
SMOOTHING: Final = 3
PRIMARY_MODES: Final = ("up", "refused", "error", "hang")

type Endpoint = Literal["createcontext", "process", "any"]


@dataclass(slots=True)
class SimContext:
    """What the simulator keeps for one context."""

    context_id: str
    warning_level: int
    pause_level: int
    raw_scores: list[int] = field(default_factory=list)
    last_call_at: float | None = None
    last_interval: float = 0.0


@dataclass(slots=True)
class GadgetRequest:
    """One API request the simulator received (control requests excluded)."""

    endpoint: str
    """"createcontext" or "process"."""
    via: str
    """"main" for create context, "primary" or "fallback" for process calls."""
    method: str
    path: str
    key_ok: bool
    context_id: str | None = None
    body: Any = None
    """Create context: the JSON body received."""
    image: bytes | None = None
    """Process: the image received."""
    status: int = 0
    answer: Any = None
    """The JSON answered (None for raw bodies)."""
    error_type: str | None = None


@dataclass(slots=True)
class _QueuedError:
    error_type: str
    details: str
    endpoint: Endpoint


class GadgetSimulator:
    """A loopback Gadget API: a main host and a "regional" primary process host."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        primary_port: int = 0,
        next_interval: float = 40,
        seed: int = 0,
        noise: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Accept `api_key`; nothing listens before `start`."""
        self.api_key = api_key
        self.host = host
        self.port = port
        self.primary_port = primary_port
        self.next_interval = next_interval
        self.enforce_interval = True
        self.delay = 0.0
        self.hang = False
        self.malformed: str | None = None
        self.create_malformed: str | None = None
        self.process_url_base: str | None = None
        self.fallback_url_base: str | None = None
        self.retry_after: float | None = None
        self.primary: str = "up"
        self.noise = noise
        self.seed = seed
        self.clock = clock
        self.contexts: dict[str, SimContext] = {}
        self.requests: list[GadgetRequest] = []
        self._errors: list[_QueuedError] = []
        self._script: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._primary_runner: web.AppRunner | None = None

        self.app = web.Application(client_max_size=4 * MAX_IMAGE_BYTES)
        self.app.router.add_post(CREATE_PATH, self._create)
        self.app.router.add_post(PROCESS_PATH, self._process_fallback)
        self.app.router.add_get("/_sim/state", self._sim_state)
        self.app.router.add_get("/_sim/requests", self._sim_requests)
        self.app.router.add_post("/_sim/switches", self._sim_switches)
        self.app.router.add_post("/_sim/fail", self._sim_fail)
        self.app.router.add_post("/_sim/expire", self._sim_expire)
        self.app.router.add_post("/_sim/reset", self._sim_reset)
        self.app.router.add_post("/_sim/script", self._sim_script)
        self.primary_app = web.Application(client_max_size=4 * MAX_IMAGE_BYTES)
        self.primary_app.router.add_post(PROCESS_PATH, self._process_primary)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen on `host:port` and `host:primary_port` (0 picks free ports)."""
        self._release.clear()
        self._runner = web.AppRunner(
            self.app, shutdown_timeout=1.0, access_log=None, handle_signals=False
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        await self._start_primary()

    async def stop(self) -> None:
        """Release held requests and stop listening."""
        self._release.set()
        await self._stop_primary()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _start_primary(self) -> None:
        if self._primary_runner is not None:
            return
        runner = web.AppRunner(
            self.primary_app,
            shutdown_timeout=1.0,
            access_log=None,
            handle_signals=False,
        )
        await runner.setup()
        await web.TCPSite(
            runner, self.host, self.primary_port, reuse_address=True
        ).start()
        self.primary_port = runner.addresses[0][1]
        self._primary_runner = runner

    async def _stop_primary(self) -> None:
        if self._primary_runner is not None:
            await self._primary_runner.cleanup()
            self._primary_runner = None

    @property
    def url(self) -> str:
        """The base URL, as the detector's `base_url`."""
        return f"http://{self.host}:{self.port}"

    @property
    def primary_url(self) -> str:
        """The base URL of the primary ("regional") process host."""
        return f"http://{self.host}:{self.primary_port}"

    # -- test helpers ------------------------------------------------------------

    def fail_next(
        self,
        error_type: str,
        *,
        details: str | None = None,
        count: int = 1,
        endpoint: Endpoint = "process",
    ) -> None:
        """Answer the next `count` calls to `endpoint` with a well-known error."""
        if error_type not in ERROR_STATUS:
            raise ValueError(f"unknown ErrorType {error_type!r}")
        if endpoint not in ("createcontext", "process", "any"):
            raise ValueError(f"unknown endpoint {endpoint!r}")
        text = details or f"Simulated {error_type}."
        self._errors.extend(
            _QueuedError(error_type, text, endpoint) for _ in range(count)
        )

    async def set_primary(self, mode: str) -> None:
        """Make the primary process host "up", "refused", "error" (502) or "hang"."""
        if mode not in PRIMARY_MODES:
            raise ValueError(f"primary mode is one of {PRIMARY_MODES}")
        self.primary = mode
        if mode != "hang":
            self._release_held()
        if mode == "refused":
            await self._stop_primary()
        elif self._runner is not None:
            await self._start_primary()

    def expire_contexts(self) -> None:
        """Forget every context, as if they had expired."""
        self.contexts.clear()

    def script(self, answers: list[dict[str, Any]]) -> None:
        """Answer the next process calls with these, in order, instead of judging.

        Each is a partial answer (`Score`, `PrintQuality`, `WarningSuggested`,
        `PauseSuggested`); what it leaves out comes from a clean frame, and
        `NextProcessIntervalSec` from `next_interval`.
        """
        self._script.extend(answers)

    def script_left(self) -> int:
        """How many scripted answers are still to be given."""
        return len(self._script)

    def _scripted(self, partial: dict[str, Any]) -> dict[str, Any]:
        interval = self.next_interval
        return {
            "NextProcessIntervalSec": int(interval)
            if float(interval).is_integer()
            else interval,
            "PrintQuality": 10,
            "WarningSuggested": False,
            "PauseSuggested": False,
            "Score": 0,
            **partial,
        }

    def reset(self) -> None:
        """Forget contexts, requests, queued errors and the script; restore the
        switches."""
        self.contexts.clear()
        self.requests.clear()
        self._errors.clear()
        self._script.clear()
        self._rng = random.Random(self.seed)
        self.enforce_interval = True
        self.delay = 0.0
        self.set_hang(False)
        self.malformed = None
        self.create_malformed = None
        self.process_url_base = None
        self.fallback_url_base = None
        self.retry_after = None

    def set_hang(self, hang: bool) -> None:
        """Hold process calls (True) or let them through (False)."""
        self.hang = hang
        if not hang:
            self._release_held()

    def _release_held(self) -> None:
        """Let every held request go on."""
        self._release.set()
        self._release = asyncio.Event()

    def process_requests(self, via: str | None = None) -> list[GadgetRequest]:
        """The process calls received, optionally only those on one host."""
        return [
            req
            for req in self.requests
            if req.endpoint == "process" and (via is None or req.via == via)
        ]

    def create_requests(self) -> list[GadgetRequest]:
        """The create context calls received."""
        return [req for req in self.requests if req.endpoint == "createcontext"]

    # -- API ---------------------------------------------------------------------

    def _error(
        self, record: GadgetRequest, error_type: str, details: str
    ) -> web.Response:
        answer = {"ErrorType": error_type, "ErrorDetails": details}
        record.status = ERROR_STATUS[error_type]
        record.answer = answer
        record.error_type = error_type
        headers = {}
        if record.status == 429 and self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return web.json_response(answer, status=record.status, headers=headers)

    def _queued(self, endpoint: str) -> _QueuedError | None:
        for index, queued in enumerate(self._errors):
            if queued.endpoint in (endpoint, "any"):
                return self._errors.pop(index)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        """Create a context."""
        record = GadgetRequest(
            endpoint="createcontext",
            via="main",
            method=request.method,
            path=request.path,
            key_ok=request.headers.get("X-API-Key") == self.api_key,
        )
        self.requests.append(record)
        if not record.key_ok:
            return self._error(
                record, "OE_INVALID_API_KEY", "The API key is missing or incorrect."
            )
        if queued := self._queued("createcontext"):
            return self._error(record, queued.error_type, queued.details)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._error(
                record, "OE_ARGS_PARSE_FAILED", "The request body could not be parsed."
            )
        record.body = body
        if not isinstance(body, dict):
            return self._error(
                record, "OE_ARGS_PARSE_FAILED", "The request body is not an object."
            )
        allowed = {"WarningConfidenceLevel", "PauseConfidenceLevel"}
        if unknown := set(body) - allowed:
            return self._error(
                record, "OE_BAD_ARGS", f"Unknown arguments: {sorted(unknown)}."
            )
        levels: dict[str, int] = {}
        for key in sorted(allowed):
            value = body.get(key)
            if value is None:
                levels[key] = 3
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 1 <= value <= 5
            ):
                levels[key] = value
            else:
                return self._error(record, "OE_BAD_ARGS", f"{key} must be 1-5.")
        context_id = secrets.token_urlsafe(36)
        self.contexts[context_id] = SimContext(
            context_id=context_id,
            warning_level=levels["WarningConfidenceLevel"],
            pause_level=levels["PauseConfidenceLevel"],
        )
        path = PROCESS_PATH.format(context_id=context_id)
        answer = {
            "ContextId": context_id,
            "ProcessRequestUrl": f"{self.process_url_base or self.primary_url}{path}",
            "FallbackProcessRequestUrl": f"{self.fallback_url_base or self.url}{path}",
        }
        record.context_id = context_id
        record.status = 200
        if self.create_malformed is not None:
            return web.Response(
                text=self.create_malformed, content_type="application/json"
            )
        record.answer = answer
        return web.json_response(answer)

    async def _process_primary(self, request: web.Request) -> web.StreamResponse:
        return await self._process(request, "primary")

    async def _process_fallback(self, request: web.Request) -> web.StreamResponse:
        return await self._process(request, "fallback")

    async def _hold(self) -> None:
        """Wait until released (switch cleared or simulator stopped)."""
        await self._release.wait()

    async def _process(self, request: web.Request, via: str) -> web.StreamResponse:
        """Judge one image."""
        context_id = request.match_info["context_id"]
        record = GadgetRequest(
            endpoint="process",
            via=via,
            method=request.method,
            path=request.path,
            key_ok=request.headers.get("X-API-Key") == self.api_key,
            context_id=context_id,
        )
        self.requests.append(record)
        if (via == "primary" and self.primary == "hang") or self.hang:
            # a held request never succeeds: once released, the gateway gives up
            await self._hold()
            record.status = 504
            return web.Response(status=504, text="504 Gateway Timeout")
        if via == "primary" and self.primary == "error":
            record.status = 502
            return web.Response(
                status=502, text="<html><body>502 Bad Gateway</body></html>"
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        if not record.key_ok:
            return self._error(
                record, "OE_INVALID_API_KEY", "The API key is missing or incorrect."
            )
        if queued := self._queued("process"):
            return self._error(record, queued.error_type, queued.details)
        context = self.contexts.get(context_id)
        if context is None:
            return self._error(record, "OE_INTERNAL_ERROR", CONTEXT_GONE)
        now = self.clock()
        if (
            self.enforce_interval
            and context.last_call_at is not None
            and now - context.last_call_at < context.last_interval
        ):
            return self._error(
                record,
                "OE_CONTEXT_RATE_LIMITED",
                "This context called sooner than NextProcessIntervalSec.",
            )
        image, problem = await _read_one_file(request)
        record.image = image
        if problem is not None or image is None:
            return self._error(record, "OE_BAD_ARGS", problem or "No image.")
        if len(image) > MAX_IMAGE_BYTES:
            return self._error(record, "OE_BAD_ARGS", "The image exceeds 6 MiB.")
        if not image.startswith(b"\xff\xd8"):
            return self._error(
                record, "OE_IMAGE_DECODE_FAILED", "The image could not be decoded."
            )
        try:
            scene = read_scene(image)
        except ValueError:
            return self._error(
                record, "OE_IMAGE_DECODE_FAILED", "The image could not be decoded."
            )
        context.last_call_at = now
        context.last_interval = self.next_interval
        if self.malformed is not None:
            record.status = 200
            return web.Response(text=self.malformed, content_type="application/json")
        answer = (
            self._scripted(self._script.pop(0))
            if self._script
            else self._judge(context, scene.failure)
        )
        record.status = 200
        record.answer = answer
        return web.json_response(answer)

    def _judge(self, context: SimContext, failure: int) -> dict[str, Any]:
        """The temporal model: smooth the raw scores, suggest after streaks."""
        noisy = failure + (self._rng.gauss(0, self.noise) if self.noise else 0.0)
        context.raw_scores.append(max(0, min(100, round(noisy))))
        recent = context.raw_scores[-SMOOTHING:]
        score = round(sum(recent) / len(recent))
        warn_streak = context.warning_level
        pause_streak = context.pause_level + 2
        tail = context.raw_scores
        warning = len(tail) >= warn_streak and all(
            s >= WARNING_SCORE for s in tail[-warn_streak:]
        )
        pause = len(tail) >= pause_streak and all(
            s >= PAUSE_SCORE for s in tail[-pause_streak:]
        )
        quality = max(1, min(10, 10 - round(score / 11)))
        interval = self.next_interval
        return {
            "NextProcessIntervalSec": int(interval)
            if float(interval).is_integer()
            else interval,
            "PrintQuality": quality,
            "WarningSuggested": warning,
            "PauseSuggested": pause,
            "Score": score,
        }

    # -- control -----------------------------------------------------------------

    def _switches(self) -> dict[str, Any]:
        return {
            "next_interval": self.next_interval,
            "enforce_interval": self.enforce_interval,
            "delay": self.delay,
            "hang": self.hang,
            "malformed": self.malformed,
            "create_malformed": self.create_malformed,
            "process_url_base": self.process_url_base,
            "fallback_url_base": self.fallback_url_base,
            "retry_after": self.retry_after,
            "primary": self.primary,
        }

    async def _sim_state(self, _request: web.Request) -> web.Response:
        """Describe switches, contexts and queued errors."""
        return web.json_response(
            {
                "switches": self._switches(),
                "primary_url": self.primary_url,
                "queued_errors": [
                    {"error_type": q.error_type, "endpoint": q.endpoint}
                    for q in self._errors
                ],
                "contexts": [
                    {
                        "context_id": c.context_id,
                        "warning_level": c.warning_level,
                        "pause_level": c.pause_level,
                        "calls": len(c.raw_scores),
                    }
                    for c in self.contexts.values()
                ],
            }
        )

    async def _sim_requests(self, _request: web.Request) -> web.Response:
        """List the requests received (images as their size)."""
        return web.json_response(
            [
                {
                    "endpoint": r.endpoint,
                    "via": r.via,
                    "path": r.path,
                    "key_ok": r.key_ok,
                    "context_id": r.context_id,
                    "image_size": None if r.image is None else len(r.image),
                    "status": r.status,
                    "error_type": r.error_type,
                }
                for r in self.requests
            ]
        )

    async def _sim_switches(self, request: web.Request) -> web.Response:
        """Set any of the switches from a JSON object."""
        body = await _json_object(request)
        if body is None or not set(body) <= set(self._switches()):
            return web.json_response(
                {"error": f"switches are {sorted(self._switches())}"}, status=400
            )
        try:
            if "next_interval" in body:
                self.next_interval = float(body["next_interval"])
            if "enforce_interval" in body:
                self.enforce_interval = bool(body["enforce_interval"])
            if "delay" in body:
                self.delay = float(body["delay"])
            if "hang" in body:
                self.set_hang(bool(body["hang"]))
            for name in (
                "malformed",
                "create_malformed",
                "process_url_base",
                "fallback_url_base",
            ):
                if name in body:
                    value = body[name]
                    setattr(self, name, None if value is None else str(value))
            if "retry_after" in body:
                value = body["retry_after"]
                self.retry_after = None if value is None else float(value)
            if "primary" in body:
                await self.set_primary(str(body["primary"]))
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(self._switches())

    async def _sim_fail(self, request: web.Request) -> web.Response:
        """Queue well-known errors."""
        body = await _json_object(request)
        if body is None or not isinstance(body.get("error_type"), str):
            return web.json_response({"error": "error_type is required"}, status=400)
        try:
            self.fail_next(
                body["error_type"],
                details=body.get("details"),
                count=int(body.get("count", 1)),
                endpoint=body.get("endpoint", "process"),
            )
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"queued": len(self._errors)})

    async def _sim_expire(self, _request: web.Request) -> web.Response:
        """Forget every context."""
        count = len(self.contexts)
        self.expire_contexts()
        return web.json_response({"expired": count})

    async def _sim_script(self, request: web.Request) -> web.Response:
        """Queue scripted answers: a JSON list of partial answers."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(a, dict) for a in body):
            return web.json_response(
                {"error": "body must be a JSON list of objects"}, status=400
            )
        self.script(body)
        return web.json_response({"queued": len(self._script)})

    async def _sim_reset(self, _request: web.Request) -> web.Response:
        """Forget everything."""
        self.reset()
        return web.json_response({"reset": True})


async def _read_one_file(request: web.Request) -> tuple[bytes | None, str | None]:
    """Read a multipart body that must hold exactly one file: (bytes, problem)."""
    if not request.content_type.startswith("multipart/form-data"):
        return None, "The body must be multipart/form-data."
    try:
        reader = await request.multipart()
        files: list[bytes] = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.filename is None:
                return None, "Only one image file is accepted."
            files.append(bytes(await part.read(decode=False)))
    except (ValueError, AssertionError) as err:
        return None, f"The multipart body could not be read: {err}"
    if len(files) != 1:
        return None, f"Expected exactly one image file, got {len(files)}."
    return files[0], None


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _serve(args: argparse.Namespace) -> None:
    """Run until interrupted."""
    sim = GadgetSimulator(
        args.api_key,
        host=args.host,
        port=args.port,
        primary_port=args.primary_port,
        next_interval=args.next_interval,
        seed=args.seed,
    )
    await sim.start()
    print(  # noqa: T201
        f"Gadget simulator on {sim.url} (primary process host {sim.primary_url})",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="OctoEverywhere Gadget simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument(
        "--primary-port", type=int, default=0, help="primary process host port"
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--next-interval", type=float, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
