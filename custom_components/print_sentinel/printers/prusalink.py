"""PrusaLink backend (Prusa MK4/MK4S, Core One, XL, MINI) over `pyprusalink`.

The MK4's board is weak: HA core's integration polls five endpoints every 30 s and
users saw it break the printer's Prusa Connect link. This backend reads only
`/api/v1/status` on each poll (it carries state, temperatures and the job's progress);
`/api/v1/job` only when the job id changes (for its name and file); the loaded
material (legacy `/api/printer`) when the job changes and every 10 minutes while no
job runs (during a job the print file says what it prints); `/api/v1/info` and
`/api/version` once, for the device registry.

It also says how soon to poll next (`poll_interval`, used by the coordinator):
the printing interval through a print or a pause (10 s by default: a change
from the printer's own screen shows within that), every `FAST_SECONDS` for a while after a command
and in the job's last minute, the idle interval while idle and twice that once
the printer has been idle for `LONG_IDLE_SECONDS`. One `httpx` Digest auth is kept
for every request, so its nonce is reused for as long as the printer accepts it
(Buddy: until reboot; Raspberry Pi PrusaLink: 60-120 s, then one 401). With
`api_key` (the Raspberry Pi PrusaLink's own key, not the password) every request
carries `X-Api-Key` instead and no challenge is ever needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import json
import logging
import math
import re
import time
from typing import Any
from urllib.parse import urlsplit
import zlib

import httpx
from pyprusalink import PrusaLink
from pyprusalink.client import DigestAuthWorkaround
from pyprusalink.types import Conflict, InvalidAuth, NotFound

from ..validation import normalize_url
from .base import (
    Capability,
    JobSnapshot,
    PrinterAuthError,
    PrinterCommandRefused,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentity,
    PrinterResponseError,
    PrinterSnapshot,
    PrinterState,
    SeenOnce,
    bounded_number,
    bounded_text,
)


def _metadata_parser() -> Callable[[bytes], Mapping[str, Any]] | None:
    """Return pyprusalink's print file metadata parser (3.1.0); None on 3.0.0."""
    try:
        from pyprusalink.file_metadata import parse_file_metadata
    except ImportError:
        return None
    return parse_file_metadata


parse_file_metadata = _metadata_parser()


_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
MATERIAL_REFRESH_SECONDS = 600.0
FAST_SECONDS = 3.0
"""Poll this often after a command and at the end of a job."""
AFTER_COMMAND_SECONDS = 15.0
END_OF_JOB_SECONDS = 60.0
LONG_IDLE_SECONDS = 300.0
"""Idle this long, the printer is polled at twice the idle interval."""
_ACTIVE_STATES = frozenset(
    {PrinterState.PRINTING, PrinterState.PAUSED, PrinterState.ATTENTION}
)
MAX_METADATA_BYTES = 4 * 1024 * 1024
"""Print files above this size are not downloaded for their filament type."""
MAX_JSON_BYTES = 1024 * 1024
"""An API answer above this is not PrusaLink's (the real ones are a few kB)."""
MAX_JSON_DEPTH = 32
"""PrusaLink's answers nest 4 deep; deeper is refused before it is parsed."""
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
"""A job thumbnail above this is refused (PrusaSlicer's are ~100 kB)."""
MAX_INFLATED_BLOCK = 1024 * 1024
"""A bgcode metadata block inflating past this is refused (a deflate bomb)."""
MAX_SECONDS = 10 * 365 * 24 * 3600
"""Print times beyond ten years are nonsense and shown as unknown."""

_STATE_MAP = {state.name: state for state in PrinterState}
_NO_MATERIAL = {"", "-", "--", "---", "NONE", "NULL", "N/A"}
# PrusaSlicer's default output name: {input}_{nozzle}n_{layer}mm_{filament_type}_{printer}_{time}
_FILENAME_MATERIAL = re.compile(
    r"_(PLA|PETG|ASA|ABS|PC|PA|PA11|PA12|PCTG|PVB|HIPS|TPU|FLEX|PP|PVA|CPE|NYLON)(?:[_\-.+]|$)",
    re.IGNORECASE,
)


def normalize_host(host: str) -> str:
    """Turn what a user typed (IP, hostname or URL) into a base URL.

    Raises ValueError for anything that is not a valid http(s) address (a port out
    of range, spaces, a path, an invalid IDNA name).
    """
    return normalize_url(host, allow_path=False)


def normalize_material(value: object) -> str | None:
    """Return the filament type as printers report it (PLA, PETG, ...), or None.

    "Nothing loaded" comes as "---", " - " (MK3S) and the like: only dashes and
    spaces, or a word of no material, is None.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    material = " ".join(value.split()).upper()
    if material in _NO_MATERIAL or not material.strip("- "):
        return None
    return material


def material_from_filename(name: str | None) -> str | None:
    """Guess the filament type from a PrusaSlicer output file name."""
    if not name:
        return None
    match = _FILENAME_MATERIAL.search(name)
    return match.group(1).upper() if match else None


def _number(
    data: Mapping[str, Any], key: str, low: float = -1e6, high: float = 1e6
) -> float | None:
    """A finite number in [low, high], else None (NaN, 1e400, -5 s, 1e300 %)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def _integer(
    data: Mapping[str, Any], key: str, low: float = -1e6, high: float = 1e6
) -> int | None:
    value = _number(data, key, low, high)
    return None if value is None else int(value)


def _job_id(value: object) -> int | None:
    """A job id: a whole number (also written as a string of digits), else None."""
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    number = bounded_number(value, 0, 2**53)
    return None if number is None else int(number)


def _depth_ok(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests at most `limit` deep.

    Brackets in strings count too, which only errs on the safe side.
    """
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name} in JSON")


def parse_json(body: bytes) -> object:
    """Parse a bounded API answer: no NaN/Infinity, no deep nesting; ValueError."""
    text = body.decode("utf-8")
    if not _depth_ok(text):
        raise ValueError("JSON nested too deep")
    return json.loads(text, parse_constant=_reject_constant)


def safe_path(path: object) -> str | None:
    """A path on the printer, or None if it could change the URL's authority."""
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or len(path) > 1024
        or any(char in path for char in "\\@?#")
        or any(ord(char) < 0x21 or ord(char) == 0x7F for char in path)
    ):
        return None
    return path


def bgcode_is_safe(data: bytes) -> bool:
    """Whether every deflated block of a bgcode file inflates to a bounded size."""
    if not data.startswith(b"GCDE") or len(data) < 10:
        return True
    checksum = 4 if int.from_bytes(data[8:10], "little") == 1 else 0
    offset = 10
    while offset + 8 <= len(data):
        block_type = int.from_bytes(data[offset : offset + 2], "little")
        compression = int.from_bytes(data[offset + 2 : offset + 4], "little")
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if block_type == 1:  # G-code: metadata ends here
            return True
        if compression == 0:
            offset += 8
        else:
            if offset + 12 > len(data):
                return True
            size = int.from_bytes(data[offset + 8 : offset + 12], "little")
            offset += 12
        params = 6 if block_type == 5 else 2
        block = data[offset + params : offset + params + size]
        offset += params + size + checksum
        if compression == 1 and block_type != 5:
            inflater = zlib.decompressobj()
            try:
                inflater.decompress(block, MAX_INFLATED_BLOCK)
            except zlib.error:
                continue
            if inflater.unconsumed_tail:
                return False
    return True


class PrusaLinkBackend:
    """A PrusaLink printer."""

    capabilities = frozenset(
        {Capability.MATERIAL, Capability.FAN_RPM, Capability.CONTINUE}
    )
    """PrusaLink reports no layer, no chamber and fans in RPM only."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        host: str,
        username: str,
        password: str,
        *,
        name: str | None = None,
        clock: Callable[[], float] | None = None,
        api_key: str | None = None,
    ) -> None:
        """Initialise with HA's shared httpx client and the printer's credentials.

        `name` is what the user called the printer when adding it (None: its own);
        `api_key` replaces Digest by `X-Api-Key` (ValueError if it cannot be a
        header value).
        """
        if api_key is not None and (
            not api_key
            or len(api_key) > 256
            or any(ord(char) < 0x21 or ord(char) > 0x7E for char in api_key)
        ):
            raise ValueError("an API key is printable ASCII without spaces")
        self._api_key = api_key
        self.host = normalize_host(host)
        self._name = _text(name)
        self._api = PrusaLink(client, self.host, username, password)
        self._http = client
        # pyprusalink's own digest auth when it has one: one nonce for every request
        auth = getattr(self._api.client, "_auth", None)
        self._auth: httpx.Auth = (
            auth
            if isinstance(auth, httpx.Auth)
            else DigestAuthWorkaround(username=username, password=password)
        )
        self._clock = clock or _monotonic
        self._job_id: int | None = None
        self._job: JobSnapshot | None = None
        self._material: str | None = None
        self._material_due = 0.0
        self._command_at = -math.inf
        self._state: PrinterState | None = None
        self._state_since = 0.0
        self._unknown_states = SeenOnce()
        self._identity: PrinterIdentity | None = None

    async def _call[T](self, request: Callable[[], Awaitable[T]]) -> T:
        """Run one API request and map every failure onto our error classes."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await request()
        except InvalidAuth as err:
            raise PrinterAuthError("the printer refused the credentials") from err
        except Conflict as err:
            raise PrinterCommandRefused("the printer refused the command") from err
        except NotFound as err:
            raise PrinterCommandUnsupported(
                "the printer does not know this request"
            ) from err
        except (TimeoutError, httpx.TimeoutException) as err:
            raise PrinterConnectionError("the printer did not answer in time") from err
        except httpx.HTTPStatusError as err:
            raise PrinterResponseError(
                f"the printer answered HTTP {err.response.status_code}"
            ) from err
        except (httpx.TransportError, httpx.InvalidURL, OSError) as err:
            raise PrinterConnectionError(
                f"no connection ({type(err).__name__})"
            ) from err
        except (ValueError, RecursionError) as err:  # JSONDecodeError, bad UTF-8
            raise PrinterResponseError(
                "the printer answered with malformed JSON"
            ) from err
        except (httpx.DecodingError, httpx.TooManyRedirects) as err:
            raise PrinterResponseError(
                f"the printer's answer could not be read: {type(err).__name__}"
            ) from err
        except (httpx.HTTPError, IndexError, KeyError) as err:
            # httpx's Digest auth indexes into the challenge it parses
            raise PrinterResponseError(
                "the printer answered with a malformed HTTP header"
            ) from err

    async def _read(self, path: str, limit: int) -> tuple[int, bytes]:
        """GET a path on the printer, reading at most `limit` bytes of the body."""
        # Streamed here, not through pyprusalink's stream_request (3.1.0 only).
        async with self._http.stream(
            "GET",
            f"{self.host}{path}",
            auth=None if self._api_key else self._auth,
            headers=self._key_header(),
        ) as response:
            if response.status_code in {401, 403}:
                raise InvalidAuth
            if response.status_code == 409:
                raise Conflict
            if response.status_code == 404:
                raise NotFound
            response.raise_for_status()
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise PrinterResponseError(
                    f"the printer's answer to {path} is too large"
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    raise PrinterResponseError(
                        f"the printer's answer to {path} is too large"
                    )
            return response.status_code, bytes(body)

    def _key_header(self) -> dict[str, str] | None:
        return None if self._api_key is None else {"X-Api-Key": self._api_key}

    async def _keyed_command(self, method: str, path: str) -> None:
        """A job command with `X-Api-Key` (pyprusalink only speaks Digest)."""
        response = await self._http.request(
            method, f"{self.host}{path}", headers=self._key_header()
        )
        if response.status_code in {401, 403}:
            raise InvalidAuth
        if response.status_code == 409:
            raise Conflict
        if response.status_code == 404:
            raise NotFound
        response.raise_for_status()

    async def _get_json(self, path: str) -> object:
        """GET an API endpoint: a bounded body parsed into finite JSON.

        None for 204 No Content.
        """

        async def request() -> object:
            status, body = await self._read(path, MAX_JSON_BYTES)
            return None if status == 204 else parse_json(body)

        return await self._call(request)

    async def async_get_identity(self) -> PrinterIdentity:
        """Read version and info; fails with PrinterResponseError if not PrusaLink."""
        try:
            version = await self._get_json("/api/version")
        except PrinterCommandUnsupported as err:
            raise PrinterResponseError("no PrusaLink API at this address") from err
        if not isinstance(version, dict) or "api" not in version:
            raise PrinterResponseError("no PrusaLink API at this address")
        info: object
        try:
            info = await self._get_json("/api/v1/info")
        except PrinterCommandUnsupported:
            info = {}  # very old firmware: /api/version only
        if not isinstance(info, dict):
            raise PrinterResponseError("unexpected /api/v1/info answer")
        serial = _text(info.get("serial"))
        hostname = _text(info.get("hostname")) or _text(version.get("hostname"))
        if hostname and _is_cloud_host(hostname):
            hostname = None  # MK3S: the Prusa Connect server, not this printer
        model = (
            _text(version.get("printer"))
            or _model_from_original(version.get("original"))
            or _model_from_name(info.get("name"))
        )
        self._identity = PrinterIdentity(
            unique_id=serial or hostname or urlsplit(self.host).netloc,
            name=self._name
            or printer_name(_text(info.get("name")), model, serial, hostname),
            model=model,
            serial_number=serial,
            hostname=hostname,
            firmware=_text(version.get("firmware")) or _text(version.get("server")),
            manufacturer="Prusa Research",
            configuration_url=self.host,
        )
        return self._identity

    async def async_poll(self) -> PrinterSnapshot:
        """Read status; job and material only when they may have changed."""
        status = await self._get_json("/api/v1/status")
        if not isinstance(status, dict) or not isinstance(status.get("printer"), dict):
            raise PrinterResponseError("unexpected /api/v1/status answer")
        printer: Mapping[str, Any] = status["printer"]
        state = self._parse_state(printer.get("state"))
        status_job = status.get("job")
        if not isinstance(status_job, dict):
            status_job = {}
        job_id = _job_id(status_job.get("id"))
        if job_id is None and state in _ACTIVE_STATES:
            # a printer still printing prints the job it printed: one answer
            # without a readable id is no end and no new start
            job_id = self._job_id
        job_changed = job_id != self._job_id
        if job_changed:
            # a failed read leaves the old id, so the next poll tries again
            self._job = await self._read_job() if job_id is not None else None
            self._job_id = job_id
        now = self._clock()
        if state is not self._state:
            self._state, self._state_since = state, now
        if job_changed or (job_id is None and now >= self._material_due):
            await self._refresh_material(now)
        job: JobSnapshot | None = None
        if self._job is not None and job_id is not None:
            job = JobSnapshot(
                id=job_id,
                name=self._job.name,
                path=self._job.path,
                thumbnail_path=self._job.thumbnail_path,
                material=self._job.material,
                progress=_number(status_job, "progress", 0, 100),
                time_remaining=_integer(status_job, "time_remaining", 0, MAX_SECONDS),
                time_printing=_integer(status_job, "time_printing", 0, MAX_SECONDS),
            )
        # the print file says what this job prints; the loaded material only
        # stands in when the file does not say
        material = (job.material if job else None) or self._material
        return PrinterSnapshot(
            state=state,
            raw_state=bounded_text(str(printer.get("state")), 64),
            nozzle_temperature=_number(printer, "temp_nozzle", -50, 600),
            nozzle_target=_number(printer, "target_nozzle", 0, 600),
            bed_temperature=_number(printer, "temp_bed", -50, 300),
            bed_target=_number(printer, "target_bed", 0, 300),
            z_height=_number(printer, "axis_z", -50, 10_000),
            print_speed=_integer(printer, "speed", 0, 1000),
            flow=_integer(printer, "flow", 0, 1000),
            fan_hotend=_integer(printer, "fan_hotend", 0, 100_000),
            fan_print=_integer(printer, "fan_print", 0, 100_000),
            material=material,
            job=job,
        )

    def _parse_state(self, raw: object) -> PrinterState:
        if isinstance(raw, str) and (state := _STATE_MAP.get(raw.upper())):
            return state
        if self._unknown_states.add(raw):
            if self._unknown_states.overflowed:
                _LOGGER.warning(
                    "%s reported more printer states Print Sentinel does not know; "
                    "further ones are not logged",
                    self.host,
                )
            else:
                _LOGGER.warning(
                    "%s reported printer state %s, which Print Sentinel does not "
                    "know; showing it as unknown",
                    self.host,
                    self._unknown_states.shorten(raw),
                )
        return PrinterState.UNKNOWN

    async def _read_job(self) -> JobSnapshot | None:
        answer = await self._get_json("/api/v1/job")
        if answer is None:
            return None
        if not isinstance(answer, dict):
            raise PrinterResponseError("unexpected /api/v1/job answer")
        job: Mapping[str, Any] = answer
        file: Mapping[str, Any] = job.get("file") or {}
        if not isinstance(file, dict):
            file = {}
        refs: Mapping[str, Any] = file.get("refs") or {}
        if not isinstance(refs, dict):
            refs = {}
        name = bounded_text(file.get("display_name")) or bounded_text(file.get("name"))
        material = material_from_filename(name)
        download = safe_path(refs.get("download"))
        size = file.get("size")
        if (
            material is None
            and download is not None
            and (not isinstance(size, int) or size <= MAX_METADATA_BYTES)
        ):
            material = await self._material_from_file(download)
        return JobSnapshot(
            id=_integer(job, "id", 0, 2**53),
            name=name,
            path=download,
            thumbnail_path=safe_path(refs.get("thumbnail")),
            material=material,
        )

    async def _material_from_file(self, path: str) -> str | None:
        # pyprusalink 3.0.0 (core prusalink's pin) parses no file metadata: with it
        # the material comes from the file name and the loaded filament only.
        if parse_file_metadata is None:
            return None
        try:
            _, data = await self._call(lambda: self._read(path, MAX_METADATA_BYTES))
        except PrinterError as err:
            _LOGGER.debug("Could not read the print file's metadata: %s", err)
            return None
        if not bgcode_is_safe(data):
            _LOGGER.debug("%s: a metadata block inflates too far; ignored", path)
            return None
        meta = parse_file_metadata(data)
        return normalize_material(meta.get("filament_type"))

    async def _refresh_material(self, now: float) -> None:
        self._material_due = now + MATERIAL_REFRESH_SECONDS
        try:
            legacy = await self._get_json("/api/printer")
        except (
            PrinterCommandUnsupported,
            PrinterResponseError,
            PrinterConnectionError,
        ) as err:
            # optional: the status just answered, so the printer is there; the
            # material stays as it was and the printer stays available
            _LOGGER.debug("No legacy telemetry for the loaded material: %s", err)
            return
        telemetry = legacy.get("telemetry") if isinstance(legacy, dict) else None
        self._material = normalize_material(
            telemetry.get("material") if isinstance(telemetry, dict) else None
        )

    def poll_interval(
        self, snapshot: PrinterSnapshot, printing: float, idle: float
    ) -> float:
        """Seconds until the next poll, given the user's intervals.

        `printing` / `idle` are the configured intervals (10 s / 30 s by default).
        """
        now = self._clock()
        fast = min(printing, FAST_SECONDS)
        if now - self._command_at < AFTER_COMMAND_SECONDS:
            return fast  # the user waits for the command to show
        if snapshot.state in _ACTIVE_STATES:
            remaining = snapshot.job.time_remaining if snapshot.job else None
            if (
                snapshot.state is PrinterState.PRINTING
                and remaining is not None
                and remaining <= END_OF_JOB_SECONDS
            ):
                return fast
            return printing
        if snapshot.state in {PrinterState.BUSY}:
            return printing
        if now - self._state_since >= LONG_IDLE_SECONDS:
            return 2 * idle
        return idle

    async def _job_command(
        self, command: Callable[[int], Awaitable[None]], verb: str
    ) -> None:
        if self._job_id is None:
            raise PrinterCommandRefused("the printer has no job")
        job_id = self._job_id
        self._command_at = self._clock()
        if self._api_key is None:
            await self._call(lambda: command(job_id))
        elif verb == "stop":
            await self._call(
                lambda: self._keyed_command("DELETE", f"/api/v1/job/{job_id}")
            )
        else:
            await self._call(
                lambda: self._keyed_command("PUT", f"/api/v1/job/{job_id}/{verb}")
            )

    async def async_pause(self) -> None:
        """Pause the current job."""
        try:
            await self._job_command(self._api.pause_job, "pause")
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_resume(self) -> None:
        """Resume the paused job."""
        try:
            await self._job_command(self._api.resume_job, "resume")
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_cancel(self) -> None:
        """Cancel the current job."""
        try:
            await self._job_command(self._api.cancel_job, "stop")
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_continue(self) -> None:
        """Acknowledge ATTENTION (older firmware answers 404: unsupported)."""
        await self._job_command(self._api.continue_job, "continue")

    async def async_get_thumbnail(self) -> bytes | None:
        """Return the current job's thumbnail, or None."""
        if self._job is None or not self._job.thumbnail_path:
            return None
        path = self._job.thumbnail_path
        try:
            _, body = await self._call(lambda: self._read(path, MAX_THUMBNAIL_BYTES))
        except PrinterCommandUnsupported:
            return None
        return body

    async def async_get_camera_image(self) -> bytes | None:
        """Buddy-board PrusaLink has no camera API: use a snapshot URL instead."""
        return None

    def diagnostics(self) -> dict[str, object]:
        """Return non-secret facts for diagnostics."""
        return {
            "host": self.host,
            "job_id": self._job_id,
            "material": self._material,
            "unknown_states_seen": self._unknown_states.values(),
        }


CLOUD_HOSTS = ("prusa3d.com", "prusa3d.cz")
"""PrusaLink on a Raspberry Pi (MK3S) reports the Prusa Connect server as hostname."""


def _is_cloud_host(hostname: str) -> bool:
    host = hostname.lower().rstrip(".")
    return any(host == cloud or host.endswith(f".{cloud}") for cloud in CLOUD_HOSTS)


def _text(value: object, limit: int = 128) -> str | None:
    """A non-empty, stripped plain string of bounded length, else None."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    # no control characters or lone surrogates (HA could not store them)
    return bounded_text(" ".join(str(value).split()), limit)


def printer_name(
    name: str | None, model: str | None, serial: str | None, hostname: str | None
) -> str:
    """What a printer is called.

    Its PrusaLink name, else its model and a serial suffix (two MK4S stay apart),
    never a cloud host.
    """
    if name and not _is_cloud_host(name):
        return name
    base = f"Prusa {model}" if model else "Prusa printer"
    if serial:
        return f"{base} {serial[-4:]}"
    return base


def _model_from_original(original: object) -> str | None:
    """`"PrusaLink I3MK3S"` (Raspberry-Pi PrusaLink) -> `"MK3S"`."""
    if not isinstance(original, str):
        return None
    match = re.search(
        r"\b(?:I3)?(MK[0-9][A-Z0-9+]*|MINI\+?|XL|CORE ?ONE)\b", original.upper()
    )
    return match.group(1) if match else None


def _model_from_name(name: object) -> str | None:
    if isinstance(name, str) and name.lower().startswith("prusa "):
        return name[6:].strip() or None
    return None


def _monotonic() -> float:
    return time.monotonic()  # looked up per call, so tests can move time
