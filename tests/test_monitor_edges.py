"""The detection monitor's less travelled paths, end to end with simulators.

Every test sets the printer up itself (`_watch`), after choosing the options and,
where it matters, the time of day.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
import logging
from pathlib import Path
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.components.camera import Camera
from homeassistant.components.camera.const import DATA_COMPONENT as CAMERA_COMPONENT
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.json import json_bytes
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_GADGET_API_KEY,
    CONF_GADGET_URL,
    CONF_IDLE_INTERVAL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_POLICY,
    CONF_PRINTING_INTERVAL,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
    EVENT_DETECTION,
)
from custom_components.print_sentinel.printers.base import PrinterCommandUnsupported
from custom_components.print_sentinel.records.const import RECORDS_FOLDER
from simulators.gadget import GadgetSimulator
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene, render_frame

from .common import advance
from .conftest import PRINTER_SERIAL
from .test_detection import (
    API_KEY,
    DETECTION_EVENT,
    FAILURE,
    SCORE,
    STATE,
    SWITCH,
    USAGE,
    _pauses,
    _print_for,
)
from .test_options_flow import _jpeg
from .test_services import _device_id, _vision_check

LAST_CHECK = "sensor.prusa_mk4s_last_check"
MONITOR_LOGGER = "custom_components.print_sentinel.detection.monitor"
GADGET_KEY = "prod_monitor_edges_key_0042"


@pytest.fixture
def options(printer: PrusaLinkSimulator, vision: OpenAISimulator) -> dict[str, Any]:
    """OpenAI detector, the printer's camera, a check every 20 s."""
    return {
        CONF_SNAPSHOT_URL: printer.snapshot_url,
        CONF_DETECTOR: "openai",
        CONF_OPENAI_API_KEY: API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
        CONF_CHECK_INTERVAL: 20,
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
    }


async def _watch(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _events(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, events.append)
    return events


def _notification(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    found = notifications.get(f"{DOMAIN}_{entry.entry_id}_detection")
    return found["message"] if found else None


def _logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno == level
    ]


def _job_commands(printer: PrusaLinkSimulator) -> list[tuple[str, str, int]]:
    return [
        (r.method, r.path, r.status)
        for r in printer.requests
        if r.method in ("PUT", "DELETE") and r.path.startswith("/api/v1/job/")
    ]


# --- the camera and the detector fail in ways that must never pause ---------------------


async def test_camera_outage_during_checks_warns_once_and_retries(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(95, "spaghetti"))
    await _print_for(hass, freezer, printer, 70)  # seen printing at the next poll
    calls = len(vision.requests)
    assert calls >= 1
    caplog.clear()

    printer.faults.camera_error = True
    await _print_for(hass, freezer, printer, 200)

    assert len(vision.requests) == calls  # no frame, no detector call
    assert printer.count("/camera/snapshot.jpg", status=500) >= 8  # kept trying
    monitor_warnings = [
        r
        for r in caplog.records
        if r.name == MONITOR_LOGGER and r.levelname == "WARNING"
    ]
    assert len(monitor_warnings) == 1
    assert "camera" in monitor_warnings[0].getMessage()
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF

    printer.faults.camera_error = False
    await _print_for(hass, freezer, printer, 60)
    assert len(vision.requests) > calls
    assert any(
        r.name == MONITOR_LOGGER and "works again" in r.getMessage()
        for r in caplog.records
    )


class _OtherCamera(Camera):
    """Another integration's camera: it gives `answer`, or raises it."""

    _attr_name = "Bed"
    _attr_unique_id = "other-bed-camera"

    def __init__(self, answer: bytes | Exception) -> None:
        super().__init__()
        self.answer = answer

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    "error", [OSError("No route to host"), aiohttp.ClientConnectionError("reset")]
)
async def test_a_camera_of_another_integration_that_raises_is_a_camera_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """HA's camera component absorbs only timeouts; the rest reaches the monitor."""
    assert await async_setup_component(hass, "camera", {})
    await hass.data[CAMERA_COMPONENT].async_add_entities([_OtherCamera(error)])
    await hass.async_block_till_done()
    await _watch(
        hass, mock_config_entry, {**options, CONF_DETECTION_CAMERA: "camera.bed"}
    )

    response = await _vision_check(hass, device_id=_device_id(hass, mock_config_entry))
    assert response["error"] == "camera_failed"
    assert response["camera_entity_id"] == "camera.bed"

    caplog.clear()
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 200)

    warnings = [
        r
        for r in caplog.records
        if r.name == MONITOR_LOGGER and r.levelname == "WARNING"
    ]
    assert len(warnings) == 1
    assert "camera.bed" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "camera.bed" in hass.states.get(SCORE).attributes["last_error"]
    assert vision.requests == []
    assert _pauses(printer) == 0


async def test_a_detection_camera_that_is_gone_raises_a_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """A camera removed after set-up (options still name it): the user must act."""
    issue_id = f"detection_camera_{mock_config_entry.entry_id}"
    await _watch(
        hass, mock_config_entry, {**options, CONF_DETECTION_CAMERA: "camera.bed"}
    )
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 50)  # two checks: could be start-up
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    await _print_for(hass, freezer, printer, 60)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "detection_camera_missing"
    assert issue.translation_placeholders == {
        "printer": "Prusa MK4S",
        "camera": "camera.bed",
    }
    assert vision.requests == []
    assert _pauses(printer) == 0

    # the camera is back (its integration loaded again): checks run, the issue goes
    assert await async_setup_component(hass, "camera", {})
    await hass.data[CAMERA_COMPONENT].async_add_entities([_OtherCamera(_jpeg())])
    await _print_for(hass, freezer, printer, 60)
    assert vision.requests
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_a_camera_that_keeps_sending_one_picture_is_not_trusted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stream stopped; the camera entity keeps its last picture, a clean bed.

    Meanwhile the print turns to spaghetti. Checks of the old picture would say
    "all fine" all night: the user is told the camera is frozen instead.
    """
    issue_id = f"detection_camera_{mock_config_entry.entry_id}"
    assert await async_setup_component(hass, "camera", {})
    camera = _OtherCamera(render_frame(Scene(0), seed=1, moving=True))
    await hass.data[CAMERA_COMPONENT].async_add_entities([camera])
    await hass.async_block_till_done()
    await _watch(
        hass, mock_config_entry, {**options, CONF_DETECTION_CAMERA: "camera.bed"}
    )
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 240)  # a still minute or four: fine
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    caplog.clear()

    await _print_for(hass, freezer, printer, 120)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "detection_camera_frozen"
    assert issue.translation_placeholders["camera"] == "camera.bed"
    warnings = _logged(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "not changed" in warnings[0]
    assert "frozen" in hass.states.get(SCORE).attributes["last_error"]
    checks = len(vision.requests)
    await _print_for(hass, freezer, printer, 300)
    assert len(vision.requests) == checks  # the old picture is not checked again
    assert _pauses(printer) == 0

    # the stream is back: the picture changes, checks run, the issue goes
    for minute in range(2, 6):
        camera.answer = render_frame(Scene(94, "spaghetti"), seed=minute, moving=True)
        await _print_for(hass, freezer, printer, 60)
    assert len(vision.requests) > checks
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert _pauses(printer) == 1


async def _frozen_camera(hass: HomeAssistant) -> _OtherCamera:
    """A camera entity that keeps one picture until the test changes it."""
    assert await async_setup_component(hass, "camera", {})
    camera = _OtherCamera(render_frame(Scene(0), seed=1, moving=True))
    await hass.data[CAMERA_COMPONENT].async_add_entities([camera])
    await hass.async_block_till_done()
    return camera


async def test_the_frozen_camera_issue_goes_when_the_print_ends(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """Nothing looks at the camera between prints; the next print looks afresh."""
    issue_id = f"detection_camera_{mock_config_entry.entry_id}"
    await _frozen_camera(hass)
    await _watch(
        hass, mock_config_entry, {**options, CONF_DETECTION_CAMERA: "camera.bed"}
    )
    printer.start_job(display_name="first.bgcode", duration=600)
    await _print_for(hass, freezer, printer, 400)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await _print_for(hass, freezer, printer, 300)  # finished
    assert hass.states.get(STATE).state != "printing"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    # an hour later the next print starts; the stream takes two minutes to wake
    await _print_for(hass, freezer, printer, 3600, step=60)
    checks = len(vision.requests)
    printer.start_job(display_name="second.bgcode", duration=3600)
    await _print_for(hass, freezer, printer, 120)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert len(vision.requests) > checks


async def test_a_frozen_camera_that_is_removed_and_comes_back_frozen(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """The repair issue always says what is wrong now: frozen, gone, frozen."""
    issue_id = f"detection_camera_{mock_config_entry.entry_id}"

    def issue() -> str | None:
        found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        return found.translation_key if found else None

    camera = await _frozen_camera(hass)
    await _watch(
        hass, mock_config_entry, {**options, CONF_DETECTION_CAMERA: "camera.bed"}
    )
    printer.start_job(display_name="first.bgcode", duration=900)
    await _print_for(hass, freezer, printer, 400)
    assert issue() == "detection_camera_frozen"
    er.async_get(hass).async_remove("camera.bed")  # its integration dropped it
    await hass.async_block_till_done()
    assert hass.states.get("camera.bed") is None
    await _print_for(hass, freezer, printer, 100)
    assert issue() == "detection_camera_missing"
    await _print_for(hass, freezer, printer, 700)  # the print ends
    assert hass.states.get(STATE).state != "printing"
    assert issue() == "detection_camera_missing"  # still gone

    printer.start_job(display_name="second.bgcode", duration=3600)
    await _print_for(hass, freezer, printer, 100)
    assert issue() == "detection_camera_missing"
    await hass.data[CAMERA_COMPONENT].async_add_entities([_OtherCamera(camera.answer)])
    await _print_for(hass, freezer, printer, 400)
    assert issue() == "detection_camera_frozen"  # back, and still frozen


async def test_a_slow_camera_is_reported_frozen_once_not_all_night(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A time-lapse camera whose picture changes every six minutes."""
    camera = await _frozen_camera(hass)
    await _watch(
        hass,
        mock_config_entry,
        {**options, CONF_DETECTION_CAMERA: "camera.bed", CONF_CHECK_INTERVAL: 60},
    )
    printer.start_job(display_name="part.bgcode", duration=7200)
    caplog.clear()
    for minute in range(0, 60, 6):
        camera.answer = render_frame(Scene(0), seed=minute, moving=True)
        await _print_for(hass, freezer, printer, 360, step=10)

    assert len(_logged(caplog, logging.WARNING)) == 1
    assert len(vision.requests) >= 10  # every new picture was checked
    assert _pauses(printer) == 0


async def test_a_pause_the_printer_cannot_do_is_tried_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A watched printer without a pause entity: trying again cannot help."""
    await _watch(hass, mock_config_entry, options)
    backend = mock_config_entry.runtime_data.coordinator.backend

    async def no_pause() -> None:
        raise PrinterCommandUnsupported("no pause entity was chosen")

    backend.async_pause = no_pause  # type: ignore[method-assign]
    events = _events(hass)
    caplog.clear()
    await _fail_a_print(hass, freezer, printer)
    await _print_for(hass, freezer, printer, 600)

    failures = [e.data["action"] for e in events if e.data["level"] == "failure"]
    assert failures == ["pause_failed"]
    assert len(_logged(caplog, logging.ERROR)) == 1


@pytest.fixture
async def gadget(socket_enabled: None) -> AsyncGenerator[GadgetSimulator]:
    """OctoEverywhere's Gadget, simulated; it asks for a frame every 20 s."""
    sim = GadgetSimulator(api_key=GADGET_KEY, noise=0, next_interval=20)
    sim.enforce_interval = False
    await sim.start()
    yield sim
    await sim.stop()


def _gadget_options(
    printer: PrusaLinkSimulator,
    gadget: GadgetSimulator,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Gadget watching the printer's camera every 20 s, with `overrides`."""
    return {
        CONF_SNAPSHOT_URL: printer.snapshot_url,
        CONF_DETECTOR: "gadget",
        CONF_GADGET_API_KEY: GADGET_KEY,
        CONF_GADGET_URL: gadget.url,
        CONF_CHECK_INTERVAL: 20,
        **(overrides or {}),
    }


async def test_frames_the_detector_cannot_read_never_pause_nor_warn(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    gadget: GadgetSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _watch(
        hass,
        mock_config_entry,
        _gadget_options(printer, gadget),
    )
    gadget.fail_next("OE_IMAGE_DECODE_FAILED", count=100)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(95, "spaghetti"))
    caplog.clear()

    await _print_for(hass, freezer, printer, 300)

    rejected = gadget.process_requests()
    assert len(rejected) >= 10  # every check tried a new frame
    assert {r.status for r in rejected} == {400}
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF
    assert hass.states.get(SCORE).state == STATE_UNKNOWN  # no verdict
    assert hass.states.get(LAST_CHECK).state != STATE_UNKNOWN  # but it did look
    assert _logged(caplog, logging.WARNING) == []
    assert _logged(caplog, logging.ERROR) == []

    # frames it can read again are judged
    gadget.reset()
    await _print_for(hass, freezer, printer, 60)
    assert hass.states.get(SCORE).state != STATE_UNKNOWN


# --- what happens on a failure ---------------------------------------------------------------


async def _fail_a_print(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, printer: PrusaLinkSimulator
) -> None:
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 240)
    printer.set_scene(Scene(94, "spaghetti"))
    await _print_for(hass, freezer, printer, 180)


async def test_failure_action_cancel_stops_the_print_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, {**options, CONF_FAILURE_ACTION: "cancel"})
    events = _events(hass)

    await _fail_a_print(hass, freezer, printer)

    job = f"/api/v1/job/{printer.job_id}"
    assert _job_commands(printer) == [("DELETE", job, 204)]
    assert hass.states.get(STATE).state == "stopped"
    failures = [e.data["action"] for e in events if e.data["level"] == "failure"]
    assert failures == ["cancelled"]
    assert hass.states.get(DETECTION_EVENT).attributes["action"] == "cancelled"
    assert "stopped the print" in (_notification(hass, mock_config_entry) or "")

    checks = len(vision.requests)
    await _print_for(hass, freezer, printer, 120)
    assert len(vision.requests) == checks  # a stopped print is not watched
    assert len(_job_commands(printer)) == 1


async def test_failure_action_notify_leaves_the_printer_alone(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, {**options, CONF_FAILURE_ACTION: "notify"})
    events = _events(hass)

    await _fail_a_print(hass, freezer, printer)
    await _print_for(hass, freezer, printer, 120)  # the failure goes on

    assert _job_commands(printer) == []
    assert hass.states.get(STATE).state == "printing"
    assert hass.states.get(FAILURE).state == "on"
    failures = [e for e in events if e.data["level"] == "failure"]
    assert len(failures) == 1  # one notification, not one per check
    assert failures[0].data["action"] == "notified"
    message = _notification(hass, mock_config_entry)
    assert message is not None
    assert message.startswith("Spaghetti (score")
    assert message.endswith("Check the print.")


async def test_pause_the_printer_refuses_is_reported_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Someone paused on the printer's knob; Home Assistant has not polled since.

    Polls are ten minutes apart here, so the monitor still believes the printer
    prints when it decides; PrusaLink answers its pause with 409.
    """
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _watch(
        hass,
        mock_config_entry,
        {**options, CONF_PRINTING_INTERVAL: 600, CONF_IDLE_INTERVAL: 600},
    )
    events = _events(hass)
    printer.pause()
    printer.set_scene(Scene(95, "spaghetti"))
    caplog.clear()

    for _ in range(300 // 5):
        await advance(hass, freezer, 5)

    job = f"/api/v1/job/{printer.job_id}/pause"
    assert _job_commands(printer) == [("PUT", job, 409)]
    failures = [e.data["action"] for e in events if e.data["level"] == "failure"]
    assert failures == ["pause_failed"]
    errors = _logged(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "could not pause" in errors[0]
    assert "could not act (pause_failed)" in (
        _notification(hass, mock_config_entry) or ""
    )
    # after acting it looked again: the printer is paused, the checks stop
    assert hass.states.get(STATE).state == "paused"


async def test_a_pause_the_printer_never_got_is_tried_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The printer's web server fails just as the failure is decided, then recovers.

    The print goes on failing; the next check that finds it printing pauses it.
    """
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _watch(
        hass,
        mock_config_entry,
        {**options, CONF_PRINTING_INTERVAL: 600, CONF_IDLE_INTERVAL: 600},
    )
    events = _events(hass)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 240)
    printer.faults.server_error = True  # polls are 10 min apart: HA has not noticed
    printer.set_scene(Scene(95, "spaghetti"))
    caplog.clear()
    for _ in range(120):
        await _print_for(hass, freezer, printer, 5)
        if _job_commands(printer):
            break
    printer.faults.clear()
    await _print_for(hass, freezer, printer, 900)

    pause = f"/api/v1/job/{printer.job_id}/pause"
    assert _job_commands(printer) == [("PUT", pause, 500), ("PUT", pause, 204)]
    failures = [e.data["action"] for e in events if e.data["level"] == "failure"]
    assert failures == ["pause_failed", "paused"]
    errors = _logged(caplog, logging.ERROR)
    assert len([e for e in errors if "could not pause" in e]) == 1
    assert hass.states.get(STATE).state == "paused"


async def test_a_pause_that_keeps_failing_is_tried_a_bounded_number_of_times(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """A printer that prints on but answers every pause with an error."""
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _watch(hass, mock_config_entry, options)
    events = _events(hass)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 240)
    printer.set_scene(Scene(95, "spaghetti"))
    printer.faults.pause_refused = True
    await _print_for(hass, freezer, printer, 1200)

    failures = [e.data["action"] for e in events if e.data["level"] == "failure"]
    assert failures == ["pause_failed"] * 3
    assert hass.states.get(STATE).state == "printing"


async def test_warning_action_none_records_the_warning_without_notifying(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, {**options, CONF_WARNING_ACTION: "none"})
    events = _events(hass)
    vision.script(
        [
            {
                "failure_score": 52,
                "print_quality": 5,
                "kind": "stringing",
                "reason": "Thin strings between the towers.",
            }
        ]
        * 40
    )
    printer.start_job(display_name="part.bgcode", duration=7200)

    await _print_for(hass, freezer, printer, 360)

    assert [(e.data["level"], e.data["action"]) for e in events] == [
        ("warning", "none")
    ]
    assert hass.states.get(DETECTION_EVENT).attributes["event_type"] == "warning"
    assert _notification(hass, mock_config_entry) is None
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF


# --- when checks run -----------------------------------------------------------------------


async def test_no_checks_while_the_printer_is_unreachable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """The camera is separate (an ESP32-CAM) and keeps working meanwhile."""
    camera = PrusaLinkSimulator(serial="camera-only")
    await camera.start(host="127.0.0.1", port=0)
    try:
        await _watch(
            hass, mock_config_entry, {**options, CONF_SNAPSHOT_URL: camera.snapshot_url}
        )
        printer.start_job(display_name="part.bgcode", duration=7200)
        await _print_for(hass, freezer, printer, 90)
        assert len(vision.requests) >= 2

        await printer.go_offline()
        await advance(hass, freezer, 10)
        frames, checks = camera.count("/camera/snapshot.jpg"), len(vision.requests)
        for _ in range(120 // 5):
            await advance(hass, freezer, 5)
        assert camera.count("/camera/snapshot.jpg") == frames
        assert len(vision.requests) == checks

        await printer.come_back()
        await _print_for(hass, freezer, printer, 90)
        assert len(vision.requests) > checks
    finally:
        await camera.stop()


async def test_outages_shorter_than_the_check_interval_do_not_stop_checks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """A printer on flaky Wi-Fi misses one poll in three; checks are a minute apart.

    The camera is separate (an ESP32-CAM); every outage is over before a check is due.
    """
    camera = PrusaLinkSimulator(serial="camera-only")
    await camera.start(host="127.0.0.1", port=0)
    try:
        await _watch(
            hass,
            mock_config_entry,
            {
                **options,
                CONF_SNAPSHOT_URL: camera.snapshot_url,
                CONF_CHECK_INTERVAL: 60,
            },
        )
        printer.start_job(display_name="part.bgcode", duration=7200)
        await _print_for(hass, freezer, printer, 30)
        checks = len(vision.requests)
        for _ in range(20):  # 10 minutes
            await printer.go_offline()
            await _print_for(hass, freezer, printer, 10)
            await printer.come_back()
            await _print_for(hass, freezer, printer, 20)
        assert len(vision.requests) - checks >= 8
    finally:
        await camera.stop()


async def test_switching_detection_back_on_resumes_checks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 30)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    calls = len(vision.requests)
    await _print_for(hass, freezer, printer, 60)
    assert len(vision.requests) == calls

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
    )
    await _print_for(hass, freezer, printer, 60)
    assert len(vision.requests) >= calls + 2


# --- usage today ---------------------------------------------------------------------------


def _local(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=dt_util.get_default_time_zone())


async def test_usage_today_starts_again_after_midnight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    freezer.move_to(_local(23, 58))
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="overnight.bgcode", duration=7200)

    await _print_for(hass, freezer, printer, 115)  # until 23:59:55
    before_midnight = len(vision.requests)
    assert before_midnight >= 4
    assert int(hass.states.get(USAGE).state) == before_midnight

    await _print_for(hass, freezer, printer, 65)  # until 00:01:00
    after_midnight = len(vision.requests) - before_midnight
    assert after_midnight >= 2
    usage = hass.states.get(USAGE)
    assert int(usage.state) == after_midnight
    assert usage.attributes["calls_this_print"] == len(vision.requests)
    tokens = sum(r.prompt_tokens + r.completion_tokens for r in vision.requests)
    assert usage.attributes["tokens_this_print"] == tokens
    assert usage.attributes["tokens_today"] < tokens


async def test_usage_today_is_zero_on_a_day_without_checks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    freezer.move_to(_local(23, 50))
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="short.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 120)
    printer.cancel()
    await _print_for(hass, freezer, printer, 30)
    calls = len(vision.requests)
    assert int(hass.states.get(USAGE).state) == calls > 0

    for _ in range(20):  # until 00:02, idle
        await advance(hass, freezer, 30)

    assert len(vision.requests) == calls
    assert hass.states.get(USAGE).state == "0"


# --- answers that arrive too late or contradict themselves --------------------------


def _late(
    entry: MockConfigEntry, meanwhile: Callable[[], Awaitable[None]]
) -> list[int]:
    """Make the next detector calls run `meanwhile` before their answer arrives."""
    monitor = entry.runtime_data.monitor
    analyze = monitor.detector.async_analyze
    calls: list[int] = []

    async def slow_analyze(frames: Any) -> Any:
        verdict = await analyze(frames)
        calls.append(len(calls))
        await meanwhile()
        return verdict

    monitor.detector.async_analyze = slow_analyze
    return calls


async def _printing_on_one_verdict(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    entry: MockConfigEntry,
    options: dict[str, Any],
) -> Any:
    """A print under the detector's own suggestion (acts on one verdict, the fastest
    policy), seen printing and checked once; return the printer's coordinator."""
    await _watch(hass, entry, {**options, CONF_POLICY: "gadget"})
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 40)
    return entry.runtime_data.coordinator


async def test_a_verdict_arriving_after_a_new_print_started_is_dropped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """A slow answer about the old print must not pause the next one."""
    coordinator = await _printing_on_one_verdict(
        hass, freezer, printer, mock_config_entry, options
    )

    async def user_starts_another_print() -> None:
        if printer.job_id == first:
            printer.cancel()
            printer.start_job(display_name="second.bgcode", duration=7200)
            await coordinator.async_refresh()

    first = printer.job_id
    calls = _late(mock_config_entry, user_starts_another_print)
    vision.script([_failing_answer()])
    await _print_for(hass, freezer, printer, 30)
    assert vision.script_left() == 0

    assert calls  # the check ran, and its answer came after the new print began
    assert printer.job_id != first
    assert _job_commands(printer) == []
    assert printer.state == "PRINTING"
    assert hass.states.get(FAILURE).state == STATE_OFF


async def test_a_verdict_arriving_after_the_user_paused_is_not_acted_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    coordinator = await _printing_on_one_verdict(
        hass, freezer, printer, mock_config_entry, options
    )

    async def user_pauses() -> None:
        if printer.state == "PRINTING":
            printer.pause()
            await coordinator.async_refresh()

    _late(mock_config_entry, user_pauses)
    vision.script([_failing_answer()])
    await _print_for(hass, freezer, printer, 30)
    assert vision.script_left() == 0

    assert printer.state == "PAUSED"
    assert _job_commands(printer) == []  # no pause (nor cancel) from Print Sentinel
    assert hass.states.get(FAILURE).state == STATE_OFF


async def test_the_same_late_verdict_is_acted_on_while_the_print_goes_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """The control for the two tests above: a slow answer about this print counts."""
    coordinator = await _printing_on_one_verdict(
        hass, freezer, printer, mock_config_entry, options
    )

    async def nothing_changes() -> None:
        await coordinator.async_refresh()

    _late(mock_config_entry, nothing_changes)
    vision.script([_failing_answer()])
    await _print_for(hass, freezer, printer, 30)
    assert vision.script_left() == 0

    job = f"/api/v1/job/{printer.job_id}"
    assert _job_commands(printer) == [("PUT", f"{job}/pause", 204)]
    assert hass.states.get(FAILURE).state == STATE_ON


def _failing_answer() -> dict[str, Any]:
    return {
        "failure_score": 96,
        "print_quality": 1,
        "kind": "spaghetti",
        "reason": "Tangled filament everywhere.",
    }


def _on_disk(folder: Path) -> tuple[list[str], list[Path]]:
    """The print records' texts, and any temporary file left in the folder."""
    records = [p.read_text(encoding="utf-8") for p in folder.glob("*/record.json")]
    return records, list(folder.rglob("*.tmp"))


async def test_a_reason_no_utf8_can_hold_is_kept_readable_and_recorded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """JSON may escape a lone surrogate; Python reads it, nothing can write it."""
    answer = (
        '{"failure_score": 10, "print_quality": 9, "kind": "none",'
        ' "reason": "Looks fine \\ud800 so far"}'
    )
    vision.script([answer] * 20)
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 120)

    assert len(vision.requests) >= 3
    assert hass.states.get(SCORE).attributes["reason"] == "Looks fine ? so far"
    assert json_bytes(hass.states.get(SCORE).as_dict())  # HA can write the state
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    records, leftovers = _on_disk(
        Path(hass.config.path(*RECORDS_FOLDER, mock_config_entry.entry_id))
    )
    assert len(records) == 1
    assert "Looks fine ? so far" in records[0]
    assert leftovers == []  # no half-written file left behind


async def test_answers_that_contradict_themselves_never_pause(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, {**options, CONF_POLICY: "gadget"})
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))  # once the script is used up, answers are clean
    contradictions = [
        {"failure_score": 95, "print_quality": 2, "kind": "none", "reason": "Fine."},
        {"failure_score": 92, "print_quality": 10, "kind": "blob", "reason": "Nice."},
    ] * 4
    vision.script(contradictions)
    await _print_for(hass, freezer, printer, 60 + 8 * 20)

    assert vision.script_left() == 0  # every contradiction was answered
    assert _job_commands(printer) == []
    assert hass.states.get(FAILURE).state == STATE_OFF
    last_check = hass.states.get(LAST_CHECK)
    assert last_check is not None


async def test_gadget_suggestions_warn_then_pause_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    gadget: GadgetSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Gadget's own temporal model decides: a warning, then one pause, as it says."""
    await _watch(
        hass,
        mock_config_entry,
        _gadget_options(
            printer,
            gadget,
            {
                CONF_POLICY: "gadget",
                CONF_WARNING_ACTION: "notify",
                CONF_FAILURE_ACTION: "pause",
            },
        ),
    )
    events = _events(hass)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))  # the frames look fine: only the script speaks
    gadget.script(
        [
            {"Score": 12, "PrintQuality": 9},
            {"Score": 58, "PrintQuality": 5, "WarningSuggested": True},
            {"Score": 74, "PrintQuality": 3, "WarningSuggested": True},
            {
                "Score": 88,
                "PrintQuality": 2,
                "WarningSuggested": True,
                "PauseSuggested": True,
            },
        ]
    )
    await _print_for(hass, freezer, printer, 240)

    assert gadget.script_left() == 0
    levels = [e.data["level"] for e in events]
    assert levels == ["warning", "failure"]
    job = f"/api/v1/job/{printer.job_id}"
    assert _job_commands(printer) == [("PUT", f"{job}/pause", 204)]
    assert hass.states.get(FAILURE).state == STATE_ON
    assert float(hass.states.get(SCORE).state) == 88


async def test_a_check_on_demand_does_not_make_the_next_check_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    gadget: GadgetSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """vision_check starts Gadget's wait; the scheduled check then just waits too."""
    await _watch(
        hass,
        mock_config_entry,
        # Gadget asks for 20 s between calls
        _gadget_options(printer, gadget, {CONF_CHECK_INTERVAL: 40}),
    )
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 60)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), mock_config_entry.entry_id
    )
    caplog.clear()

    # the user asks as soon as Gadget allows: the next scheduled check is then
    # due before Gadget's 20 s are over
    for _ in range(10):
        try:
            await hass.services.async_call(
                DOMAIN,
                "vision_check",
                {"device_id": device.id},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            refusal = str(err)
        else:
            break
        assert "asked to wait" in refusal
        await _print_for(hass, freezer, printer, 5)
    else:
        pytest.fail("vision_check was never allowed")
    on_demand = len(gadget.process_requests())
    caplog.clear()
    await _print_for(hass, freezer, printer, 100)

    assert _logged(caplog, logging.WARNING) == []
    assert mock_config_entry.runtime_data.monitor.state.last_error is None
    assert len(gadget.process_requests()) >= on_demand + 2  # checks went on
    assert {r.status for r in gadget.process_requests()} == {200}


# --- a print that was already running when Print Sentinel started watching -----------


async def test_a_failing_print_found_running_after_a_restart_is_paused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """Home Assistant restarts 30 min into a print that is failing right now.

    The print is not new: no quiet period and warm-up of a first layer, and the
    spaghetti is not learnt as what this print normally looks like.
    """
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.advance(1800)
    printer.set_scene(Scene(94, "spaghetti"))
    await _watch(hass, mock_config_entry, options)

    await _print_for(hass, freezer, printer, 180)

    assert _pauses(printer) == 1
    assert hass.states.get(FAILURE).state == STATE_ON


async def test_a_reload_while_a_print_fails_does_not_start_it_over(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """Saving the options (a reload) just as the print starts failing."""
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 900)
    printer.set_scene(Scene(94, "spaghetti"))
    await _print_for(hass, freezer, printer, 20)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    await _print_for(hass, freezer, printer, 180)

    assert _pauses(printer) == 1
    assert hass.states.get(FAILURE).state == STATE_ON


async def test_a_print_seen_starting_keeps_its_quiet_period(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """What a first layer looks like in its first minutes never pauses it."""
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(94, "spaghetti"))

    await _print_for(hass, freezer, printer, 150)

    assert len(vision.requests) >= 5
    assert _pauses(printer) == 0
