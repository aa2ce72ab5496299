"""Device conditions: printing, paused, idle and problem, from the State sensor."""

from __future__ import annotations

from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.print_sentinel.const import DOMAIN

from . import RegisteredPrinter, register_printer

CONDITION_TYPES = ("is_printing", "is_paused", "is_idle", "has_problem")

# printer state -> the conditions that hold
EXPECTED = {
    "printing": {"is_printing"},
    "paused": {"is_paused"},
    "idle": {"is_idle"},
    "ready": {"is_idle"},
    "finished": {"is_idle"},
    "stopped": {"is_idle"},
    "error": {"has_problem"},
    "attention": {"has_problem"},
    "busy": set(),
    "unknown": set(),
    "unavailable": set(),
}


@pytest.fixture
def printer(hass: HomeAssistant) -> RegisteredPrinter:
    """A registered printer."""
    return register_printer(hass)


@pytest.fixture
def calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture which automations passed their condition."""
    return async_mock_service(hass, "test", "automation")


async def _automate(hass: HomeAssistant, device_id: str) -> None:
    """One automation per condition, all triggered by the same test event."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": {"trigger": "event", "event_type": "check"},
                    "conditions": {
                        "condition": "device",
                        "domain": DOMAIN,
                        "device_id": device_id,
                        "type": condition_type,
                    },
                    "actions": {
                        "action": "test.automation",
                        "data": {"type": condition_type},
                    },
                }
                for condition_type in CONDITION_TYPES
            ]
        },
    )
    await hass.async_block_till_done()


async def _holding(hass: HomeAssistant, calls: list[ServiceCall]) -> set[str]:
    calls.clear()
    hass.bus.async_fire("check")
    await hass.async_block_till_done()
    return {c.data["type"] for c in calls}


async def test_printer_offers_every_condition(
    hass: HomeAssistant, printer: RegisteredPrinter
) -> None:
    conditions = await async_get_device_automations(
        hass, DeviceAutomationType.CONDITION, [printer.device_id]
    )

    assert sorted(c["type"] for c in conditions[printer.device_id]) == sorted(
        CONDITION_TYPES
    )
    assert all(
        c
        == {
            "condition": "device",
            "domain": DOMAIN,
            "device_id": printer.device_id,
            "type": c["type"],
            "metadata": {},
        }
        for c in conditions[printer.device_id]
    )


async def test_device_without_state_sensor_offers_no_condition(
    hass: HomeAssistant,
) -> None:
    printer = register_printer(hass, keys=(("event", "print_job"),))

    conditions = await async_get_device_automations(
        hass, DeviceAutomationType.CONDITION, [printer.device_id]
    )

    assert conditions[printer.device_id] == []


async def test_conditions_follow_the_printer_state(
    hass: HomeAssistant, printer: RegisteredPrinter, calls: list[ServiceCall]
) -> None:
    await _automate(hass, printer.device_id)

    for state, holding in EXPECTED.items():
        hass.states.async_set(printer.entity_ids["state"], state)
        assert await _holding(hass, calls) == holding, state


async def test_no_state_yet_means_no_condition_holds(
    hass: HomeAssistant, printer: RegisteredPrinter, calls: list[ServiceCall]
) -> None:
    await _automate(hass, printer.device_id)

    assert await _holding(hass, calls) == set()


async def test_conditions_survive_renaming_the_state_sensor(
    hass: HomeAssistant, printer: RegisteredPrinter, calls: list[ServiceCall]
) -> None:
    await _automate(hass, printer.device_id)
    er.async_get(hass).async_update_entity(
        printer.entity_ids["state"], new_entity_id="sensor.workshop_printer"
    )
    await hass.async_block_till_done()

    hass.states.async_set("sensor.workshop_printer", "paused")

    assert await _holding(hass, calls) == {"is_paused"}


async def test_other_sensors_of_the_printer_are_not_read(
    hass: HomeAssistant, printer: RegisteredPrinter, calls: list[ServiceCall]
) -> None:
    await _automate(hass, printer.device_id)
    hass.states.async_set(printer.entity_ids["state"], "idle")

    hass.states.async_set(printer.entity_ids["job_name"], "printing")

    assert await _holding(hass, calls) == {"is_idle"}


async def test_printer_removed_means_no_condition_holds(
    hass: HomeAssistant, printer: RegisteredPrinter, calls: list[ServiceCall]
) -> None:
    await _automate(hass, printer.device_id)
    hass.states.async_set(printer.entity_ids["state"], "printing")

    er.async_get(hass).async_remove(printer.entity_ids["state"])
    await hass.async_block_till_done()

    assert await _holding(hass, calls) == set()


async def test_entry_without_unique_id_still_finds_the_state_sensor(
    hass: HomeAssistant, calls: list[ServiceCall]
) -> None:
    printer = register_printer(hass, serial=None)
    await _automate(hass, printer.device_id)

    hass.states.async_set(printer.entity_ids["state"], "error")

    assert await _holding(hass, calls) == {"has_problem"}
