"""The Repetier-Server backend against the simulated Repetier-Server."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
import logging
import socket
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.print_sentinel.printers.base import (
    Capability,
    PrinterAuthError,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterResponseError,
    PrinterSnapshot,
    PrinterState,
)
from custom_components.print_sentinel.printers.repetier import (
    MODEL,
    PAUSE_COMMAND,
    RepetierBackend,
    RepetierPrinterInfo,
    async_list_printers,
)
from simulators.repetier import RepetierSimulator
from simulators.scene import Scene, read_scene

API_KEY = "0f1e2d3c-secret-repetier-key"
HOST = "127.0.0.1"
SLUG = "prusa_i3"


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[RepetierSimulator]:
    """A running simulator with two printers."""
    simulator = RepetierSimulator(
        api_key=API_KEY,
        printers=[(SLUG, "Prusa i3"), ("ender_3", "Ender 3")],
        server_uuid="4f0b2c1e-0000-4000-8000-00000000abcd",
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain client session, as HA's shared one."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def backend(sim: RepetierSimulator, session: aiohttp.ClientSession) -> RepetierBackend:
    """The backend for the first printer, with a short timeout."""
    return RepetierBackend(session, HOST, sim.port, API_KEY, SLUG, request_timeout=2.0)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- config flow: listing printers ------------------------------------------------


async def test_list_printers_returns_every_printer_of_the_server(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).webcams = 2
    sim.printer("ender_3").webcams = 0
    sim.printer("ender_3").online = 0

    printers = await async_list_printers(session, HOST, sim.port, API_KEY)

    assert printers == [
        RepetierPrinterInfo(
            slug=SLUG,
            name="Prusa i3",
            online=True,
            server_id=sim.server_uuid,
            webcams=2,
        ),
        RepetierPrinterInfo(
            slug="ender_3",
            name="Ender 3",
            online=False,
            server_id=sim.server_uuid,
            webcams=0,
        ),
    ]
    assert [printer.has_webcam for printer in printers] == [True, False]
    # The key was validated by an authenticated action, not just /printer/info.
    assert "listPrinter" in sim.actions()


async def test_list_printers_with_bad_key_raises_auth_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PrinterAuthError):
        await async_list_printers(session, HOST, sim.port, "wrong-key")


async def test_list_printers_unreachable_raises_connection_error(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(PrinterConnectionError):
        await async_list_printers(session, HOST, _closed_port(), API_KEY)


async def _not_repetier_404(request: web.Request) -> web.Response:
    raise web.HTTPNotFound


async def _not_repetier_html(request: web.Request) -> web.Response:
    return web.Response(
        text="<html><body>Router login</body></html>", content_type="text/html"
    )


async def _not_repetier_other_json(request: web.Request) -> web.Response:
    return web.json_response({"api": "0.1", "server": "OctoPrint"})


@pytest.mark.parametrize(
    "handler", [_not_repetier_404, _not_repetier_html, _not_repetier_other_json]
)
async def test_list_printers_from_other_server_raises_response_error(
    session: aiohttp.ClientSession,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> None:
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        with pytest.raises(PrinterResponseError):
            await async_list_printers(session, HOST, port, API_KEY)
    finally:
        await runner.cleanup()


# -- identity --------------------------------------------------------------------


async def test_identity_names_the_printer_on_its_server(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    identity = await backend.async_get_identity()

    assert identity.unique_id == f"{sim.server_uuid}_{SLUG}"
    assert identity.name == "Prusa i3"
    assert identity.model == MODEL
    assert identity.firmware == sim.version
    assert identity.configuration_url == f"http://{HOST}:{sim.port}/"
    assert identity.serial_number is None


async def test_two_printers_of_one_server_get_different_unique_ids(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    first = RepetierBackend(session, HOST, sim.port, API_KEY, SLUG)
    second = RepetierBackend(session, HOST, sim.port, API_KEY, "ender_3")

    ids = {
        (await first.async_get_identity()).unique_id,
        (await second.async_get_identity()).unique_id,
    }

    assert len(ids) == 2


async def test_identity_with_bad_key_raises_auth_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(session, HOST, sim.port, "wrong-key", SLUG)

    with pytest.raises(PrinterAuthError):
        await backend.async_get_identity()


async def test_unknown_slug_raises_clear_response_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, "no_such_printer")

    with pytest.raises(PrinterResponseError, match="no_such_printer"):
        await backend.async_get_identity()
    with pytest.raises(PrinterResponseError, match="no_such_printer"):
        await backend.async_poll()


# -- polling ---------------------------------------------------------------------


async def test_poll_idle_printer(backend: RepetierBackend) -> None:
    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.IDLE
    assert snapshot.job is None
    assert snapshot.nozzle_temperature == pytest.approx(21.5)
    assert snapshot.nozzle_target == 0
    assert snapshot.bed_temperature == pytest.approx(21.5)
    assert snapshot.fan_speed == 0
    # What Repetier does not report stays None.
    assert snapshot.material is None
    assert snapshot.fan_print is None
    assert snapshot.fan_hotend is None
    assert snapshot.chamber_temperature is None


async def test_poll_printing_printer_maps_job_progress_and_times(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    job_id = sim.start_job(SLUG, "calibration cube.gcode", duration=4000, layers=50)
    sim.printer(SLUG).speed_multiply = 120
    sim.printer(SLUG).flow_multiply = 95
    sim.printer(SLUG).fan_voltage = 128
    sim.advance(1000)

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.is_printing
    job = snapshot.job
    assert job is not None
    assert job.id == job_id
    assert job.name == "calibration cube.gcode"
    assert job.progress == pytest.approx(25.0)
    assert job.time_printing == 1000
    assert job.time_remaining == 3000
    assert job.material is None
    assert snapshot.nozzle_temperature == pytest.approx(215.0)
    assert snapshot.nozzle_target == 215
    assert snapshot.bed_target == 60
    assert snapshot.layer == 12
    assert snapshot.z_height == pytest.approx(2.4)
    assert snapshot.print_speed == 120
    assert snapshot.flow == 95
    assert snapshot.fan_speed == pytest.approx(50.2)
    assert "fan_percent" not in snapshot.extra  # a field of its own, not an extra
    assert snapshot.extra["layer_count"] == 50
    assert snapshot.fan_print is None  # PWM is not RPM


async def test_job_ends_as_idle(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG, duration=600)
    sim.advance(601)

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.IDLE
    assert snapshot.job is None


async def test_poll_reads_the_active_extruder(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).extruders = 2
    sim.printer(SLUG).active_extruder = 1
    sim.start_job(SLUG)

    snapshot = await backend.async_poll()

    assert snapshot.nozzle_target == 215
    assert snapshot.extra["active_extruder"] == 1
    assert snapshot.extra["extruder_0_target"] == 0
    assert snapshot.extra["extruder_1_target"] == 215


async def test_capabilities_declare_what_repetier_reports(
    sim: RepetierSimulator, backend: RepetierBackend, session: aiohttp.ClientSession
) -> None:
    await backend.async_get_identity()

    # the camera: webcam 0 is the default choice
    assert backend.capabilities == {
        Capability.LAYER,
        Capability.FAN_SPEED,
        Capability.CAMERA,
    }
    without_camera = RepetierBackend(
        session, HOST, sim.port, API_KEY, SLUG, webcam=None
    )
    await without_camera.async_get_identity()
    assert Capability.CAMERA not in without_camera.capabilities
    # no material, no fan RPM, no attention state to continue from
    assert Capability.MATERIAL not in backend.capabilities
    assert Capability.FAN_RPM not in backend.capabilities
    assert Capability.CONTINUE not in backend.capabilities


async def test_chamber_comes_from_the_config_even_while_the_printer_is_off(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).has_chamber = True
    sim.printer(SLUG).online = 0
    assert Capability.CHAMBER not in backend.capabilities  # config not read yet

    await backend.async_get_identity()
    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.UNKNOWN
    assert snapshot.chamber_temperature is None
    assert Capability.CHAMBER in backend.capabilities
    assert backend.diagnostics()["chambers"] == 1


async def test_second_fan_is_an_extra(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).fan_voltage = 255
    sim.printer(SLUG).more_fans = [0, 64]

    snapshot = await backend.async_poll()

    assert snapshot.fan_speed == 100
    assert snapshot.extra["fan_1_percent"] == 0  # switched off
    assert snapshot.extra["fan_2_percent"] == pytest.approx(25.1)


async def test_poll_reads_the_heated_chamber(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).has_chamber = True
    sim.start_job(SLUG)

    snapshot = await backend.async_poll()

    assert snapshot.chamber_temperature == pytest.approx(40.0)
    assert snapshot.extra["chamber_target"] == 40


@pytest.mark.parametrize(
    ("dropped", "check"),
    [
        ("activeExtruder", lambda s: s.nozzle_target == 215),
        ("extruder", lambda s: s.nozzle_temperature is None),
        ("heatedBeds", lambda s: s.bed_temperature is None and s.bed_target is None),
        ("fans", lambda s: s.fan_speed is None),
        ("z", lambda s: s.z_height is None),
        ("layer", lambda s: s.layer is None),
        ("speedMultiply", lambda s: s.print_speed is None),
        ("flowMultiply", lambda s: s.flow is None),
        ("printTime", lambda s: s.job.time_remaining is None),
        ("printedTimeComp", lambda s: s.job.time_printing is None),
        ("done", lambda s: s.job.progress is None),
        ("jobid", lambda s: s.job.id is None and s.job.thumbnail_path is None),
        ("paused", lambda s: s.state is PrinterState.PRINTING),
    ],
)
async def test_poll_tolerates_each_missing_key(
    sim: RepetierSimulator,
    backend: RepetierBackend,
    dropped: str,
    check: Callable[[PrinterSnapshot], bool],
) -> None:
    sim.start_job(SLUG)
    sim.advance(60)
    sim.drop_keys = {dropped}

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.PRINTING
    assert check(snapshot)


async def test_poll_tolerates_a_bare_printer_entry(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    """Only the slug left: nothing is known, nothing crashes."""
    sim.start_job(SLUG)
    sim.drop_keys = {
        "name", "online", "active", "job", "paused", "pauseState", "jobid", "done",
        "start", "printStart", "printTime", "printedTimeComp", "ofLayer",
        "activeExtruder", "extruder", "heatedBeds", "heatedChambers", "fans", "x",
        "y", "z", "layer", "speedMultiply", "flowMultiply", "powerOn",
    }  # fmt: skip

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.UNKNOWN
    assert snapshot.job is None
    assert snapshot.nozzle_temperature is None
    assert snapshot.extra == {}


@pytest.mark.parametrize("dropped", ["online", "active"])
async def test_poll_without_online_or_active_key_still_reads_the_job(
    sim: RepetierSimulator, backend: RepetierBackend, dropped: str
) -> None:
    sim.start_job(SLUG)
    sim.drop_keys = {dropped}

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.PRINTING


async def test_offline_printer_is_unknown_without_measurements(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).online = 0

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.UNKNOWN
    assert snapshot.raw_state == "offline"
    assert snapshot.nozzle_temperature is None
    assert sim.actions(SLUG)[-1] == "listPrinter"  # no stateList for it


async def test_deactivated_printer_is_unknown(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).active = False

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.UNKNOWN
    assert snapshot.raw_state == "deactivated"


async def test_poll_with_bad_key_raises_auth_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(session, HOST, sim.port, "wrong-key", SLUG)

    with pytest.raises(PrinterAuthError):
        await backend.async_poll()


async def test_malformed_json_raises_response_error(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.malformed_json = True

    with pytest.raises(PrinterResponseError):
        await backend.async_poll()


async def test_server_restart_then_recovery(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG)
    assert (await backend.async_poll()).state is PrinterState.PRINTING

    await sim.go_down()
    with pytest.raises(PrinterConnectionError):
        await backend.async_poll()
    with pytest.raises(PrinterConnectionError):
        await backend.async_pause()

    await sim.come_up()
    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.PRINTING


async def test_hanging_server_times_out_as_connection_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(
        session, HOST, sim.port, API_KEY, SLUG, request_timeout=0.3
    )
    sim.delay = 30

    started = time.monotonic()
    with pytest.raises(PrinterConnectionError, match="did not answer"):
        await backend.async_poll()

    assert time.monotonic() - started < 5


async def test_slow_server_within_timeout_still_answers(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.delay = 0.2

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.IDLE


# -- commands --------------------------------------------------------------------


async def test_pause_sends_at_pause_and_never_stops_the_job(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG)
    sim.advance(120)

    await backend.async_pause()

    printer = sim.printer(SLUG)
    assert printer.gcodes == [PAUSE_COMMAND]
    assert PAUSE_COMMAND == "@pause Print Sentinel"
    assert printer.paused
    assert printer.pause_message == "Print Sentinel"
    assert printer.job is not None
    assert printer.stopped_jobs == 0
    assert "stopJob" not in sim.actions()
    snapshot = await backend.async_poll()
    assert snapshot.state is PrinterState.PAUSED
    assert snapshot.has_job


async def test_paused_job_does_not_progress(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG, duration=1000)
    sim.advance(100)
    await backend.async_pause()
    sim.advance(500)

    snapshot = await backend.async_poll()

    assert snapshot.job is not None
    assert snapshot.job.progress == pytest.approx(10.0)


async def test_resume_continues_the_job(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG, duration=1000)
    sim.advance(100)
    await backend.async_pause()

    await backend.async_resume()
    sim.advance(100)

    assert sim.actions(SLUG)[-1] == "continueJob"
    snapshot = await backend.async_poll()
    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert snapshot.job.progress == pytest.approx(20.0)


async def test_cancel_stops_the_job(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG)

    await backend.async_cancel()

    assert sim.printer(SLUG).stopped_jobs == 1
    assert (await backend.async_poll()).state is PrinterState.IDLE


async def test_continue_is_unsupported(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    with pytest.raises(PrinterCommandUnsupported):
        await backend.async_continue()

    assert sim.actions() == []


async def test_commands_with_bad_key_raise_auth_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.start_job(SLUG)
    backend = RepetierBackend(session, HOST, sim.port, "wrong-key", SLUG)

    for command in (backend.async_pause, backend.async_resume, backend.async_cancel):
        with pytest.raises(PrinterAuthError):
            await command()

    assert not sim.printer(SLUG).paused
    assert sim.printer(SLUG).job is not None


async def test_command_for_unknown_printer_raises_response_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, "no_such_printer")

    with pytest.raises(PrinterResponseError):
        await backend.async_pause()


async def test_requests_carry_key_in_header_and_url_encoded_json(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    """The strict simulator rejects raw JSON: the pause only works if encoded."""
    sim.start_job(SLUG)
    await backend.async_get_identity()
    await backend.async_poll()
    await backend.async_pause()

    api_requests = [r for r in sim.requests if r.action is not None]
    assert api_requests
    assert all(r.key_in_header and not r.key_in_query for r in api_requests)
    send = next(r for r in api_requests if r.action == "send")
    assert send.data == {"cmd": "@pause Print Sentinel"}
    assert not set('{}" +') & set(send.raw_query)
    assert sim.printer(SLUG).paused


# -- camera and thumbnail ---------------------------------------------------------


async def test_snapshot_url_from_printer_config(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).webcams = 2
    assert backend.snapshot_url() is None  # webcams not read yet

    await backend.async_get_identity()

    assert (
        backend.snapshot_url()
        == f"http://{HOST}:{sim.port}/printer/camjpg/{SLUG}?cam=0"
    )
    assert (
        backend.snapshot_url(1)
        == f"http://{HOST}:{sim.port}/printer/camjpg/{SLUG}?cam=1"
    )
    assert backend.snapshot_url(2) is None


async def test_printer_without_webcam_has_no_snapshot(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).webcams = 0
    await backend.async_get_identity()

    assert backend.snapshot_url() is None
    assert await backend.async_get_snapshot() is None


async def test_snapshot_returns_the_webcam_frame(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).scene = Scene(failure=80, kind="spaghetti")

    frame = await backend.async_get_snapshot()

    assert frame is not None
    assert read_scene(frame) == Scene(failure=80, kind="spaghetti")
    camjpg = [r for r in sim.requests if r.path.startswith("/printer/camjpg/")]
    assert camjpg
    assert all(r.key_in_header and not r.key_in_query for r in camjpg)


async def test_webcams_added_later_are_found_after_refresh(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.printer(SLUG).webcams = 0
    await backend.async_get_identity()
    sim.printer(SLUG).webcams = 1

    assert await backend.async_refresh_webcams() == 1
    assert backend.snapshot_url() is not None


async def test_camera_shows_the_chosen_webcam(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).webcams = 2
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, SLUG, webcam=1)
    await backend.async_get_identity()

    frame = await backend.async_get_camera_image()

    assert frame is not None
    assert frame.startswith(b"\xff\xd8")
    (record,) = [r for r in sim.requests if r.path == f"/printer/camjpg/{SLUG}"]
    assert record.raw_query == "cam=1"
    assert backend.diagnostics()["webcam"] == 1


async def test_camera_with_no_webcam_chosen_asks_the_server_nothing(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, SLUG, webcam=None)
    await backend.async_get_identity()

    assert await backend.async_get_camera_image() is None
    assert [r for r in sim.requests if r.path.startswith("/printer/camjpg/")] == []


async def test_camera_whose_webcam_was_removed_shows_nothing(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).webcams = 1
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, SLUG, webcam=1)
    await backend.async_get_identity()

    assert await backend.async_get_camera_image() is None
    assert [r for r in sim.requests if r.path.startswith("/printer/camjpg/")] == []


async def test_thumbnail_is_the_job_preview_while_printing(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    await backend.async_poll()
    assert await backend.async_get_thumbnail() is None

    sim.start_job(SLUG)
    snapshot = await backend.async_poll()
    thumbnail = await backend.async_get_thumbnail()

    assert snapshot.job is not None
    assert snapshot.job.thumbnail_path is not None
    assert thumbnail is not None
    assert thumbnail.startswith(b"\x89PNG")


# -- secrets ---------------------------------------------------------------------


async def test_api_key_never_in_logs_errors_diagnostics_or_urls(
    sim: RepetierSimulator,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = RepetierBackend(session, HOST, sim.port, API_KEY, SLUG)
    sim.start_job(SLUG)
    await backend.async_get_identity()
    await backend.async_poll()
    await backend.async_pause()
    await backend.async_get_snapshot()
    messages = []
    sim.malformed_json = True
    with pytest.raises(PrinterResponseError) as response_error:
        await backend.async_poll()
    messages.append(str(response_error.value))
    sim.malformed_json = False
    await sim.go_down()
    with pytest.raises(PrinterConnectionError) as connection_error:
        await backend.async_poll()
    messages.append(str(connection_error.value))
    await sim.come_up()
    sim.api_key = "rotated-key"
    with pytest.raises(PrinterAuthError) as auth_error:
        await backend.async_poll()
    messages.append(str(auth_error.value))

    assert caplog.records  # the backend does log its requests at debug level
    assert API_KEY not in caplog.text
    assert all(API_KEY not in message for message in messages)
    assert API_KEY not in repr(backend.diagnostics())
    assert API_KEY not in str(backend.snapshot_url())
    assert all(API_KEY not in r.raw_query for r in sim.requests)
