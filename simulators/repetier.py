"""A Repetier-Server simulator speaking its HTTP web API.

Serves, like Repetier-Server on port 3344:

- `GET /printer/info`: the server and its printers, without authentication;
- `GET /printer/api/<slug>?a=<action>&data=<URL-encoded JSON>`: the documented
  actions `listPrinter`, `stateList`, `getPrinterConfig`, `send`, `continueJob` and
  `stopJob`, authenticated by the `x-api-key` header or the `apikey` query parameter
  (a bad key gets `{"permissionDenied": true}` with HTTP 200, as the real server);
- `GET /printer/camjpg/<slug>?cam=<n>`: a webcam snapshot (a `simulators.scene` JPEG);
- `GET /dyn/render_image?q=jobs&id=<jobid>&slug=<slug>&t=<s|m|l>`: the job preview.

It is strict where clients get the real server wrong: a `data` parameter that is not
URL-encoded (raw `{`, `"`, spaces in the query string, the forum thread's first
failure) is answered with an error, as the real server misparses it; `+` is not
decoded to a space (the manual does not say the server does; a client that encodes
spaces as `%20` works either way); unknown actions are errors. Each printer has a job lifecycle on a
simulated clock (`advance(seconds)`): `send` with `@pause <message>` pauses,
`continueJob` resumes, `stopJob` ends the job.

Fault switches: `go_down()`/`come_up()` (connection refused, then back on the same
port), `delay` (slow or hanging answers), `drop_keys` (keys missing from `stateList`
and `listPrinter` entries, like `activeExtruder` after a server update),
`malformed_json`, and per printer `online`/`active`. Hostile answers, for clients
that must bound what they read: `raw_answers` (an action's answer replaced by raw
text: JSON nested 100,000 deep, `NaN`, `1e400`, integers of 5,000 digits),
`json_padding` (JSON answers streamed after that many bytes of whitespace, without
a `Content-Length`: a 200 MB status body) and `webcam_padding` (the webcam JPEG
streamed with that many bytes after it: a 300 MiB image). Long job and printer
names need no switch: `start_job` and `SimPrinter.name` take any text.

Control over HTTP for manual runs lives under `/_sim/...`; every API request is
recorded in `requests` (the API key itself is never recorded).

Run alone: `python -m simulators.repetier --port 3344 --api-key KEY`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import asdict, dataclass, field
import io
import json
import re
import time
from typing import Any
from urllib.parse import unquote
import uuid

from aiohttp import WSMsgType, web
from PIL import Image

from simulators.scene import KINDS, Scene, render_frame

ACTIONS = frozenset(
    {"listPrinter", "stateList", "getPrinterConfig", "send", "continueJob", "stopJob"}
)
"""The actions this simulator knows; anything else is answered with an error."""
PRINTER_ACTIONS = frozenset({"getPrinterConfig", "send", "continueJob", "stopJob"})
"""Actions that need a real printer slug in the path (the rest are server-wide)."""
_UNENCODED = re.compile(r'[{}"\s<>\\^`|]')
AMBIENT = 21.5


@dataclass
class SimPrinter:
    """One printer managed by the simulated server."""

    slug: str
    name: str
    online: int = 1
    """Repetier's `online`: 0 = not connected, 1 = connected."""
    active: bool = True
    """False when the printer is deactivated in the server."""
    power_on: bool = True
    webcams: int = 1
    extruders: int = 1
    active_extruder: int = 0
    has_chamber: bool = False
    job: str | None = None
    job_id: int = 0
    paused: bool = False
    pause_message: str | None = None
    start: int = 0
    print_time: float = 0.0
    """Estimated total duration of the job, seconds."""
    printed: float = 0.0
    """Seconds of the job printed so far (`printedTimeComp`)."""
    layers: int = 0
    layer_height: float = 0.2
    nozzle_target: float = 0.0
    bed_target: float = 0.0
    chamber_target: float = 0.0
    fan_voltage: int = 0
    more_fans: list[int] = field(default_factory=list)
    """PWM (0-255) of fans after the first (a second part or chamber fan)."""
    speed_multiply: int = 100
    flow_multiply: int = 100
    x: float = 0.0
    y: float = 0.0
    scene: Scene = field(default_factory=lambda: Scene(failure=0))
    gcodes: list[str] = field(default_factory=list)
    """Every command received through `send`."""
    stopped_jobs: int = 0

    @property
    def done(self) -> float:
        """Return the job's progress in percent."""
        if self.job is None or self.print_time <= 0:
            return 0.0
        return min(100.0, 100.0 * self.printed / self.print_time)

    @property
    def layer(self) -> int:
        """Return the layer being printed."""
        if self.job is None:
            return 0
        return min(self.layers, int(self.layers * self.done / 100))


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered (without the API key)."""

    method: str
    path: str
    raw_query: str
    """The query string as sent, with any `apikey` value replaced by `***`."""
    action: str | None
    data: Any
    key_in_header: bool
    key_in_query: bool


class RepetierSimulator:
    """A loopback Repetier-Server with a simulated clock and fault switches."""

    def __init__(
        self,
        *,
        api_key: str = "sim-api-key",
        printers: list[tuple[str, str]] | None = None,
        server_name: str = "Workshop Server",
        version: str = "1.4.16",
        server_uuid: str | None = None,
        frame_size: tuple[int, int] = (640, 360),
    ) -> None:
        """Create the simulator (call `start` to serve)."""
        self.api_key = api_key
        self.server_name = server_name
        self.version = version
        self.server_uuid = server_uuid or str(uuid.uuid4())
        self.frame_size = frame_size
        self.printers: dict[str, SimPrinter] = {
            slug: SimPrinter(slug=slug, name=name)
            for slug, name in (printers or [("prusa_i3", "Prusa i3")])
        }
        self.clock = 1_700_000_000.0
        """Simulated epoch time, seconds."""
        self.delay = 0.0
        """Seconds every API answer is held back (a large value simulates a hang)."""
        self.drop_keys: set[str] = set()
        """Keys left out of `stateList` and `listPrinter` printer entries."""
        self.malformed_json = False
        """Answer API actions with a body that is not JSON."""
        self.raw_answers: dict[str, str] = {}
        """Raw text answered for an action (`info` for `/printer/info`)."""
        self.json_padding = 0
        """Bytes of whitespace streamed before every JSON answer (no length)."""
        self.webcam_padding = 0
        """Bytes streamed after the webcam JPEG (no length)."""
        self.bytes_streamed = 0
        """Bytes of padding the streamed answers actually wrote."""
        self.requests: list[RequestRecord] = []
        """HTTP requests (the websocket's are in `socket_requests`)."""
        self.websocket = True
        """Serve the push websocket at `/socket/` (False: 404, as without push)."""
        self.socket_requests: list[str] = []
        """Actions asked over the websocket, in order."""
        self.socket_connects = 0
        self.socket_raw_answers: dict[str, str] = {}
        """Raw text answered over the websocket for an action."""
        self.socket_close_after_state = False
        """Close each push connection right after answering `stateList` (a flaky
        proxy or a server that drops clients once they are synced)."""
        self.events_pushed: list[str] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._pushed_digest: tuple[str, str] | None = None
        self._next_job_id = 1
        self._host = "127.0.0.1"
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------

    @property
    def port(self) -> int:
        """Return the port served (after `start`)."""
        return self._port

    @property
    def host(self) -> str:
        """Return the host served."""
        return self._host

    @property
    def url(self) -> str:
        """Return the base URL, e.g. `http://127.0.0.1:3344`."""
        return f"http://{self._host}:{self._port}"

    @property
    def is_up(self) -> bool:
        """Return True while the server accepts connections."""
        return self._runner is not None

    def make_app(self) -> web.Application:
        """Build the aiohttp application."""
        app = web.Application()
        app.router.add_get("/printer/info", self._handle_info)
        app.router.add_get("/printer/api/{slug:[^/]*}", self._handle_api)
        app.router.add_get("/printer/camjpg/{slug}", self._handle_camjpg)
        app.router.add_get("/dyn/render_image", self._handle_render_image)
        app.router.add_get("/socket/", self._handle_socket)
        app.router.add_get("/_sim/state", self._handle_sim_state)
        app.router.add_get("/_sim/requests", self._handle_sim_requests)
        app.router.add_post("/_sim/{command}", self._handle_sim_command)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on `host:port` (port 0 picks a free one)."""
        self._host = host
        self._port = port
        await self.come_up()

    async def stop(self) -> None:
        """Stop serving and release any held-back answers."""
        for task in list(self._background):
            task.cancel()
        await self.go_down()

    async def go_down(self) -> None:
        """Stop accepting connections (clients get 'connection refused')."""
        self._release.set()
        await self.drop_sockets()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def come_up(self) -> None:
        """Accept connections again, on the same port."""
        if self._runner is not None:
            return
        self._release = asyncio.Event()
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        await site.start()
        self._runner = runner
        if self._port == 0:
            self._port = int(runner.addresses[0][1])

    async def restart(self, down_for: float = 0.0) -> None:
        """Go down, stay down for `down_for` seconds, come back up."""
        await self.go_down()
        if down_for:
            await asyncio.sleep(down_for)
        await self.come_up()

    # -- simulated printers ----------------------------------------------------

    def printer(self, slug: str) -> SimPrinter:
        """Return a printer by slug."""
        return self.printers[slug]

    def start_job(
        self,
        slug: str,
        name: str = "benchy.gcode",
        *,
        duration: float = 3600.0,
        layers: int = 100,
        nozzle: float = 215.0,
        bed: float = 60.0,
    ) -> int:
        """Start printing a job on a printer; return its job id."""
        printer = self.printers[slug]
        printer.job = name
        printer.job_id = self._next_job_id
        self._next_job_id += 1
        printer.paused = False
        printer.pause_message = None
        printer.start = int(self.clock)
        printer.print_time = duration
        printer.printed = 0.0
        printer.layers = layers
        printer.nozzle_target = nozzle
        printer.bed_target = bed
        printer.chamber_target = 40.0 if printer.has_chamber else 0.0
        printer.fan_voltage = 255
        self.push_changes("jobStarted", slug)
        return printer.job_id

    def advance(self, seconds: float) -> None:
        """Move the simulated clock on; running jobs print, finished ones end."""
        self.clock += seconds
        event, ended = "temp", ""
        for printer in self.printers.values():
            if printer.job is None or printer.paused or not printer.online:
                continue
            printer.printed = min(printer.print_time, printer.printed + seconds)
            printer.x = 100.0 + 10.0 * ((printer.printed / 7) % 3)
            printer.y = 100.0 - 10.0 * ((printer.printed / 11) % 3)
            if printer.printed >= printer.print_time:
                self._end_job(printer)
                event, ended = "jobFinished", printer.slug
        self.push_changes(event, ended)

    def _end_job(self, printer: SimPrinter) -> None:
        printer.job = None
        printer.paused = False
        printer.pause_message = None
        printer.printed = 0.0
        printer.print_time = 0.0
        printer.nozzle_target = 0.0
        printer.bed_target = 0.0
        printer.chamber_target = 0.0
        printer.fan_voltage = 0

    def actions(self, slug: str | None = None) -> list[str]:
        """Return the API actions received, in order (optionally for one slug)."""
        return [
            record.action
            for record in self.requests
            if record.action is not None
            and (slug is None or record.path == f"/printer/api/{slug}")
        ]

    # -- JSON bodies -----------------------------------------------------------

    def _drop(self, data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in data.items() if key not in self.drop_keys}

    def _info_body(self) -> dict[str, Any]:
        return {
            "name": "Repetier-Server",
            "servername": self.server_name,
            "serveruuid": self.server_uuid,
            "version": self.version,
            "printers": [
                {
                    "slug": printer.slug,
                    "name": printer.name,
                    "online": printer.online,
                    "active": printer.active,
                    "job": printer.job or "none",
                    "paused": printer.paused,
                }
                for printer in self.printers.values()
            ],
        }

    def _list_printer_body(self) -> list[dict[str, Any]]:
        body = []
        for printer in self.printers.values():
            entry: dict[str, Any] = {
                "slug": printer.slug,
                "name": printer.name,
                "online": printer.online,
                "active": printer.active,
                "job": printer.job or "none",
                "paused": printer.paused,
                "pauseState": 1 if printer.paused else 0,
            }
            if printer.job is not None:
                entry |= {
                    "jobid": printer.job_id,
                    "done": round(printer.done, 2),
                    "start": printer.start,
                    "printStart": float(printer.start),
                    "printTime": printer.print_time,
                    "printedTimeComp": round(printer.printed, 1),
                    "ofLayer": printer.layers,
                    "totalLines": 100_000,
                    "linesSend": int(1000 * printer.done),
                    "analysed": 1,
                    "repeat": 1,
                }
            body.append(self._drop(entry))
        return body

    def _temp(self, read: float, target: float) -> dict[str, Any]:
        return {
            "tempRead": round(read, 2),
            "tempSet": target,
            "output": 180 if target > 0 else 0,
            "error": 0,
        }

    def _state_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for printer in self.printers.values():
            if not printer.online or not printer.active:
                continue  # the server has no state for a printer it is not talking to
            nozzle = printer.nozzle_target or AMBIENT
            extruders = [
                self._temp(
                    nozzle if index == printer.active_extruder else AMBIENT,
                    printer.nozzle_target if index == printer.active_extruder else 0.0,
                )
                for index in range(printer.extruders)
            ]
            state = {
                "activeExtruder": printer.active_extruder,
                "numExtruder": printer.extruders,
                "extruder": extruders,
                "heatedBeds": [
                    self._temp(printer.bed_target or AMBIENT, printer.bed_target)
                ],
                "heatedChambers": (
                    [
                        self._temp(
                            printer.chamber_target or AMBIENT, printer.chamber_target
                        )
                    ]
                    if printer.has_chamber
                    else []
                ),
                "fans": [
                    {"on": voltage > 0, "voltage": voltage}
                    for voltage in [printer.fan_voltage, *printer.more_fans]
                ],
                "x": round(printer.x, 2),
                "y": round(printer.y, 2),
                "z": round(printer.layer * printer.layer_height, 2),
                "layer": printer.layer,
                "speedMultiply": printer.speed_multiply,
                "flowMultiply": printer.flow_multiply,
                "powerOn": printer.power_on,
                "firmware": "Marlin",
                "firmwareURL": "https://github.com/MarlinFirmware/Marlin",
                "hasXHome": True,
                "hasYHome": True,
                "hasZHome": True,
                "sdcardMounted": False,
                "volumetric": False,
                "debugLevel": 6,
                "lights": 0,
                "rec": False,
            }
            body[printer.slug] = self._drop(state)
        return body

    def _config_body(self, printer: SimPrinter) -> dict[str, Any]:
        return {
            "general": {"name": printer.name, "slug": printer.slug},
            "extruders": [{"num": index} for index in range(printer.extruders)],
            "heatedBeds": [{"num": 0}],
            "heatedChambers": [{"num": 0}] if printer.has_chamber else [],
            "webcams": [
                {
                    "pos": index,
                    "method": 2,
                    "dynamicUrl": f"http://127.0.0.1:8080/?action=stream&cam={index}",
                    "staticUrl": f"http://127.0.0.1:8080/?action=snapshot&cam={index}",
                    "reloadInterval": 3,
                    "orientation": 0,
                }
                for index in range(printer.webcams)
            ],
        }

    # -- request handling ------------------------------------------------------

    def _authorized(self, request: web.Request) -> tuple[bool, bool, bool]:
        """Return (authorized, key in header, key in query)."""
        header = request.headers.get("x-api-key")
        query = request.query.get("apikey")
        authorized = self.api_key in {header, query}
        return authorized, header is not None, query is not None

    def _record(
        self,
        request: web.Request,
        action: str | None,
        data: Any,
        in_header: bool,
        in_query: bool,
    ) -> None:
        raw = re.sub(
            r"(^|&)apikey=[^&]*", r"\1apikey=***", request.rel_url.raw_query_string
        )
        self.requests.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                raw_query=raw,
                action=action,
                data=data,
                key_in_header=in_header,
                key_in_query=in_query,
            )
        )

    async def _hold(self) -> None:
        if self.delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self.delay)

    async def _stream(
        self,
        request: web.Request,
        head: bytes,
        padding: int,
        tail: bytes,
        content_type: str,
    ) -> web.StreamResponse:
        """Stream head, `padding` filler bytes and tail, chunked (no length)."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        filler = (b" " if content_type == "application/json" else b"\0") * 1_048_576
        try:
            await response.write(head)
            left = padding
            while left > 0:
                chunk = filler[: min(left, len(filler))]
                await response.write(chunk)
                self.bytes_streamed += len(chunk)
                left -= len(chunk)
            await response.write(tail)
            await response.write_eof()
        except ConnectionResetError, ConnectionError:
            pass  # the client stopped reading: what a bounded client does
        return response

    async def _json(
        self, request: web.Request, action: str | None, body: Any
    ) -> web.StreamResponse:
        if action is not None and action in self.raw_answers:
            text = self.raw_answers[action]
        elif self.malformed_json:
            text = '{"printers": [{"slug": '
        else:
            text = json.dumps(body)
        if self.json_padding > 0:
            return await self._stream(
                request, b"", self.json_padding, text.encode(), "application/json"
            )
        return web.Response(text=text, content_type="application/json")

    async def _handle_info(self, request: web.Request) -> web.StreamResponse:
        _, in_header, in_query = self._authorized(request)
        self._record(request, None, None, in_header, in_query)
        await self._hold()
        return await self._json(request, "info", self._info_body())

    @staticmethod
    def _parse_query(raw_query: str) -> dict[str, str]:
        """Split a raw query string; values are %-decoded, `+` stays a plus."""
        params: dict[str, str] = {}
        for part in raw_query.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            params[unquote(name)] = unquote(value)
        return params

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        authorized, in_header, in_query = self._authorized(request)
        raw_query = request.rel_url.raw_query_string
        params = self._parse_query(raw_query)
        action = params.get("a")
        raw_data = re.search(r"(?:^|&)data=([^&]*)", raw_query)
        data: Any = None
        error: str | None = None
        if raw_data is not None and _UNENCODED.search(raw_data.group(1)):
            # The real server splits such a query at the wrong places and sees
            # garbage; the forum thread's first failure.
            error = "Invalid request: parameter data is not URL-encoded"
        elif "data" in params:
            try:
                data = json.loads(params["data"])
            except ValueError:
                error = "Invalid request: data is not valid JSON"
        self._record(request, action, data, in_header, in_query)
        await self._hold()
        if error is not None:
            return await self._json(request, action, {"error": error})
        if not authorized:
            return await self._json(request, action, {"permissionDenied": True})
        if action not in ACTIONS:
            return await self._json(
                request, action, {"error": f"Unknown action {action!r}"}
            )
        slug = request.match_info["slug"]
        if action == "listPrinter":
            return await self._json(request, action, self._list_printer_body())
        if action == "stateList":
            return await self._json(request, action, self._state_body())
        printer = self.printers.get(slug)
        if printer is None:
            return await self._json(request, action, {"error": "Printer not found"})
        if action == "getPrinterConfig":
            return await self._json(request, action, self._config_body(printer))
        if not printer.online or not printer.active:
            return await self._json(request, action, {"error": "Printer offline"})
        if action == "send":
            if not isinstance(data, dict) or not isinstance(data.get("cmd"), str):
                return await self._json(
                    request, action, {"error": "Missing parameter cmd"}
                )
            self._send(printer, data["cmd"])
        elif action == "continueJob":
            printer.paused = False
            printer.pause_message = None
        elif action == "stopJob" and printer.job is not None:
            printer.stopped_jobs += 1
            self._end_job(printer)
            self.push_changes("jobKilled", slug)
        self.push_changes("state", slug)
        return await self._json(request, action, {})

    def _send(self, printer: SimPrinter, command: str) -> None:
        printer.gcodes.append(command)
        is_pause = command == "@pause" or command.startswith("@pause ")
        if is_pause and printer.job is not None:
            printer.paused = True
            printer.pause_message = command[len("@pause") :].strip() or None

    async def _handle_camjpg(self, request: web.Request) -> web.StreamResponse:
        authorized, in_header, in_query = self._authorized(request)
        self._record(request, None, None, in_header, in_query)
        await self._hold()
        if not authorized:
            return web.json_response({"permissionDenied": True}, status=403)
        printer = self.printers.get(request.match_info["slug"])
        try:
            cam = int(request.query.get("cam", "0"))
        except ValueError:
            cam = -1
        if printer is None or not 0 <= cam < printer.webcams:
            raise web.HTTPNotFound
        width, height = self.frame_size
        frame = await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: render_frame(
                printer.scene,
                width,
                height,
                seed=int(printer.printed // 60) if printer.job is not None else 0,
                moving=True,
            ),
        )
        if self.webcam_padding > 0:
            return await self._stream(
                request, frame, self.webcam_padding, b"", "image/jpeg"
            )
        return web.Response(body=frame, content_type="image/jpeg")

    async def _handle_render_image(self, request: web.Request) -> web.Response:
        authorized, in_header, in_query = self._authorized(request)
        self._record(request, None, None, in_header, in_query)
        await self._hold()
        if not authorized:
            return web.json_response({"permissionDenied": True}, status=403)
        printer = self.printers.get(request.query.get("slug", ""))
        if (
            printer is None
            or request.query.get("q") != "jobs"
            or printer.job is None
            or request.query.get("id") != str(printer.job_id)
        ):
            raise web.HTTPNotFound
        size = {"s": 64, "m": 128, "l": 256}.get(request.query.get("t", "m"), 128)
        image = Image.new("RGB", (size, size), (230, 120, 30))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return web.Response(body=out.getvalue(), content_type="image/png")

    # -- /_sim control ---------------------------------------------------------

    # -- the push websocket ----------------------------------------------------

    def push_changes(self, event: str = "state", slug: str = "") -> None:
        """Push `event` to every socket if `listPrinter` or `stateList` changed.

        The simulator calls it after every change it makes; a test that changes a
        `SimPrinter` directly calls it too (as the real server would notice).
        """
        digest = (
            json.dumps(self._list_printer_body(), sort_keys=True),
            json.dumps(self._state_body(), sort_keys=True),
        )
        if digest == self._pushed_digest:
            return
        self._pushed_digest = digest
        self.push_event(event, slug)

    def push_event(self, event: str, slug: str = "", data: Any = None) -> None:
        """Send one event to every connected socket."""
        if not self._sockets:
            return
        self.events_pushed.append(event)
        message = json.dumps(
            {
                "callback_id": -1,
                "eventList": True,
                "data": [{"event": event, "printer": slug, "data": data or {}}],
            }
        )
        self.push_raw(message)

    def push_raw(self, text: str) -> None:
        """Send `text` as it is to every connected socket (hostile frames)."""
        for ws in list(self._sockets):
            task = asyncio.get_running_loop().create_task(self._send_text(ws, text))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    @staticmethod
    async def _send_text(ws: web.WebSocketResponse, text: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(text)

    async def drop_sockets(self) -> None:
        """Close every push connection (the server restarting, a network blip)."""
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close()
        self._sockets.clear()

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if not self.websocket:
            raise web.HTTPNotFound
        if request.query.get("apikey") != self.api_key:
            raise web.HTTPForbidden
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket_connects += 1
        self._sockets.add(ws)
        self._pushed_digest = None  # a new client: the next change is pushed
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._socket_request(ws, message.data)
        finally:
            self._sockets.discard(ws)
        return ws

    async def _socket_request(self, ws: web.WebSocketResponse, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            return
        if not isinstance(request, dict):
            return
        action = request.get("action")
        callback_id = request.get("callback_id")
        self.socket_requests.append(str(action))
        await self._hold()
        if action == "listPrinter":
            data: Any = self._list_printer_body()
        elif action == "stateList":
            data = self._state_body()
        elif action == "ping":
            data = {}
        else:
            data = {"error": f"Unknown action {action!r}"}
        if action in self.socket_raw_answers:
            answer = self.socket_raw_answers[action]
        else:
            answer = json.dumps({"callback_id": callback_id, "data": data})
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(answer)
            if action == "stateList" and self.socket_close_after_state:
                await ws.close()

    def state(self) -> dict[str, Any]:
        """Return the simulator's state (no API key)."""
        return {
            "clock": self.clock,
            "delay": self.delay,
            "drop_keys": sorted(self.drop_keys),
            "malformed_json": self.malformed_json,
            "printers": {
                slug: {
                    key: value
                    for key, value in asdict(printer).items()
                    if key not in {"scene", "gcodes"}
                }
                | {
                    "scene": {
                        "failure": printer.scene.failure,
                        "kind": printer.scene.kind,
                    },
                    "gcodes": printer.gcodes[-20:],
                }
                for slug, printer in self.printers.items()
            },
        }

    async def _handle_sim_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _handle_sim_requests(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(record) for record in self.requests])

    async def _handle_sim_command(self, request: web.Request) -> web.Response:
        command = request.match_info["command"]
        query = request.query
        slug = query.get("slug", next(iter(self.printers)))
        if slug not in self.printers:
            raise web.HTTPNotFound(text=f"unknown printer {slug}")
        printer = self.printers[slug]
        try:
            if command == "start_job":
                self.start_job(
                    slug,
                    query.get("name", "benchy.gcode"),
                    duration=float(query.get("duration", "3600")),
                )
            elif command == "advance":
                self.advance(float(query.get("seconds", "60")))
            elif command == "printer":
                if "online" in query:
                    printer.online = int(query["online"])
                if "active" in query:
                    printer.active = query["active"] in {"1", "true"}
            elif command == "scene":
                kind = query.get("kind", "none")
                if kind not in KINDS:
                    raise web.HTTPBadRequest(text=f"unknown kind {kind}")
                printer.scene = Scene(failure=int(query.get("failure", "0")), kind=kind)
            elif command == "fault":
                if "delay" in query:
                    self.delay = float(query["delay"])
                if "drop_keys" in query:
                    self.drop_keys = {k for k in query["drop_keys"].split(",") if k}
                if "malformed" in query:
                    self.malformed_json = query["malformed"] in {"1", "true"}
                if "json_padding" in query:
                    self.json_padding = int(query["json_padding"])
                if "webcam_padding" in query:
                    self.webcam_padding = int(query["webcam_padding"])
            elif command == "restart":
                task = asyncio.get_running_loop().create_task(
                    self._restart_later(float(query.get("down_for", "2")))
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            else:
                raise web.HTTPNotFound(text=f"unknown command {command}")
        except ValueError as err:
            raise web.HTTPBadRequest(text=str(err)) from err
        self.push_changes("printerListChanged")
        return web.json_response(self.state())

    async def _restart_later(self, down_for: float) -> None:
        await asyncio.sleep(0.05)  # let the control request be answered first
        await self.restart(down_for)


async def _serve(args: argparse.Namespace) -> None:
    printers = [
        (slug, slug.replace("_", " ").title()) for slug in args.printer or ["prusa_i3"]
    ]
    sim = RepetierSimulator(api_key=args.api_key, printers=printers)
    await sim.start(args.host, args.port)
    names = ", ".join(sim.printers)
    print(f"Repetier-Server simulator on {sim.url} (printers: {names})", flush=True)  # noqa: T201
    started = time.monotonic()
    try:
        while True:
            await asyncio.sleep(1)
            if args.realtime:
                sim.advance(1)
            if args.duration and time.monotonic() - started > args.duration:
                break
    finally:
        await sim.stop()


def main() -> None:
    """Run the simulator from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3344)
    parser.add_argument("--api-key", default="sim-api-key")
    parser.add_argument("--printer", action="append", help="printer slug (repeatable)")
    parser.add_argument(
        "--realtime", action="store_true", help="advance the clock in real time"
    )
    parser.add_argument(
        "--duration", type=float, default=0, help="seconds, 0 = forever"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
