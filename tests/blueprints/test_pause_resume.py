"""Pause and resume on a sensor value or a binary sensor: only our own pauses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from . import (
    FakePrinter,
    async_advance_waiting,
    async_create_automation,
    async_settle,
    register_printer,
)

LUX = "sensor.light_meter"
TEMPERATURE = "sensor.enclosure_temperature"
DOOR = "binary_sensor.enclosure_door"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory."""
    return hass_tmp_config_dir


@pytest.fixture
def printer(hass: HomeAssistant) -> FakePrinter:
    """A printer that is printing in daylight with its door closed."""
    printer = register_printer(hass)
    hass.states.async_set(printer["state"], "printing")
    hass.states.async_set(LUX, "20000")
    hass.states.async_set(DOOR, "off")
    return printer


@pytest.fixture
def presses(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture the buttons pressed."""
    return async_mock_service(hass, "button", "press")


class Harness:
    """Drives states and time, and reads which buttons were pressed."""

    def __init__(
        self,
        hass: HomeAssistant,
        printer: FakePrinter,
        presses: list[ServiceCall],
        freezer: FrozenDateTimeFactory,
    ) -> None:
        """Keep what the tests need."""
        self.hass = hass
        self.printer = printer
        self.presses = presses
        self.freezer = freezer

    async def set(self, entity_id: str, state: str) -> None:
        """Set a state and let the automation react."""
        self.hass.states.async_set(entity_id, state)
        await async_settle()

    async def printer_state(self, state: str) -> None:
        """Report a new printer state."""
        await self.set(self.printer["state"], state)

    async def wait(self, seconds: float) -> None:
        """Let time pass."""
        await async_advance_waiting(self.hass, self.freezer, timedelta(seconds=seconds))

    @property
    def pressed(self) -> list[str]:
        """Return the keys of the buttons pressed, in order."""
        keys = {self.printer[key]: key for key in ("pause", "resume", "cancel")}
        return [keys[e] for call in self.presses for e in call.data["entity_id"]]


@pytest.fixture
def run(
    hass: HomeAssistant,
    printer: FakePrinter,
    presses: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> Harness:
    """The test harness."""
    return Harness(hass, printer, presses, freezer)


def _printer_inputs(printer: FakePrinter) -> dict[str, Any]:
    return {
        "state_sensor": printer["state"],
        "pause_button": printer["pause"],
        "resume_button": printer["resume"],
    }


async def _light_meter(hass: HomeAssistant, printer: FakePrinter, **extra: Any) -> None:
    inputs = {
        **_printer_inputs(printer),
        "sensor_entity": LUX,
        "threshold": 10000,
        "hold_time": {"seconds": 30},
        "max_wait": {"hours": 1},
        **extra,
    }
    await async_create_automation(hass, "pause_resume_on_sensor.yaml", inputs)


async def _door(hass: HomeAssistant, printer: FakePrinter, **extra: Any) -> None:
    inputs = {**_printer_inputs(printer), "binary_sensor": DOOR, **extra}
    await async_create_automation(hass, "pause_resume_on_binary_sensor.yaml", inputs)


async def test_dark_pauses_and_light_resumes(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)

    await run.set(LUX, "8000")
    await run.wait(29)
    assert run.pressed == []
    await run.wait(2)
    assert run.pressed == ["pause"]

    await run.printer_state("paused")
    await run.set(LUX, "12000")
    await run.wait(29)
    assert run.pressed == ["pause"]
    await run.wait(2)
    assert run.pressed == ["pause", "resume"]


async def test_short_dip_does_not_pause(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)

    await run.set(LUX, "8000")
    await run.wait(20)
    await run.set(LUX, "15000")
    await run.wait(120)

    assert run.pressed == []


async def test_flickering_light_restarts_the_hold_before_resuming(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)
    await run.printer_state("paused")

    await run.set(LUX, "12000")
    await run.wait(20)
    await run.set(LUX, "9000")
    await run.wait(5)
    await run.set(LUX, "12000")
    await run.wait(20)
    assert run.pressed == ["pause"]

    await run.wait(11)
    assert run.pressed == ["pause", "resume"]


async def test_light_back_before_the_printer_reports_paused(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)

    await run.set(LUX, "12000")  # the printer is still finishing its move
    await run.wait(5)
    await run.printer_state("paused")
    await run.wait(31)

    assert run.pressed == ["pause", "resume"]


async def test_not_printing_does_nothing(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    hass.states.async_set(printer["state"], "idle")
    await _light_meter(hass, printer)

    await run.set(LUX, "100")
    await run.wait(60)
    await run.set(LUX, "20000")
    await run.wait(60)

    assert run.pressed == []


async def test_print_resumed_by_the_user_is_not_resumed_again(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)
    await run.printer_state("paused")

    await run.printer_state("printing")  # the user resumed in the dark
    await run.printer_state("paused")  # and paused again, for their own reasons
    await run.set(LUX, "12000")
    await run.wait(60)

    assert run.pressed == ["pause"]


async def test_cancelled_print_is_not_resumed(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)
    await run.printer_state("paused")
    await run.set(LUX, "12000")
    await run.wait(10)

    await run.printer_state("stopped")  # cancelled during the hold
    await run.wait(60)

    assert run.pressed == ["pause"]


async def test_printer_offline_for_a_moment_still_resumes(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)
    await run.printer_state("paused")

    await run.printer_state("unavailable")
    await run.printer_state("paused")
    await run.set(LUX, "12000")
    await run.wait(31)

    assert run.pressed == ["pause", "resume"]


async def test_printer_that_never_pauses_is_never_resumed(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)

    await run.wait(150)  # still printing: the pause did not take
    await run.set(LUX, "12000")
    await run.printer_state("paused")  # the user pauses later
    await run.wait(60)

    assert run.pressed == ["pause"]


async def test_gives_up_after_the_longest_wait(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    await run.set(LUX, "8000")
    await run.wait(31)
    await run.printer_state("paused")

    await run.wait(3601)
    await run.set(LUX, "12000")
    await run.wait(60)

    assert run.pressed == ["pause"]


async def test_pauses_again_on_the_next_dark_spell(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _light_meter(hass, printer)
    for _ in range(2):
        await run.set(LUX, "8000")
        await run.wait(31)
        await run.printer_state("paused")
        await run.set(LUX, "12000")
        await run.wait(31)
        await run.printer_state("printing")

    assert run.pressed == ["pause", "resume", "pause", "resume"]


async def test_above_threshold_with_hysteresis(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    hass.states.async_set(TEMPERATURE, "30")
    await _light_meter(
        hass,
        printer,
        sensor_entity=TEMPERATURE,
        threshold=35,
        direction="above",
        hysteresis=2,
        hold_time={"seconds": 10},
    )

    await run.set(TEMPERATURE, "36")
    await run.wait(11)
    await run.printer_state("paused")
    await run.set(TEMPERATURE, "34")  # below the threshold, within the hysteresis
    await run.wait(60)
    assert run.pressed == ["pause"]

    await run.set(TEMPERATURE, "32.5")
    await run.wait(11)
    assert run.pressed == ["pause", "resume"]


async def test_door_open_pauses_and_closed_resumes(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _door(hass, printer)

    await run.set(DOOR, "on")
    await run.wait(3)
    assert run.pressed == ["pause"]
    await run.printer_state("paused")

    await run.set(DOOR, "off")
    await run.wait(1)
    await run.set(DOOR, "on")  # not quite closed
    await run.wait(5)
    assert run.pressed == ["pause"]
    await run.set(DOOR, "off")
    await run.wait(3)
    assert run.pressed == ["pause", "resume"]


async def test_door_bounce_does_not_pause(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _door(hass, printer)

    await run.set(DOOR, "on")
    await run.wait(1)
    await run.set(DOOR, "off")
    await run.wait(10)

    assert run.pressed == []


async def test_door_opened_while_idle_does_nothing(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    hass.states.async_set(printer["state"], "finished")
    await _door(hass, printer)

    await run.set(DOOR, "on")
    await run.wait(10)
    await run.set(DOOR, "off")
    await run.wait(10)

    assert run.pressed == []


async def test_door_print_cancelled_while_open_is_not_resumed(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    await _door(hass, printer)
    await run.set(DOOR, "on")
    await run.wait(3)
    await run.printer_state("paused")

    await run.printer_state("stopped")
    await run.set(DOOR, "off")
    await run.wait(10)

    assert run.pressed == ["pause"]


async def test_inverted_sensor_pauses_when_off(
    hass: HomeAssistant, printer: FakePrinter, run: Harness
) -> None:
    hass.states.async_set(DOOR, "on")
    await _door(hass, printer, pause_state="off", hold_time={"seconds": 0})

    await run.set(DOOR, "off")
    assert run.pressed == ["pause"]
    await run.printer_state("paused")
    await run.set(DOOR, "on")
    await run.wait(1)

    assert run.pressed == ["pause", "resume"]
