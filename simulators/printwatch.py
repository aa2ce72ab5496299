"""PrintWatch's inference API (printpal.io), simulated.

Speaks `POST /api/v2/infer` as PrintWatch's clients use it: a JSON object with
`api_key`, `printer_id`, `ticket_id`, `state`, a base64 JPEG in `image_array`, the
detection settings `conf` (0-1), `buffer_length`, `buffer_percent` (0-100),
`thresholds` ([notify, action], 0-1) and the print's trailing `scores`. Other keys the
plugin sends (`version`, `force`, `sma_spaghetti`...) are accepted; the job's
`printTime`, `printTimeLeft` (seconds), `progress` (percent, 0-100) and `job_name` are
optional but must be numbers (a string for `job_name`) when sent. Missing or mistyped
keys answer 422 `{"detail": [...]}` like the FastAPI service.

The answer: `{"statusCode": 200, "defect_detected": "True"|"False", "score": 0-1,
"smas": [[sma]], "levels": [notify, action], "boxes": [[cx, cy, w, h], ...]}` (boxes
in 640-pixel units, as the plugin draws them), plus `interval` when set. The score is
`read_scene`'s failure / 100 plus seeded Gaussian noise; a defect is detected when the
score reaches `conf`. `levels` come from the scores sent back plus this one: notify
when their mean over the last `buffer_length` reaches the notify threshold, action
when it reaches the action threshold and at least `buffer_percent` % of those frames
were defective; both stay false until `buffer_length` scores exist.

With `legacy_shape` the answer is the one PrintWatch's API guide shows:
`{"statusCode": 200, "defect_detected": true|false, "boxes": "[[x1, y1, x2, y2], ...]"}`
(a real boolean, the boxes a STRING holding a JSON list of corners in 0-1 units, and
no `score`, `smas` or `levels`), plus `interval` when set.

A wrong key answers `reject_key_with` (401) and `{"statusCode": 401, "detail":
"Invalid API key"}`; with `reject_key_with = 200` the error is in the body only
(`{"detail": "Invalid API key"}`, what PrintWatch's client raises on).

Test switches (attributes, or `POST /_sim/switches` with a JSON object): `delay`,
`hang`, `malformed` (a raw body answered with 200), `interval`, `reject_key_with`,
`legacy_shape`.
`POST /_sim/backoff` `{"count"}` answers the next calls with 213 (HTTP and
`statusCode`), `POST /_sim/fail` `{"status", "count"}` with a server error,
`POST /_sim/script` `{"results": [{...}, ...]}` overrides the next answers' fields,
`POST /_sim/reset` forgets everything, `GET /_sim/requests` lists the requests.

Run alone: `python -m simulators.printwatch --port 8092 --api-key K`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
from dataclasses import dataclass
import json
import random
from typing import Any, Final

from aiohttp import web

from simulators.scene import read_scene

INFER_PATH: Final = "/api/v2/infer"
DEFAULT_API_KEY: Final = "sub_printwatch_sim_key"
BACKOFF_STATUS: Final = 213
_NUMBER: Final = (int, float)
_REQUIRED: Final[dict[str, tuple[type, ...]]] = {
    "api_key": (str,),
    "printer_id": (str,),
    "ticket_id": (str,),
    "state": (int,),
    "image_array": (str,),
    "conf": _NUMBER,
    "buffer_length": (int,),
    "buffer_percent": _NUMBER,
    "thresholds": (list,),
    "scores": (list,),
}
_OPTIONAL: Final[dict[str, tuple[type, ...]]] = {
    "printTime": _NUMBER,
    "printTimeLeft": _NUMBER,
    "progress": _NUMBER,
    "job_name": (str,),
}
BOX_UNITS: Final = 640.0
"""The full answer's boxes are in 640-pixel units ([cx, cy, w, h])."""


@dataclass(slots=True)
class PrintWatchRequest:
    """One infer request the simulator received (control requests excluded)."""

    key_ok: bool
    payload: dict[str, Any] | None
    """The JSON received, without `api_key` and `image_array`."""
    image: bytes | None
    status: int = 0
    answer: Any = None


class PrintWatchSimulator:
    """A loopback PrintWatch inference API."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        noise: float = 0.02,
        legacy_shape: bool = False,
    ) -> None:
        """Accept `api_key`; nothing listens before `start`.

        `legacy_shape` answers as PrintWatch's API guide shows (no score, boxes as a
        JSON string).
        """
        self.api_key = api_key
        self.host = host
        self.port = port
        self.seed = seed
        self.noise = noise
        self.delay = 0.0
        self.hang = False
        self.malformed: str | None = None
        self.interval: float | None = None
        self.reject_key_with = 401
        self.legacy_shape = legacy_shape
        self.requests: list[PrintWatchRequest] = []
        self._backoffs = 0
        self._failures: list[int] = []
        self._script: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_post(INFER_PATH, self._infer)
        self.app.router.add_get("/_sim/requests", self._sim_requests)
        self.app.router.add_post("/_sim/switches", self._sim_switches)
        self.app.router.add_post("/_sim/backoff", self._sim_backoff)
        self.app.router.add_post("/_sim/fail", self._sim_fail)
        self.app.router.add_post("/_sim/script", self._sim_script)
        self.app.router.add_post("/_sim/reset", self._sim_reset)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen on `host:port` (port 0 picks a free one)."""
        self._release.clear()
        self._runner = web.AppRunner(
            self.app, shutdown_timeout=1.0, access_log=None, handle_signals=False
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Release held requests and stop listening."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The base URL, as the detector's `base_url`."""
        return f"http://{self.host}:{self.port}"

    # -- test helpers ------------------------------------------------------------

    def back_off_next(self, count: int = 1) -> None:
        """Answer the next `count` infer calls with 213 (back off 300 s)."""
        self._backoffs += count

    def fail_next(self, status: int = 500, count: int = 1) -> None:
        """Answer the next `count` infer calls with a server error."""
        self._failures.extend([status] * count)

    def script(self, *results: dict[str, Any]) -> None:
        """Override fields of the next answers, one dict per call."""
        self._script.extend(results)

    def set_hang(self, hang: bool) -> None:
        """Hold infer calls (True) or let them through (False)."""
        self.hang = hang
        if not hang:
            self._release.set()
            self._release = asyncio.Event()

    def reset(self) -> None:
        """Forget requests and queued answers; restore the switches."""
        self.requests.clear()
        self._backoffs = 0
        self._failures.clear()
        self._script.clear()
        self._rng = random.Random(self.seed)
        self.delay = 0.0
        self.set_hang(False)
        self.malformed = None
        self.interval = None
        self.reject_key_with = 401
        self.legacy_shape = False

    # -- API ---------------------------------------------------------------------

    async def _infer(self, request: web.Request) -> web.Response:
        """Judge one image."""
        record = PrintWatchRequest(key_ok=False, payload=None, image=None)
        self.requests.append(record)
        if self.hang:
            await self._release.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.content_type != "application/json":
            return self._answer(record, 422, {"detail": "Expected a JSON body."})
        try:
            body = await request.json()
        except ValueError:
            return self._answer(record, 422, {"detail": "Body is not valid JSON."})
        if not isinstance(body, dict):
            return self._answer(record, 422, {"detail": "Body must be an object."})
        record.payload = {
            k: v for k, v in body.items() if k not in ("api_key", "image_array")
        }
        if problems := _validate(body):
            return self._answer(record, 422, {"detail": problems})
        record.key_ok = body["api_key"] == self.api_key
        if not record.key_ok:
            status = self.reject_key_with
            answer: dict[str, Any] = {"detail": "Invalid API key"}
            if status != 200:
                answer["statusCode"] = status
            return self._answer(record, status, answer)
        if self._backoffs:
            self._backoffs -= 1
            return self._answer(
                record,
                BACKOFF_STATUS,
                {"statusCode": BACKOFF_STATUS, "detail": "Too many requests"},
            )
        if self._failures:
            status = self._failures.pop(0)
            return self._answer(
                record, status, {"statusCode": status, "detail": "Server error"}
            )
        try:
            image = base64.b64decode(body["image_array"], validate=True)
            scene = read_scene(image)
        except binascii.Error, ValueError:
            return self._answer(
                record,
                400,
                {"statusCode": 400, "detail": "image_array is not an image"},
            )
        record.image = image
        if self.malformed is not None:
            record.status = 200
            return web.Response(text=self.malformed, content_type="application/json")
        answer = self._judge(body, scene.failure)
        if self._script:
            answer.update(self._script.pop(0))
        return self._answer(record, 200, answer)

    @staticmethod
    def _answer(record: PrintWatchRequest, status: int, answer: Any) -> web.Response:
        record.status = status
        record.answer = answer
        return web.json_response(answer, status=status)

    def _judge(self, body: dict[str, Any], failure: int) -> dict[str, Any]:
        """Score the frame and derive the levels from the print's scores."""
        noisy = failure / 100 + (self._rng.gauss(0, self.noise) if self.noise else 0)
        score = round(max(0.0, min(1.0, noisy)), 4)
        defect = score >= body["conf"]
        history = [float(s) for s in body["scores"]] + [score]
        buffer_length = body["buffer_length"]
        window = history[-buffer_length:]
        sma = sum(window) / len(window)
        notify_threshold, action_threshold = body["thresholds"]
        defective = sum(1 for s in window if s >= body["conf"]) / buffer_length
        full = len(history) >= buffer_length
        levels = [
            full and sma >= notify_threshold,
            full
            and sma >= action_threshold
            and defective * 100 >= body["buffer_percent"],
        ]
        boxes = (
            [[320.0, 300.0, round(60 + 200 * score, 1), round(40 + 120 * score, 1)]]
            if defect
            else []
        )
        if self.legacy_shape:
            legacy: dict[str, Any] = {
                "statusCode": 200,
                "defect_detected": defect,
                "boxes": json.dumps([_corners(box) for box in boxes]),
            }
            if self.interval is not None:
                legacy["interval"] = self.interval
            return legacy
        answer: dict[str, Any] = {
            "statusCode": 200,
            "defect_detected": str(defect),
            "score": score,
            "smas": [[round(sma, 4)]],
            "levels": levels,
            "boxes": boxes,
        }
        if self.interval is not None:
            answer["interval"] = self.interval
        return answer

    # -- control -----------------------------------------------------------------

    def _switches(self) -> dict[str, Any]:
        return {
            "delay": self.delay,
            "hang": self.hang,
            "malformed": self.malformed,
            "interval": self.interval,
            "reject_key_with": self.reject_key_with,
            "legacy_shape": self.legacy_shape,
        }

    async def _sim_requests(self, _request: web.Request) -> web.Response:
        """List the requests received (images as their size)."""
        return web.json_response(
            [
                {
                    "key_ok": r.key_ok,
                    "payload": r.payload,
                    "image_size": None if r.image is None else len(r.image),
                    "status": r.status,
                    "answer": r.answer,
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
            if "delay" in body:
                self.delay = float(body["delay"])
            if "hang" in body:
                self.set_hang(bool(body["hang"]))
            if "malformed" in body:
                value = body["malformed"]
                self.malformed = None if value is None else str(value)
            if "interval" in body:
                value = body["interval"]
                self.interval = None if value is None else float(value)
            if "reject_key_with" in body:
                self.reject_key_with = int(body["reject_key_with"])
            if "legacy_shape" in body:
                self.legacy_shape = bool(body["legacy_shape"])
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(self._switches())

    async def _sim_backoff(self, request: web.Request) -> web.Response:
        """Queue 213 answers."""
        body = await _json_object(request) or {}
        self.back_off_next(int(body.get("count", 1)))
        return web.json_response({"queued": self._backoffs})

    async def _sim_fail(self, request: web.Request) -> web.Response:
        """Queue server errors."""
        body = await _json_object(request) or {}
        self.fail_next(int(body.get("status", 500)), int(body.get("count", 1)))
        return web.json_response({"queued": len(self._failures)})

    async def _sim_script(self, request: web.Request) -> web.Response:
        """Queue answer overrides."""
        body = await _json_object(request) or {}
        results = body.get("results")
        if not isinstance(results, list) or not all(
            isinstance(r, dict) for r in results
        ):
            return web.json_response(
                {"error": "results must be a list of objects"}, status=400
            )
        self.script(*results)
        return web.json_response({"queued": len(self._script)})

    async def _sim_reset(self, _request: web.Request) -> web.Response:
        """Forget everything."""
        self.reset()
        return web.json_response({"reset": True})


def _validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """FastAPI-style problems with the infer payload (empty when valid)."""
    problems: list[dict[str, Any]] = []
    for key, types in _REQUIRED.items():
        if key not in body:
            problems.append({"loc": ["body", key], "msg": "field required"})
        elif isinstance(body[key], bool) or not isinstance(body[key], types):
            problems.append({"loc": ["body", key], "msg": "wrong type"})
    for key, types in _OPTIONAL.items():
        if key in body and (
            isinstance(body[key], bool) or not isinstance(body[key], types)
        ):
            problems.append({"loc": ["body", key], "msg": "wrong type"})
    if problems:
        return problems
    if not body["printer_id"] or not body["ticket_id"]:
        problems.append({"loc": ["body", "ticket_id"], "msg": "must not be empty"})
    if not 0 <= body["conf"] <= 1:
        problems.append({"loc": ["body", "conf"], "msg": "must be 0-1"})
    if body["buffer_length"] < 1:
        problems.append({"loc": ["body", "buffer_length"], "msg": "must be >= 1"})
    if not 0 <= body["buffer_percent"] <= 100:
        problems.append({"loc": ["body", "buffer_percent"], "msg": "must be 0-100"})
    thresholds = body["thresholds"]
    if len(thresholds) != 2 or not all(
        isinstance(t, _NUMBER) and not isinstance(t, bool) and 0 <= t <= 1
        for t in thresholds
    ):
        problems.append({"loc": ["body", "thresholds"], "msg": "two numbers 0-1"})
    if not all(
        isinstance(s, _NUMBER) and not isinstance(s, bool) for s in body["scores"]
    ):
        problems.append({"loc": ["body", "scores"], "msg": "numbers expected"})
    if "progress" in body and not 0 <= body["progress"] <= 100:
        problems.append({"loc": ["body", "progress"], "msg": "must be 0-100"})
    return problems


def _corners(box: list[float]) -> list[float]:
    """[cx, cy, w, h] in 640-pixel units as [x1, y1, x2, y2] in 0-1 (the guide's)."""
    cx, cy, w, h = (value / BOX_UNITS for value in box)
    return [
        round(max(0.0, min(1.0, value)), 4)
        for value in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    ]


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _serve(args: argparse.Namespace) -> None:
    """Run until interrupted."""
    sim = PrintWatchSimulator(
        args.api_key, host=args.host, port=args.port, seed=args.seed
    )
    await sim.start()
    print(f"PrintWatch simulator on {sim.url}", flush=True)  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="PrintWatch inference API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
