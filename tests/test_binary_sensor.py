"""Binary sensors: is the printer printing, does it need help."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from simulators.prusalink import PrusaLinkSimulator

from .common import NEXT_POLL, advance

PRINTING = "binary_sensor.prusa_mk4s_printing"
PROBLEM = "binary_sensor.prusa_mk4s_problem"


@pytest.fixture(autouse=True)
def only_binary_sensors() -> Generator[None]:
    """Set up the binary sensor platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.BINARY_SENSOR]):
        yield


async def test_binary_sensors_while_printing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-03-01T12:00:00+00:00")
    printer.start_job()
    printer.advance(600)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_printing_is_on_only_while_the_printer_prints(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    assert hass.states.get(PRINTING).state == STATE_OFF
    printer.start_job(duration=600)
    await advance(hass, freezer, 31)
    assert hass.states.get(PRINTING).state == STATE_ON
    printer.pause()
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(PRINTING).state == STATE_OFF
    printer.resume()
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(PRINTING).state == STATE_ON
    printer.advance(600)
    await advance(hass, freezer, NEXT_POLL)
    assert printer.state == "FINISHED"
    assert hass.states.get(PRINTING).state == STATE_OFF


@pytest.mark.parametrize("state", ["ERROR", "ATTENTION"])
async def test_problem_is_on_in_error_and_attention(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    state: str,
) -> None:
    printer.start_job()
    await advance(hass, freezer, 31)
    assert hass.states.get(PROBLEM).state == STATE_OFF

    printer.set_state(state)
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(PROBLEM).state == STATE_ON
    assert hass.states.get(PRINTING).state == STATE_OFF

    printer.set_state("PRINTING")  # the user fixed it and pressed continue
    await advance(hass, freezer, 31)
    assert hass.states.get(PROBLEM).state == STATE_OFF


@pytest.mark.parametrize("state", ["IDLE", "BUSY", "FINISHED", "STOPPED", "PAUSED"])
async def test_no_problem_in_ordinary_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    state: str,
) -> None:
    printer.start_job()
    printer.set_state(state)
    await advance(hass, freezer, 31)
    assert hass.states.get(PROBLEM).state == STATE_OFF


async def test_offline_printer_is_neither_printing_nor_ok_but_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await printer.go_offline()
    await advance(hass, freezer, 31)
    assert hass.states.get(PRINTING).state == STATE_UNAVAILABLE
    assert hass.states.get(PROBLEM).state == STATE_UNAVAILABLE
