"""Polling: adaptive cadence, request budget, outages and odd firmware answers."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.prusalink import PrusaLinkSimulator

from .common import advance

STATE = "sensor.prusa_mk4s_printer_state"
NOZZLE = "sensor.prusa_mk4s_nozzle_temperature"
SPEED = "sensor.prusa_mk4s_print_speed"
MATERIAL = "sensor.prusa_mk4s_material"
JOB = "sensor.prusa_mk4s_job_name"


def _problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings and errors our integration logged (not HA's or asyncio's)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno >= 30
    ]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records at WARNING or above that carry a traceback."""
    return [r.getMessage() for r in caplog.records if r.levelno >= 30 and r.exc_info]


def _paths(printer: PrusaLinkSimulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in printer.requests]


async def test_idle_printer_is_polled_every_30_seconds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.requests.clear()
    await advance(hass, freezer, 25)
    assert _paths(printer) == []
    await advance(hass, freezer, 6)
    assert _paths(printer) == ["GET /api/v1/status"]


async def test_printing_is_polled_every_10_seconds_with_one_request(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.start_job(
        display_name="Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode", material="PETG"
    )
    await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == "printing"
    assert hass.states.get(JOB).state == "Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode"
    assert hass.states.get(MATERIAL).state == "PETG"

    printer.requests.clear()
    for _ in range(6):  # a minute of a steady print
        printer.advance(10)
        await advance(hass, freezer, 10.1)
    # one status request per cycle: the job and material are not re-read
    assert _paths(printer) == ["GET /api/v1/status"] * 6

    printer.pause()  # from the printer's own screen
    await advance(hass, freezer, 10.1)
    assert hass.states.get(STATE).state == "paused"


async def test_offline_printer_goes_unavailable_logs_once_and_recovers(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert hass.states.get(NOZZLE).state != STATE_UNAVAILABLE
    await printer.go_offline()
    caplog.clear()
    for _ in range(5):
        await advance(hass, freezer, 31)
    assert hass.states.get(NOZZLE).state == STATE_UNAVAILABLE
    assert hass.states.get(STATE).state == STATE_UNAVAILABLE
    assert len(_problems(caplog)) == 1, _problems(caplog)

    caplog.clear()
    await printer.come_back()
    await advance(hass, freezer, 31)
    assert hass.states.get(NOZZLE).state != STATE_UNAVAILABLE
    assert [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()]
    assert _problems(caplog) == []


async def test_malformed_json_makes_entities_unavailable_without_traceback(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer.faults.malformed_json = True
    caplog.clear()
    for _ in range(3):
        await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == STATE_UNAVAILABLE
    assert _tracebacks(caplog) == []
    assert len(_problems(caplog)) == 1
    printer.faults.malformed_json = False
    await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == "idle"


async def test_unknown_state_shows_unknown_and_is_logged_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer.set_state("HEATING_UP")
    for _ in range(3):
        await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == "unknown"
    assert caplog.text.count("HEATING_UP") == 1
    printer.set_state("UNKNOWN")
    await advance(hass, freezer, 31)
    assert hass.states.get(STATE).state == "unknown"
    assert caplog.text.count("does not know") == 1


async def test_fields_the_firmware_omits_become_unknown(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert hass.states.get(SPEED).state == "100"
    printer.faults.omit_optional = True
    await advance(hass, freezer, 31)
    assert hass.states.get(SPEED).state == STATE_UNKNOWN
    assert hass.states.get(NOZZLE).state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    assert _tracebacks(caplog) == []


async def test_no_material_loaded_is_unknown_and_refreshes_slowly(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.set_material("PLA")
    await advance(hass, freezer, 601)
    assert hass.states.get(MATERIAL).state == "PLA"
    printer.set_material(None)
    await advance(hass, freezer, 31)
    # the loaded material is re-read every 10 minutes, not on every poll
    assert hass.states.get(MATERIAL).state == "PLA"
    await advance(hass, freezer, 601)
    assert hass.states.get(MATERIAL).state == STATE_UNKNOWN
    printer.set_material("ASA")
    await advance(hass, freezer, 601)
    assert hass.states.get(MATERIAL).state == "ASA"


async def test_password_changed_while_running_starts_reauth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.faults.unauthorized = True
    await advance(hass, freezer, 31)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
