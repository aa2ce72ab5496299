"""Sensors: every value a printer reports, and how they follow a print."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.print_sentinel.const import DOMAIN
from simulators.prusalink import PrusaLinkSimulator

from .common import NEXT_POLL, advance
from .conftest import PRINTER_SERIAL

BENCHY = "Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode"
FROZEN_NOW = "2026-03-01T12:00:00+00:00"

STATE = "sensor.prusa_mk4s_printer_state"
JOB = "sensor.prusa_mk4s_job_name"
PROGRESS = "sensor.prusa_mk4s_progress"
REMAINING = "sensor.prusa_mk4s_time_remaining"
FINISH = "sensor.prusa_mk4s_estimated_finish"
PRINTING_TIME = "sensor.prusa_mk4s_time_printing"
MATERIAL = "sensor.prusa_mk4s_material"
NOZZLE_TARGET = "sensor.prusa_mk4s_nozzle_target_temperature"
JOB_SENSORS = (JOB, PROGRESS, REMAINING, FINISH, PRINTING_TIME)


@pytest.fixture(autouse=True)
def only_sensors() -> Generator[None]:
    """Set up the sensor platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.SENSOR]):
        yield


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors_while_printing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to(FROZEN_NOW)
    printer.start_job(display_name=BENCHY, material="PETG", duration=3600)
    printer.advance(900)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_device_registry_entry(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), init_integration.entry_id
    )
    assert device is not None
    # the simulator's port changes on every run: the link must lead to the printer
    assert device.configuration_url == printer.url
    assert device == snapshot(exclude=props("configuration_url"))


async def test_fan_sensors_are_disabled_by_default(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    for entity_id in ("sensor.prusa_mk4s_hotend_fan", "sensor.prusa_mk4s_print_fan"):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(entity_id) is None


async def test_chamber_and_layer_sensors_exist_only_where_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    # PrusaLink reports neither a chamber temperature nor a layer number
    entity_ids = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            entity_registry, init_integration.entry_id
        )
    }
    assert "sensor.prusa_mk4s_chamber_temperature" not in entity_ids
    assert "sensor.prusa_mk4s_layer" not in entity_ids
    assert NOZZLE_TARGET in entity_ids


async def test_no_fan_percent_sensor_for_a_printer_reporting_rpm(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    # PrusaLink reports fan RPM and the material, never a fan's power in percent
    entity_ids = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            entity_registry, init_integration.entry_id
        )
    }
    assert "sensor.prusa_mk4s_fan_speed" not in entity_ids
    assert {
        "sensor.prusa_mk4s_hotend_fan",
        "sensor.prusa_mk4s_print_fan",
        MATERIAL,
    } <= entity_ids


async def test_sensors_follow_a_print_from_start_to_idle(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    freezer.move_to(FROZEN_NOW)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "idle"
    for entity_id in JOB_SENSORS:
        assert hass.states.get(entity_id).state == STATE_UNKNOWN, entity_id

    printer.start_job(display_name=BENCHY, material="PETG", duration=3600)
    await advance(hass, freezer, 31)  # 12:00:31
    assert hass.states.get(STATE).state == "printing"
    assert hass.states.get(JOB).state == BENCHY
    assert hass.states.get(MATERIAL).state == "PETG"
    assert hass.states.get(PROGRESS).state == "0.0"
    assert float(hass.states.get(REMAINING).state) == 60  # minutes
    assert hass.states.get(FINISH).state == "2026-03-01T13:00:00+00:00"
    assert float(hass.states.get(NOZZLE_TARGET).state) > 200

    printer.advance(1800)
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(PROGRESS).state == "50.0"
    assert float(hass.states.get(REMAINING).state) == 30
    assert float(hass.states.get(PRINTING_TIME).state) == 30
    assert hass.states.get(FINISH).state == "2026-03-01T12:30:00+00:00"

    printer.pause()
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(STATE).state == "paused"
    # paused, the print has no finish time; its job is still there
    assert hass.states.get(FINISH).state == STATE_UNKNOWN
    assert hass.states.get(PROGRESS).state == "50.0"

    printer.resume()
    printer.advance(1800)
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(STATE).state == "finished"
    assert hass.states.get(PROGRESS).state == "100.0"
    assert hass.states.get(FINISH).state == STATE_UNKNOWN

    printer.advance(300)  # the result screen goes away: IDLE without a job
    await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == "idle"
    for entity_id in JOB_SENSORS:
        assert hass.states.get(entity_id).state == STATE_UNKNOWN, entity_id
    # the filament stays loaded after the job
    assert hass.states.get(MATERIAL).state == "PETG"


async def test_a_new_job_replaces_name_and_material(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.start_job(display_name=BENCHY, material="PETG")
    await advance(hass, freezer, 31)
    assert hass.states.get(JOB).state == BENCHY
    printer.cancel()
    printer.idle()
    printer.start_job(display_name="Box_0.4n_0.2mm_ASA_MK4S_2h.bgcode", material="ASA")
    await advance(hass, freezer, NEXT_POLL)
    assert hass.states.get(JOB).state == "Box_0.4n_0.2mm_ASA_MK4S_2h.bgcode"
    assert hass.states.get(MATERIAL).state == "ASA"


async def test_long_job_name_is_cut_without_a_warning_from_home_assistant(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 5,000-character name: HA would log 'longer than 255' on every poll."""
    printer.start_job(display_name="A" * 5_000 + ".bgcode", duration=3600)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(3):
        printer.advance(6)
        await advance(hass, freezer, NEXT_POLL)

    state = hass.states.get(JOB).state
    assert len(state) == 255
    assert state.startswith("AAAA")
    assert state.endswith("\u2026")
    assert "longer than 255" not in caplog.text


async def test_estimated_finish_ignores_jitter_and_follows_a_real_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Seconds of jitter across a minute never change the state; minutes do."""
    freezer.move_to(FROZEN_NOW)
    printer.start_job(display_name=BENCHY, duration=3600)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(FINISH).state == "2026-03-01T13:00:00+00:00"
    changes: list[str] = []
    hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        lambda event: (
            changes.append(event.data["new_state"].state)
            if event.data["entity_id"] == FINISH
            else None
        ),
    )

    for _ in range(4):
        printer.advance(9)  # the estimate: 12:59:57
        await advance(hass, freezer, NEXT_POLL)
        printer.advance(3)  # and back: 13:00:00
        await advance(hass, freezer, NEXT_POLL)
    assert changes == []
    assert hass.states.get(FINISH).state == "2026-03-01T13:00:00+00:00"

    printer.advance(300)  # the printer now expects the end five minutes earlier
    await advance(hass, freezer, NEXT_POLL)
    assert changes == ["2026-03-01T12:55:00+00:00"]
