"""PrusaLink backend (Prusa MK4/MK4S, Core One, XL, MINI) over `pyprusalink`.

The MK4's board is weak: HA core's integration polls five endpoints every 30 s and
users saw it break the printer's Prusa Connect link. This backend reads only
`/api/v1/status` on each poll (it carries state, temperatures and the job's progress);
`/api/v1/job` only when the job id changes (for its name and file); the loaded
material (legacy `/api/printer`) when the job changes and at a slow cadence
otherwise; `/api/v1/info` and `/api/version` once, for the device registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from pyprusalink import PrusaLink, types as prusalink_types
from pyprusalink.types import Conflict, InvalidAuth, NotFound

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
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
MATERIAL_REFRESH_SECONDS = 600.0
MAX_METADATA_BYTES = 4 * 1024 * 1024
"""Print files above this size are not downloaded for their filament type."""

_STATE_MAP = {state.name: state for state in PrinterState}
_NO_MATERIAL = {"", "---", "NONE", "NULL"}
# PrusaSlicer's default output name: {input}_{nozzle}n_{layer}mm_{filament_type}_{printer}_{time}
_FILENAME_MATERIAL = re.compile(
    r"_(PLA|PETG|ASA|ABS|PC|PA|PA11|PA12|PCTG|PVB|HIPS|TPU|FLEX|PP|PVA|CPE|NYLON)(?:[_\-.+]|$)",
    re.IGNORECASE,
)


def normalize_host(host: str) -> str:
    """Turn what a user typed (IP, hostname or URL) into a base URL."""
    host = host.strip()
    if not host:
        raise ValueError("empty host")
    if "://" not in host:
        host = f"http://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("invalid host")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}"


def normalize_material(value: object) -> str | None:
    """Return the filament type as printers report it (PLA, PETG, ...), or None."""
    if not isinstance(value, str):
        return None
    material = value.strip().upper()
    return None if material in _NO_MATERIAL else material


def material_from_filename(name: str | None) -> str | None:
    """Guess the filament type from a PrusaSlicer output file name."""
    if not name:
        return None
    match = _FILENAME_MATERIAL.search(name)
    return match.group(1).upper() if match else None


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _integer(data: Mapping[str, Any], key: str) -> int | None:
    value = _number(data, key)
    return None if value is None else int(value)


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
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Initialise with HA's shared httpx client and the printer's credentials."""
        self.host = normalize_host(host)
        self._api = PrusaLink(client, self.host, username, password)
        self._clock = clock or _monotonic
        self._job_id: int | None = None
        self._job: JobSnapshot | None = None
        self._material: str | None = None
        self._material_due = 0.0
        self._unknown_states: set[str] = set()
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
                f"cannot reach the printer: {type(err).__name__}"
            ) from err
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise PrinterResponseError(
                "the printer answered with malformed JSON"
            ) from err

    async def async_get_identity(self) -> PrinterIdentity:
        """Read version and info; fails with PrinterResponseError if not PrusaLink."""
        try:
            version = await self._call(self._api.get_version)
        except PrinterCommandUnsupported as err:
            raise PrinterResponseError("no PrusaLink API at this address") from err
        if not isinstance(version, dict) or "api" not in version:
            raise PrinterResponseError("no PrusaLink API at this address")
        info: Mapping[str, Any]
        try:
            info = await self._call(self._api.get_info)
        except PrinterCommandUnsupported:
            info = {}  # very old firmware: /api/version only
        if not isinstance(info, dict):
            raise PrinterResponseError("unexpected /api/v1/info answer")
        serial = info.get("serial") or None
        hostname = info.get("hostname") or version.get("hostname") or None
        model = version.get("printer") or _model_from_name(info.get("name"))
        name = info.get("name") or (f"Prusa {model}" if model else None) or hostname
        self._identity = PrinterIdentity(
            unique_id=str(serial or hostname or urlsplit(self.host).netloc),
            name=str(name or "Prusa printer"),
            model=str(model) if model else None,
            serial_number=str(serial) if serial else None,
            hostname=str(hostname) if hostname else None,
            firmware=version.get("firmware") or version.get("server"),
            manufacturer="Prusa Research",
            configuration_url=self.host,
        )
        return self._identity

    async def async_poll(self) -> PrinterSnapshot:
        """Read status; job and material only when they may have changed."""
        status = await self._call(self._api.get_status)
        if not isinstance(status, dict) or not isinstance(status.get("printer"), dict):
            raise PrinterResponseError("unexpected /api/v1/status answer")
        printer: Mapping[str, Any] = status["printer"]
        state = self._parse_state(printer.get("state"))
        status_job = status.get("job")
        if not isinstance(status_job, dict):
            status_job = {}
        job_id = _integer(status_job, "id")
        job_changed = job_id != self._job_id
        if job_changed:
            # a failed read leaves the old id, so the next poll tries again
            self._job = await self._read_job() if job_id is not None else None
            self._job_id = job_id
        now = self._clock()
        if job_changed or now >= self._material_due:
            await self._refresh_material(now)
        job: JobSnapshot | None = None
        if self._job is not None and job_id is not None:
            job = JobSnapshot(
                id=job_id,
                name=self._job.name,
                path=self._job.path,
                thumbnail_path=self._job.thumbnail_path,
                material=self._job.material,
                progress=_number(status_job, "progress"),
                time_remaining=_integer(status_job, "time_remaining"),
                time_printing=_integer(status_job, "time_printing"),
            )
        material = self._material or (job.material if job else None)
        return PrinterSnapshot(
            state=state,
            raw_state=str(printer.get("state")),
            nozzle_temperature=_number(printer, "temp_nozzle"),
            nozzle_target=_number(printer, "target_nozzle"),
            bed_temperature=_number(printer, "temp_bed"),
            bed_target=_number(printer, "target_bed"),
            z_height=_number(printer, "axis_z"),
            print_speed=_integer(printer, "speed"),
            flow=_integer(printer, "flow"),
            fan_hotend=_integer(printer, "fan_hotend"),
            fan_print=_integer(printer, "fan_print"),
            material=material,
            job=job,
        )

    def _parse_state(self, raw: object) -> PrinterState:
        if isinstance(raw, str) and (state := _STATE_MAP.get(raw.upper())):
            return state
        key = repr(raw)
        if key not in self._unknown_states:
            self._unknown_states.add(key)
            _LOGGER.warning(
                "%s reported printer state %s, which Print Sentinel does not know; "
                "showing it as unknown",
                self.host,
                key,
            )
        return PrinterState.UNKNOWN

    async def _read_job(self) -> JobSnapshot | None:
        answer = await self._call(self._api.get_job)
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
        name = file.get("display_name") or file.get("name")
        material = material_from_filename(name)
        download = refs.get("download")
        size = file.get("size")
        if (
            material is None
            and isinstance(download, str)
            and (not isinstance(size, int) or size <= MAX_METADATA_BYTES)
        ):
            material = await self._material_from_file(download)
        return JobSnapshot(
            id=_integer(job, "id"),
            name=str(name) if name else None,
            path=download if isinstance(download, str) else None,
            thumbnail_path=refs.get("thumbnail")
            if isinstance(refs.get("thumbnail"), str)
            else None,
            material=material,
        )

    async def _material_from_file(self, path: str) -> str | None:
        # pyprusalink 3.0.0 (core prusalink's pin) reads no file metadata: with it the
        # material comes from the file name and the loaded filament only.
        read_metadata = getattr(self._api, "get_file_metadata", None)
        if read_metadata is None:
            return None
        try:
            meta = await self._call(
                lambda: read_metadata(path, max_bytes=MAX_METADATA_BYTES)
            )
        except getattr(prusalink_types, "FileTooLarge", ()):
            return None
        except PrinterError as err:
            _LOGGER.debug("Could not read the print file's metadata: %s", err)
            return None
        return normalize_material(meta.get("filament_type"))

    async def _refresh_material(self, now: float) -> None:
        self._material_due = now + MATERIAL_REFRESH_SECONDS
        try:
            legacy = await self._call(self._api.get_legacy_printer)
        except (PrinterCommandUnsupported, PrinterResponseError) as err:
            _LOGGER.debug("No legacy telemetry for the loaded material: %s", err)
            return
        telemetry = legacy.get("telemetry") if isinstance(legacy, dict) else None
        self._material = normalize_material(
            telemetry.get("material") if isinstance(telemetry, dict) else None
        )

    async def _job_command(self, command: Callable[[int], Awaitable[None]]) -> None:
        if self._job_id is None:
            raise PrinterCommandRefused("the printer has no job")
        job_id = self._job_id
        await self._call(lambda: command(job_id))

    async def async_pause(self) -> None:
        """Pause the current job."""
        try:
            await self._job_command(self._api.pause_job)
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_resume(self) -> None:
        """Resume the paused job."""
        try:
            await self._job_command(self._api.resume_job)
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_cancel(self) -> None:
        """Cancel the current job."""
        try:
            await self._job_command(self._api.cancel_job)
        except PrinterCommandUnsupported as err:
            raise PrinterCommandRefused("the job is gone") from err

    async def async_continue(self) -> None:
        """Acknowledge ATTENTION (older firmware answers 404: unsupported)."""
        await self._job_command(self._api.continue_job)

    async def async_get_thumbnail(self) -> bytes | None:
        """Return the current job's thumbnail, or None."""
        if self._job is None or not self._job.thumbnail_path:
            return None
        path = self._job.thumbnail_path
        try:
            return await self._call(lambda: self._api.get_file(path))
        except PrinterCommandUnsupported:
            return None

    async def async_get_camera_image(self) -> bytes | None:
        """Buddy-board PrusaLink has no camera API: use a snapshot URL instead."""
        return None

    def diagnostics(self) -> dict[str, object]:
        """Return non-secret facts for diagnostics."""
        return {
            "host": self.host,
            "job_id": self._job_id,
            "material": self._material,
            "unknown_states_seen": sorted(self._unknown_states),
        }


def _model_from_name(name: object) -> str | None:
    if isinstance(name, str) and name.lower().startswith("prusa "):
        return name[6:].strip() or None
    return None


def _monotonic() -> float:
    return time.monotonic()  # looked up per call, so tests can move time
