"""Options flow: polling and camera, Prusa Connect upload, detection (detector off)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import io
import re
import socket
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel import options_flow
from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_FRAME_COUNT,
    CONF_IDLE_INTERVAL,
    CONF_POLICY,
    CONF_PRINTING_INTERVAL,
    CONF_RESUME_GRACE,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DETECTOR_NONE,
)
from simulators.prusalink import PrusaLinkSimulator

from .common import advance

OWN_CAMERA = "camera.prusa_mk4s_camera"
HEX64 = re.compile(r"[0-9a-f]{64}")


async def _open(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> FlowResult:
    """Open the options and pick a section from the menu."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["polling", "detection", "connect", "records"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return result


async def _save(
    hass: HomeAssistant, entry: MockConfigEntry, step: str, user_input: dict[str, Any]
) -> FlowResult:
    """Fill in one section and submit it; wait for the reload."""
    result = await _open(hass, entry, step)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    await hass.async_block_till_done()
    return result


def _polling(**changes: Any) -> dict[str, Any]:
    # number selectors hand over floats
    return {CONF_PRINTING_INTERVAL: 6.0, CONF_IDLE_INTERVAL: 30.0, **changes}


def _connect(**changes: Any) -> dict[str, Any]:
    return {
        CONF_CONNECT_ENABLED: True,
        CONF_CONNECT_TOKEN: "FAKEconnectTOKEN4242",
        CONF_CONNECT_CAMERA: OWN_CAMERA,
        CONF_CONNECT_INTERVAL: 10.0,
        CONF_CONNECT_ONLY_PRINTING: True,
        **changes,
    }


def _detection(**changes: Any) -> dict[str, Any]:
    return {
        CONF_DETECTOR: DETECTOR_NONE,
        CONF_CHECK_INTERVAL: 30.0,
        CONF_FRAME_COUNT: 3.0,
        CONF_SENSITIVITY: "medium",
        CONF_POLICY: "sentinel",
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
        CONF_RESUME_GRACE: 300.0,
        **changes,
    }


# --- polling and camera -------------------------------------------------------


async def test_polling_saves_whole_seconds_and_reloads_with_the_new_intervals(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    before = init_integration.runtime_data.coordinator

    result = await _save(
        hass,
        init_integration,
        "polling",
        _polling(
            **{
                CONF_PRINTING_INTERVAL: 4.0,
                CONF_IDLE_INTERVAL: 59.7,  # typed into the box: rounded, not cut
                CONF_SNAPSHOT_URL: printer.snapshot_url,
            }
        ),
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = dict(init_integration.options)
    assert options == {
        CONF_PRINTING_INTERVAL: 4,
        CONF_IDLE_INTERVAL: 60,
        CONF_SNAPSHOT_URL: printer.snapshot_url,
    }
    assert all(
        type(options[key]) is int
        for key in (CONF_PRINTING_INTERVAL, CONF_IDLE_INTERVAL)
    )
    assert init_integration.state is ConfigEntryState.LOADED
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator is not before  # reloaded
    assert coordinator.update_interval == timedelta(seconds=60)
    assert coordinator.printing_interval == timedelta(seconds=4)

    # and the printer feels it: idle, one poll a minute
    printer.requests.clear()
    await advance(hass, freezer, 31)
    assert printer.count("/api/v1/status") == 0
    await advance(hass, freezer, 30)
    assert printer.count("/api/v1/status") == 1
    # while printing, every 4 s
    printer.start_job()
    await advance(hass, freezer, 60)
    assert coordinator.update_interval == timedelta(seconds=4)


async def test_polling_form_shows_the_current_options(
    hass: HomeAssistant, printer: PrusaLinkSimulator, init_integration: MockConfigEntry
) -> None:
    await _save(
        hass,
        init_integration,
        "polling",
        _polling(**{CONF_IDLE_INTERVAL: 45.0, CONF_SNAPSHOT_URL: printer.snapshot_url}),
    )
    result = await _open(hass, init_integration, "polling")
    schema = result["data_schema"].schema
    suggested = {
        str(key): key.description["suggested_value"]
        for key in schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested[CONF_IDLE_INTERVAL] == 45
    assert suggested[CONF_SNAPSHOT_URL] == printer.snapshot_url


@pytest.mark.parametrize(
    "cleared", [{}, {CONF_SNAPSHOT_URL: ""}], ids=["left_out", "emptied"]
)
async def test_clearing_the_snapshot_url_removes_it(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    cleared: dict[str, str],
) -> None:
    await _save(
        hass,
        init_integration,
        "polling",
        _polling(**{CONF_SNAPSHOT_URL: printer.snapshot_url}),
    )
    assert init_integration.options[CONF_SNAPSHOT_URL] == printer.snapshot_url
    assert (await async_get_image(hass, OWN_CAMERA)).content == printer.frame()

    result = await _save(hass, init_integration, "polling", _polling(**cleared))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_SNAPSHOT_URL not in init_integration.options
    # the camera went back to the job's thumbnail, and the printer has no job
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, OWN_CAMERA)


async def test_polling_keeps_the_other_sections_options(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await _save(
        hass, init_integration, "connect", _connect(**{CONF_CONNECT_ENABLED: False})
    )
    fingerprint = init_integration.options[CONF_CONNECT_FINGERPRINT]
    await _save(hass, init_integration, "polling", _polling())
    assert init_integration.options[CONF_CONNECT_FINGERPRINT] == fingerprint
    assert init_integration.options[CONF_CONNECT_TOKEN] == "FAKEconnectTOKEN4242"


# --- the snapshot URL is fetched once before it is saved -----------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "JPEG")
    return buffer.getvalue()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def web_server(
    socket_enabled: None,
) -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler at `/snapshot` on a free loopback port; return its URL."""
    runners: list[web.AppRunner] = []

    async def serve(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/snapshot", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/snapshot"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def _refused(
    hass: HomeAssistant, entry: MockConfigEntry, url: str, error: str
) -> FlowResult:
    """Submit `url`; the form comes back with `error` under the field, nothing saved."""
    result = await _save(hass, entry, "polling", _polling(**{CONF_SNAPSHOT_URL: url}))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "polling"
    assert result["errors"] == {CONF_SNAPSHOT_URL: error}
    assert entry.options == {}
    # what the user typed is still in the form
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested[CONF_SNAPSHOT_URL] == url.strip()
    return result


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "camera.local/snapshot.jpg",
        "ftp://127.0.0.1/snapshot.jpg",
        "http:///snapshot.jpg",
        "http://127.0.0.1:99999/snapshot.jpg",
        "http://127.0.0.1:0/snapshot.jpg",
        "http://127.0.0.1/snap\x00shot.jpg",
        "http://127.0.0.1/snapshot.jpg\x7f",
        "http://\U0001f4a5.local/snapshot.jpg",
    ],
)
async def test_a_snapshot_url_that_is_not_a_url_is_refused(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    url: str,
) -> None:
    result = await _refused(hass, init_integration, url, "invalid_url")

    # correcting it saves, and the camera serves the printer's camera
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _polling(**{CONF_SNAPSHOT_URL: printer.snapshot_url})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_SNAPSHOT_URL] == printer.snapshot_url
    assert (await async_get_image(hass, OWN_CAMERA)).content == printer.frame()


async def test_a_snapshot_url_with_nothing_behind_it_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await _refused(
        hass,
        init_integration,
        f"http://127.0.0.1:{port}/snapshot.jpg",
        "snapshot_cannot_connect",
    )


@pytest.mark.parametrize(
    ("fault", "error"),
    [("camera_error", "snapshot_http_error"), ("camera_not_image", "not_an_image")],
)
async def test_a_failing_printer_camera_is_refused(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fault: str,
    error: str,
) -> None:
    setattr(printer.faults, fault, True)
    result = await _refused(hass, init_integration, printer.snapshot_url, error)

    printer.faults.clear()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _polling(**{CONF_SNAPSHOT_URL: printer.snapshot_url})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_a_snapshot_url_serving_something_else_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    web_server: Callable[[Handler], Awaitable[str]],
) -> None:
    jpeg = _jpeg()
    bodies = {
        "html": b"<html><body>login</body></html>",
        "png": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "jpeg_magic_only": b"\xff\xd8\xff\xe0" + b"garbage" * 20,
        "empty": b"",
    }
    for body in bodies.values():

        async def handler(request: web.Request, body: bytes = body) -> web.Response:
            return web.Response(body=body, content_type="image/jpeg")

        await _refused(
            hass, init_integration, await web_server(handler), "not_an_image"
        )

    async def real_jpeg(request: web.Request) -> web.Response:
        return web.Response(body=jpeg, content_type="image/jpeg")

    url = await web_server(real_jpeg)
    result = await _save(
        hass, init_integration, "polling", _polling(**{CONF_SNAPSHOT_URL: f" {url} "})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_SNAPSHOT_URL] == url  # without the spaces
    assert (await async_get_image(hass, OWN_CAMERA)).content == jpeg


async def test_an_endless_snapshot_is_read_only_up_to_the_limit(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    web_server: Callable[[Handler], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(options_flow, "MAX_SNAPSHOT_BYTES", 1024 * 1024)
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        chunk = b"\xff\xd8" + b"\0" * 65534
        try:
            while sent < 100 * 1024 * 1024:
                await response.write(chunk)
                sent += len(chunk)
        except ConnectionError, RuntimeError:
            pass
        return response

    await _refused(
        hass, init_integration, await web_server(endless), "snapshot_too_large"
    )
    assert sent < 50 * 1024 * 1024  # the flow hung up long before the end


async def test_a_snapshot_url_that_never_answers_is_given_up(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    web_server: Callable[[Handler], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(options_flow, "SNAPSHOT_TIMEOUT", 0.2)
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(body=_jpeg(), content_type="image/jpeg")

    url = await web_server(hang)
    try:
        await _refused(hass, init_integration, url, "snapshot_cannot_connect")
    finally:
        release.set()


# --- Prusa Connect --------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "error"),
    [
        ({CONF_CONNECT_TOKEN: ""}, {CONF_CONNECT_TOKEN: "token_required"}),
        ({CONF_CONNECT_CAMERA: ""}, {CONF_CONNECT_CAMERA: "camera_required"}),
        (
            {CONF_CONNECT_TOKEN: "", CONF_CONNECT_CAMERA: ""},
            {
                CONF_CONNECT_TOKEN: "token_required",
                CONF_CONNECT_CAMERA: "camera_required",
            },
        ),
    ],
    ids=["no_token", "no_camera", "neither"],
)
async def test_enabling_connect_needs_a_token_and_a_camera(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    missing: dict[str, str],
    error: dict[str, str],
) -> None:
    user_input = {k: v for k, v in _connect().items() if k not in missing}
    result = await _save(hass, init_integration, "connect", user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    assert init_integration.options == {}

    # fixing it saves
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _connect()
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_ENABLED] is True


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({CONF_CONNECT_TOKEN: "FAKE connect\nTOKEN\u00fc"}, "invalid_token_format"),
        ({CONF_CONNECT_CAMERA: "camera.nope"}, "camera_not_found"),
    ],
    ids=["token_no_header_carries", "camera_that_does_not_exist"],
)
async def test_connect_refuses_what_could_only_fail_later(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    bad: dict[str, str],
    error: str,
) -> None:
    result = await _save(hass, init_integration, "connect", _connect(**bad))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {next(iter(bad)): error}
    assert init_integration.options == {}


async def test_a_token_typed_while_uploads_are_off_is_checked_and_kept(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Typed now, used when uploads are switched on later without retyping it."""
    off = {
        CONF_CONNECT_ENABLED: False,
        CONF_CONNECT_INTERVAL: 10.0,
        CONF_CONNECT_ONLY_PRINTING: True,
    }
    result = await _save(
        hass, init_integration, "connect", {**off, CONF_CONNECT_TOKEN: "bad token\n"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CONNECT_TOKEN: "invalid_token_format"}
    assert init_integration.options == {}

    good = _connect()[CONF_CONNECT_TOKEN]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**off, CONF_CONNECT_TOKEN: f" {good} "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_TOKEN] == good

    # switched on with the token field left empty: the saved token is used
    result = await _save(
        hass,
        init_integration,
        "connect",
        {k: v for k, v in _connect().items() if k != CONF_CONNECT_TOKEN},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_ENABLED] is True
    assert init_integration.options[CONF_CONNECT_TOKEN] == good


async def test_disabled_connect_saves_without_token_or_camera(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _save(
        hass,
        init_integration,
        "connect",
        {
            CONF_CONNECT_ENABLED: False,
            CONF_CONNECT_INTERVAL: 10.0,
            CONF_CONNECT_ONLY_PRINTING: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_ENABLED] is False
    assert init_integration.state is ConfigEntryState.LOADED


async def test_enabling_connect_generates_a_fingerprint_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _save(hass, init_integration, "connect", _connect())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = init_integration.options
    assert options[CONF_CONNECT_ENABLED] is True
    assert options[CONF_CONNECT_TOKEN] == "FAKEconnectTOKEN4242"
    assert options[CONF_CONNECT_CAMERA] == OWN_CAMERA
    assert options[CONF_CONNECT_INTERVAL] == 10
    assert type(options[CONF_CONNECT_INTERVAL]) is int
    fingerprint = options[CONF_CONNECT_FINGERPRINT]
    assert HEX64.fullmatch(fingerprint)

    # Prusa Connect knows the camera by its fingerprint: it must never change
    await _save(
        hass, init_integration, "connect", _connect(**{CONF_CONNECT_INTERVAL: 30.0})
    )
    await _save(
        hass, init_integration, "connect", _connect(**{CONF_CONNECT_ENABLED: False})
    )
    await _save(hass, init_integration, "connect", _connect())
    assert init_integration.options[CONF_CONNECT_FINGERPRINT] == fingerprint
    assert init_integration.options[CONF_CONNECT_INTERVAL] == 10


async def test_connect_interval_below_ten_seconds_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _open(hass, init_integration, "connect")
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], _connect(**{CONF_CONNECT_INTERVAL: 5.0})
        )


@pytest.mark.parametrize(
    ("step", "user_input", "field"),
    [
        (
            "polling",
            _polling(**{CONF_PRINTING_INTERVAL: "nan"}),
            CONF_PRINTING_INTERVAL,
        ),
        ("detection", _detection(**{CONF_CHECK_INTERVAL: "NaN"}), CONF_CHECK_INTERVAL),
        ("connect", _connect(**{CONF_CONNECT_INTERVAL: "nan"}), CONF_CONNECT_INTERVAL),
        (
            "records",
            {
                "timelapse_mode": "interval",
                "timelapse_interval": "nan",
                "records_keep": 5,
                "records_max_mb": 100,
            },
            "timelapse_interval",
        ),
    ],
)
async def test_a_number_box_holding_nan_is_refused_on_its_field(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    step: str,
    user_input: dict[str, Any],
    field: str,
) -> None:
    """NaN passes every minimum and maximum; a REST client can send it."""
    before = dict(init_integration.options)

    result = await _save(hass, init_integration, step, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "invalid_number"}
    assert dict(init_integration.options) == before


# --- detection (detector off) -----------------------------------------------------


async def test_detection_off_saves(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _save(hass, init_integration, "detection", _detection())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = init_integration.options
    assert options[CONF_DETECTOR] == DETECTOR_NONE
    assert options[CONF_CHECK_INTERVAL] == 30
    assert type(options[CONF_FRAME_COUNT]) is int
    assert CONF_DETECTION_CAMERA not in options
    assert init_integration.state is ConfigEntryState.LOADED


async def test_detection_with_an_existing_camera_saves_it(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _save(
        hass,
        init_integration,
        "detection",
        _detection(**{CONF_DETECTION_CAMERA: OWN_CAMERA}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_DETECTION_CAMERA] == OWN_CAMERA

    # choosing no camera again forgets it
    await _save(hass, init_integration, "detection", _detection())
    assert CONF_DETECTION_CAMERA not in init_integration.options


async def test_detection_with_a_camera_that_does_not_exist_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _save(
        hass,
        init_integration,
        "detection",
        _detection(**{CONF_DETECTION_CAMERA: "camera.garage_door"}),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_DETECTION_CAMERA: "camera_not_found"}
    assert init_integration.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _detection(**{CONF_DETECTION_CAMERA: OWN_CAMERA})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_the_saved_connect_token_is_not_shown_and_kept_when_left_empty(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await _save(hass, init_integration, "connect", _connect())
    result = await _open(hass, init_integration, "connect")
    suggested = {
        str(field): field.description.get("suggested_value")
        for field in result["data_schema"].schema
        if field.description
    }
    assert suggested[CONF_CONNECT_CAMERA] == OWN_CAMERA
    assert "FAKEconnectTOKEN4242" not in str(suggested)
    without_token = {k: v for k, v in _connect().items() if k != CONF_CONNECT_TOKEN}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**without_token, CONF_CONNECT_INTERVAL: 30.0}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_TOKEN] == "FAKEconnectTOKEN4242"
    assert init_integration.options[CONF_CONNECT_INTERVAL] == 30
