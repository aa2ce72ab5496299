"""Hostile and unusual PrusaLink answers (issue 10), against the simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
import json
import struct
from typing import Any
import zlib

from aiohttp import web
from homeassistant.helpers.json import json_bytes
import httpx
import pytest

from custom_components.print_sentinel.printers.base import (
    PrinterResponseError,
    PrinterState,
)
from custom_components.print_sentinel.printers.prusalink import (
    MATERIAL_REFRESH_SECONDS,
    MAX_JSON_BYTES,
    PrusaLinkBackend,
    bgcode_is_safe,
    normalize_material,
)
from custom_components.print_sentinel.validation import normalize_url

from .conftest import PRINTER_PASSWORD
from .test_prusalink_edges import OddPrusaLink

pytestmark = pytest.mark.usefixtures("socket_enabled")


class HostilePrusaLink(OddPrusaLink):
    """OddPrusaLink that can answer a raw status body or thumbnail."""

    def __init__(self) -> None:
        """Plain until a switch is set."""
        super().__init__()
        self.status_raw: bytes | None = None
        self.thumbnail_raw: bytes | None = None
        self.legacy_resets = False
        """`/api/printer` (read for the loaded material only) drops the connection."""
        self.status_rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        """Rewrite `/api/v1/status`'s body."""

    async def _status_raw_or_real(self, request: web.Request) -> web.Response:
        if self.status_raw is not None:
            return web.Response(body=self.status_raw, content_type="application/json")
        return await super()._status(request)

    async def _legacy_printer(self, request: web.Request) -> web.Response:
        if self.legacy_resets:
            assert request.transport is not None
            request.transport.close()  # the connection drops, no answer at all
        return await super()._legacy_printer(request)

    async def _status(self, request: web.Request) -> web.Response:
        if self.status_rewrite is not None:
            response = await super()._status(request)
            assert isinstance(response, web.Response) and response.text is not None
            return web.json_response(self.status_rewrite(json.loads(response.text)))
        return await self._status_raw_or_real(request)

    async def _thumbnail(self, request: web.Request) -> web.Response:
        if self.thumbnail_raw is not None:
            return web.Response(body=self.thumbnail_raw, content_type="image/png")
        return await super()._thumbnail(request)


@pytest.fixture
async def sim() -> AsyncGenerator[HostilePrusaLink]:
    printer = HostilePrusaLink()
    await printer.start(host="127.0.0.1", port=0)
    yield printer
    await printer.stop()


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def _backend(client: httpx.AsyncClient, sim: HostilePrusaLink) -> PrusaLinkBackend:
    return PrusaLinkBackend(client, sim.url, "maker", PRINTER_PASSWORD)


async def test_mk3s_identity_is_not_named_after_prusa_connect(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.version_answer = {"api": "0.9.0", "original": "PrusaLink I3MK3S"}
    sim.info_answer = {
        "name": "",
        "location": "",
        "hostname": "connect.prusa3d.com",
        "serial": "CZPX4720X004XK12345",
    }
    identity = await _backend(client, sim).async_get_identity()
    assert identity.name == "Prusa MK3S 2345"
    assert identity.model == "MK3S"
    assert identity.hostname is None
    assert identity.unique_id == "CZPX4720X004XK12345"


async def test_user_name_overrides_identity(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    backend = PrusaLinkBackend(
        client, sim.url, "maker", PRINTER_PASSWORD, name="Left MK4S"
    )
    assert (await backend.async_get_identity()).name == "Left MK4S"


def test_dash_material_is_nothing_loaded() -> None:
    assert normalize_material(" - ") is None
    assert normalize_material("---") is None
    assert normalize_material(" petg ") == "PETG"


async def test_file_material_wins_over_a_dash_telemetry(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode", material="PETG")
    sim.set_material(" - ")
    snapshot = await _backend(client, sim).async_poll()
    assert snapshot.material == "PETG"


async def test_a_file_name_no_utf8_can_hold_becomes_writable_text(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    """JSON may escape a lone surrogate; HA could not write it into a state."""
    sim.start_job("Benchy\ud800_PETG.bgcode", material="PETG")
    snapshot = await _backend(client, sim).async_poll()
    assert snapshot.job is not None
    assert snapshot.job.name == "Benchy _PETG.bgcode"
    assert json_bytes({"job": snapshot.job.name})


async def test_a_failing_material_read_keeps_the_printer_available(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    """`/api/printer` is read for the material alone; its failure is no outage."""
    sim.set_material("PETG")
    clock = [0.0]
    backend = PrusaLinkBackend(
        client, sim.url, "maker", PRINTER_PASSWORD, clock=lambda: clock[0]
    )
    assert (await backend.async_poll()).material == "PETG"

    sim.legacy_resets = True
    clock[0] += MATERIAL_REFRESH_SECONDS  # the periodic material read is due
    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.IDLE
    assert snapshot.material == "PETG"  # what was read last stays
    sim.legacy_resets = False
    sim.set_material("PLA")
    clock[0] += MATERIAL_REFRESH_SECONDS
    assert (await backend.async_poll()).material == "PLA"


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda job: {**job, "id": str(job["id"])},  # the id written as a string
        lambda job: {k: v for k, v in job.items() if k != "id"},  # no id this once
    ],
    ids=["id-as-string", "id-missing"],
)
async def test_a_job_id_read_differently_once_is_the_same_job(
    client: httpx.AsyncClient,
    sim: HostilePrusaLink,
    rewrite: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """No end and no new start (no false cancelled / started events)."""
    job_id = sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode")
    backend = _backend(client, sim)
    first = await backend.async_poll()
    assert first.job is not None
    assert first.job.id == job_id
    job_reads = sim.count("/api/v1/job")

    sim.status_rewrite = lambda body: {**body, "job": rewrite(body["job"])}
    odd = await backend.async_poll()
    sim.status_rewrite = None
    again = await backend.async_poll()

    for snapshot in (odd, again):
        assert snapshot.state is PrinterState.PRINTING
        assert snapshot.job is not None
        assert snapshot.job.id == job_id
        assert snapshot.job.name == first.job.name
    assert sim.count("/api/v1/job") == job_reads  # nothing new to read


async def test_deep_json_is_a_response_error(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.status_raw = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(PrinterResponseError):
        await _backend(client, sim).async_poll()


async def test_huge_body_is_refused_without_reading_it_whole(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.status_raw = b" " * (MAX_JSON_BYTES + 10) + b"{}"
    with pytest.raises(PrinterResponseError, match="too large"):
        await _backend(client, sim).async_poll()


async def test_nan_and_infinity_constants_are_refused(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.status_raw = b'{"printer": {"state": "IDLE", "temp_nozzle": NaN}}'
    with pytest.raises(PrinterResponseError):
        await _backend(client, sim).async_poll()


async def test_non_finite_and_out_of_range_numbers_are_unknown(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    job_id = sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode")
    sim.status_raw = (
        json.dumps(
            {
                "printer": {"state": "PRINTING", "temp_bed": 60.0, "speed": 10**400},
                "job": {
                    "id": job_id,
                    "progress": 1e300,
                    "time_remaining": 1e12,
                    "time_printing": -5,
                },
            }
        )
        .encode()
        .replace(b"60.0", b"1e400")
    )
    snapshot = await _backend(client, sim).async_poll()
    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.bed_temperature is None
    assert snapshot.print_speed is None
    assert snapshot.job is not None
    assert snapshot.job.progress is None
    assert snapshot.job.time_remaining is None
    assert snapshot.job.time_printing is None


async def test_thumbnail_ref_with_an_authority_is_not_fetched(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode")

    def steal(job: dict) -> dict:
        job["file"]["refs"]["thumbnail"] = "@127.0.0.1:1/steal.png"
        return job

    sim.job_rewrite = steal
    backend = _backend(client, sim)
    await backend.async_poll()
    assert await backend.async_get_thumbnail() is None


async def test_huge_thumbnail_is_refused(
    client: httpx.AsyncClient, sim: HostilePrusaLink
) -> None:
    sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode")
    sim.thumbnail_raw = b"\x89PNG" + b"\0" * (3 * 1024 * 1024)
    backend = _backend(client, sim)
    await backend.async_poll()
    with pytest.raises(PrinterResponseError, match="too large"):
        await backend.async_get_thumbnail()


def _bgcode(block: bytes, uncompressed: int) -> bytes:
    header = b"GCDE" + struct.pack("<IH", 1, 0)
    block_header = struct.pack("<HHII", 2, 1, uncompressed, len(block))
    return header + block_header + struct.pack("<H", 0) + block


def test_bgcode_deflate_bomb_is_detected() -> None:
    bomb = zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    assert not bgcode_is_safe(_bgcode(bomb, 1000))
    small = zlib.compress(b"filament_type=PETG\n")
    assert bgcode_is_safe(_bgcode(small, 19))


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1:99999",
        "http://exa mple:abc/",
        "http://xn--ls8h.la",
        "http://h:0",
        "",
        "http://printer/\x7f",
        "http://printer\x1b/",
        "10.0.0.300",  # a mistyped IP is no host name either
        "999.1.1.1",
        "http://1.2.3/",
    ],
)
def test_invalid_addresses_raise(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(value, allow_path=False)


def test_valid_addresses() -> None:
    assert (
        normalize_url("192.168.1.5:8080", allow_path=False) == "http://192.168.1.5:8080"
    )
    assert normalize_url("http://u:p@[::1]:80/x", allow_path=False) == "http://[::1]:80"
    assert normalize_url("fe80::1", allow_path=False) == "http://[fe80::1]"
    assert normalize_url("::1") == "http://[::1]"
    assert normalize_url("mk4-2.local", allow_path=False) == "http://mk4-2.local"
    # not the RFC's, but what home routers hand out
    assert normalize_url("My_Printer.local") == "http://my_printer.local"
    assert normalize_url("http://cam:81/snap.jpg?a=1") == "http://cam:81/snap.jpg?a=1"


async def test_many_long_unknown_states_are_logged_and_kept_bounded(
    client: httpx.AsyncClient,
    sim: HostilePrusaLink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """50 unknown 2 KB states: a bounded number of short log lines and diagnostics."""
    backend = _backend(client, sim)
    for index in range(50):
        state = f"WEIRD{index:02d}" + "x" * 2000
        sim.status_raw = json.dumps({"printer": {"state": state}}).encode()
        snapshot = await backend.async_poll()
        assert snapshot.state is PrinterState.UNKNOWN
        await backend.async_poll()  # the same state again: not logged again
    lines = [r.getMessage() for r in caplog.records if "state" in r.getMessage()]
    assert 1 < len(lines) <= 21
    assert all(len(line) < 400 for line in lines)
    assert "further ones are not logged" in lines[-1]
    seen = backend.diagnostics()["unknown_states_seen"]
    assert 0 < len(seen) <= 20
    assert all(len(value) <= 64 for value in seen)
