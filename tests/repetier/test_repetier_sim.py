"""The Repetier-Server simulator speaks the protocol strictly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import json
import socket
import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from simulators.repetier import RepetierSimulator
from simulators.scene import Scene, read_scene

API_KEY = "sim-test-key-123"
SLUG = "prusa_i3"
KEY_HEADER = {"x-api-key": API_KEY}


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[RepetierSimulator]:
    """A running simulator with two printers."""
    simulator = RepetierSimulator(
        api_key=API_KEY, printers=[(SLUG, "Prusa i3"), ("ender_3", "Ender 3")]
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain client session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _api_url(
    sim: RepetierSimulator, action: str, data: Any = None, slug: str = SLUG
) -> URL:
    query = f"a={action}"
    if data is not None:
        query += "&data=" + quote(json.dumps(data), safe="")
    return URL(f"{sim.url}/printer/api/{slug}?{query}", encoded=True)


async def _get(
    session: aiohttp.ClientSession,
    url: URL | str,
    headers: dict[str, str] | None = None,
) -> Any:
    async with session.get(url, headers=headers) as response:
        assert response.status == 200
        return await response.json(content_type=None)


async def test_info_needs_no_key_and_names_server_and_printers(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    info = await _get(session, f"{sim.url}/printer/info")

    assert info["serveruuid"] == sim.server_uuid
    assert info["version"] == sim.version
    assert info["servername"] == sim.server_name
    assert [p["slug"] for p in info["printers"]] == [SLUG, "ender_3"]
    assert API_KEY not in json.dumps(info)


@pytest.mark.parametrize(
    ("headers", "query", "allowed"),
    [
        ({}, "", False),
        ({"x-api-key": "wrong"}, "", False),
        ({}, "&apikey=wrong", False),
        (KEY_HEADER, "", True),
        ({}, f"&apikey={API_KEY}", True),
    ],
)
async def test_api_enforces_the_key(
    sim: RepetierSimulator,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    query: str,
    allowed: bool,
) -> None:
    url = URL(f"{sim.url}/printer/api/{SLUG}?a=listPrinter{query}", encoded=True)

    answer = await _get(session, url, headers)

    if allowed:
        assert isinstance(answer, list)
    else:
        assert answer == {"permissionDenied": True}


async def test_request_log_never_holds_the_key(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    url = URL(
        f"{sim.url}/printer/api/{SLUG}?a=listPrinter&apikey={API_KEY}", encoded=True
    )
    await _get(session, url)

    record = sim.requests[-1]
    assert record.key_in_query
    assert not record.key_in_header
    assert record.raw_query == "a=listPrinter&apikey=***"
    log = await _get(session, f"{sim.url}/_sim/requests")
    assert API_KEY not in json.dumps(log)


@pytest.mark.parametrize(
    "raw_data",
    ['{"cmd":"G28"}', "{%22cmd%22:%22G28%22}", '%7B"cmd":"G28"%7D'],
)
async def test_unencoded_json_is_rejected(
    sim: RepetierSimulator, session: aiohttp.ClientSession, raw_data: str
) -> None:
    url = URL(f"{sim.url}/printer/api/{SLUG}?a=send&data={raw_data}", encoded=True)

    answer = await _get(session, url, KEY_HEADER)

    assert "error" in answer
    assert sim.printer(SLUG).gcodes == []


async def test_encoded_json_is_accepted_and_plus_is_not_a_space(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.start_job(SLUG)
    plus = URL(
        f"{sim.url}/printer/api/{SLUG}?a=send&data=%7B%22cmd%22%3A%22%40pause+x%22%7D",
        encoded=True,
    )

    assert await _get(session, plus, KEY_HEADER) == {}
    assert not sim.printer(SLUG).paused  # "@pause+x" is not a pause

    assert (
        await _get(session, _api_url(sim, "send", {"cmd": "@pause x"}), KEY_HEADER)
        == {}
    )
    assert sim.printer(SLUG).gcodes == ["@pause+x", "@pause x"]
    assert sim.printer(SLUG).paused


async def test_invalid_json_and_unknown_action_are_errors(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    bad_json = URL(f"{sim.url}/printer/api/{SLUG}?a=send&data=%7Bcmd%7D", encoded=True)
    assert "error" in await _get(session, bad_json, KEY_HEADER)
    assert "error" in await _get(session, _api_url(sim, "pause"), KEY_HEADER)
    assert "error" in await _get(
        session, _api_url(sim, "stopJob", slug="nope"), KEY_HEADER
    )


async def test_job_lifecycle_on_the_simulated_clock(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    job_id = sim.start_job(SLUG, "part.gcode", duration=1000, layers=10)
    sim.advance(250)

    entry = (await _get(session, _api_url(sim, "listPrinter"), KEY_HEADER))[0]
    assert entry["job"] == "part.gcode"
    assert entry["jobid"] == job_id
    assert entry["done"] == pytest.approx(25.0)
    assert entry["printTime"] == 1000
    assert entry["printedTimeComp"] == pytest.approx(250)
    state = (await _get(session, _api_url(sim, "stateList"), KEY_HEADER))[SLUG]
    assert state["layer"] == 2
    assert state["extruder"][0]["tempSet"] == 215

    await _get(session, _api_url(sim, "send", {"cmd": "@pause filament"}), KEY_HEADER)
    sim.advance(500)
    assert sim.printer(SLUG).paused
    assert sim.printer(SLUG).pause_message == "filament"
    assert sim.printer(SLUG).printed == pytest.approx(250)

    await _get(session, _api_url(sim, "continueJob"), KEY_HEADER)
    sim.advance(750)
    entry = (await _get(session, _api_url(sim, "listPrinter"), KEY_HEADER))[0]
    assert entry["job"] == "none"
    assert sim.printer(SLUG).stopped_jobs == 0


async def test_stop_job_ends_the_job(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.start_job(SLUG)

    await _get(session, _api_url(sim, "stopJob"), KEY_HEADER)

    assert sim.printer(SLUG).job is None
    assert sim.printer(SLUG).stopped_jobs == 1
    assert sim.actions(SLUG) == ["stopJob"]


async def test_dropped_keys_and_malformed_json(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.drop_keys = {"activeExtruder", "paused"}
    state = (await _get(session, _api_url(sim, "stateList"), KEY_HEADER))[SLUG]
    entry = (await _get(session, _api_url(sim, "listPrinter"), KEY_HEADER))[0]
    assert "activeExtruder" not in state
    assert "extruder" in state
    assert "paused" not in entry

    sim.malformed_json = True
    async with session.get(
        _api_url(sim, "listPrinter"), headers=KEY_HEADER
    ) as response:
        with pytest.raises(ValueError):
            json.loads(await response.text())


async def test_offline_printer_has_no_state_and_refuses_commands(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).online = 0

    states = await _get(session, _api_url(sim, "stateList"), KEY_HEADER)
    answer = await _get(session, _api_url(sim, "continueJob"), KEY_HEADER)

    assert SLUG not in states
    assert "ender_3" in states
    assert "error" in answer


async def test_go_down_refuses_connections_then_comes_back_on_same_port(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    port = sim.port
    await sim.go_down()

    with pytest.raises(aiohttp.ClientConnectionError):
        await _get(session, f"{sim.url}/printer/info")

    await sim.come_up()
    assert sim.port == port
    assert (await _get(session, f"{sim.url}/printer/info"))["printers"]


async def test_delay_holds_answers_back(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.delay = 30

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await _get(session, f"{sim.url}/printer/info")


async def test_webcam_snapshot_renders_the_scene_and_needs_the_key(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).scene = Scene(failure=65, kind="blob")
    url = f"{sim.url}/printer/camjpg/{SLUG}?cam=0"

    async with session.get(url, headers=KEY_HEADER) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"
        frame = await response.read()
    async with session.get(url) as response:
        assert response.status == 403
    async with session.get(
        f"{sim.url}/printer/camjpg/{SLUG}?cam=1", headers=KEY_HEADER
    ) as response:
        assert response.status == 404

    assert read_scene(frame) == Scene(failure=65, kind="blob")
    config = await _get(session, _api_url(sim, "getPrinterConfig"), KEY_HEADER)
    assert len(config["webcams"]) == 1


async def test_job_preview_exists_only_for_the_current_job(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    job_id = sim.start_job(SLUG)
    url = f"{sim.url}/dyn/render_image?q=jobs&id={job_id}&slug={SLUG}&t=m"

    async with session.get(url, headers=KEY_HEADER) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"\x89PNG")
    async with session.get(
        url.replace(f"id={job_id}", "id=999"), headers=KEY_HEADER
    ) as response:
        assert response.status == 404


async def test_sim_control_endpoints(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    async def control(command: str, **query: str) -> Any:
        async with session.post(f"{sim.url}/_sim/{command}", params=query) as response:
            assert response.status == 200
            return await response.json()

    await control("start_job", slug=SLUG, name="vase.gcode", duration="100")
    await control("advance", seconds="50")
    await control("scene", slug=SLUG, failure="90", kind="spaghetti")
    await control("printer", slug="ender_3", online="0")
    state = await control("fault", drop_keys="activeExtruder,fans", delay="0")

    printer = state["printers"][SLUG]
    assert printer["job"] == "vase.gcode"
    assert printer["printed"] == 50
    assert printer["scene"] == {"failure": 90, "kind": "spaghetti"}
    assert state["printers"]["ender_3"]["online"] == 0
    assert state["drop_keys"] == ["activeExtruder", "fans"]

    await control("restart", down_for="0.2")
    await asyncio.sleep(0.1)
    seen = [sim.is_up]
    for _ in range(50):
        await asyncio.sleep(0.05)
        seen.append(sim.is_up)
        if seen[-1]:
            break
    assert seen[0] is False
    assert seen[-1] is True
    assert (await _get(session, f"{sim.url}/printer/info"))["printers"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_cli_serves_the_api(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.repetier",
        "--port",
        str(port),
        "--api-key",
        "cli-key",
        "--duration",
        "20",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert f"127.0.0.1:{port}" in line.decode()
        url = URL(
            f"http://127.0.0.1:{port}/printer/api/{SLUG}?a=listPrinter", encoded=True
        )
        answer = await _get(session, url, {"x-api-key": "cli-key"})
        assert answer[0]["slug"] == SLUG
    finally:
        process.terminate()
        await process.wait()
