"""'Only while printing': a printer that cannot be reached mid-print is not
known to print, so nothing is uploaded."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import hashlib

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_CONNECT_URL,
    DOMAIN,
)
from simulators.prusa_connect import PrusaConnectSimulator
from simulators.prusalink import PrusaLinkSimulator
from tests.conftest import PRINTER_SERIAL

from ..common import advance
from .test_prusa_connect import CAMERA, FakeCamera

TOKEN = "tok-test-5c1e8a2f9b47d3"
FINGERPRINT = hashlib.sha256(b"camera").hexdigest()


@pytest.fixture
async def connect_sim(socket_enabled: None) -> AsyncGenerator[PrusaConnectSimulator]:
    sim = PrusaConnectSimulator(tokens={TOKEN})
    await sim.start()
    yield sim
    await sim.stop()


async def test_only_printing_stops_while_the_printer_is_unreachable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    connect_sim: PrusaConnectSimulator,
    fake_camera: FakeCamera,
) -> None:
    printer.start_job()
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            CONF_CONNECT_ENABLED: True,
            CONF_CONNECT_TOKEN: TOKEN,
            CONF_CONNECT_FINGERPRINT: FINGERPRINT,
            CONF_CONNECT_CAMERA: CAMERA,
            CONF_CONNECT_URL: connect_sim.url,
            CONF_CONNECT_INTERVAL: 10,
            CONF_CONNECT_ONLY_PRINTING: True,
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, 10)
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1

    # the printer is switched off (smart plug) mid-print
    await printer.go_offline()
    for _ in range(6):
        await advance(hass, freezer, 10)
    ent = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{PRINTER_SERIAL}_state"
    )
    st = hass.states.get(ent) if ent else None
    print("printer state entity", ent, st.state if st else None)
    # an hour later
    for _ in range(360):
        await advance(hass, freezer, 10)
    n = len(connect_sim.snapshots(TOKEN, FINGERPRINT))
    print("snapshots uploaded while the printer was off:", n - 1)
    assert n <= 2, n
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    after = len(connect_sim.requests)
    for _ in range(5):
        await advance(hass, freezer, 10)
    assert len(connect_sim.requests) == after
