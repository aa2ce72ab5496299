"""The PrusaLink simulator, driven by the real pyprusalink client over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import hashlib
import io
import json
import re
import struct
import time
from typing import Any, cast
import zlib

import httpx
from PIL import Image
from pyprusalink import PrusaLink
from pyprusalink.types import Conflict, InvalidAuth, NotFound, PrinterStatus
import pytest

from simulators.prusalink import (
    DEFAULT_SERIAL,
    JobConflictError,
    JobNotFoundError,
    PrusaLinkSimulator,
)
from simulators.prusalink.__main__ import parse_args
from simulators.scene import Scene, read_scene

PASSWORD = "s3cret-pw"

# phcc blocks creating sockets; connecting stays limited to 127.0.0.1
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


@pytest.fixture
async def sim() -> AsyncGenerator[PrusaLinkSimulator]:
    simulator = PrusaLinkSimulator(password=PASSWORD, finished_hold=120)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def api(sim: PrusaLinkSimulator, http: httpx.AsyncClient) -> PrusaLink:
    return PrusaLink(http, sim.url, "maker", PASSWORD)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest_header(method: str, uri: str, nonce: str, password: str = PASSWORD) -> str:
    ha1 = _md5(f"maker:Printer API:{password}")
    response = _md5(f"{ha1}:{nonce}:{_md5(f'{method}:{uri}')}")
    return (
        f'Digest username="maker", realm="Printer API", nonce="{nonce}", '
        f'uri="{uri}", response="{response}"'
    )


def _bgcode_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """Walk a .bgcode file checking every CRC32; return (type, params+payload)."""
    assert data[:4] == b"GCDE"
    version, checksum = struct.unpack_from("<IH", data, 4)
    assert (version, checksum) == (1, 1)
    offset, blocks = 10, []
    while offset < len(data):
        block_type, compression, size = struct.unpack_from("<HHI", data, offset)
        header = 8
        stored = size
        if compression:
            stored = struct.unpack_from("<I", data, offset + 8)[0]
            header = 12
        params = 6 if block_type == 5 else 2
        end = offset + header + params + stored
        (crc,) = struct.unpack_from("<I", data, end)
        assert crc == zlib.crc32(data[offset:end])
        payload = data[offset + header + params : end]
        if compression == 1:
            payload = zlib.decompress(payload)
            assert len(payload) == size
        blocks.append(
            (block_type, data[offset + header : offset + header + params] + payload)
        )
        offset = end + 4
    return blocks


def _state(status: PrinterStatus) -> str:
    """Return the state string (pyprusalink types it as an Enum; the JSON has a str)."""
    return cast(str, cast(dict[str, Any], status["printer"])["state"])


async def _wait_until(predicate: Callable[[], bool], within: float = 3.0) -> bool:
    """Poll `predicate` until true; return whether it became true in time."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


# --- auth ----------------------------------------------------------------------


async def test_digest_client_needs_one_challenge_then_one_request_per_call(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    await api.get_version()
    await api.get_status()
    await api.get_info()

    assert sim.counts() == {
        ("GET", "/api/version", 401): 1,
        ("GET", "/api/version", 200): 1,
        ("GET", "/api/v1/status", 200): 1,
        ("GET", "/api/v1/info", 200): 1,
    }


async def test_challenge_looks_like_buddy_firmware(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{sim.url}/api/v1/status")

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert re.fullmatch(
        r'Digest realm="Printer API", nonce="[0-9a-f]{16}", stale=false', challenge
    )


async def test_wrong_password_is_refused(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    api = PrusaLink(http, sim.url, "maker", "wrong")

    with pytest.raises(InvalidAuth):
        await api.get_status()
    assert sim.count(status=401) == 2  # challenge, then the refused answer
    assert sim.count(status=200) == 0


async def test_digest_response_is_bound_to_uri_method_and_password(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    nonce = sim.auth.nonce
    good = _digest_header("GET", "/api/v1/info", nonce)

    ok = await http.get(f"{sim.url}/api/v1/info", headers={"Authorization": good})
    other_path = await http.get(
        f"{sim.url}/api/v1/status", headers={"Authorization": good}
    )
    other_method = await http.put(
        f"{sim.url}/api/v1/info", headers={"Authorization": good}
    )
    bad_pw = await http.get(
        f"{sim.url}/api/v1/info",
        headers={"Authorization": _digest_header("GET", "/api/v1/info", nonce, "x")},
    )
    foreign_nonce = await http.get(
        f"{sim.url}/api/v1/info",
        headers={"Authorization": _digest_header("GET", "/api/v1/info", "0" * 16)},
    )

    assert ok.status_code == 200
    assert other_path.status_code == 401
    assert other_method.status_code in {401, 405}
    assert bad_pw.status_code == 401
    assert foreign_nonce.status_code == 401
    assert "stale=true" in foreign_nonce.headers["WWW-Authenticate"]


async def test_api_key_header_authenticates(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    ok = await http.get(f"{sim.url}/api/v1/status", headers={"X-Api-Key": PASSWORD})
    bad = await http.get(f"{sim.url}/api/v1/status", headers={"X-Api-Key": "nope"})

    assert ok.status_code == 200
    assert ok.json()["printer"]["state"] == "IDLE"
    assert bad.status_code == 401
    assert sim.count("/api/v1/status") == 2


async def test_digest_with_qop_auth() -> None:
    async with (
        PrusaLinkSimulator(password=PASSWORD, digest_qop=True) as sim,
        httpx.AsyncClient(timeout=5) as http,
    ):
        challenge = (await http.get(f"{sim.url}/api/version")).headers[
            "WWW-Authenticate"
        ]
        good = await http.get(
            f"{sim.url}/api/version", auth=httpx.DigestAuth("maker", PASSWORD)
        )
        bad = await http.get(
            f"{sim.url}/api/version", auth=httpx.DigestAuth("maker", "wrong")
        )
        # pyprusalink follows qop too when the printer offers it
        status = await PrusaLink(http, sim.url, "maker", PASSWORD).get_status()

    assert 'qop="auth"' in challenge
    assert good.status_code == 200
    assert bad.status_code == 401
    assert _state(status) == "IDLE"


# --- payloads ------------------------------------------------------------------


async def test_version_has_firmware_fields_unless_old_firmware(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    version = await api.get_version()
    sim.set_old_firmware()
    old = await api.get_version()

    assert version == {
        "api": "2.0.0",
        "server": "2.1.2",
        "nozzle_diameter": 0.4,
        "text": "PrusaLink",
        "hostname": "prusa-mk4s",
        "capabilities": {"upload-by-put": True},
        "firmware": "6.5.3+12648",
        "printer": "MK4S",
    }
    assert "firmware" not in old
    assert "printer" not in old
    assert old["api"] == "2.0.0"


async def test_info_identifies_the_printer(api: PrusaLink) -> None:
    info = await api.get_info()

    assert info["serial"] == DEFAULT_SERIAL
    assert re.fullmatch(r"\d{5}-\d{16}", info["serial"])
    assert info["name"] == "Prusa MK4S"
    assert info["hostname"] == "prusa-mk4s"
    assert info["nozzle_diameter"] == 0.4
    assert info["mmu"] is False


async def test_idle_status_has_no_job(api: PrusaLink) -> None:
    status = cast(dict[str, Any], await api.get_status())

    assert "job" not in status
    assert "status_connect" not in status["printer"]
    assert "camera" not in status
    assert status["storage"] == {"path": "/usb/", "name": "usb", "read_only": False}
    printer = status["printer"]
    assert printer["state"] == "IDLE"
    assert printer["target_nozzle"] == 0.0
    assert 15 < printer["temp_nozzle"] < 30
    assert {
        "axis_x",
        "axis_y",
        "axis_z",
        "flow",
        "speed",
        "fan_hotend",
        "fan_print",
    } <= set(printer)
    assert await api.get_job() is None


async def test_printing_status_and_job_payload(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    job_id = sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode", "PETG", 7800)
    sim.advance(780)

    status = cast(dict[str, Any], await api.get_status())
    job = await api.get_job()

    assert status["job"] == {
        "id": job_id,
        "progress": 10.0,
        "time_remaining": 7020,
        "time_printing": 780,
    }
    printer = status["printer"]
    assert printer["state"] == "PRINTING"
    assert (printer["target_nozzle"], printer["target_bed"]) == (240.0, 85.0)
    assert abs(printer["temp_nozzle"] - 240.0) < 1
    assert printer["axis_z"] > 0.2
    assert "axis_x" not in printer  # only reported while the printer stands still
    assert printer["fan_print"] > 0
    assert job is not None
    assert job["id"] == job_id
    assert job["state"] == "PRINTING"
    assert job["time_printing"] == 780
    file = job["file"]
    assert file is not None
    assert file["name"] == "BENCHY~1.BGC"
    assert file["display_name"] == "Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode"
    assert file["path"] == "/usb"
    assert file["m_timestamp"] > 1_700_000_000
    assert "meta" not in file
    assert file["refs"] == {
        "icon": "/thumb/s/usb/BENCHY~1.BGC",
        "thumbnail": "/thumb/l/usb/BENCHY~1.BGC",
        "download": "/usb/BENCHY~1.BGC",
    }
    download = await api.get_file(file["refs"]["download"])
    assert file["size"] == len(download)


async def test_legacy_printer_reports_material_and_flags(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    idle = await api.get_legacy_printer()
    sim.start_job("Part.bgcode", "ASA", 1800)
    sim.advance(100)
    printing = await api.get_legacy_printer()
    sim.set_material(None)
    unloaded = await api.get_legacy_printer()

    assert idle["telemetry"] is not None
    assert idle["telemetry"]["material"] == "---"
    raw = cast(dict[str, Any], printing)
    assert raw["telemetry"] == {
        "temp-bed": raw["temperature"]["bed"]["actual"],
        "temp-nozzle": raw["temperature"]["tool0"]["actual"],
        "print-speed": 100,
        "z-height": raw["telemetry"]["z-height"],
        "material": "ASA",
    }
    assert raw["telemetry"]["z-height"] > 0
    assert raw["temperature"]["tool0"]["target"] == 260.0
    assert raw["temperature"]["bed"]["target"] == 105.0
    assert raw["state"]["text"] == "Printing"
    assert raw["state"]["flags"]["printing"] is True
    assert raw["state"]["flags"]["operational"] is False
    assert cast(dict[str, Any], idle)["state"]["flags"]["operational"] is True
    assert unloaded["telemetry"] is not None
    assert unloaded["telemetry"]["material"] == "---"


async def test_any_state_string_is_reported_as_set(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    seen = {}
    for state in ("HEATING_UP", "UNKNOWN", "ERROR", "ATTENTION", "BUSY"):
        sim.set_state(state)
        seen[state] = (
            _state(await api.get_status()),
            cast(dict[str, Any], await api.get_legacy_printer())["state"],
        )

    assert {state: status for state, (status, _) in seen.items()} == {
        state: state for state in seen
    }
    assert seen["ERROR"][1]["text"] == "Error"
    assert seen["ERROR"][1]["flags"]["error"] is True
    assert seen["HEATING_UP"][1]["text"] == "Heating Up"


# --- job lifecycle -----------------------------------------------------------------


async def test_job_finishes_then_printer_goes_idle(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    job_id = sim.start_job(duration=3600)
    sim.advance(900)
    quarter = await api.get_status()
    sim.advance(2760)  # past the end: finished 60 s ago
    finished = await api.get_job()
    sim.advance(59)
    held = await api.get_status()
    sim.advance(1)  # finished_hold (120 s) counts from the end of the print
    idle = await api.get_status()

    assert quarter["job"] == {
        "id": job_id,
        "progress": 25.0,
        "time_remaining": 2700,
        "time_printing": 900,
    }
    assert finished is not None
    assert (finished["state"], finished["progress"]) == ("FINISHED", 100.0)
    assert (finished["time_printing"], finished["time_remaining"]) == (3600, 0)
    assert _state(held) == "FINISHED"
    assert held["printer"]["target_nozzle"] == 0.0
    assert held["job"]["progress"] == 100.0
    assert _state(idle) == "IDLE"
    assert "job" not in idle
    assert await api.get_job() is None


async def test_pause_resume_cancel_through_the_api(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    job_id = sim.start_job(duration=3600)
    sim.advance(60)

    await api.pause_job(job_id)
    assert sim.state == "PAUSED"
    with pytest.raises(Conflict):
        await api.pause_job(job_id)
    sim.advance(600)  # no progress while paused
    paused = await api.get_job()
    assert paused is not None
    assert (paused["state"], paused["time_printing"]) == ("PAUSED", 60)

    await api.resume_job(job_id)
    assert sim.state == "PRINTING"
    with pytest.raises(Conflict):
        await api.resume_job(job_id)
    with pytest.raises(NotFound):
        await api.pause_job(job_id + 1)

    await api.cancel_job(job_id)
    assert sim.state == "STOPPED"
    with pytest.raises(Conflict):
        await api.cancel_job(job_id)
    stopped = await api.get_job()
    assert stopped is not None
    assert stopped["state"] == "STOPPED"
    sim.advance(120)
    assert await api.get_job() is None
    with pytest.raises(NotFound):
        await api.cancel_job(job_id)
    assert sim.count(method="PUT", status=204) == 2
    assert sim.count(f"/api/v1/job/{job_id}", method="DELETE", status=204) == 1
    assert sim.count(status=409) == 3


async def test_continue_acknowledges_attention_unless_old_firmware(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    job_id = sim.start_job()
    with pytest.raises(Conflict):
        await api.continue_job(job_id)
    sim.set_state("ATTENTION")
    await api.continue_job(job_id)
    assert sim.state == "PRINTING"

    sim.set_state("ATTENTION")
    sim.set_old_firmware()
    with pytest.raises(NotFound):
        await api.continue_job(job_id)
    assert sim.state == "ATTENTION"
    await api.cancel_job(job_id)  # a job waiting for attention can be stopped
    assert sim.state == "STOPPED"


async def test_control_methods_share_the_state_machine(sim: PrusaLinkSimulator) -> None:
    with pytest.raises(JobNotFoundError):
        sim.resume()
    sim.start_job()
    sim.pause()
    with pytest.raises(JobConflictError):
        sim.pause()
    sim.resume()
    sim.cancel()

    assert sim.state == "STOPPED"


async def test_reboot_loses_job_and_nonce(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    sim.start_job()
    await api.get_status()
    old_nonce = sim.auth.nonce
    sim.reset_counters()

    sim.reboot()
    status = await api.get_status()

    assert sim.auth.nonce != old_nonce
    assert _state(status) == "IDLE"
    assert "job" not in status
    assert sim.counts() == {
        ("GET", "/api/v1/status", 401): 1,  # stale nonce
        ("GET", "/api/v1/status", 200): 1,
    }


# --- files ----------------------------------------------------------------------


async def test_file_metadata_yields_the_material(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    sim.start_job("Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode", "PETG", 7800)
    job = await api.get_job()
    assert job is not None
    assert job["file"] is not None
    download = job["file"]["refs"]["download"]

    metadata = await api.get_file_metadata(download)
    raw = await api.get_file(download)

    assert metadata["filament_type"] == "PETG"
    assert metadata["estimated_printing_time_normal"] == 7800
    blocks = _bgcode_blocks(raw)
    types = [block_type for block_type, _ in blocks]
    assert types == [0, 3, 5, 5, 4, 2, 1]
    thumbnail = blocks[3][1]
    assert struct.unpack_from("<HHH", thumbnail) == (0, 313, 173)
    assert Image.open(io.BytesIO(thumbnail[6:])).size == (313, 173)


async def test_text_gcode_metadata(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    sim.start_job("Clip_0.6n_0.25mm_PLA_MK4S_31m.gcode", "PLA", 1860)
    job = await api.get_job()
    assert job is not None
    assert job["file"] is not None

    metadata = await api.get_file_metadata(job["file"]["refs"]["download"])

    assert job["file"]["name"] == "CLIP_0~1.GCO"
    assert metadata["filament_type"] == "PLA"
    assert metadata["estimated_printing_time_normal"] == 1860


async def test_print_file_can_weigh_like_a_real_one() -> None:
    async with (
        PrusaLinkSimulator(password=PASSWORD, print_file_size=400_000) as sim,
        httpx.AsyncClient(timeout=5) as http,
    ):
        sim.start_job("Big.bgcode", "PC", 3600)
        api = PrusaLink(http, sim.url, "maker", PASSWORD)
        job = await api.get_job()
        assert job is not None
        assert job["file"] is not None
        metadata = await api.get_file_metadata(job["file"]["refs"]["download"])

    assert 390_000 < job["file"]["size"] < 410_000
    assert metadata["filament_type"] == "PC"


async def test_thumbnails_are_png(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    sim.start_job()
    job = await api.get_job()
    assert job is not None
    assert job["file"] is not None
    refs = job["file"]["refs"]

    icon = Image.open(io.BytesIO(await api.get_file(refs["icon"])))
    thumb = Image.open(io.BytesIO(await api.get_file(refs["thumbnail"])))

    assert (icon.format, icon.size) == ("PNG", (16, 16))
    assert (thumb.format, thumb.size) == ("PNG", (313, 173))
    with pytest.raises(NotFound):
        await api.get_file("/thumb/l/usb/NOSUCH~1.BGC")


# --- faults ---------------------------------------------------------------------


async def test_offline_refuses_connections_then_comes_back_on_same_port(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    await api.get_status()  # leaves a keep-alive connection in the pool
    port = sim.host_port[1]

    await sim.go_offline()
    with pytest.raises(httpx.ConnectError):
        await api.get_status()
    assert not sim.online

    await sim.come_back()
    status = await api.get_status()

    assert sim.host_port[1] == port
    assert _state(status) == "IDLE"


async def test_hang_makes_clients_time_out(sim: PrusaLinkSimulator) -> None:
    sim.faults.hang = True
    async with httpx.AsyncClient(timeout=0.2) as http:
        api = PrusaLink(http, sim.url, "maker", PASSWORD)
        with pytest.raises(httpx.ReadTimeout):
            await api.get_status()
        sim.faults.clear()
        status = await api.get_status()

    assert _state(status) == "IDLE"
    assert sim.count("/api/v1/status", status=0) == 1


async def test_slow_answers(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    await api.get_status()
    sim.faults.delay = 0.2
    start = time.monotonic()
    await api.get_status()

    assert time.monotonic() - start >= 0.2


async def test_malformed_json(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    sim.faults.malformed_json = True

    with pytest.raises(json.JSONDecodeError):
        await api.get_status()
    with pytest.raises(json.JSONDecodeError):
        await api.get_legacy_printer()
    sim.faults.malformed_json = False
    assert _state(await api.get_status()) == "IDLE"


async def test_omitted_optional_fields(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    sim.faults.omit_optional = True

    printer = (await api.get_status())["printer"]

    assert set(printer) == {
        "state",
        "temp_nozzle",
        "target_nozzle",
        "temp_bed",
        "target_bed",
        "axis_z",
    }


async def test_server_errors_and_refusing_everyone(
    sim: PrusaLinkSimulator, api: PrusaLink
) -> None:
    sim.faults.server_error = True
    with pytest.raises(httpx.HTTPStatusError) as err:
        await api.get_status()
    assert err.value.response.status_code == 500

    sim.faults.clear()
    sim.faults.unauthorized = True
    with pytest.raises(InvalidAuth):
        await api.get_status()

    sim.faults.clear()
    assert _state(await api.get_status()) == "IDLE"


# --- camera ---------------------------------------------------------------------


async def test_camera_shows_scene_and_scripted_failure(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    async def seen() -> Scene:
        response = await http.get(sim.snapshot_url)  # no auth, like an ESP32 cam
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        return read_scene(response.content)

    sim.set_scene(Scene(failure=10, kind="none"))
    sim.script_failure(start=600, kind="spaghetti", score=80, ramp=400)
    idle = await seen()
    sim.start_job(duration=3600)
    sim.advance(599)
    before = await seen()
    sim.advance(201)  # 200 s into the failure: half way
    growing = await seen()
    sim.advance(1000)
    grown = await seen()

    assert idle == Scene(failure=10, kind="none")
    assert before == Scene(failure=10, kind="none")
    assert growing.kind == "spaghetti"
    assert abs(growing.failure - 40) <= 2
    assert grown.kind == "spaghetti"
    assert abs(grown.failure - 80) <= 2


async def test_camera_faults(sim: PrusaLinkSimulator, http: httpx.AsyncClient) -> None:
    sim.faults.camera_error = True
    error = await http.get(sim.snapshot_url)
    sim.faults.clear()
    sim.faults.camera_not_image = True
    not_image = await http.get(sim.snapshot_url)
    sim.faults.clear()
    sim.faults.camera_oversized = True
    oversized = await http.get(sim.snapshot_url)

    assert error.status_code == 500
    assert not_image.status_code == 200
    with pytest.raises(ValueError, match="not an image"):
        read_scene(not_image.content)
    assert len(oversized.content) >= 12 * 1024 * 1024
    image = Image.open(io.BytesIO(oversized.content))
    assert image.size == (3840, 2160)
    assert read_scene(oversized.content) == Scene(failure=0)
    assert sim.count("/camera/snapshot.jpg") == 3


# --- metrics and control -------------------------------------------------------


async def test_counters_reset(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    await api.get_status()
    sim.reset_counters()
    await api.get_status()

    assert sim.counts() == {("GET", "/api/v1/status", 200): 1}
    assert [r.status for r in sim.requests] == [200]


async def test_http_control_api(sim: PrusaLinkSimulator, api: PrusaLink) -> None:
    async with httpx.AsyncClient(base_url=sim.control_url, timeout=5) as ctl:
        started = await ctl.post(
            "/_sim/job",
            json={"display_name": "Gear.bgcode", "material": "PETG", "duration": 1000},
        )
        advanced = await ctl.post("/_sim/advance", json={"seconds": 250})
        paused = await ctl.post("/_sim/pause")
        conflict = await ctl.post("/_sim/pause")
        await ctl.post("/_sim/material", json={"material": "---"})
        faults = await ctl.post(
            "/_sim/faults", json={"omit_optional": True, "delay": 0}
        )
        bad_fault = await ctl.post("/_sim/faults", json={"explode": True})
        await ctl.post("/_sim/scene", json={"failure": 55, "kind": "blob"})
        status = await api.get_status()
        legacy = await api.get_legacy_printer()
        requests = (await ctl.get("/_sim/requests")).json()
        await ctl.delete("/_sim/faults")
        await ctl.post("/_sim/state", json={"state": "ERROR", "clear_job": True})
        state = (await ctl.get("/_sim/state")).json()

    assert started.json()["job"]["display_name"] == "Gear.bgcode"
    assert advanced.json()["job"]["progress"] == 25.0
    assert paused.json()["state"] == "PAUSED"
    assert conflict.status_code == 409
    assert faults.json()["omit_optional"] is True
    assert bad_fault.status_code == 400
    assert "speed" not in cast(dict[str, Any], status["printer"])
    assert legacy["telemetry"] is not None
    assert legacy["telemetry"]["material"] == "---"
    assert sim.current_scene == Scene(failure=55, kind="blob")
    assert {
        "method": "GET",
        "path": "/api/v1/status",
        "status": 200,
        "count": 1,
    } in requests["requests"]
    assert state["state"] == "ERROR"
    assert state["job"] is None
    assert state["faults"]["omit_optional"] is False


async def test_control_port_survives_an_outage(http: httpx.AsyncClient) -> None:
    async with PrusaLinkSimulator(password=PASSWORD) as sim:
        await sim.stop()
        await sim.start(control_port=0)
        assert sim.control_url != sim.url
        api = PrusaLink(http, sim.url, "maker", PASSWORD)
        await api.get_status()

        await http.post(f"{sim.control_url}/_sim/offline")
        assert await _wait_until(lambda: not sim.online)
        with pytest.raises(httpx.ConnectError):
            await api.get_status()
        camera = await http.get(f"{sim.control_url}/camera/snapshot.jpg")
        no_api = await http.get(f"{sim.control_url}/api/v1/status")
        await http.post(f"{sim.control_url}/_sim/online")
        status = await api.get_status()

    assert camera.status_code == 200
    assert no_api.status_code == 404
    assert _state(status) == "IDLE"


async def test_offline_without_control_port_needs_a_duration(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient, api: PrusaLink
) -> None:
    refused = await http.post(f"{sim.url}/_sim/offline")
    accepted = await http.post(f"{sim.url}/_sim/offline", json={"seconds": 0.1})
    went_offline = await _wait_until(lambda: not sim.online)
    came_back = await _wait_until(lambda: sim.online)

    assert refused.status_code == 400
    assert accepted.status_code == 200
    assert went_offline
    assert came_back
    assert _state(await api.get_status()) == "IDLE"


async def test_ticker_runs_the_clock_in_real_time(sim: PrusaLinkSimulator) -> None:
    sim.start_job(duration=3600)
    sim.start_ticker(speed=200, interval=0.02)
    await asyncio.sleep(0.15)
    sim.stop_ticker()
    job = sim.job

    assert job is not None
    assert 10 <= job.time_printing <= 100


def test_cli_arguments() -> None:
    args = parse_args(
        ["--port", "0", "--password", "pw", "--scenario", "printing", "--speed", "5"]
    )

    assert (args.host, args.port, args.password) == ("127.0.0.1", 0, "pw")
    assert (args.scenario, args.speed, args.control_port) == ("printing", 5.0, None)
