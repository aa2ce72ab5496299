"""The aiohttp app and the `PrusaLinkSimulator` that owns it.

See the package docstring (`simulators/prusalink/__init__.py`) for the API.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
from dataclasses import asdict, dataclass, fields
import hashlib
import json
import struct
import time
from typing import Any
from urllib.parse import quote

from aiohttp import HttpVersion10, web

from simulators.scene import KINDS, Scene, render_frame

from .auth import AuthResult, DigestAuthenticator
from .flavour import MK3S_STORAGE, MK4S, Flavour, get_flavour
from .model import (
    ACTIVE,
    NO_MATERIAL,
    Job,
    JobConflictError,
    JobNotFoundError,
    PrinterModel,
    StoredFile,
)
from .printfile import ICON_SIZE, THUMBNAIL_SIZE, render_thumbnail

DEFAULT_SERIAL = "10589-3742441634512345"
DEFAULT_DISPLAY_NAME = "Benchy_0.4n_0.2mm_PLA_MK4S_1h0m.bgcode"
COMMAND_DELAY = 0.1
"""Real seconds after which a deferred command (`mk3s`) acts, if the clock has not
moved on before."""
OVERSIZE_DIMENSIONS = (3840, 2160)
OVERSIZE_BYTES = 12 * 1024 * 1024
NOT_AN_IMAGE = b"<html><body><h1>503</h1>camera stream busy</body></html>\n"
OPTIONAL_STATUS_FIELDS = (
    "speed",
    "flow",
    "axis_x",
    "axis_y",
    "fan_hotend",
    "fan_print",
)
"""What `Faults.omit_optional` drops from `/api/v1/status` (as some firmwares do)."""

LEGACY_STATE_TEXT = {
    "IDLE": "Operational",
    "READY": "Operational",
    "FINISHED": "Operational",
    "STOPPED": "Operational",
    "BUSY": "Busy",
    "PRINTING": "Printing",
    "PAUSED": "Paused",
    "ATTENTION": "Busy",
    "ERROR": "Error",
}

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Faults:
    """Fault switches. Set them directly (`sim.faults.hang = True`); `clear()` resets.

    Printer faults apply to every printer endpoint (`/api/...`, `/usb/...`,
    `/thumb/...`), camera faults only to `/camera/snapshot.jpg`; `/_sim/...` never
    fails.
    """

    hang: bool = False
    """Accept requests but never answer (until cleared; then the connection drops)."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    unauthorized: bool = False
    """Answer 401 (with a Digest challenge) to everything."""
    server_error: bool = False
    """Answer 500 to everything."""
    malformed_json: bool = False
    """JSON endpoints answer 200 with a truncated JSON body."""
    omit_optional: bool = False
    """`/api/v1/status` leaves out speed, flow, axis_x/y and fans."""
    omit_version_firmware: bool = False
    """`/api/version` has no `firmware` / `printer` (firmware before 6.5.1)."""
    continue_unsupported: bool = False
    """`PUT /api/v1/job/{id}/continue` answers 404 (older firmware)."""
    pause_refused: bool = False
    """`PUT /api/v1/job/{id}/pause` answers 409 and the print goes on."""
    no_job_in_attention: bool = False
    """While ATTENTION the API shows no job (`/api/v1/status` without `job`,
    `/api/v1/job` 204); the job is back when the printer goes on."""
    camera_error: bool = False
    """The camera answers 500."""
    camera_oversized: bool = False
    """The camera answers a 3840x2160 JPEG padded to 12 MiB."""
    camera_not_image: bool = False
    """The camera answers 200 `image/jpeg` whose body is HTML."""

    def clear(self) -> None:
        """Switch every fault off."""
        for item in fields(self):
            setattr(self, item.name, item.default)

    def update(self, values: dict[str, Any]) -> None:
        """Set several switches from JSON; unknown names or wrong types raise."""
        known = {item.name: item for item in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}")
            if name == "delay":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError("delay must be a number")
                if value < 0:
                    raise ValueError("delay must not be negative")
                self.delay = float(value)
            elif isinstance(value, bool):
                setattr(self, name, value)
            else:
                raise ValueError(f"{name} must be true or false")


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered (status 0: hung, never answered)."""

    method: str
    path: str
    status: int
    at: float
    """`time.monotonic()` when the answer was decided."""
    port: int = 0
    """The local port the request came in on (see `add_listener`)."""


def _json(data: object, *, malformed: bool = False, status: int = 200) -> web.Response:
    text = json.dumps(data)
    if malformed:
        text = text[: max(1, len(text) // 2)]
    return web.Response(text=text, status=status, content_type="application/json")


def _error(status: int, title: str, text: str) -> web.Response:
    return _json({"title": title, "text": text}, status=status)


def _pad_jpeg(jpeg: bytes, size: int) -> bytes:
    """Grow a JPEG to `size` bytes with COM segments; it stays a valid image."""
    segments = []
    missing = size - len(jpeg)
    chunk = b"\x00" * 65533
    while missing > 0:
        part = chunk[: min(len(chunk), max(1, missing - 4))]
        segments.append(b"\xff\xfe" + struct.pack(">H", len(part) + 2) + part)
        missing -= len(part) + 4
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


class PrusaLinkSimulator:
    """A Prusa printer with PrusaLink on loopback. See the package doc.

    `flavour` picks the firmware family (`simulators.prusalink.flavour`): `mk4s`
    (Buddy firmware, the default) or `mk3s` (the Raspberry Pi PrusaLink 0.8.1).
    """

    def __init__(
        self,
        password: str = "simulator",  # noqa: S107 - a simulator's default
        *,
        username: str = "maker",
        serial: str = DEFAULT_SERIAL,
        model: str | None = None,
        name: str | None = None,
        hostname: str | None = None,
        firmware: str | None = None,
        nozzle_diameter: float = 0.4,
        digest_qop: bool | None = None,
        finished_hold: float = 300.0,
        print_file_size: int = 0,
        camera_size: tuple[int, int] = (1280, 720),
        flavour: str | Flavour = MK4S,
        api_key: str | None = None,
        startup_seconds: float | None = None,
    ) -> None:
        """Describe the printer; nothing listens until `start()`."""
        self.flavour = get_flavour(flavour) if isinstance(flavour, str) else flavour
        mk3s = self.flavour.name == "mk3s"
        model = model or self.flavour.model
        self.serial = serial
        self.model = model
        self.name = name if name is not None else ("" if mk3s else f"Prusa {model}")
        self.hostname = (
            hostname
            if hostname is not None
            else self.flavour.cloud_hostname or f"prusa-{model.lower()}"
        )
        self.firmware = firmware or ("3.14.1-8237" if mk3s else "6.5.3+12648")
        self.nozzle_diameter = nozzle_diameter
        self.camera_size = camera_size
        self.startup_seconds = (
            self.flavour.startup_seconds if startup_seconds is None else startup_seconds
        )
        self.api_key: str | None = None
        if self.flavour.separate_api_key:
            self.api_key = api_key or hashlib.sha256(password.encode()).hexdigest()[:20]
        self.printer = PrinterModel(
            finished_hold=finished_hold, print_file_size=print_file_size
        )
        self.auth = DigestAuthenticator(
            username,
            password,
            offer_qop=self.flavour.digest_qop if digest_qop is None else digest_qop,
            realm=self.flavour.realm,
            algorithm=self.flavour.digest_algorithm,
            nonce_lifetime=self.flavour.nonce_lifetime,
            clock=lambda: self.printer.clock,
            api_key=self.api_key,
            opaque=hashlib.sha256(b"127.0.0.1").hexdigest() if mk3s else None,
        )
        self._startup_until = self.startup_seconds
        self._pending: tuple[str, Callable[[], None]] | None = None
        self._pending_handle: asyncio.TimerHandle | None = None
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self._host = "127.0.0.1"
        self._port = 0
        self._control_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._control_site: web.TCPSite | None = None
        self._extra_sites: list[web.TCPSite] = []
        self._online = False
        self._stopping = False
        self._ticker: asyncio.Task[None] | None = None
        self._ticker_speed: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._frame_cache: tuple[tuple[Scene, int, int, int], bytes] | None = None
        self._oversize_cache: tuple[Scene, bytes] | None = None
        self._thumb_cache: dict[tuple[str, int, str, str], bytes] = {}

    # --- lifecycle ----------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, control_port: int | None = None
    ) -> None:
        """Listen on host:port (0: a free port); `control_port` adds a second
        listener for `/_sim/...` and the camera that stays up while offline.
        """
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        app = web.Application(middlewares=[self._middleware])
        self._add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        self._runner = runner
        self._stopping = False
        self._startup_until = self.printer.clock + self.startup_seconds
        self._host = host
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._site, self._port, self._online = site, site.port, True
        if control_port is not None:
            control = web.TCPSite(runner, host, control_port)
            await control.start()
            self._control_site, self._control_port = control, control.port

    async def add_listener(self, host: str | None = None) -> str:
        """Serve the same printer on one more free port; return its base URL.

        Two clients on two ports are one printer, and `RequestRecord.port` tells
        their requests apart (the poll benchmark's two integrations). `host`
        (another loopback address, say) is the printer reached at a new address.
        """
        if self._runner is None:
            raise RuntimeError("simulator not started")
        host = host or self._host
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        self._extra_sites.append(site)
        return f"http://{host}:{site.port}"

    async def stop(self) -> None:
        """Stop listening and end every background task."""
        self._stopping = True
        self.stop_ticker()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = self._control_site = None
        self._extra_sites.clear()
        self._online = False

    async def __aenter__(self) -> PrusaLinkSimulator:
        """Start on a free loopback port unless already started."""
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop."""
        await self.stop()

    @property
    def host_port(self) -> tuple[str, int]:
        """Return (host, port) of the printer API."""
        return self._host, self._port

    @property
    def url(self) -> str:
        """Return the printer's base URL, e.g. `http://127.0.0.1:41234`."""
        return f"http://{self._host}:{self._port}"

    @property
    def control_url(self) -> str:
        """Return the base URL of `/_sim/...`: the control port if any, else `url`."""
        if self._control_port is None:
            return self.url
        return f"http://{self._host}:{self._control_port}"

    @property
    def snapshot_url(self) -> str:
        """Return the camera snapshot URL on the printer's port."""
        return f"{self.url}/camera/snapshot.jpg"

    @property
    def online(self) -> bool:
        """Return True while the printer port accepts connections."""
        return self._online

    async def go_offline(self) -> None:
        """Close the listener and drop open connections: connection refused."""
        site = self._site
        if site is None or self._runner is None:
            return
        self._site = None  # hung requests let go
        await site.stop()
        server = self._runner.server
        for handler in server.connections if server is not None else []:
            transport = handler.transport
            if transport is None:
                continue
            sockname = transport.get_extra_info("sockname")
            if sockname is not None and sockname[1] == self._port:
                handler.force_close()
        await asyncio.sleep(0)  # let the transports really close
        self._online = False

    async def come_back(self) -> None:
        """Listen again on the same port."""
        if self._site is not None or self._runner is None:
            return
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._site, self._online = site, True

    async def power_cycle(self, downtime: float = 0.0) -> None:
        """Go offline for `downtime` seconds, then come back rebooted."""
        await self.go_offline()
        await asyncio.sleep(downtime)
        self.reboot()
        await self.come_back()

    # --- scenario control ---------------------------------------------------

    @property
    def state(self) -> str:
        """Return the printer state string."""
        return self.printer.state

    @property
    def job(self) -> Job | None:
        """Return the current job, if any."""
        return self.printer.job

    @property
    def job_id(self) -> int | None:
        """Return the current job's id, if any."""
        return None if self.printer.job is None else self.printer.job.id

    def idle(self) -> None:
        """Drop any job and go IDLE."""
        self.printer.idle()

    def start_job(
        self,
        display_name: str = DEFAULT_DISPLAY_NAME,
        material: str = "PLA",
        duration: int = 3600,
    ) -> int:
        """Start printing a new file; loads `material`. Return the job id."""
        return self.printer.start_job(display_name, material, duration).id

    def advance(self, seconds: float) -> None:
        """Move the simulated clock `seconds` on (progress, temperatures, hold).

        A command the `mk3s` flavour answered but has not carried out yet acts first.
        """
        self.apply_pending()
        self.printer.advance(seconds)

    def apply_pending(self) -> None:
        """Carry out a deferred command (`mk3s`) now, if one waits."""
        if self._pending_handle is not None:
            self._pending_handle.cancel()
            self._pending_handle = None
        pending, self._pending = self._pending, None
        if pending is not None:
            # the printer may have moved on meanwhile
            with contextlib.suppress(JobConflictError, JobNotFoundError):
                pending[1]()

    def set_state(self, state: str, *, clear_job: bool = False) -> None:
        """Set any state string (ERROR, ATTENTION, UNKNOWN, HEATING_UP, ...)."""
        self.printer.set_state(state, clear_job=clear_job)

    def set_material(self, material: str | None) -> None:
        """Set the loaded filament; None or `---` for nothing loaded."""
        self.printer.material = material or NO_MATERIAL

    def _current_job_id(self) -> int:
        if self.printer.job is None:
            raise JobNotFoundError(None)
        return self.printer.job.id

    def pause(self) -> None:
        """Pause as the printer's knob would; raise JobConflictError if not printing."""
        self.printer.pause(self._current_job_id())

    def resume(self) -> None:
        """Resume a paused job."""
        self.printer.resume(self._current_job_id())

    def cancel(self) -> None:
        """Stop the job."""
        self.printer.cancel(self._current_job_id())

    def continue_job(self) -> None:
        """Acknowledge ATTENTION."""
        self.printer.continue_(self._current_job_id())

    def reboot(self) -> None:
        """Restart the firmware: the job is lost, IDLE, and a new Digest nonce."""
        self.printer.reboot()
        self.auth.new_nonce()
        self._pending = None
        self._startup_until = self.printer.clock + self.startup_seconds

    def set_old_firmware(self, enabled: bool = True) -> None:
        """Behave like firmware before 6.5.1: no version fields, no `/continue`."""
        self.faults.omit_version_firmware = enabled
        self.faults.continue_unsupported = enabled

    def set_scene(self, scene: Scene) -> None:
        """Set what the camera shows when no scripted failure is under way."""
        self.printer.scene = scene

    def script_failure(
        self, *, start: float, kind: str, score: int, ramp: float = 300.0
    ) -> None:
        """From print second `start`, show `kind` growing to `score` over `ramp` s."""
        self.printer.script_failure(start=start, kind=kind, score=score, ramp=ramp)

    def clear_failure(self) -> None:
        """Forget the scripted failure."""
        self.printer.failure = None

    @property
    def current_scene(self) -> Scene:
        """Return what the camera shows now."""
        return self.printer.current_scene()

    def start_ticker(self, speed: float = 1.0, interval: float = 1.0) -> None:
        """Advance the clock in real time, `speed` simulated seconds per second."""
        if speed <= 0 or interval <= 0:
            raise ValueError("speed and interval must be positive")
        self.stop_ticker()
        self._ticker_speed = speed
        self._ticker = asyncio.create_task(self._tick(speed, interval))

    def stop_ticker(self) -> None:
        """Stop the real-time clock."""
        if self._ticker is not None:
            self._ticker.cancel()
        self._ticker = self._ticker_speed = None

    async def _tick(self, speed: float, interval: float) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            self.advance((now - last) * speed)
            last = now

    # --- metrics --------------------------------------------------------------

    def counts(self) -> Counter[tuple[str, str, int]]:
        """Return request counts keyed by (method, path, status)."""
        return Counter((r.method, r.path, r.status) for r in self.requests)

    def count(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        status: int | None = None,
    ) -> int:
        """Return how many requests matched every given filter."""
        return sum(
            1
            for r in self.requests
            if (path is None or r.path == path)
            and (method is None or r.method == method)
            and (status is None or r.status == status)
        )

    def reset_counters(self) -> None:
        """Forget every recorded request."""
        self.requests.clear()

    def _record(self, request: web.Request, status: int) -> None:
        sockname = (
            None
            if request.transport is None
            else request.transport.get_extra_info("sockname")
        )
        port = sockname[1] if sockname else 0
        self.requests.append(
            RequestRecord(request.method, request.path, status, time.monotonic(), port)
        )

    def snapshot(self) -> dict[str, Any]:
        """Return the simulator's state as JSON-able data (`GET /_sim/state`)."""
        printer, job = self.printer, self.printer.job
        scene = printer.current_scene()
        return {
            "url": self.url,
            "online": self._online,
            "state": printer.state,
            "material": printer.material,
            "clock": printer.clock,
            "job": None
            if job is None
            else {
                "id": job.id,
                "display_name": job.file.spec.display_name,
                "material": job.file.spec.material,
                "duration": job.duration,
                "progress": job.progress,
                "time_printing": int(job.time_printing),
                "time_remaining": job.time_remaining,
            },
            "scene": {"failure": scene.failure, "kind": scene.kind},
            "failure_script": None
            if printer.failure is None
            else asdict(printer.failure),
            "ticker_speed": self._ticker_speed,
            "faults": asdict(self.faults),
        }

    # --- HTTP plumbing -------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/v1/info", self._info)
        app.router.add_get("/api/v1/status", self._status)
        app.router.add_get("/api/v1/job", self._job)
        app.router.add_delete("/api/v1/job/{id}", self._job_command)
        app.router.add_put("/api/v1/job/{id}/{command}", self._job_command)
        app.router.add_get("/api/v1/storage", self._storage)
        app.router.add_get("/api/v1/transfer", self._transfer)
        app.router.add_get("/api/printer", self._legacy_printer)
        app.router.add_get("/thumb/{size}/usb/{name}", self._thumbnail)
        app.router.add_get("/usb/{name}", self._download)
        app.router.add_get("/api/v1/files/{storage}/{name}", self._download)
        app.router.add_get("/api/v1/thumbnails/{storage}/{name}", self._long_thumbnail)
        app.router.add_get("/camera/snapshot.jpg", self._camera)
        sim = "/_sim"
        app.router.add_get(f"{sim}/state", self._sim_state)
        app.router.add_post(f"{sim}/idle", self._sim_idle)
        app.router.add_post(f"{sim}/job", self._sim_job)
        app.router.add_post(f"{sim}/advance", self._sim_advance)
        app.router.add_post(f"{sim}/ticker", self._sim_ticker)
        app.router.add_delete(f"{sim}/ticker", self._sim_ticker_stop)
        app.router.add_post(f"{sim}/state", self._sim_set_state)
        app.router.add_post(f"{sim}/material", self._sim_material)
        app.router.add_post(
            f"{sim}/{{command:pause|resume|cancel|continue}}", self._sim_command
        )
        app.router.add_post(f"{sim}/offline", self._sim_offline)
        app.router.add_post(f"{sim}/online", self._sim_online)
        app.router.add_post(f"{sim}/reboot", self._sim_reboot)
        app.router.add_get(f"{sim}/faults", self._sim_faults)
        app.router.add_post(f"{sim}/faults", self._sim_faults)
        app.router.add_delete(f"{sim}/faults", self._sim_faults)
        app.router.add_post(f"{sim}/scene", self._sim_scene)
        app.router.add_post(f"{sim}/failure", self._sim_failure)
        app.router.add_delete(f"{sim}/failure", self._sim_failure)
        app.router.add_get(f"{sim}/requests", self._sim_requests)
        app.router.add_delete(f"{sim}/requests", self._sim_requests)

    def _on_control_site(self, request: web.Request) -> bool:
        if self._control_port is None or request.transport is None:
            return False
        sockname = request.transport.get_extra_info("sockname")
        return sockname is not None and sockname[1] == self._control_port

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sim/"):
            return await handler(request)
        if self._on_control_site(request) and not path.startswith("/camera/"):
            return _error(404, "Not Found", "the control port serves /_sim and /camera")
        camera = path.startswith("/camera/")
        if self.faults.hang and not camera:
            self._record(request, 0)
            return await self._hang(request)
        try:
            if camera:
                response = await handler(request)
            else:
                response = await self._printer_request(request, handler)
        except web.HTTPException as exc:
            self._record(request, exc.status)
            raise
        self._record(request, response.status)
        if self.flavour.http10 and not camera:
            # PoorWSGI behind its own WSGI server: HTTP/1.0, no keep-alive
            request._message = request._message._replace(version=HttpVersion10)
            request._cache["version"] = HttpVersion10  # `version` is a reify
            response.force_close()
        return response

    async def _hang(self, request: web.Request) -> web.StreamResponse:
        """Never answer: wait until the fault clears or the printer goes away,
        then drop the connection without a response.
        """
        # faults is a plain dataclass callers flip directly: poll it
        while self.faults.hang and self._site is not None and not self._stopping:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=503)  # cannot reach the client any more

    async def _printer_request(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        faults = self.faults
        if faults.delay > 0:
            await asyncio.sleep(faults.delay)
        if faults.server_error:
            return _error(500, "Internal Server Error", "simulated failure")
        if faults.unauthorized:
            return self._unauthorized()
        user_agent = request.headers.get("User-Agent", "")
        result = self.auth.check(
            request.method,
            request.raw_path,
            request.headers.get("Authorization"),
            request.headers.get("X-Api-Key"),
            user_agent,
        )
        if result is AuthResult.BAD_API_KEY:
            return web.Response(status=403, text="Bad X-Api-Key.")
        if result is not AuthResult.OK:
            return self._unauthorized(
                stale=result is AuthResult.STALE, user_agent=user_agent
            )
        return await handler(request)

    def _unauthorized(
        self, *, stale: bool = False, user_agent: str = ""
    ) -> web.Response:
        response = _error(401, "Unauthorized", "Bad credentials")
        response.headers["WWW-Authenticate"] = self.auth.challenge(
            stale=stale, user_agent=user_agent
        )
        return response

    def _reply(self, data: object) -> web.Response:
        return _json(data, malformed=self.faults.malformed_json)

    # --- printer API -------------------------------------------------------------

    async def _version(self, request: web.Request) -> web.Response:
        data: dict[str, Any] = {
            "api": "2.0.0",
            "server": self.flavour.server,
            "nozzle_diameter": self.nozzle_diameter,
            "text": "PrusaLink",
            "hostname": self.hostname,
            "capabilities": {"upload-by-put": True},
        }
        if self.flavour.original is not None:
            data["original"] = self.flavour.original
            data["sdk"] = "0.8.0"
        if not self.faults.omit_version_firmware:
            data["firmware"] = self.firmware
            if self.flavour.version_has_printer:
                data["printer"] = self.model
        return self._reply(data)

    async def _info(self, request: web.Request) -> web.Response:
        return self._reply(
            {
                "name": self.name,
                "hostname": self.hostname,
                "serial": self.serial,
                "nozzle_diameter": self.nozzle_diameter,
                "mmu": False,
                "min_extrusion_temp": 170,
                "sd_ready": True,
                "active_camera": False,
            }
        )

    def _telemetry(self) -> dict[str, Any]:
        printer = self.printer
        if printer.clock < self._startup_until:
            return {"state": printer.state}  # the printer has not answered yet
        nozzle, bed = printer.temperatures()
        target_nozzle, target_bed = printer.targets()
        moving = printer.state == "PRINTING"
        data: dict[str, Any] = {
            "state": printer.state,
            "temp_nozzle": nozzle,
            "target_nozzle": target_nozzle,
            "temp_bed": bed,
            "target_bed": target_bed,
        }
        if not moving:  # "Available only when printer is not moving"
            data["axis_x"], data["axis_y"] = (
                (241.0, 170.0) if printer.job else (0.0, -4.0)
            )
        data["axis_z"] = printer.z_height()
        data["flow"] = 100
        data["speed"] = 100
        data["fan_hotend"] = 6973 if printer.heating or nozzle > 50 else 0
        data["fan_print"] = 4982 if moving else 0
        if self.faults.omit_optional:
            for key in OPTIONAL_STATUS_FIELDS:
                data.pop(key, None)
        return data

    async def _status(self, request: web.Request) -> web.Response:
        storage: object = {"path": "/usb/", "name": "usb", "read_only": False}
        if self.flavour.storage_as_list:
            storage = [
                {"path": f"/{MK3S_STORAGE}", "name": MK3S_STORAGE, "read_only": False}
            ]
        data: dict[str, Any] = {"storage": storage, "printer": self._telemetry()}
        if (job := self._visible_job()) is not None:
            data["job"] = {
                "id": job.id,
                "progress": job.progress,
                "time_remaining": job.time_remaining,
                "time_printing": int(job.time_printing),
            }
        return self._reply(data)

    def _visible_job(self) -> Job | None:
        """The job the API shows (`mk3s` shows none once it is STOPPED)."""
        if self.printer.state == "STOPPED" and not self.flavour.job_while_stopped:
            return None
        if self.printer.state == "ATTENTION" and self.faults.no_job_in_attention:
            return None
        return self.printer.job

    def _file_refs(self, stored: StoredFile) -> tuple[str, dict[str, str], str]:
        """(name, refs, path) of a print file as this flavour lists it."""
        if not self.flavour.long_file_names:
            refs = {
                "icon": stored.icon_path,
                "thumbnail": stored.thumbnail_path,
                "download": stored.download_path,
            }
            return stored.name, refs, "/usb"
        long_name = stored.spec.display_name
        where = quote(f"{MK3S_STORAGE}/{long_name}")
        refs = {
            "icon": f"/api/v1/thumbnails/{where}.icon.png",
            "thumbnail": f"/api/v1/thumbnails/{where}.orig.png",
            "download": f"/api/v1/files/{where}",
        }
        return long_name, refs, f"/{MK3S_STORAGE}/{long_name}"

    def _stored(self, name: str) -> StoredFile | None:
        """The print file called `name` (its 8.3 name, or its long name)."""
        if (stored := self.printer.files.get(name)) is not None:
            return stored
        for stored in self.printer.files.values():
            if stored.spec.display_name == name:
                return stored
        return None

    async def _job(self, request: web.Request) -> web.Response:
        job = self._visible_job()
        if job is None:
            return web.Response(status=204)
        stored = job.file
        name, refs, path = self._file_refs(stored)
        return self._reply(
            {
                "id": job.id,
                "state": self.printer.state,
                "progress": job.progress,
                "time_remaining": job.time_remaining,
                "time_printing": int(job.time_printing),
                "file": {
                    "refs": refs,
                    "name": name,
                    "display_name": stored.spec.display_name,
                    "path": path,
                    "display_path": path,
                    "size": len(stored.data),
                    "m_timestamp": stored.m_timestamp,
                },
            }
        )

    async def _job_command(self, request: web.Request) -> web.Response:
        command = request.match_info.get("command", "stop")
        actions: dict[str, Callable[[int], None]] = {
            "stop": self.printer.cancel,
            "pause": self.printer.pause,
            "resume": self.printer.resume,
            "continue": self.printer.continue_,
        }
        action = actions.get(command)
        if action is None or (
            command == "continue" and self.faults.continue_unsupported
        ):
            return _error(404, "Not Found", "Not Found")
        if command == "pause" and self.faults.pause_refused:
            return _error(409, "Conflict", "Can't pause in this state")
        try:
            job_id = int(request.match_info["id"])
            if self.flavour.deferred_commands:
                self._defer(command, job_id, action)
            else:
                action(job_id)
        except ValueError, JobNotFoundError:
            return _error(404, "Not Found", "No job with this id")
        except JobConflictError:
            return _error(409, "Conflict", f"Can't {command} in this state")
        return web.Response(status=204)

    def _defer(self, command: str, job_id: int, action: Callable[[int], None]) -> None:
        """Check a command as `mk3s` does, answer, and carry it out a moment later.

        `continue` does nothing there; a command while one waits is 409, as is a
        pause of a paused job or a cancel of a stopped one.
        """
        printer = self.printer
        if printer.job is None or printer.job.id != job_id:
            raise JobNotFoundError(job_id)
        if command == "continue" and self.flavour.continue_noop:
            return
        allowed = {
            "pause": printer.state == "PRINTING",
            "resume": printer.state == "PAUSED",
            "stop": printer.state in ACTIVE,
            "continue": printer.state == "ATTENTION",
        }
        if self._pending is not None or not allowed.get(command, False):
            raise JobConflictError(printer.state)
        self._pending = (command, lambda: action(job_id))
        self._pending_handle = asyncio.get_running_loop().call_later(
            COMMAND_DELAY, self.apply_pending
        )

    async def _storage(self, request: web.Request) -> web.Response:
        used = sum(len(f.data) for f in self.printer.files.values())
        total = 32 * 1024**3
        return self._reply(
            {
                "storage_list": [
                    {
                        "type": "USB",
                        "path": "/usb/",
                        "name": "usb",
                        "available": True,
                        "read_only": False,
                        "free_space": total - used,
                        "total_space": total,
                    }
                ]
            }
        )

    async def _transfer(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _legacy_printer(self, request: web.Request) -> web.Response:
        printer = self.printer
        material = printer.material
        if self.flavour.name == "mk3s" and material == NO_MATERIAL:
            material = " - "  # what PrusaLink 0.8.1 says when nothing is loaded
        state = printer.state
        nozzle, bed = printer.temperatures()
        target_nozzle, target_bed = printer.targets()
        operational = state in {"IDLE", "READY", "FINISHED", "STOPPED"}
        return self._reply(
            {
                "telemetry": {
                    "temp-bed": bed,
                    "temp-nozzle": nozzle,
                    "print-speed": 100,
                    "z-height": printer.z_height(),
                    "material": material,
                },
                "temperature": {
                    "tool0": {"actual": nozzle, "target": target_nozzle, "offset": 0},
                    "bed": {"actual": bed, "target": target_bed, "offset": 0},
                },
                "sd": {"ready": True},
                "state": {
                    "text": LEGACY_STATE_TEXT.get(
                        state, state.replace("_", " ").title()
                    ),
                    "flags": {
                        "operational": operational,
                        "paused": state == "PAUSED",
                        "printing": state == "PRINTING",
                        "cancelling": False,
                        "pausing": False,
                        "sdReady": True,
                        "error": state == "ERROR",
                        "ready": operational,
                        "closedOrError": state == "ERROR",
                        "busy": state in {"BUSY", "ATTENTION"},
                    },
                },
            }
        )

    async def _thumbnail(self, request: web.Request) -> web.Response:
        return await self._thumbnail_of(
            self.printer.files.get(request.match_info["name"]),
            request.match_info["size"],
        )

    async def _thumbnail_of(self, stored: StoredFile | None, size: str) -> web.Response:
        if stored is None or size not in {"s", "l"}:
            return _error(404, "Not Found", "No such file")
        key = (stored.name, stored.m_timestamp, stored.spec.material, size)
        if key not in self._thumb_cache:
            dims = ICON_SIZE if size == "s" else THUMBNAIL_SIZE
            self._thumb_cache[key] = render_thumbnail(dims, stored.spec.material)
        return web.Response(body=self._thumb_cache[key], content_type="image/png")

    async def _long_thumbnail(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.match_info["storage"] != MK3S_STORAGE:
            return _error(404, "Not Found", "No such storage")
        for suffix, size in ((".orig.png", "l"), (".icon.png", "s")):
            if name.endswith(suffix):
                return await self._thumbnail_of(
                    self._stored(name[: -len(suffix)]), size
                )
        return _error(404, "Not Found", "No such file")

    async def _download(self, request: web.Request) -> web.Response:
        stored = self._stored(request.match_info["name"])
        if request.match_info.get("storage", MK3S_STORAGE) != MK3S_STORAGE:
            stored = None
        if stored is None:
            return _error(404, "Not Found", "No such file")
        binary = stored.name.upper().endswith(".BGC")
        return web.Response(
            body=stored.data,
            content_type="application/octet-stream" if binary else "text/x.gcode",
        )

    # --- camera ------------------------------------------------------------------

    def frame(self) -> bytes:
        """Return the JPEG the camera serves now (cached per scene and minute)."""
        scene = self.printer.current_scene()
        job = self.printer.job
        # a live camera: the picture changes every minute, with or without a job
        seed = int((time.time() if job is None else job.time_printing) // 60)
        key = (scene, seed, *self.camera_size)
        if self._frame_cache is None or self._frame_cache[0] != key:
            self._frame_cache = (
                key,
                render_frame(scene, *self.camera_size, seed=seed, moving=True),
            )
        return self._frame_cache[1]

    async def _oversized_frame(self) -> bytes:
        scene = self.printer.current_scene()
        if self._oversize_cache is None or self._oversize_cache[0] != scene:
            jpeg = await asyncio.get_running_loop().run_in_executor(
                None, render_frame, scene, *OVERSIZE_DIMENSIONS
            )
            self._oversize_cache = (scene, _pad_jpeg(jpeg, OVERSIZE_BYTES))
        return self._oversize_cache[1]

    async def _camera(self, request: web.Request) -> web.Response:
        faults = self.faults
        if faults.camera_error:
            return web.Response(status=500, text="camera error")
        headers = {"Cache-Control": "no-store"}
        if faults.camera_not_image:
            return web.Response(
                body=NOT_AN_IMAGE, content_type="image/jpeg", headers=headers
            )
        body = (
            await self._oversized_frame() if faults.camera_oversized else self.frame()
        )
        return web.Response(body=body, content_type="image/jpeg", headers=headers)

    # --- /_sim control API ------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except json.JSONDecodeError as err:
            raise web.HTTPBadRequest(text=f"invalid JSON: {err}") from err
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        return data

    def _state_reply(self) -> web.Response:
        return _json(self.snapshot())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, delay: float, then: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(delay)
        await then()

    async def _sim_state(self, request: web.Request) -> web.Response:
        return self._state_reply()

    async def _sim_idle(self, request: web.Request) -> web.Response:
        self.idle()
        return self._state_reply()

    async def _sim_job(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.start_job(
                display_name=str(body.get("display_name", DEFAULT_DISPLAY_NAME)),
                material=str(body.get("material", "PLA")),
                duration=int(body.get("duration", 3600)),
            )
        except (TypeError, ValueError) as err:
            return _json({"error": str(err)}, status=400)
        return self._state_reply()

    async def _sim_advance(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.advance(float(body["seconds"]))
        except (KeyError, TypeError, ValueError) as err:
            return _json({"error": f"seconds: {err}"}, status=400)
        return self._state_reply()

    async def _sim_ticker(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.start_ticker(
                float(body.get("speed", 1.0)), float(body.get("interval", 1.0))
            )
        except (TypeError, ValueError) as err:
            return _json({"error": str(err)}, status=400)
        return self._state_reply()

    async def _sim_ticker_stop(self, request: web.Request) -> web.Response:
        self.stop_ticker()
        return self._state_reply()

    async def _sim_set_state(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        state = body.get("state")
        if not isinstance(state, str) or not state:
            return _json({"error": "state: a non-empty string"}, status=400)
        self.set_state(state, clear_job=bool(body.get("clear_job", False)))
        return self._state_reply()

    async def _sim_material(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        material = body.get("material")
        if material is not None and not isinstance(material, str):
            return _json({"error": "material: a string or null"}, status=400)
        self.set_material(material)
        return self._state_reply()

    async def _sim_command(self, request: web.Request) -> web.Response:
        actions = {
            "pause": self.pause,
            "resume": self.resume,
            "cancel": self.cancel,
            "continue": self.continue_job,
        }
        try:
            actions[request.match_info["command"]]()
        except JobNotFoundError:
            return _json({"error": "no job"}, status=404)
        except JobConflictError as err:
            return _json({"error": f"not allowed in state {err}"}, status=409)
        return self._state_reply()

    async def _sim_offline(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        seconds = body.get("seconds")
        if seconds is None and self._control_port is None:
            return _json(
                {"error": "no control port: give seconds, or nothing brings it back"},
                status=400,
            )

        async def outage() -> None:
            await asyncio.sleep(0.05)  # let this answer go out first
            await self.go_offline()
            if seconds is not None:
                await asyncio.sleep(float(seconds))
                await self.come_back()

        self._spawn(outage())
        return self._state_reply()

    async def _sim_online(self, request: web.Request) -> web.Response:
        await self.come_back()
        return self._state_reply()

    async def _sim_reboot(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        downtime = float(body.get("downtime", 0.0))
        if downtime <= 0:
            self.reboot()
        else:
            self._spawn(self._later(0.05, lambda: self.power_cycle(downtime)))
        return self._state_reply()

    async def _sim_faults(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            try:
                self.faults.update(await self._body(request))
            except ValueError as err:
                return _json({"error": str(err)}, status=400)
        return _json(asdict(self.faults))

    async def _sim_scene(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            scene = Scene(
                failure=int(body["failure"]), kind=str(body.get("kind", "none"))
            )
        except (KeyError, TypeError, ValueError) as err:
            return _json({"error": f"failure: {err}"}, status=400)
        if scene.kind not in KINDS or not 0 <= scene.failure <= 100:
            return _json({"error": f"kind one of {KINDS}, failure 0-100"}, status=400)
        self.set_scene(scene)
        return self._state_reply()

    async def _sim_failure(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.clear_failure()
            return self._state_reply()
        body = await self._body(request)
        try:
            self.script_failure(
                start=float(body["start"]),
                kind=str(body["kind"]),
                score=int(body["score"]),
                ramp=float(body.get("ramp", 300.0)),
            )
        except (KeyError, TypeError, ValueError) as err:
            return _json({"error": f"start, kind, score (ramp): {err}"}, status=400)
        return self._state_reply()

    async def _sim_requests(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.reset_counters()
        rows = [
            {"method": method, "path": path, "status": status, "count": count}
            for (method, path, status), count in sorted(self.counts().items())
        ]
        return _json({"total": len(self.requests), "requests": rows})
