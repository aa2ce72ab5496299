"""Repetier-Server printer backend.

Repetier-Server (default port 3344) manages several printers; each is addressed by
its slug. Its web API is `GET /printer/api/<slug>?a=<action>&data=<JSON>`, with the
JSON URL-encoded (an unencoded payload is misparsed by the server) and the API key in
the `x-api-key` header (the manual discourages `apikey=` in the query, which proxies
log). A refused key is answered with `{"permissionDenied": true}` and HTTP 200.

A poll costs two requests: `listPrinter` (job, progress, times, paused) and, when the
printer is connected, `stateList` (temperatures, fans, position, multipliers). Every
key of their answers is optional here: Repetier has dropped keys between versions
(Home Assistant core's integration crashed on a missing `activeExtruder`).

State mapping (Repetier has no state string of its own):

- printer deactivated in the server, or not connected (`online` 0): UNKNOWN, since
  nothing is known about the printer (IDLE would claim it is ready); no `job` key
  at all: UNKNOWN too (a missing `online` or `active` key counts as connected);
- a job that is `paused`: PAUSED; any other job: PRINTING;
- job `"none"`: IDLE (a poll does not see a finished or cancelled job: the job
  simply disappears); while the websocket pushes, the first snapshot without the job
  is FINISHED or STOPPED when the server sent `jobFinished` or `jobKilled`.

Commands: pause is `send` with `@pause <message>` (Repetier has no pause action;
`stopJob` would end the print), resume is `continueJob`, cancel is `stopJob`.
Repetier has no attention state to acknowledge, so `async_continue` raises
`PrinterCommandUnsupported`.

Repetier reports fans as PWM output (0-255), not RPM: the RPM fields stay None, the
first fan's power is `fan_speed` in percent, further fans are in `extra`. It reports
no material. `capabilities` says so, so those entities are not created; a heated
chamber is read from the printer's configuration (`getPrinterConfig`) at identity,
so a printer that is offline when Home Assistant starts still gets its sensor.

Camera: `getPrinterConfig` lists the printer's webcams; the config flow lets the user
pick one (`webcam`, 0-based; None for none) and the backend serves that webcam's
`/printer/camjpg/<slug>?cam=<n>` snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
import json
import logging
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from yarl import URL

from ..redact import redact_secrets
from .base import (
    MAX_IMAGE_BODY,
    MAX_JSON_BODY,
    Capability,
    JobSnapshot,
    PrinterAuthError,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentity,
    PrinterResponseError,
    PrinterSnapshot,
    PrinterState,
    bounded_duration,
    bounded_int,
    bounded_number,
    bounded_progress,
    bounded_text,
    parse_json,
    read_bounded,
)
from .repetier_socket import RepetierSocket

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds one request may take before the server counts as unreachable."""
MODEL: Final = "Repetier-Server printer"
PAUSE_COMMAND: Final = "@pause Print Sentinel"
"""Sent through `send`: Repetier pauses the job and shows the message."""
THUMBNAIL_SIZE: Final = "m"
"""Size of the job preview `render_image` renders: s, m or l."""
_MAX_ERROR_TEXT: Final = 200
_FAN_PWM_MAX: Final = 255
_MAX_ITEMS: Final = 16
"""Most extruders or fans kept from one answer (each becomes `extra` values)."""
_MAX_PRINTERS: Final = 100
"""Most printers of one server offered in the config flow."""
CAPABILITIES: Final = frozenset({Capability.LAYER, Capability.FAN_SPEED})
"""What every Repetier printer reports beyond the basics (a chamber is per printer)."""
PUSH_FALLBACK_SECONDS: Final = 300.0
"""While the websocket pushes, a poll (from its cache, no request) this often."""


@dataclass(frozen=True, kw_only=True)
class RepetierPrinterInfo:
    """A printer a Repetier-Server manages, for the config flow to offer."""

    slug: str
    name: str
    online: bool
    server_id: str
    webcams: int
    """How many webcams the printer has in the server's configuration."""

    @property
    def has_webcam(self) -> bool:
        """Return True when the printer has at least one webcam."""
        return self.webcams > 0


@dataclass(frozen=True, kw_only=True)
class _PrinterConfig:
    """What `getPrinterConfig` tells about a printer's hardware."""

    webcams: int
    chambers: int


@dataclass(frozen=True, kw_only=True)
class _ServerInfo:
    """What `/printer/info` tells about the server."""

    server_id: str
    server_name: str | None
    version: str | None
    printers: list[dict[str, Any]]


class _RepetierClient:
    """The HTTP side: URLs, the key header, timeouts and error mapping."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        api_key: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._host = host
        self._port = port
        self._api_key = api_key
        self._timeout = timeout
        self.base_url = URL.build(scheme="http", host=host, port=port)

    @property
    def where(self) -> str:
        """Return `host:port` for messages."""
        return f"{self._host}:{self._port}"

    def api_url(self, slug: str, action: str, data: dict[str, Any] | None) -> URL:
        """Return the URL of an API action, with the JSON payload URL-encoded."""
        query = f"a={quote(action, safe='')}"
        if data is not None:
            payload = json.dumps(data, separators=(",", ":"))
            query += f"&data={quote(payload, safe='')}"
        return URL(
            f"{self.base_url}/printer/api/{quote(slug, safe='')}?{query}", encoded=True
        )

    async def get(
        self, url: URL, *, auth: bool, limit: int = MAX_JSON_BODY
    ) -> tuple[int, str | None, bytes]:
        """GET a URL; return status, content type and at most `limit` bytes of body.

        Raises PrinterConnectionError when the server is unreachable or too slow
        (the timeout covers the whole body), PrinterBodyTooLarge for a larger body,
        PrinterAuthError for a key no HTTP header can carry and PrinterResponseError
        for an HTTP password prompt (no Repetier-Server asks for one).
        """
        headers = {"x-api-key": self._api_key} if auth else {}
        if auth and not _valid_header(self._api_key):
            raise PrinterAuthError("The Repetier-Server API key has control characters")
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response,
            ):
                if response.status == 401 and "WWW-Authenticate" in response.headers:
                    # an HTTP password prompt (PrusaLink's digest, a proxy's basic
                    # auth): Repetier-Server's API key never meets one
                    raise PrinterResponseError(
                        f"{self.where} asks for a user name and password "
                        "(HTTP authentication): is this a Repetier-Server?"
                    )
                body = await read_bounded(
                    response, limit, f"Repetier-Server's answer for {url.path}"
                )
                return response.status, response.content_type, body
        except TimeoutError as err:
            raise PrinterConnectionError(
                f"Repetier-Server at {self.where} did not answer within "
                f"{self._timeout:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise PrinterConnectionError(
                f"no connection to Repetier-Server at {self.where} "
                f"({type(err).__name__})"
            ) from err

    async def get_json(self, url: URL, *, auth: bool) -> Any:
        """GET a URL and decode its JSON answer, mapping Repetier's error answers."""
        status, _, body = await self.get(url, auth=auth)
        if status in {401, 403}:
            raise PrinterAuthError(
                f"Repetier-Server at {self.where} refused the API key"
            )
        if status != 200:
            raise PrinterResponseError(
                f"{self.where} answered HTTP {status} for {url.path}: "
                "is this a Repetier-Server?"
            )
        data = parse_json(
            body, f"{self.where}'s answer for {url.path} (is this a Repetier-Server?)"
        )
        if isinstance(data, dict):
            if data.get("permissionDenied"):
                raise PrinterAuthError(
                    f"Repetier-Server at {self.where} refused the API key"
                )
            if "error" in data:
                said = redact_secrets(str(data["error"]), self._api_key)
                text = bounded_text(said[:_MAX_ERROR_TEXT]) or "?"
                raise PrinterResponseError(f"Repetier-Server error: {text}")
        return data

    async def action(
        self, slug: str, action: str, data: dict[str, Any] | None = None
    ) -> Any:
        """Call an authenticated API action and return its decoded answer."""
        _LOGGER.debug("Repetier-Server %s: %s for %r", self.where, action, slug)
        return await self.get_json(self.api_url(slug, action, data), auth=True)

    async def server_info(self) -> _ServerInfo:
        """Read `/printer/info` (needs no key); validate it is Repetier-Server."""
        data = await self.get_json(self.base_url.with_path("/printer/info"), auth=False)
        if not isinstance(data, dict) or not isinstance(data.get("printers"), list):
            raise PrinterResponseError(
                f"{self.where} answered /printer/info without a printer list: "
                "is this a Repetier-Server?"
            )
        server_id = _str(data.get("serveruuid")) or f"{self._host}_{self._port}"
        return _ServerInfo(
            server_id=server_id,
            server_name=_str(data.get("servername")),
            version=_str(data.get("version")),
            printers=[p for p in data["printers"] if isinstance(p, dict)],
        )

    async def list_printer(self, slug: str) -> list[dict[str, Any]]:
        """Call `listPrinter`: one entry per printer with its job."""
        data = await self.action(slug, "listPrinter")
        if not isinstance(data, list):
            raise PrinterResponseError("Repetier-Server listPrinter is not a list")
        return [entry for entry in data if isinstance(entry, dict)]

    async def printer_config(self, slug: str) -> _PrinterConfig:
        """Call `getPrinterConfig`; count the printer's webcams and chambers.

        The configuration is the server's, so it answers while the printer is off.
        """
        data = await self.action(slug, "getPrinterConfig")
        if not isinstance(data, dict):
            raise PrinterResponseError(
                "Repetier-Server getPrinterConfig is not an object"
            )
        webcams = data.get("webcams")
        chambers = data.get("heatedChambers")
        return _PrinterConfig(
            webcams=len(webcams) if isinstance(webcams, list) else 0,
            chambers=len(chambers) if isinstance(chambers, list) else 0,
        )


def _valid_header(value: str) -> bool:
    """Return True when a value can be sent in an HTTP header (no control chars)."""
    return not any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)


def _str(value: object) -> str | None:
    """Return a non-empty string cut to a sane length, else None."""
    return bounded_text(value)


def _num(value: object) -> float | None:
    """Return a finite number of a sane size (bools are no numbers), else None."""
    return bounded_number(value)


def _temperature(value: object) -> float | None:
    """Return a believable temperature in °C, else None."""
    return bounded_number(value, -100.0, 1000.0)


def _percent(value: object) -> float | None:
    """Return a believable multiplier in percent (speed, flow), else None."""
    return bounded_number(value, 0.0, 10_000.0)


def _job_id(value: object) -> int | str | None:
    """Return a job id that is safe in a URL and an event, else None.

    Digits in a string are the same job as the number (`"5"` is 5): a server
    writing it either way starts no new job.
    """
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, str):
        return bounded_text(value, 64)
    return bounded_int(value, 0, 2**53)


def _flag(value: object) -> bool:
    """Return True for a true bool or a positive number (Repetier uses both)."""
    if isinstance(value, bool):
        return value
    number = _num(value)
    return number is not None and number > 0


def _dicts(value: object) -> list[dict[str, Any]]:
    """Return the dicts of a list (anything else: empty)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _find_printer(entries: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    for entry in entries:
        if entry.get("slug") == slug:
            return entry
    raise PrinterResponseError(f"Repetier-Server has no printer with slug {slug!r}")


def _offline_reason(entry: dict[str, Any]) -> str | None:
    """Return why a `listPrinter` entry's printer is not usable, or None.

    A missing `active` or `online` key counts as usable: only an explicit
    deactivated or disconnected printer is reported as such.
    """
    if entry.get("active") is False:
        return "deactivated"
    if "online" in entry and not _flag(entry["online"]):
        return "offline"
    return None


def _fan_percent(fan: dict[str, Any]) -> float | None:
    """Return a fan's speed in percent of full PWM (0 when switched off)."""
    if fan.get("on") is False:
        return 0.0
    voltage = _num(fan.get("voltage"))
    if voltage is None:
        return None
    return round(max(0.0, min(100.0, 100.0 * voltage / _FAN_PWM_MAX)), 1)


async def async_list_printers(
    session: aiohttp.ClientSession,
    host: str,
    port: int,
    api_key: str,
    *,
    request_timeout: float = DEFAULT_TIMEOUT,
) -> list[RepetierPrinterInfo]:
    """Return the printers a Repetier-Server manages, validating the API key.

    Raises PrinterConnectionError (unreachable, timeout), PrinterAuthError (key
    refused) or PrinterResponseError (it answers, but is not Repetier-Server).
    """
    client = _RepetierClient(session, host, port, api_key, request_timeout)
    info = await client.server_info()
    # /printer/info needs no key: validate it with an authenticated action.
    entries = await client.list_printer("")
    names = {
        slug: _str(entry.get("name")) or slug
        for entry in [*info.printers, *entries]
        if (slug := _str(entry.get("slug")))
    }
    result = []
    for entry in (entries or info.printers)[:_MAX_PRINTERS]:
        slug = _str(entry.get("slug"))
        if slug is None or slug != entry.get("slug"):
            # a slug that is no plain text (spaces around it, control characters,
            # too long) could not be asked for again: not offered
            continue
        try:
            webcams = (await client.printer_config(slug)).webcams
        except PrinterResponseError:
            webcams = 0
        result.append(
            RepetierPrinterInfo(
                slug=slug,
                name=names[slug],
                online=_offline_reason(entry) is None,
                server_id=info.server_id,
                webcams=webcams,
            )
        )
    return result


class RepetierBackend:
    """One printer of a Repetier-Server, behind the `PrinterBackend` protocol."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        api_key: str,
        slug: str,
        *,
        webcam: int | None = 0,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Create the backend; no I/O until the first call.

        `webcam` is the 0-based index of the webcam the camera shows (None: none).
        """
        self._client = _RepetierClient(session, host, port, api_key, request_timeout)
        self._session = session
        self._api_key = api_key
        self._socket: RepetierSocket | None = None
        self._host = host
        self._port = port
        self._slug = slug
        self._webcam = webcam
        self._timeout = request_timeout
        self._server: _ServerInfo | None = None
        self._webcams: int | None = None
        self._chambers = 0
        self._job_id: int | str | None = None
        self._last_state: str | None = None

    @property
    def slug(self) -> str:
        """Return the printer's slug on the server."""
        return self._slug

    @property
    def webcam(self) -> int | None:
        """Return the index of the webcam the camera shows, or None for none."""
        return self._webcam

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Return layer and fan percent; a chamber and a camera when it has them.

        The chamber is known after `async_get_identity`; the camera is the user's
        choice.
        """
        capabilities = set(CAPABILITIES)
        if self._chambers > 0:
            capabilities.add(Capability.CHAMBER)
        if self._webcam is not None:
            capabilities.add(Capability.CAMERA)
        return frozenset(capabilities)

    async def async_get_identity(self) -> PrinterIdentity:
        """Read who the printer is; validates host, API key and slug."""
        server = await self._client.server_info()
        entry = _find_printer(await self._client.list_printer(self._slug), self._slug)
        self._server = server
        config = await self._client.printer_config(self._slug)
        self._webcams = config.webcams
        self._chambers = config.chambers
        return PrinterIdentity(
            unique_id=f"{server.server_id}_{self._slug}",
            name=_str(entry.get("name")) or self._slug,
            model=MODEL,
            hostname=self._host,
            firmware=server.version,
            configuration_url=f"{self._client.base_url}/",
        )

    def async_subscribe(
        self, on_change: Callable[[], None]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """Open the server's websocket: `on_change` whenever it pushed a change.

        Returns what closes it again. While it is healthy, `async_poll` reads the
        pushed answers instead of asking over HTTP.
        """
        socket = RepetierSocket(
            self._session,
            self._client.base_url,
            self._api_key,
            self._slug,
            on_change,
            where=self._client.where,
        )
        self._socket = socket
        socket.async_start()
        return socket.async_stop

    @property
    def pushing(self) -> bool:
        """Whether the websocket is healthy (no HTTP polling needed)."""
        return self._socket is not None and self._socket.healthy

    def poll_interval(
        self, snapshot: PrinterSnapshot, printing: float, idle: float
    ) -> float | None:
        """A long fallback interval while the websocket pushes; else the default."""
        return PUSH_FALLBACK_SECONDS if self.pushing else None

    async def async_poll(self) -> PrinterSnapshot:
        """Read job (`listPrinter`) and, when connected, state (`stateList`).

        While the websocket pushes, both come from its newest answers (no request).
        """
        socket = self._socket
        if (
            socket is not None
            and socket.healthy
            and socket.printers is not None
            and socket.states is not None
        ):
            return await self._from_answers(socket.printers, socket.states)
        try:
            snapshot = await self._from_answers(
                await self._client.list_printer(self._slug), None
            )
        except PrinterError:
            if socket is not None:
                socket.note_poll(answered=False)
            raise
        if socket is not None:
            socket.note_poll(answered=True)
        return snapshot

    async def _from_answers(
        self, entries: list[dict[str, Any]], states: dict[str, Any] | None
    ) -> PrinterSnapshot:
        """The snapshot from `listPrinter` (and `stateList`, asked for if None)."""
        entry = _find_printer(entries, self._slug)
        extra: dict[str, float | int | str | None] = {}
        if (reason := _offline_reason(entry)) is not None:
            return self._unknown(reason)

        job = self._job(entry, extra)
        if "job" not in entry:
            state, raw_state = PrinterState.UNKNOWN, "unknown"
        elif job is None:
            state, raw_state = self._idle_or_ended()
        elif _flag(entry.get("paused")):
            state, raw_state = PrinterState.PAUSED, "paused"
        else:
            state, raw_state = PrinterState.PRINTING, "printing"
        self._last_state = raw_state
        self._job_id = None if job is None else job.id

        if states is None:
            states = await self._client.action(self._slug, "stateList")
        if not isinstance(states, dict):
            raise PrinterResponseError("Repetier-Server stateList is not an object")
        printer_state = states.get(self._slug)
        if not isinstance(printer_state, dict):
            _LOGGER.debug("Repetier-Server has no state for %r yet", self._slug)
            return PrinterSnapshot(
                state=state, raw_state=raw_state, job=job, extra=extra
            )
        return self._snapshot(state, raw_state, job, printer_state, extra)

    def _idle_or_ended(self) -> tuple[PrinterState, str]:
        """IDLE; or, right after a job vanished, how it ended if the socket heard it.

        Polling only sees a job disappear (its last progress tells finished from
        cancelled); a pushed `jobFinished` or `jobKilled` says so, and the snapshot
        that first misses the job reports FINISHED or STOPPED once.
        """
        socket = self._socket
        ended = socket.take_ending() if socket is not None else None
        was_active = self._last_state in ("printing", "paused")
        if was_active and ended == "finished":
            return PrinterState.FINISHED, "finished"
        if was_active and ended == "killed":
            return PrinterState.STOPPED, "stopped"
        return PrinterState.IDLE, "idle"

    def _unknown(self, raw_state: str) -> PrinterSnapshot:
        self._last_state = raw_state
        self._job_id = None
        return PrinterSnapshot(state=PrinterState.UNKNOWN, raw_state=raw_state)

    def _job(
        self, entry: dict[str, Any], extra: dict[str, float | int | str | None]
    ) -> JobSnapshot | None:
        name = _str(entry.get("job"))
        if name is None or name == "none":
            return None
        total = bounded_duration(entry.get("printTime"))
        printed = bounded_duration(entry.get("printedTimeComp"))
        remaining = (
            max(0, total - printed)
            if total is not None and printed is not None and total > 0
            else None
        )
        job_id = _job_id(entry.get("jobid"))
        if (start := bounded_int(entry.get("start"), 0, 2**40)) is not None:
            extra["job_start"] = start
        if (layers := bounded_int(entry.get("ofLayer"), 0, 10**7)) is not None:
            extra["layer_count"] = layers
        return JobSnapshot(
            id=job_id,
            name=name,
            progress=bounded_progress(entry.get("done")),
            time_remaining=remaining,
            time_printing=printed,
            thumbnail_path=(
                None if job_id is None else self._thumbnail_url(job_id).raw_path_qs
            ),
        )

    def _snapshot(
        self,
        state: PrinterState,
        raw_state: str,
        job: JobSnapshot | None,
        data: dict[str, Any],
        extra: dict[str, float | int | str | None],
    ) -> PrinterSnapshot:
        extruders = _dicts(data.get("extruder"))[:_MAX_ITEMS]
        active = bounded_int(data.get("activeExtruder"), 0, 255)
        if active is not None:
            extra["active_extruder"] = active
        index = active if active is not None and 0 <= active < len(extruders) else 0
        nozzle = extruders[index] if extruders else {}
        if len(extruders) > 1:
            for number, extruder in enumerate(extruders):
                extra[f"extruder_{number}_temperature"] = _temperature(
                    extruder.get("tempRead")
                )
                extra[f"extruder_{number}_target"] = _temperature(
                    extruder.get("tempSet")
                )
        beds = _dicts(data.get("heatedBeds"))
        bed = beds[0] if beds else {}
        chambers = _dicts(data.get("heatedChambers"))
        chamber = chambers[0] if chambers else {}
        if chamber:
            extra["chamber_target"] = _temperature(chamber.get("tempSet"))
        fans = _dicts(data.get("fans"))[:_MAX_ITEMS]
        for number, fan in enumerate(fans[1:], start=1):
            extra[f"fan_{number}_percent"] = _fan_percent(fan)
        for key in ("x", "y"):
            if (value := _num(data.get(key))) is not None:
                extra[key] = value
        if isinstance(power := data.get("powerOn"), bool):
            extra["power_on"] = power
        return PrinterSnapshot(
            state=state,
            raw_state=raw_state,
            nozzle_temperature=_temperature(nozzle.get("tempRead")),
            nozzle_target=_temperature(nozzle.get("tempSet")),
            bed_temperature=_temperature(bed.get("tempRead")),
            bed_target=_temperature(bed.get("tempSet")),
            chamber_temperature=_temperature(chamber.get("tempRead")),
            z_height=_num(data.get("z")),
            print_speed=_percent(data.get("speedMultiply")),
            flow=_percent(data.get("flowMultiply")),
            layer=bounded_int(data.get("layer"), 0, 10**7),
            fan_speed=_fan_percent(fans[0]) if fans else None,
            job=job,
            extra=extra,
        )

    async def async_pause(self) -> None:
        """Pause the job with `@pause` (never `stopJob`, which ends the print)."""
        await self._client.action(self._slug, "send", {"cmd": PAUSE_COMMAND})

    async def async_resume(self) -> None:
        """Resume the paused job."""
        await self._client.action(self._slug, "continueJob")

    async def async_cancel(self) -> None:
        """Stop the job for good."""
        await self._client.action(self._slug, "stopJob")

    async def async_continue(self) -> None:
        """Repetier-Server has no attention state to acknowledge."""
        raise PrinterCommandUnsupported(
            "Repetier-Server has no attention state to acknowledge; use resume"
        )

    def _thumbnail_url(self, job_id: int | str) -> URL:
        return self._client.base_url.with_path("/dyn/render_image").with_query(
            {"q": "jobs", "id": str(job_id), "slug": self._slug, "t": THUMBNAIL_SIZE}
        )

    async def async_get_thumbnail(self) -> bytes | None:
        """Return the server's preview of the current job (PNG), or None.

        Uses the job id of the last poll; None when no job or no preview exists.
        """
        if self._job_id is None:
            return None
        return await self._get_image(self._thumbnail_url(self._job_id))

    async def async_refresh_webcams(self) -> int:
        """Re-read the printer's webcam list (`getPrinterConfig`); return the count."""
        config = await self._client.printer_config(self._slug)
        self._webcams = config.webcams
        return self._webcams

    def snapshot_url(self, cam: int = 0) -> str | None:
        """Return the server's snapshot URL of webcam `cam`, or None.

        Known after `async_get_identity` (or `async_refresh_webcams`). The URL carries
        no key: a server with user accounts needs the key to serve it, so fetch it
        with `async_get_snapshot`.
        """
        if self._webcams is None or not 0 <= cam < self._webcams:
            return None
        return str(self._snapshot_url(cam))

    def _snapshot_url(self, cam: int) -> URL:
        return self._client.base_url.with_path(
            f"/printer/camjpg/{quote(self._slug, safe='')}", encoded=True
        ).with_query({"cam": str(cam)})

    async def async_get_camera_image(self) -> bytes | None:
        """Return a JPEG from the chosen webcam; None if none was chosen or exists."""
        if self._webcam is None:
            return None
        return await self.async_get_snapshot(self._webcam)

    async def async_get_snapshot(self, cam: int = 0) -> bytes | None:
        """Return a JPEG from webcam `cam` through the server, or None if none."""
        if self._webcams is None:
            await self.async_refresh_webcams()
        if self.snapshot_url(cam) is None:
            return None
        return await self._get_image(self._snapshot_url(cam))

    async def _get_image(self, url: URL) -> bytes | None:
        status, content_type, body = await self._client.get(
            url, auth=True, limit=MAX_IMAGE_BODY
        )
        if status in {401, 403}:
            raise PrinterAuthError(
                f"Repetier-Server at {self._client.where} refused the API key"
            )
        if status == 404:
            return None
        if status != 200 or not (content_type or "").startswith("image/"):
            raise PrinterResponseError(
                f"Repetier-Server answered HTTP {status} ({content_type}) "
                f"for {url.path}"
            )
        return body

    def diagnostics(self) -> dict[str, object]:
        """Return non-secret facts about the connection (never the API key)."""
        server = self._server
        return {
            "host": self._host,
            "port": self._port,
            "slug": self._slug,
            "timeout": self._timeout,
            "server_name": None if server is None else server.server_name,
            "server_version": None if server is None else server.version,
            "webcams": self._webcams,
            "webcam": self._webcam,
            "chambers": self._chambers,
            "capabilities": sorted(self.capabilities),
            "last_state": self._last_state,
            "job_id": self._job_id,
            **(self._socket.diagnostics() if self._socket is not None else {}),
        }
