"""A Repetier-Server printer in Home Assistant, end to end against the simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_API_KEY,
    CONF_HOST,
    CONF_PORT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    CONF_WEBCAM,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from custom_components.print_sentinel.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.print_sentinel.printers.repetier import MODEL, PAUSE_COMMAND
from simulators.repetier import AMBIENT, RepetierSimulator

from ..common import NEXT_POLL, advance

API_KEY = "3b9f-repetier-Secret-key-0042"
SERVER_UUID = "4f0b2c1e-0000-4000-8000-00000000abcd"
HOST = "127.0.0.1"
SLUG = "prusa_i3"
UNIQUE_ID = f"{SERVER_UUID}_{SLUG}"

STATE = "sensor.prusa_i3_printer_state"
JOB = "sensor.prusa_i3_job_name"
PROGRESS = "sensor.prusa_i3_progress"
REMAINING = "sensor.prusa_i3_time_remaining"
NOZZLE = "sensor.prusa_i3_nozzle_temperature"
NOZZLE_TARGET = "sensor.prusa_i3_nozzle_target_temperature"
BED = "sensor.prusa_i3_bed_temperature"
BED_TARGET = "sensor.prusa_i3_bed_target_temperature"
SPEED = "sensor.prusa_i3_print_speed"
PRINTING = "binary_sensor.prusa_i3_printing"
PAUSE = "button.prusa_i3_pause_print"
RESUME = "button.prusa_i3_resume_print"
CANCEL = "button.prusa_i3_cancel_print"
CONTINUE = "button.prusa_i3_continue"
FAN = "sensor.prusa_i3_fan_speed"
LAYER = "sensor.prusa_i3_layer"
CHAMBER = "sensor.prusa_i3_chamber_temperature"
NEVER_REPORTED = (
    "sensor.prusa_i3_material",
    "sensor.prusa_i3_hotend_fan",
    "sensor.prusa_i3_print_fan",
    CONTINUE,
)
"""Entities of values and commands Repetier-Server does not have."""
EVENT = "event.prusa_i3_print_job"
CAMERA = "camera.prusa_i3_camera"

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def server() -> AsyncGenerator[RepetierSimulator]:
    """A Repetier-Server with two printers on a free loopback port."""
    sim = RepetierSimulator(
        api_key=API_KEY,
        printers=[(SLUG, "Prusa i3"), ("ender_3", "Ender 3")],
        server_uuid=SERVER_UUID,
    )
    sim.websocket = False  # polled: what runs while push is down (push: tests/repetier/test_push.py)
    await sim.start(HOST, 0)
    yield sim
    await sim.stop()


@pytest.fixture
def entry(server: RepetierSimulator) -> MockConfigEntry:
    """The config entry the flow makes for the server's Prusa i3."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Prusa i3",
        unique_id=UNIQUE_ID,
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: HOST,
            CONF_PORT: server.port,
            CONF_API_KEY: API_KEY,
            CONF_PRINTER_SLUG: SLUG,
        },
    )


@pytest.fixture
async def loaded(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """The entry, set up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _event(hass: HomeAssistant) -> str | None:
    """The last print job event."""
    state = hass.states.get(EVENT)
    assert state is not None
    event_type: str | None = state.attributes.get("event_type")
    return event_type


def _problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings and errors our integration logged."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno >= 30
    ]


async def _press(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, button: str
) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": button}, blocking=True
    )
    # past the refresh debouncer's cooldown, so the next press refreshes at once
    await advance(hass, freezer, 11)


async def test_setup_creates_device_and_entities(
    hass: HomeAssistant, server: RepetierSimulator, loaded: MockConfigEntry
) -> None:
    assert loaded.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, UNIQUE_ID), loaded.entry_id
    )
    assert device is not None
    assert device.name == "Prusa i3"
    assert device.model == MODEL
    assert device.sw_version == server.version
    assert device.configuration_url == f"{server.url}/"

    assert _state(hass, STATE) == "idle"
    assert float(_state(hass, NOZZLE)) == AMBIENT
    assert float(_state(hass, BED)) == AMBIENT
    assert float(_state(hass, NOZZLE_TARGET)) == 0
    assert _state(hass, PROGRESS) == STATE_UNKNOWN
    assert _state(hass, JOB) == STATE_UNKNOWN
    assert float(_state(hass, SPEED)) == 100
    assert _state(hass, PRINTING) == "off"
    # no heated chamber: no chamber sensor
    assert hass.states.get("sensor.prusa_i3_chamber_temperature") is None
    # every entity of the printer belongs to its device
    entities = er.async_entries_for_config_entry(er.async_get(hass), loaded.entry_id)
    assert entities
    assert {entity.device_id for entity in entities} == {device.id}


async def test_reinstalled_server_keeps_the_one_device_and_its_entities(
    hass: HomeAssistant, server: RepetierSimulator, loaded: MockConfigEntry
) -> None:
    """A new `serveruuid` (Repetier-Server reinstalled) is no second printer."""
    devices = dr.async_get(hass)
    device = devices.async_get_device_by_identifier(
        (DOMAIN, UNIQUE_ID), loaded.entry_id
    )
    assert device is not None
    before = _entity_ids(hass, loaded)

    server.server_uuid = "9d1e7a55-1111-4000-8000-0000000000ff"
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()

    assert loaded.state is ConfigEntryState.LOADED
    assert [
        d.id for d in dr.async_entries_for_config_entry(devices, loaded.entry_id)
    ] == [device.id]
    assert _entity_ids(hass, loaded) == before
    assert _state(hass, STATE) == "idle"


def _entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }


async def test_only_what_repetier_reports_gets_an_entity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    entity_ids = _entity_ids(hass, loaded)
    for entity_id in NEVER_REPORTED:
        assert entity_id not in entity_ids, entity_id
    assert {FAN, LAYER, PAUSE, RESUME, CANCEL} <= entity_ids
    assert CHAMBER not in entity_ids  # this printer has no heated chamber

    assert float(_state(hass, FAN)) == 0
    fan = hass.states.get(FAN)
    assert fan is not None
    assert fan.attributes["unit_of_measurement"] == "%"
    server.start_job(SLUG, layers=100)
    server.printer(SLUG).fan_voltage = 191
    server.advance(900)
    await advance(hass, freezer, 31)
    assert float(_state(hass, FAN)) == pytest.approx(74.9)
    assert float(_state(hass, LAYER)) == 25


async def test_printer_offline_at_start_gets_layer_and_chamber_sensors(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    entry: MockConfigEntry,
) -> None:
    server.printer(SLUG).has_chamber = True
    server.printer(SLUG).online = 0
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass, STATE) == STATE_UNKNOWN
    for entity_id in (LAYER, CHAMBER, FAN):
        assert _state(hass, entity_id) == STATE_UNKNOWN, entity_id

    server.printer(SLUG).online = 1
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    assert float(_state(hass, CHAMBER)) == 40
    assert float(_state(hass, LAYER)) == 0


async def test_entities_repetier_never_had_are_removed_from_the_registry(
    hass: HomeAssistant, server: RepetierSimulator, entry: MockConfigEntry
) -> None:
    """Entries made before the backend declared what it reports do not linger."""
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    for platform, key in (
        ("sensor", "material"),
        ("sensor", "fan_hotend"),
        ("sensor", "fan_print"),
        ("button", "continue"),
    ):
        registry.async_get_or_create(
            platform, DOMAIN, f"{UNIQUE_ID}_{key}", config_entry=entry
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert {
        e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }.isdisjoint(
        {
            f"{UNIQUE_ID}_{key}"
            for key in ("material", "fan_hotend", "fan_print", "continue")
        }
    )
    assert hass.states.get(FAN) is not None


async def test_job_shows_printing_and_progress(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.start_job(SLUG, "benchy.gcode", duration=3600, nozzle=215, bed=60)
    await advance(hass, freezer, 31)
    assert _state(hass, STATE) == "printing"
    assert _state(hass, PRINTING) == "on"
    assert _state(hass, JOB) == "benchy.gcode"
    assert float(_state(hass, PROGRESS)) == 0
    assert float(_state(hass, NOZZLE)) == 215
    assert float(_state(hass, BED_TARGET)) == 60
    assert _event(hass) == "started"

    server.advance(1800)
    await advance(hass, freezer, NEXT_POLL)  # printing: polled every 6 s
    assert float(_state(hass, PROGRESS)) == 50
    assert float(_state(hass, REMAINING)) == 30  # shown in minutes

    # the job ends between two polls; the last poll saw it nearly done
    server.advance(1795)
    await advance(hass, freezer, NEXT_POLL)
    server.advance(10)
    await advance(hass, freezer, NEXT_POLL)
    assert _state(hass, STATE) == "idle"
    assert _state(hass, PROGRESS) == STATE_UNKNOWN
    assert _event(hass) == "finished"


async def test_pause_button_sends_at_pause_never_stop_job(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    assert _state(hass, PAUSE) != STATE_UNAVAILABLE
    assert _state(hass, RESUME) == STATE_UNAVAILABLE

    await _press(hass, freezer, PAUSE)
    assert server.printer(SLUG).gcodes == [PAUSE_COMMAND]
    assert server.printer(SLUG).paused
    assert "stopJob" not in server.actions()
    assert server.printer(SLUG).stopped_jobs == 0
    assert _state(hass, STATE) == "paused"
    assert _state(hass, PAUSE) == STATE_UNAVAILABLE
    assert _event(hass) == "paused"

    await _press(hass, freezer, RESUME)
    assert "continueJob" in server.actions(SLUG)
    assert not server.printer(SLUG).paused
    assert _state(hass, STATE) == "printing"
    assert _event(hass) == "resumed"

    await _press(hass, freezer, CANCEL)
    assert server.printer(SLUG).stopped_jobs == 1
    assert _state(hass, STATE) == "idle"
    assert _event(hass) == "cancelled"
    # only the Prusa i3 was commanded
    assert server.printer("ender_3").gcodes == []
    assert "send" not in server.actions("ender_3")


async def test_missing_keys_make_values_unknown_not_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.start_job(SLUG)
    server.advance(600)
    # keys Repetier-Server versions have dropped or renamed
    server.drop_keys = {
        "activeExtruder",
        "extruder",
        "heatedBeds",
        "speedMultiply",
        "flowMultiply",
        "layer",
        "z",
        "fans",
        "done",
        "printTime",
        "printedTimeComp",
        "jobid",
        "start",
        "ofLayer",
        "paused",
    }
    caplog.clear()
    await advance(hass, freezer, 31)
    assert _state(hass, STATE) == "printing"
    assert _state(hass, JOB) == "benchy.gcode"
    for entity_id in (NOZZLE, BED, PROGRESS, REMAINING, SPEED):
        assert _state(hass, entity_id) == STATE_UNKNOWN, entity_id
    assert [r for r in caplog.records if r.exc_info] == []
    assert _problems(caplog) == []

    server.drop_keys = set()
    await advance(hass, freezer, NEXT_POLL)
    assert float(_state(hass, PROGRESS)) > 0
    assert float(_state(hass, NOZZLE)) == 215


async def test_server_restart_makes_entities_unavailable_then_recovers(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await server.go_down()
    caplog.clear()
    for _ in range(3):
        await advance(hass, freezer, 31)
    assert _state(hass, STATE) == STATE_UNAVAILABLE
    assert _state(hass, NOZZLE) == STATE_UNAVAILABLE
    assert _state(hass, PAUSE) == STATE_UNAVAILABLE
    assert len(_problems(caplog)) == 1, _problems(caplog)

    await server.come_up()
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    assert _state(hass, STATE) == "printing"
    assert float(_state(hass, NOZZLE)) == 215
    assert loaded.state is ConfigEntryState.LOADED


async def test_printer_disconnected_from_server_is_unknown(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.printer(SLUG).online = 0
    await advance(hass, freezer, 31)
    # the server answers, but knows nothing about the printer
    assert _state(hass, STATE) == STATE_UNKNOWN
    assert _state(hass, NOZZLE) == STATE_UNKNOWN
    server.printer(SLUG).online = 1
    await advance(hass, freezer, 31)
    assert _state(hass, STATE) == "idle"


async def test_camera_shows_the_server_webcam(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    """An entry from before the webcam choice (no `webcam` key) shows webcam 0."""
    assert CONF_WEBCAM not in loaded.data
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    # the last one is the camera's (the print record took its first frame before)
    record = [r for r in server.requests if r.path == f"/printer/camjpg/{SLUG}"][-1]
    assert record.raw_query == "cam=0"
    assert record.key_in_header
    assert not record.key_in_query


async def test_camera_shows_the_webcam_chosen_in_the_flow(
    hass: HomeAssistant, server: RepetierSimulator, entry: MockConfigEntry
) -> None:
    server.printer(SLUG).webcams = 2
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_WEBCAM: 1})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    image = await async_get_image(hass, CAMERA)
    assert image.content.startswith(b"\xff\xd8")
    (record,) = [r for r in server.requests if r.path == f"/printer/camjpg/{SLUG}"]
    assert record.raw_query == "cam=1"


async def test_camera_with_no_webcam_chosen_shows_the_job_preview(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    entry: MockConfigEntry,
) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_WEBCAM: None}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    image = await async_get_image(hass, CAMERA)
    assert image.content.startswith(b"\x89PNG")
    assert [
        r.path for r in server.requests if r.path.startswith("/printer/camjpg")
    ] == []


async def test_camera_without_webcam_shows_the_job_preview(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    entry: MockConfigEntry,
) -> None:
    server.printer(SLUG).webcams = 0
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    image = await async_get_image(hass, CAMERA)
    assert image.content.startswith(b"\x89PNG")
    assert [
        r.path for r in server.requests if r.path.startswith("/printer/camjpg")
    ] == []
    record = server.requests[-1]
    assert record.path == "/dyn/render_image"
    assert record.key_in_header
    assert not record.key_in_query


async def test_refused_key_starts_reauth_which_restores_the_printer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.api_key = "rotated-key"
    await advance(hass, freezer, 31)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_API_KEY: "rotated-key"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert loaded.state is ConfigEntryState.LOADED
    assert loaded.data[CONF_API_KEY] == "rotated-key"
    assert _state(hass, STATE) == "idle"


async def test_api_key_stays_out_of_logs_and_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    server.start_job(SLUG)
    await advance(hass, freezer, 31)
    await _press(hass, freezer, PAUSE)

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics, default=str)
    assert API_KEY not in text
    assert diagnostics["entry"]["data"][CONF_API_KEY] == "**REDACTED**"
    assert diagnostics["backend"]["slug"] == SLUG
    assert API_KEY not in caplog.text


async def test_unknown_printer_type_fails_setup_instead_of_guessing(
    hass: HomeAssistant, server: RepetierSimulator, entry: MockConfigEntry
) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_PRINTER_TYPE: "octoprint"}
    )
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "octoprint" in entry.reason
    assert server.requests == []  # not tried as a PrusaLink or a Repetier printer


async def test_printer_dropping_off_usb_mid_print_fires_no_job_event(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.start_job(SLUG, "benchy.gcode", duration=3600, nozzle=215, bed=60)
    await advance(hass, freezer, 31)
    assert _event(hass) == "started"
    fired = hass.states.get(EVENT).state
    server.printer(SLUG).online = 0
    await advance(hass, freezer, NEXT_POLL)
    assert _state(hass, STATE) == STATE_UNKNOWN
    server.printer(SLUG).online = 1
    await advance(hass, freezer, 31)  # unknown state: polled at the idle pace
    assert _state(hass, STATE) == "printing"
    # a USB glitch is not a cancelled print followed by a new one
    assert hass.states.get(EVENT).state == fired
