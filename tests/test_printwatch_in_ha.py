"""PrintWatch watching a real print in Home Assistant: what it is told about the print."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_PRINTWATCH_API_KEY,
    CONF_PRINTWATCH_URL,
    CONF_SNAPSHOT_URL,
)
from simulators.printwatch import PrintWatchSimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from .test_detection import _pauses, _print_for

PRINTWATCH_KEY = "pw_in_ha_secret_5566"


@pytest.fixture
async def printwatch(socket_enabled: None) -> AsyncGenerator[PrintWatchSimulator]:
    """The PrintWatch simulator, without score noise."""
    sim = PrintWatchSimulator(api_key=PRINTWATCH_KEY, noise=0)
    await sim.start()
    yield sim
    await sim.stop()


async def test_printwatch_is_told_the_real_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    printwatch: PrintWatchSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """State, job name, progress and times come from the printer, not constants."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_DETECTOR: "printwatch",
            CONF_PRINTWATCH_API_KEY: PRINTWATCH_KEY,
            CONF_PRINTWATCH_URL: printwatch.url,
            CONF_CHECK_INTERVAL: 20,
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    printer.start_job(display_name="benchy_0.4n_0.2mm_PLA.bgcode", duration=3600)
    printer.set_scene(Scene(0))

    await _print_for(hass, freezer, printer, 300)

    payloads = [r.payload for r in printwatch.requests if r.payload is not None]
    assert len(payloads) >= 5
    last = payloads[-1]
    assert last["state"] == 0  # printing
    assert last["job_name"] == "benchy_0.4n_0.2mm_PLA.bgcode"
    assert 0 < last["progress"] < 100
    assert last["printTime"] > 0
    assert last["printTimeLeft"] > 0
    assert _pauses(printer) == 0
