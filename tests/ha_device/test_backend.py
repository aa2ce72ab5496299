"""The backend of a printer another integration has, as a user notices it.

`HaDeviceBackend` reads the other integration's entities: these tests set those
states directly (`hass.states.async_set`) and check what Print Sentinel makes of
them: times, temperatures, material, unmapped states, the printer's own failure
detection, the pause/resume/stop entities, the camera, the print's id and the
subscription to changes.
"""

from __future__ import annotations

from datetime import timedelta
import itertools
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import Camera
from homeassistant.components.image import ImageEntity
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    async_fire_time_changed,
    async_mock_service,
    mock_integration,
    mock_platform,
)

from custom_components.print_sentinel.job_events import job_events
from custom_components.print_sentinel.printers.base import (
    PRINTER_FAILURE,
    Capability,
    PrinterCommandRefused,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterSnapshot,
    PrinterState,
)
from custom_components.print_sentinel.printers.ha_device import HaDeviceBackend
from custom_components.print_sentinel.printers.ha_device_jobs import STORAGE_KEY

from .fakes import register_printer

STAND_IN = "stand_in_printer"
ACCESS_CODE = "acc-Secret-8841"

STATE = "sensor.workshop_print_status"
JOB_NAME = "sensor.workshop_task_name"
PROGRESS = "sensor.workshop_progress"
REMAINING = "sensor.workshop_remaining_time"
MATERIAL = "sensor.workshop_active_tray"
NOZZLE = "sensor.workshop_nozzle"
BED = "sensor.workshop_bed"
FAILURE = "binary_sensor.workshop_print_error"
PAUSE = "button.workshop_pause"
RESUME = "button.workshop_resume"
STOP = "button.workshop_stop"
CAMERA = "camera.workshop_chamber"
IMAGE = "image.workshop_snapshot"

ENTITIES = {
    "state": STATE,
    "job_name": JOB_NAME,
    "progress": PROGRESS,
    "time_remaining": REMAINING,
    "material": MATERIAL,
    "nozzle": NOZZLE,
    "bed": BED,
    "failure": FAILURE,
    "pause": PAUSE,
    "resume": RESUME,
    "stop": STOP,
    "camera": CAMERA,
}
STATES = {
    "printing": ["RUNNING"],
    "paused": ["pause"],
    "finished": ["finish"],
    "stopped": ["cancelled"],
    "error": ["failed"],
    "idle": ["idle"],
}


def _device(hass: HomeAssistant) -> str:
    """The printer's device, as its integration registered it."""
    entry = MockConfigEntry(
        domain=STAND_IN, title="Workshop", data={"access_code": ACCESS_CODE}
    )
    entry.add_to_hass(hass)
    return (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(STAND_IN, "WS-1")},
            name="Workshop printer",
            manufacturer="Acme",
            model="P1",
            sw_version="01.07",
            serial_number="WS-1",
        )
        .id
    )


def _backend(
    hass: HomeAssistant, device_id: str | None = None, **entities: str | None
) -> HaDeviceBackend:
    """A backend for all of ENTITIES, with `entities` changed (None: not chosen)."""
    chosen = {
        role: entity_id
        for role, entity_id in {**ENTITIES, **entities}.items()
        if entity_id is not None
    }
    return HaDeviceBackend(hass, device_id or _device(hass), chosen, STATES)


def _set(hass: HomeAssistant, entity_id: str, value: str, **attributes: Any) -> None:
    hass.states.async_set(entity_id, value, attributes)


def _printing(hass: HomeAssistant) -> None:
    """A print running, every entity with a plain value."""
    _set(hass, STATE, "RUNNING")
    _set(hass, JOB_NAME, "benchy.gcode")
    _set(hass, PROGRESS, "42", **{ATTR_UNIT_OF_MEASUREMENT: "%"})
    _set(hass, REMAINING, "37", **{ATTR_UNIT_OF_MEASUREMENT: "min"})
    _set(hass, MATERIAL, "PLA")
    _set(hass, NOZZLE, "215", **{ATTR_UNIT_OF_MEASUREMENT: UnitOfTemperature.CELSIUS})
    _set(hass, BED, "60", **{ATTR_UNIT_OF_MEASUREMENT: UnitOfTemperature.CELSIUS})
    _set(hass, FAILURE, "off", friendly_name="Print error")


async def _poll(backend: HaDeviceBackend) -> PrinterSnapshot:
    return await backend.async_poll()


# --- what a poll reports --------------------------------------------------------------


async def test_a_running_print_is_read_from_the_entities(hass: HomeAssistant) -> None:
    _printing(hass)
    backend = _backend(hass)

    snapshot = await _poll(backend)

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.raw_state == "RUNNING"
    assert snapshot.nozzle_temperature == 215.0
    assert snapshot.bed_temperature == 60.0
    assert snapshot.material == "PLA"
    assert snapshot.job is not None
    assert snapshot.job.name == "benchy.gcode"
    assert snapshot.job.progress == 42.0
    assert snapshot.job.time_remaining == 37 * 60
    assert snapshot.extra[PRINTER_FAILURE] is None
    assert backend.capabilities == {Capability.CAMERA, Capability.MATERIAL}
    assert backend.diagnostics()["entities"] == ENTITIES
    # every sensor has its entity, but no target temperatures are read
    assert backend.unreported == {
        "z_height",
        "print_speed",
        "flow",
        "time_printing",
        "nozzle_target",
        "bed_target",
    }


async def test_a_printer_with_only_a_state_entity(hass: HomeAssistant) -> None:
    """Nothing else chosen: nothing else reported, no camera, no material."""
    _set(hass, STATE, "RUNNING")
    backend = HaDeviceBackend(hass, _device(hass), {"state": STATE}, STATES)

    snapshot = await _poll(backend)

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.nozzle_temperature is None
    assert snapshot.material is None
    assert snapshot.job is not None
    assert snapshot.job.name is None
    assert snapshot.job.progress is None
    assert snapshot.job.time_remaining is None
    assert backend.capabilities == frozenset()
    assert {
        "job_name",
        "progress",
        "time_remaining",
        "estimated_finish",
        "nozzle_temperature",
        "bed_temperature",
    } <= backend.unreported
    assert await backend.async_get_camera_image() is None
    assert await backend.async_get_thumbnail() is None


async def test_state_entity_gone_or_unavailable_is_unreachable(
    hass: HomeAssistant,
) -> None:
    backend = _backend(hass)
    with pytest.raises(PrinterConnectionError, match="is not in Home Assistant"):
        await _poll(backend)
    for value in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        _set(hass, STATE, value)
        with pytest.raises(PrinterConnectionError, match=value):
            await _poll(backend)


async def test_idle_printer_that_never_printed_has_no_job(hass: HomeAssistant) -> None:
    _printing(hass)
    _set(hass, STATE, "idle")

    snapshot = await _poll(_backend(hass))

    assert snapshot.state is PrinterState.IDLE
    assert snapshot.job is None


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        ("90", "s", 90),
        ("37", "min", 37 * 60),
        ("1.5", "h", 5400),
        ("2", "d", 2 * 86400),
        ("125", None, 125),
        ("-5", "min", None),
        ("soon", "min", None),
        (STATE_UNKNOWN, "min", None),
        (STATE_UNAVAILABLE, "h", None),
    ],
)
async def test_time_remaining_from_a_duration(
    hass: HomeAssistant, value: str, unit: str | None, seconds: int | None
) -> None:
    _printing(hass)
    attributes = {"device_class": "duration"}
    if unit is not None:
        attributes[ATTR_UNIT_OF_MEASUREMENT] = unit
    _set(hass, REMAINING, value, **attributes)

    snapshot = await _poll(_backend(hass))

    assert snapshot.job is not None
    assert snapshot.job.time_remaining == seconds


async def test_time_remaining_from_a_finish_timestamp(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """OctoPrint and others give the finish time: the time left is counted to it."""
    freezer.move_to("2026-03-01T12:00:00+00:00")
    _printing(hass)
    backend = _backend(hass)
    finish = dt_util.utcnow() + timedelta(minutes=25)

    _set(hass, REMAINING, finish.isoformat(), device_class="timestamp")
    assert (await _poll(backend)).job.time_remaining == 25 * 60  # type: ignore[union-attr]

    # as in a timezone of its own
    local = finish.astimezone(dt_util.get_time_zone("America/New_York"))
    _set(hass, REMAINING, local.isoformat(), device_class="timestamp")
    assert (await _poll(backend)).job.time_remaining == 25 * 60  # type: ignore[union-attr]

    freezer.tick(timedelta(minutes=10))
    _set(hass, REMAINING, finish.isoformat(), device_class="timestamp")
    assert (await _poll(backend)).job.time_remaining == 15 * 60  # type: ignore[union-attr]

    # no offset: a time in Home Assistant's time zone
    naive = finish.astimezone(dt_util.get_default_time_zone()).replace(tzinfo=None)
    _set(hass, REMAINING, naive.isoformat(), device_class="timestamp")
    assert (await _poll(backend)).job.time_remaining == 15 * 60  # type: ignore[union-attr]

    # the finish time passed (the print runs late): unknown, never negative
    past = dt_util.utcnow() - timedelta(minutes=1)
    _set(hass, REMAINING, past.isoformat(), device_class="timestamp")
    assert (await _poll(backend)).job.time_remaining is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    [
        "tomorrow",
        "37",
        # well formed, but no date: ValueError inside HA's parse_datetime
        "2026-13-45T12:00:00+00:00",
        # half an emoji: HA's C date parser ends the whole process on it
        "2026-03-01T13:00:00\ud800",
        "\ud800",
    ],
)
async def test_time_remaining_from_an_unparsable_timestamp_is_unknown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, value: str
) -> None:
    """Whatever the timestamp sensor holds, the poll works; the time left is None."""
    freezer.move_to("2026-03-01T12:00:00+00:00")
    _printing(hass)
    _set(hass, REMAINING, value, device_class="timestamp")

    snapshot = await _poll(_backend(hass))

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert snapshot.job.time_remaining is None


@pytest.mark.parametrize(
    ("value", "unit", "celsius"),
    [
        ("410", UnitOfTemperature.FAHRENHEIT, 210.0),
        ("140", UnitOfTemperature.FAHRENHEIT, 60.0),
        ("333.15", UnitOfTemperature.KELVIN, 60.0),
        ("215.5", UnitOfTemperature.CELSIUS, 215.5),
        ("60", None, 60.0),
        ("hot", UnitOfTemperature.FAHRENHEIT, None),
        (STATE_UNKNOWN, UnitOfTemperature.CELSIUS, None),
        ("5000", UnitOfTemperature.CELSIUS, None),  # no printer is that hot
    ],
)
async def test_temperatures_are_in_celsius(
    hass: HomeAssistant, value: str, unit: str | None, celsius: float | None
) -> None:
    _printing(hass)
    attributes = {ATTR_UNIT_OF_MEASUREMENT: unit} if unit else {}
    _set(hass, NOZZLE, value, **attributes)
    _set(hass, BED, value, **attributes)

    snapshot = await _poll(_backend(hass))

    if celsius is None:
        assert snapshot.nozzle_temperature is None
        assert snapshot.bed_temperature is None
    else:
        assert snapshot.nozzle_temperature == pytest.approx(celsius)
        assert snapshot.bed_temperature == pytest.approx(celsius)


@pytest.mark.parametrize(
    "value", ["-", " - ", "--", "none", "None", STATE_UNKNOWN, STATE_UNAVAILABLE]
)
async def test_no_material_loaded(hass: HomeAssistant, value: str) -> None:
    _printing(hass)
    _set(hass, MATERIAL, value)

    assert (await _poll(_backend(hass))).material is None


async def test_material_named_with_a_dash_is_kept(hass: HomeAssistant) -> None:
    _printing(hass)
    _set(hass, MATERIAL, "PLA - Basic")

    assert (await _poll(_backend(hass))).material == "PLA - Basic"


async def test_unmapped_state_value_is_busy_and_logged_once(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    _printing(hass)
    _set(hass, STATE, "PREPARE")
    backend = _backend(hass)
    caplog.set_level(logging.INFO)

    for _ in range(5):
        snapshot = await _poll(backend)
        assert snapshot.state is PrinterState.BUSY
        assert snapshot.raw_state == "PREPARE"

    lines = [r for r in caplog.records if "PREPARE".lower() in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert STATE in lines[0].getMessage()
    # a second unmapped value is logged too, once
    _set(hass, STATE, "SLICING")
    await _poll(backend)
    await _poll(backend)
    assert len([r for r in caplog.records if "slicing" in r.getMessage()]) == 1
    assert backend.diagnostics()["unmapped_values"] == ["prepare", "slicing"]


@pytest.mark.parametrize(
    ("value", "progress"),
    [
        ("42.5", 42.5),
        ("100", 100.0),
        ("n/a", None),
        ("42 %", None),
        ("nan", None),
        ("inf", None),
        ("-3", None),
        ("250", None),
        (STATE_UNKNOWN, None),
    ],
)
async def test_progress_that_is_no_number_is_unknown(
    hass: HomeAssistant, value: str, progress: float | None
) -> None:
    _printing(hass)
    _set(hass, PROGRESS, value, **{ATTR_UNIT_OF_MEASUREMENT: "%"})

    snapshot = await _poll(_backend(hass))

    assert snapshot.job is not None
    assert snapshot.job.progress == progress


# --- the printer's own failure detection ----------------------------------------------


async def test_failure_binary_sensor(hass: HomeAssistant) -> None:
    _printing(hass)
    backend = _backend(hass)

    assert (await _poll(backend)).extra[PRINTER_FAILURE] is None
    _set(hass, FAILURE, "on", friendly_name="Print error")
    assert (await _poll(backend)).extra[PRINTER_FAILURE] == "Print error"
    _set(hass, FAILURE, "off", friendly_name="Print error")
    assert (await _poll(backend)).extra[PRINTER_FAILURE] is None
    _set(hass, FAILURE, STATE_UNAVAILABLE, friendly_name="Print error")
    assert (await _poll(backend)).extra[PRINTER_FAILURE] is None


@pytest.mark.parametrize(
    ("value", "failure"),
    [
        ("none", None),
        ("None", None),
        ("no error", None),
        ("OK", None),
        ("0", None),
        ("", None),
        ("Filament runout", "Print error: Filament runout"),
        ("spaghetti_detected", "Print error: spaghetti_detected"),
    ],
)
async def test_failure_text_sensor(
    hass: HomeAssistant, value: str, failure: str | None
) -> None:
    """Elegoo and others report their error as text: "none" when there is none."""
    _printing(hass)
    _set(hass, "sensor.workshop_print_error", value, friendly_name="Print error")
    backend = _backend(hass, failure="sensor.workshop_print_error")

    assert (await _poll(backend)).extra[PRINTER_FAILURE] == failure


# --- pause, resume, stop --------------------------------------------------------------


async def test_pause_resume_stop_press_their_buttons(hass: HomeAssistant) -> None:
    _printing(hass)
    for button in (PAUSE, RESUME, STOP):
        _set(hass, button, STATE_UNKNOWN)  # a button never pressed
    presses = async_mock_service(hass, "button", "press")
    backend = _backend(hass)

    await backend.async_pause()
    await backend.async_resume()
    await backend.async_cancel()

    assert [c.data["entity_id"] for c in presses] == [PAUSE, RESUME, STOP]


async def test_pause_without_a_pause_entity_is_unsupported(
    hass: HomeAssistant,
) -> None:
    _printing(hass)
    backend = _backend(hass, pause=None, stop=None)

    with pytest.raises(PrinterCommandUnsupported):
        await backend.async_pause()
    with pytest.raises(PrinterCommandUnsupported):
        await backend.async_cancel()


async def test_pause_entity_that_cannot_be_pressed_is_unsupported(
    hass: HomeAssistant,
) -> None:
    _printing(hass)
    _set(hass, "switch.workshop_pause", "off")
    calls = async_mock_service(hass, "switch", "turn_on")
    backend = _backend(hass, pause="switch.workshop_pause")

    with pytest.raises(PrinterCommandUnsupported):
        await backend.async_pause()
    assert calls == []


@pytest.mark.parametrize("state", [STATE_UNAVAILABLE, None])
async def test_pause_button_unavailable_is_a_connection_error(
    hass: HomeAssistant, state: str | None
) -> None:
    _printing(hass)
    if state is not None:
        _set(hass, PAUSE, state)
    presses = async_mock_service(hass, "button", "press")
    backend = _backend(hass)

    with pytest.raises(PrinterConnectionError):
        await backend.async_pause()
    assert presses == []


async def test_pause_through_a_script(hass: HomeAssistant) -> None:
    _printing(hass)
    _set(hass, "script.pause_the_printer", "off")
    runs: list[ServiceCall] = async_mock_service(hass, "script", "turn_on")
    backend = _backend(hass, pause="script.pause_the_printer")

    await backend.async_pause()

    assert len(runs) == 1
    assert runs[0].domain == "script"
    assert runs[0].service == "turn_on"
    assert runs[0].data == {"entity_id": "script.pause_the_printer"}


async def test_pause_through_an_input_button(hass: HomeAssistant) -> None:
    _printing(hass)
    _set(hass, "input_button.pause_printer", STATE_UNKNOWN)
    presses = async_mock_service(hass, "input_button", "press")
    backend = _backend(hass, pause="input_button.pause_printer")

    await backend.async_pause()

    assert [c.data["entity_id"] for c in presses] == ["input_button.pause_printer"]


async def test_a_refused_press_is_refused(hass: HomeAssistant) -> None:
    _printing(hass)
    _set(hass, PAUSE, STATE_UNKNOWN)

    async def refuse(call: ServiceCall) -> None:
        raise HomeAssistantError("printer is not printing")

    hass.services.async_register("button", "press", refuse)
    backend = _backend(hass)

    with pytest.raises(PrinterCommandRefused, match="printer is not printing"):
        await backend.async_pause()


@pytest.mark.parametrize(
    "error", [RuntimeError("MQTT client not connected"), TimeoutError(), OSError(113)]
)
async def test_a_press_whose_library_fails_is_refused(
    hass: HomeAssistant, error: Exception
) -> None:
    """Another integration's button raising what its library raises: the press
    failed (a pause_failed answer and a notification), not an escaped exception."""
    _printing(hass)
    _set(hass, PAUSE, STATE_UNKNOWN)

    async def fail(call: ServiceCall) -> None:
        raise error

    hass.services.async_register("button", "press", fail)

    with pytest.raises(PrinterCommandRefused, match=type(error).__name__):
        await _backend(hass).async_pause()


async def test_a_press_with_no_such_service_is_unsupported(
    hass: HomeAssistant,
) -> None:
    """The button integration is not loaded: unsupported, not refused."""
    _printing(hass)
    _set(hass, PAUSE, STATE_UNKNOWN)

    with pytest.raises(PrinterCommandUnsupported):
        await _backend(hass).async_pause()


async def test_continue_is_unsupported(hass: HomeAssistant) -> None:
    _printing(hass)
    with pytest.raises(PrinterCommandUnsupported):
        await _backend(hass).async_continue()


# --- the camera -----------------------------------------------------------------------


class _Camera(Camera):
    def __init__(self, entity_id: str, image: bytes | None) -> None:
        super().__init__()
        self.entity_id = entity_id
        self._image = image

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return self._image


class _Image(ImageEntity):
    def __init__(self, hass: HomeAssistant, entity_id: str, image: bytes) -> None:
        super().__init__(hass)
        self.entity_id = entity_id
        self._image = image
        self._attr_image_last_updated = dt_util.utcnow()

    async def async_image(self) -> bytes | None:
        return self._image


async def _cameras(hass: HomeAssistant) -> None:
    """A working camera, a camera that gives no picture, and an image entity."""

    async def setup_cameras(
        hass: HomeAssistant,
        config: Any,
        add: AddEntitiesCallback,
        discovery_info: Any = None,
    ) -> None:
        add([_Camera(CAMERA, b"\xff\xd8chamber"), _Camera("camera.broken", None)])

    async def setup_images(
        hass: HomeAssistant,
        config: Any,
        add: AddEntitiesCallback,
        discovery_info: Any = None,
    ) -> None:
        add([_Image(hass, IMAGE, b"\xff\xd8snapshot")])

    mock_integration(hass, MockModule(STAND_IN))
    mock_platform(
        hass, f"{STAND_IN}.camera", MockPlatform(async_setup_platform=setup_cameras)
    )
    mock_platform(
        hass, f"{STAND_IN}.image", MockPlatform(async_setup_platform=setup_images)
    )
    assert await async_setup_component(
        hass, "camera", {"camera": {"platform": STAND_IN}}
    )
    assert await async_setup_component(hass, "image", {"image": {"platform": STAND_IN}})
    await hass.async_block_till_done()


async def test_camera_picture(hass: HomeAssistant) -> None:
    await _cameras(hass)
    assert await _backend(hass).async_get_camera_image() == b"\xff\xd8chamber"


async def test_image_entity_as_the_camera(hass: HomeAssistant) -> None:
    await _cameras(hass)
    backend = _backend(hass, camera=IMAGE)

    assert Capability.CAMERA in backend.capabilities
    assert await backend.async_get_camera_image() == b"\xff\xd8snapshot"


@pytest.mark.parametrize(
    "camera", ["camera.broken", "camera.gone", "image.gone"], ids=str
)
async def test_camera_that_fails_gives_no_picture(
    hass: HomeAssistant, camera: str
) -> None:
    await _cameras(hass)

    assert await _backend(hass, camera=camera).async_get_camera_image() is None


async def test_camera_before_the_camera_integration_is_loaded(
    hass: HomeAssistant,
) -> None:
    assert await _backend(hass).async_get_camera_image() is None


# --- who the printer is ---------------------------------------------------------------


async def test_identity_is_the_device(hass: HomeAssistant) -> None:
    device_id = _device(hass)
    identity = await _backend(hass, device_id).async_get_identity()

    assert identity.unique_id == device_id
    assert identity.device_id == device_id
    assert identity.name == "Workshop printer"
    assert identity.manufacturer == "Acme"
    assert identity.model == "P1"
    assert identity.firmware == "01.07"
    assert identity.serial_number == "WS-1"

    # the user's name for the device wins; the name in the entry wins over both
    dr.async_get(hass).async_update_device(device_id, name_by_user="Big one")
    assert (await _backend(hass, device_id).async_get_identity()).name == "Big one"
    named = HaDeviceBackend(hass, device_id, ENTITIES, STATES, name="Garage")
    assert (await named.async_get_identity()).name == "Garage"


async def test_identity_when_the_device_was_removed(hass: HomeAssistant) -> None:
    device_id = _device(hass)
    backend = _backend(hass, device_id)
    dr.async_get(hass).async_remove_device(device_id)

    with pytest.raises(PrinterConnectionError):
        await backend.async_get_identity()


# --- which print it is ----------------------------------------------------------------


async def test_job_id_is_new_for_each_print_and_kept_through_pause(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The same file printed twice is two prints; a pause does not make a third."""
    _printing(hass)
    _set(hass, STATE, "idle")
    backend = _backend(hass)
    assert (await _poll(backend)).job is None

    ids: list[object] = []
    for value in ("RUNNING", "pause", "RUNNING", "finish", "idle"):
        freezer.tick(timedelta(minutes=7))
        _set(hass, STATE, value)
        snapshot = await _poll(backend)
        assert snapshot.job is not None, value
        ids.append(snapshot.job.id)
    first = ids[0]
    assert ids == [first] * 5

    freezer.tick(timedelta(minutes=7))
    _set(hass, STATE, "RUNNING")
    second = (await _poll(backend)).job
    assert second is not None
    assert second.name == "benchy.gcode"
    assert second.id != first

    # straight from finished to the next print, with no idle in between
    freezer.tick(timedelta(minutes=7))
    _set(hass, STATE, "finish")
    await _poll(backend)
    freezer.tick(timedelta(minutes=7))
    _set(hass, STATE, "RUNNING")
    third = (await _poll(backend)).job
    assert third is not None
    assert third.id not in (first, second.id)


async def test_job_id_kept_through_an_outage(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The integration loses the printer for a moment: still the same print."""
    _printing(hass)
    backend = _backend(hass)
    first = (await _poll(backend)).job
    assert first is not None

    freezer.tick(timedelta(minutes=1))
    _set(hass, STATE, STATE_UNAVAILABLE)
    with pytest.raises(PrinterConnectionError):
        await _poll(backend)
    freezer.tick(timedelta(minutes=1))
    _set(hass, STATE, "RUNNING")

    again = (await _poll(backend)).job
    assert again is not None
    assert again.id == first.id


@pytest.mark.parametrize("glitch", ["PREPARE", "attention", "", "busy"])
async def test_an_unmapped_value_mid_print_is_a_stop_within_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, glitch: str
) -> None:
    """A value the settings do not name, for a poll or two while printing."""
    _printing(hass)
    backend = _backend(hass)
    polls = [await _poll(backend)]
    for value in (glitch, glitch, "RUNNING"):
        freezer.tick(timedelta(seconds=10))
        _set(hass, STATE, value)
        polls.append(await _poll(backend))

    assert [p.state for p in polls] == [
        PrinterState.PRINTING,
        PrinterState.ATTENTION,
        PrinterState.ATTENTION,
        PrinterState.PRINTING,
    ]
    assert len({p.job.id for p in polls if p.job}) == 1
    events = [job_events(a, b) for a, b in itertools.pairwise(polls)]
    assert events == [[], [], []]  # no "cancelled", no second "started"


async def test_offline_is_unreachable_and_keeps_the_print(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """ha-bambulab's print status reads "offline" while the printer is away."""
    _printing(hass)
    backend = _backend(hass)
    first = (await _poll(backend)).job
    _set(hass, STATE, "offline")
    with pytest.raises(PrinterConnectionError, match="offline"):
        await _poll(backend)
    freezer.tick(timedelta(minutes=3))
    _set(hass, STATE, "RUNNING")
    again = (await _poll(backend)).job
    assert first is not None and again is not None
    assert again.id == first.id


async def test_job_id_kept_across_a_reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Saving the options sets the printer up again: a paused print is the same one."""
    _printing(hass)
    device = _device(hass)
    first = (await _poll(_backend(hass, device))).job
    freezer.tick(timedelta(minutes=5))
    _set(hass, STATE, "pause")
    again = (await _poll(_backend(hass, device))).job
    assert first is not None and again is not None
    assert again.id == first.id

    # the print ended while nobody looked: the next one is new
    reloaded = _backend(hass, device)
    _set(hass, STATE, "idle")
    await _poll(reloaded)
    freezer.tick(timedelta(minutes=5))
    _set(hass, STATE, "RUNNING")
    following = (await _poll(reloaded)).job
    assert following is not None
    assert following.id != first.id


async def test_job_id_kept_across_a_reload_during_an_unmapped_value(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Reloaded while the printer shows a value no list names, mid-print."""
    _printing(hass)
    device = _device(hass)
    first = (await _poll(_backend(hass, device))).job
    _set(hass, STATE, "PREPARE")
    reloaded = _backend(hass, device)
    assert (await _poll(reloaded)).state is PrinterState.ATTENTION
    freezer.tick(timedelta(minutes=1))
    _set(hass, STATE, "RUNNING")
    again = (await _poll(reloaded)).job
    assert first is not None and again is not None
    assert again.id == first.id


async def test_job_id_kept_across_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant restarts while the print is paused: the same print after it."""
    _printing(hass)
    device = _device(hass)
    first = (await _poll(_backend(hass, device))).job
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert STORAGE_KEY in hass_storage  # written soon, not at shutdown only

    hass.data.pop("print_sentinel_ha_device_prints")  # nothing kept in memory
    freezer.tick(timedelta(hours=8))
    _set(hass, STATE, "pause")
    again = (await _poll(_backend(hass, device))).job
    assert first is not None and again is not None
    assert again.id == first.id


@pytest.mark.parametrize(
    ("name", "progress"), [("other.gcode", "3"), ("benchy.gcode", "3")]
)
async def test_a_print_started_while_home_assistant_was_down_is_new(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    name: str,
    progress: str,
) -> None:
    """The last print ended and another started (or the same file again) meanwhile."""
    _printing(hass)  # benchy.gcode at 42 %
    device = _device(hass)
    first = (await _poll(_backend(hass, device))).job
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    hass.data.pop("print_sentinel_ha_device_prints")
    freezer.tick(timedelta(hours=8))
    _set(hass, JOB_NAME, name)
    _set(hass, PROGRESS, progress, **{ATTR_UNIT_OF_MEASUREMENT: "%"})
    later = (await _poll(_backend(hass, device))).job
    assert first is not None and later is not None
    assert later.id != first.id


@pytest.mark.parametrize(
    "stored",
    [
        {"version": 99, "minor_version": 1, "key": STORAGE_KEY, "data": {}},
        {"version": 1, "minor_version": 1, "key": STORAGE_KEY, "data": ["junk"]},
        {"version": 1, "key": STORAGE_KEY, "data": {"device": {"start": 3}}},
    ],
    ids=["newer_version", "not_a_mapping", "no_start"],
)
async def test_an_unreadable_file_of_running_prints_is_no_print(
    hass: HomeAssistant, hass_storage: dict[str, Any], stored: dict[str, Any]
) -> None:
    """After a downgrade, or a file edited by hand: the printer is still watched."""
    hass_storage[STORAGE_KEY] = stored
    _printing(hass)
    snapshot = await _poll(_backend(hass))
    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None


async def test_job_id_kept_when_the_job_name_comes_late_or_flickers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The print's name is reported after its state, or drops out for a moment.

    It is still the same print: a new id would end it (a "cancelled" and a
    "started" job event) and start detection over for a print already running.
    """
    _printing(hass)
    _set(hass, STATE, "idle")
    _set(hass, JOB_NAME, STATE_UNKNOWN)
    backend = _backend(hass)
    await _poll(backend)

    ids: list[object] = []
    for name in ("unknown", "benchy.gcode", STATE_UNAVAILABLE, "benchy.gcode"):
        freezer.tick(timedelta(seconds=30))
        _set(hass, STATE, "RUNNING")
        _set(hass, JOB_NAME, name)
        snapshot = await _poll(backend)
        assert snapshot.job is not None
        ids.append(snapshot.job.id)

    assert len(set(ids)) == 1, ids


# --- diagnostics and following changes ------------------------------------------------


async def test_diagnostics_names_the_entities_and_no_secret(
    hass: HomeAssistant,
) -> None:
    fake = register_printer(hass, "bambu_lab")
    hass.config_entries.async_update_entry(
        fake.config_entry,
        data={**fake.config_entry.data, "access_code": ACCESS_CODE},
    )
    backend = HaDeviceBackend(
        hass, fake.device_id, fake.entity_ids, {"printing": ["running"]}
    )
    fake.set_state("state", "prepare")
    await _poll(backend)

    diagnostics = backend.diagnostics()

    assert diagnostics["device_id"] == fake.device_id
    assert diagnostics["entities"] == fake.entity_ids
    assert diagnostics["state_values"] == {"running": "printing"}
    assert diagnostics["unmapped_values"] == ["prepare"]
    assert ACCESS_CODE not in repr(diagnostics)


async def test_subscribe_follows_state_entities_not_the_camera(
    hass: HomeAssistant,
) -> None:
    _printing(hass)
    _set(hass, CAMERA, "idle")
    _set(hass, PAUSE, STATE_UNKNOWN)
    backend = _backend(hass)
    changes: list[None] = []
    unsubscribe = backend.async_subscribe(lambda: changes.append(None))

    _set(hass, CAMERA, "streaming")
    _set(hass, CAMERA, "idle", entity_picture="/api/camera_proxy/x?token=2")
    _set(hass, PAUSE, "2026-03-01T12:00:00+00:00")
    await hass.async_block_till_done()
    assert changes == []

    _set(hass, STATE, "pause")
    await hass.async_block_till_done()
    assert len(changes) == 1
    _set(hass, PROGRESS, "43", **{ATTR_UNIT_OF_MEASUREMENT: "%"})
    _set(hass, FAILURE, "on", friendly_name="Print error")
    await hass.async_block_till_done()
    assert len(changes) == 3

    unsubscribe()
    _set(hass, STATE, "RUNNING")
    _set(hass, PROGRESS, "44", **{ATTR_UNIT_OF_MEASUREMENT: "%"})
    await hass.async_block_till_done()
    assert len(changes) == 3
