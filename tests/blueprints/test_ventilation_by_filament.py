"""The ventilation blueprint: air for PLA/PETG, a closed box for ABS/ASA."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from . import FakePrinter, async_advance, async_create_automation, register_printer

BLUEPRINT = "ventilation_by_filament.yaml"
FAN = "fan.enclosure"
TEMPERATURE = "sensor.enclosure_temperature"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory."""
    return hass_tmp_config_dir


class Calls:
    """The turn_on / turn_off calls the automation made."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Mock the services."""
        self.on: list[ServiceCall] = async_mock_service(
            hass, "homeassistant", "turn_on"
        )
        self.off: list[ServiceCall] = async_mock_service(
            hass, "homeassistant", "turn_off"
        )

    def targets(self, calls: list[ServiceCall]) -> list[str]:
        """Return the entity ids of the calls, in order."""
        return [entity for call in calls for entity in call.data["entity_id"]]

    def none(self) -> bool:
        """Return whether nothing was turned on or off."""
        return not self.on and not self.off


@pytest.fixture
def printer(hass: HomeAssistant) -> FakePrinter:
    """A printer with PLA loaded, idle, and the fan off."""
    printer = register_printer(hass)
    hass.states.async_set(printer["state"], "idle")
    hass.states.async_set(printer["material"], "PLA")
    hass.states.async_set(FAN, "off")
    return printer


@pytest.fixture
def calls(hass: HomeAssistant) -> Calls:
    """Capture the fan calls."""
    return Calls(hass)


async def _create(hass: HomeAssistant, printer: FakePrinter, **extra: Any) -> None:
    inputs = {
        "material_sensor": printer["material"],
        "state_sensor": printer["state"],
        "target": FAN,
        "run_on": 5,
    }
    inputs.update(extra)
    await async_create_automation(hass, BLUEPRINT, inputs)


async def _set(hass: HomeAssistant, entity_id: str, state: str) -> None:
    hass.states.async_set(entity_id, state)
    await hass.async_block_till_done()


async def test_pla_print_ventilates_until_run_on_ends(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _create(hass, printer)

    await _set(hass, printer["state"], "printing")
    assert calls.targets(calls.on) == [FAN]
    await _set(hass, FAN, "on")

    await _set(hass, printer["state"], "paused")
    await _set(hass, printer["state"], "printing")
    assert len(calls.on) == 1  # already on: not turned on again
    assert not calls.off

    await _set(hass, printer["state"], "finished")
    await async_advance(hass, freezer, timedelta(minutes=4))
    assert not calls.off  # still running on

    await async_advance(hass, freezer, timedelta(minutes=1, seconds=1))
    assert calls.targets(calls.off) == [FAN]


async def test_next_print_within_run_on_keeps_the_fan_running(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _create(hass, printer)
    await _set(hass, FAN, "on")
    await _set(hass, printer["state"], "printing")
    await _set(hass, printer["state"], "finished")
    await async_advance(hass, freezer, timedelta(minutes=3))

    await _set(hass, printer["state"], "printing")
    await async_advance(hass, freezer, timedelta(minutes=30))

    assert calls.none()


async def test_printer_switched_off_after_the_print_still_stops_the_fan(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _create(hass, printer)
    await _set(hass, printer["state"], "printing")
    await _set(hass, FAN, "on")
    await _set(hass, printer["state"], "finished")
    await async_advance(hass, freezer, timedelta(minutes=1))

    await _set(hass, printer["state"], "unavailable")
    await _set(hass, printer["material"], "unavailable")
    await async_advance(hass, freezer, timedelta(minutes=5, seconds=1))

    assert calls.targets(calls.off) == [FAN]


async def test_without_run_on_the_fan_stops_when_the_print_ends(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls
) -> None:
    await _create(hass, printer, run_on=0)
    await _set(hass, printer["state"], "printing")
    await _set(hass, FAN, "on")

    await _set(hass, printer["state"], "stopped")

    assert calls.targets(calls.off) == [FAN]


@pytest.mark.parametrize("material", ["petg", " Pla ", "PETG"])
async def test_material_names_match_whatever_their_case(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls, material: str
) -> None:
    hass.states.async_set(printer["material"], material)
    await _create(hass, printer)

    await _set(hass, printer["state"], "printing")

    assert calls.targets(calls.on) == [FAN]


async def test_user_lists_match_whatever_their_case(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls
) -> None:
    hass.states.async_set(printer["material"], "TPU")
    await _create(hass, printer, ventilated_materials=["tpu"], closed_materials=[])

    await _set(hass, printer["state"], "printing")

    assert calls.targets(calls.on) == [FAN]


async def test_closed_material_print_never_ventilates(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set(printer["material"], "ASA")
    await _create(hass, printer)

    await _set(hass, printer["state"], "printing")
    await _set(hass, printer["state"], "finished")
    await async_advance(hass, freezer, timedelta(minutes=10))

    assert calls.none()


async def test_closed_material_print_stops_a_running_fan(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls
) -> None:
    await _create(hass, printer)
    await _set(hass, FAN, "on")  # still running on after a PLA print
    await _set(hass, printer["material"], "ABS")

    assert calls.targets(calls.off) == [FAN]
    await _set(hass, FAN, "off")
    await _set(hass, printer["state"], "printing")

    assert len(calls.off) == 1  # already off
    assert not calls.on


async def test_a_material_in_both_lists_stays_closed(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls
) -> None:
    hass.states.async_set(printer["material"], "PETG")
    await _create(hass, printer, closed_materials=["PETG"])

    await _set(hass, printer["state"], "printing")

    assert calls.none()


async def test_unlisted_material_is_left_alone(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set(printer["material"], "TPU")
    await _create(hass, printer)

    await _set(hass, printer["state"], "printing")
    await _set(hass, printer["material"], "unknown")
    await _set(hass, FAN, "on")  # the user's own choice for TPU
    await _set(hass, printer["material"], "TPU")

    assert calls.none()


async def test_changing_filament_while_idle_does_nothing(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _create(hass, printer)

    await _set(hass, printer["material"], "PETG")
    await _set(hass, printer["state"], "busy")
    await _set(hass, printer["state"], "idle")
    await async_advance(hass, freezer, timedelta(minutes=6))

    assert calls.none()


async def test_hot_enclosure_ventilates_a_loaded_pla_between_prints(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set(TEMPERATURE, "30")
    await _create(hass, printer, temperature_sensor=TEMPERATURE, temperature_ceiling=40)
    await async_advance(hass, freezer, timedelta(minutes=10))

    await _set(hass, TEMPERATURE, "41.5")
    assert calls.targets(calls.on) == [FAN]
    await _set(hass, FAN, "on")

    await _set(hass, TEMPERATURE, "38")
    assert calls.targets(calls.off) == [FAN]


async def test_hot_enclosure_keeps_the_fan_on_after_run_on(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set(TEMPERATURE, "30")
    await _create(hass, printer, temperature_sensor=TEMPERATURE, temperature_ceiling=40)
    await _set(hass, printer["state"], "printing")
    await _set(hass, FAN, "on")
    await _set(hass, TEMPERATURE, "45")
    await _set(hass, printer["state"], "finished")

    await async_advance(hass, freezer, timedelta(minutes=6))
    assert not calls.off

    await _set(hass, TEMPERATURE, "39")
    assert calls.targets(calls.off) == [FAN]


async def test_cooling_down_during_run_on_waits_for_run_on(
    hass: HomeAssistant,
    printer: FakePrinter,
    calls: Calls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set(TEMPERATURE, "45")
    await _create(hass, printer, temperature_sensor=TEMPERATURE, temperature_ceiling=40)
    await _set(hass, printer["state"], "printing")
    await _set(hass, FAN, "on")
    await _set(hass, printer["state"], "finished")

    await _set(hass, TEMPERATURE, "35")
    assert not calls.off

    await async_advance(hass, freezer, timedelta(minutes=5, seconds=1))
    assert calls.targets(calls.off) == [FAN]


async def test_hot_enclosure_never_ventilates_a_closed_material(
    hass: HomeAssistant, printer: FakePrinter, calls: Calls
) -> None:
    hass.states.async_set(TEMPERATURE, "30")
    hass.states.async_set(printer["material"], "ASA")
    await _create(hass, printer, temperature_sensor=TEMPERATURE, temperature_ceiling=40)

    await _set(hass, printer["state"], "printing")
    await _set(hass, TEMPERATURE, "55")

    assert calls.none()
