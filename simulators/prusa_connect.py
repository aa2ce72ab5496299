"""Prusa Connect's camera API, simulated.

Speaks the two calls a Connect "other camera" makes:

- `PUT /c/info` with headers `Token` and `Fingerprint` and a JSON body
  `{"config": {"name": ..., "resolution": {"width": ..., "height": ...}}}` registers
  the camera (its fingerprint) under the token;
- `PUT /c/snapshot` with the same headers, `Content-Type: image/jpg` and a JPEG body
  uploads a snapshot. Like the real service it answers 204, 400 for a camera that
  was not registered (or whose registration Connect lost), 401 for an unknown token,
  413 above 16 MiB and 429 when snapshots come faster than `min_interval` seconds.

Test switches (attributes, or `POST /_sim/switches` with a JSON object): `fail_500`,
`hang`, `force_status` (e.g. 401, 403, 400), `answer_200` (success is 200 instead of
204), `min_interval`. `POST /_sim/forget` makes Connect forget every registration,
`POST /_sim/reset` forgets everything, `GET /_sim/state` describes the cameras.

Run alone: `python -m simulators.prusa_connect --port 8090 --token T`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
import io
import math
from typing import Any, Final

from aiohttp import web
from PIL import Image

SNAPSHOT_LIMIT: Final = 16 * 1024 * 1024
"""Largest snapshot body accepted, in bytes (413 above)."""
FINGERPRINT_LENGTHS: Final = range(16, 65)
JPEG_TYPES: Final = frozenset({"image/jpg", "image/jpeg"})
DEFAULT_TOKEN: Final = "connect-sim-token"  # noqa: S105 - a simulator's test token


@dataclass(frozen=True, slots=True)
class ReceivedSnapshot:
    """One snapshot the simulator accepted."""

    size: int
    width: int
    height: int
    content_type: str
    jpeg: bytes = field(repr=False)


@dataclass(slots=True)
class SimCamera:
    """What Connect knows about one camera (one token + fingerprint)."""

    token: str
    fingerprint: str
    name: str | None = None
    width: int | None = None
    height: int | None = None
    registered: bool = False
    registrations: int = 0
    snapshots: list[ReceivedSnapshot] = field(default_factory=list)
    last_snapshot_at: float | None = None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the simulator answered (control requests excluded)."""

    method: str
    path: str
    status: int


def _jpeg_size(body: bytes) -> tuple[int, int] | None:
    """Return a JPEG's size, or None when the bytes are not a complete JPEG."""
    try:
        with Image.open(io.BytesIO(body)) as img:
            img.load()
            return img.size if img.format == "JPEG" else None
    except OSError, SyntaxError, Image.DecompressionBombError:
        return None


type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PrusaConnectSimulator:
    """A loopback Prusa Connect camera API."""

    def __init__(
        self,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        min_interval: float = 0.0,
    ) -> None:
        """Accept the given camera tokens; nothing listens before `start`."""
        self.tokens = set(tokens)
        self.host = host
        self.port = port
        self.min_interval = min_interval
        """Per camera: seconds that must pass between two snapshots (429 below)."""
        self.fail_500 = False
        self.hang = False
        """Hold every request until the switch is cleared or the simulator stops."""
        self.force_status: int | None = None
        self.answer_200 = False
        self.held = 0
        """How many requests the `hang` switch holds right now."""
        self.cameras: dict[tuple[str, str], SimCamera] = {}
        self.requests: list[RequestRecord] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.app = web.Application(
            client_max_size=2 * SNAPSHOT_LIMIT, middlewares=[self._record]
        )
        self.app.router.add_put("/c/snapshot", self._snapshot)
        self.app.router.add_put("/c/info", self._info)
        self.app.router.add_get("/_sim/state", self._sim_state)
        self.app.router.add_post("/_sim/switches", self._sim_switches)
        self.app.router.add_post("/_sim/forget", self._sim_forget)
        self.app.router.add_post("/_sim/reset", self._sim_reset)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen on `host:port` (port 0 picks a free one)."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Release hanging requests and stop listening."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The base URL, as a client's `base_url`."""
        return f"http://{self.host}:{self.port}"

    # -- test helpers ------------------------------------------------------------

    def camera(self, token: str, fingerprint: str) -> SimCamera | None:
        """Return what Connect knows about a camera, if anything."""
        return self.cameras.get((token, fingerprint))

    def snapshots(self, token: str, fingerprint: str) -> list[ReceivedSnapshot]:
        """Return the snapshots a camera uploaded, oldest first."""
        cam = self.cameras.get((token, fingerprint))
        return list(cam.snapshots) if cam else []

    def forget_registrations(self) -> None:
        """Forget every registration: the next snapshot of each camera gets 400."""
        for cam in self.cameras.values():
            cam.registered = False

    def set_hang(self, hang: bool) -> None:
        """Hold (True) or release (False) every request."""
        self.hang = hang
        if hang:
            self._release = asyncio.Event()
        else:
            self._release.set()

    def reset(self) -> None:
        """Forget cameras, requests and switches."""
        self.cameras.clear()
        self.requests.clear()
        self.fail_500 = False
        self.force_status = None
        self.answer_200 = False
        self.set_hang(False)

    def count(self, path: str) -> int:
        """Return how many requests reached `path`."""
        return sum(1 for record in self.requests if record.path == path)

    # -- Connect API -------------------------------------------------------------

    @web.middleware
    async def _record(
        self, request: web.Request, handler: _Handler
    ) -> web.StreamResponse:
        """Record every API request and its status."""
        status = 500
        try:
            response = await handler(request)
        except web.HTTPException as err:
            status = err.status
            raise
        else:
            status = response.status
        finally:
            if not request.path.startswith("/_sim/"):
                self.requests.append(
                    RequestRecord(request.method, request.path, status)
                )
        return response

    def _ok(self) -> web.Response:
        """Connect's success answer."""
        return web.Response(status=200 if self.answer_200 else 204)

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        """Connect's error answer."""
        return web.json_response({"message": message}, status=status)

    async def _guard(self, request: web.Request) -> web.Response | tuple[str, str]:
        """Apply switches and check the headers; return the camera key or an error."""
        if self.hang:
            self.held += 1
            try:
                await self._release.wait()
            finally:
                self.held -= 1
            return self._error(503, "released")
        if self.fail_500:
            return self._error(500, "internal error")
        if self.force_status is not None:
            return self._error(self.force_status, "forced")
        token = request.headers.get("Token", "")
        if token not in self.tokens:
            return self._error(401, "unknown token")
        fingerprint = request.headers.get("Fingerprint", "")
        if len(fingerprint) not in FINGERPRINT_LENGTHS:
            return self._error(400, "fingerprint must be 16-64 characters")
        return token, fingerprint

    async def _info(self, request: web.Request) -> web.Response:
        """`PUT /c/info`: register the camera's name and resolution."""
        key = await self._guard(request)
        if isinstance(key, web.Response):
            return key
        try:
            body = await request.json()
            config = body["config"]
            name = config["name"]
            resolution = config["resolution"]
            width, height = resolution["width"], resolution["height"]
        except ValueError, KeyError, TypeError:
            return self._error(400, "expected {config: {name, resolution}}")
        if (
            not isinstance(name, str)
            or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in (width, height)
            )
            or width <= 0
            or height <= 0
        ):
            return self._error(400, "bad name or resolution")
        cam = self.cameras.setdefault(key, SimCamera(*key))
        cam.name, cam.width, cam.height = name, width, height
        cam.registered = True
        cam.registrations += 1
        return self._ok()

    async def _snapshot(self, request: web.Request) -> web.Response:
        """`PUT /c/snapshot`: accept one JPEG."""
        key = await self._guard(request)
        if isinstance(key, web.Response):
            return key
        if request.content_type not in JPEG_TYPES:
            return self._error(400, "Content-Type must be image/jpg")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._error(413, "snapshot too large")
        if len(body) > SNAPSHOT_LIMIT:
            return self._error(413, "snapshot too large")
        size = _jpeg_size(body)
        if size is None:
            return self._error(400, "body is not a JPEG")
        width, height = size
        cam = self.cameras.get(key)
        if cam is None or not cam.registered:
            return self._error(400, "camera not registered")
        now = asyncio.get_running_loop().time()
        if (
            cam.last_snapshot_at is not None
            and now - cam.last_snapshot_at < self.min_interval
        ):
            wait = self.min_interval - (now - cam.last_snapshot_at)
            response = self._error(429, "too many snapshots")
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        cam.last_snapshot_at = now
        cam.snapshots.append(
            ReceivedSnapshot(len(body), width, height, request.content_type, body)
        )
        return self._ok()

    # -- control -----------------------------------------------------------------

    async def _sim_state(self, _request: web.Request) -> web.Response:
        """Describe switches and cameras."""
        return web.json_response(
            {
                "switches": self._switches(),
                "cameras": [
                    {
                        "name": cam.name,
                        "resolution": [cam.width, cam.height],
                        "registered": cam.registered,
                        "registrations": cam.registrations,
                        "snapshots": len(cam.snapshots),
                        "last_snapshot": (
                            {
                                "size": cam.snapshots[-1].size,
                                "width": cam.snapshots[-1].width,
                                "height": cam.snapshots[-1].height,
                            }
                            if cam.snapshots
                            else None
                        ),
                    }
                    for cam in self.cameras.values()
                ],
            }
        )

    def _switches(self) -> dict[str, Any]:
        """The current switches."""
        return {
            "fail_500": self.fail_500,
            "hang": self.hang,
            "force_status": self.force_status,
            "answer_200": self.answer_200,
            "min_interval": self.min_interval,
        }

    async def _sim_switches(self, request: web.Request) -> web.Response:
        """Set any of the switches from a JSON object."""
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "expected a JSON object")
        if not isinstance(body, dict) or not set(body) <= set(self._switches()):
            return self._error(400, f"switches are {sorted(self._switches())}")
        try:
            if "fail_500" in body:
                self.fail_500 = bool(body["fail_500"])
            if "hang" in body:
                self.set_hang(bool(body["hang"]))
            if "force_status" in body:
                status = body["force_status"]
                self.force_status = None if status is None else int(status)
            if "answer_200" in body:
                self.answer_200 = bool(body["answer_200"])
            if "min_interval" in body:
                self.min_interval = float(body["min_interval"])
        except (ValueError, TypeError) as err:
            return self._error(400, str(err))
        return web.json_response(self._switches())

    async def _sim_forget(self, _request: web.Request) -> web.Response:
        """Forget every registration."""
        self.forget_registrations()
        return web.json_response({"forgotten": len(self.cameras)})

    async def _sim_reset(self, _request: web.Request) -> web.Response:
        """Forget everything."""
        self.reset()
        return web.json_response({"reset": True})


async def _serve(args: argparse.Namespace) -> None:
    """Run until interrupted."""
    sim = PrusaConnectSimulator(
        args.token or [DEFAULT_TOKEN],
        host=args.host,
        port=args.port,
        min_interval=args.min_interval,
    )
    await sim.start()
    print(f"Prusa Connect simulator on {sim.url}", flush=True)  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--token", action="append", help="accepted camera token (repeatable)"
    )
    parser.add_argument("--min-interval", type=float, default=0.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
