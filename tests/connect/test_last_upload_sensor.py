"""The "Last Prusa Connect upload" sensor, through the integration.

A config entry for the simulated PrusaLink printer, with Prusa Connect upload turned
on in its options (the printer's own camera, pointed at the printer simulator's
snapshot URL, uploading to the Prusa Connect simulator). Time moves with the freezer;
the sensor must show when the last snapshot reached Connect and never the camera's
token or fingerprint.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
import hashlib
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
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
    CONF_SNAPSHOT_URL,
    DOMAIN,
)
from simulators.prusa_connect import PrusaConnectSimulator
from simulators.prusalink import PrusaLinkSimulator
from tests.common import advance
from tests.conftest import PRINTER_SERIAL

TOKEN = "tok-sensor-5c1e8a2f9b47d3"
FINGERPRINT = hashlib.sha256(b"print-sentinel-sensor-test").hexdigest()
INTERVAL = 10


@pytest.fixture
async def connect_sim(socket_enabled: None) -> AsyncGenerator[PrusaConnectSimulator]:
    """A running Prusa Connect simulator that knows TOKEN."""
    sim = PrusaConnectSimulator(tokens={TOKEN})
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def connect_entry(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    connect_sim: PrusaConnectSimulator,
) -> MockConfigEntry:
    """The printer's entry, set up, then reloaded with Connect upload turned on.

    As a user does it: the printer's camera exists once the entry is set up; the
    options then name it for Connect, and saving the options reloads the entry.
    """
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SNAPSHOT_URL: printer.snapshot_url}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    camera = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{PRINTER_SERIAL}_camera"
    )
    assert camera is not None
    assert _sensor_id(hass) is None  # no upload, no sensor

    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            **mock_config_entry.options,
            CONF_CONNECT_ENABLED: True,
            CONF_CONNECT_TOKEN: TOKEN,
            CONF_CONNECT_FINGERPRINT: FINGERPRINT,
            CONF_CONNECT_CAMERA: camera,
            CONF_CONNECT_URL: connect_sim.url,
            CONF_CONNECT_INTERVAL: INTERVAL,
            CONF_CONNECT_ONLY_PRINTING: False,
        },
    )
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.connect_uploader is not None
    return mock_config_entry


def _sensor_id(hass: HomeAssistant) -> str | None:
    """The entity id of the Connect upload sensor, if it exists."""
    return er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{PRINTER_SERIAL}_connect_last_upload"
    )


def _state(hass: HomeAssistant) -> State:
    entity_id = _sensor_id(hass)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def _shown(when: datetime) -> datetime:
    """A time as a timestamp sensor's state holds it (whole seconds)."""
    return when.replace(microsecond=0)


def _assert_no_secrets(state: State) -> None:
    """Neither the token nor the fingerprint is in the state or its attributes."""
    shown: dict[str, Any] = {"state": state.state, **state.attributes}
    text = repr(shown)
    for secret in (TOKEN, FINGERPRINT):
        assert secret not in text
        assert secret[:16] not in text  # not even shortened


async def test_last_upload_sensor_shows_the_upload_time(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    connect_entry: MockConfigEntry,
) -> None:
    uploader = connect_entry.runtime_data.connect_uploader
    assert uploader is not None
    state = _state(hass)
    assert state.state == STATE_UNKNOWN
    assert state.attributes["device_class"] == "timestamp"
    assert state.attributes["uploads"] == 0
    assert state.attributes["last_error"] is None
    _assert_no_secrets(state)

    await advance(hass, freezer, INTERVAL)
    uploaded_at = dt_util.utcnow()

    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1
    assert uploader.last_success == uploaded_at
    state = _state(hass)
    assert dt_util.parse_datetime(state.state) == _shown(uploaded_at)
    assert state.state == uploaded_at.isoformat(timespec="seconds")
    assert state.attributes["uploads"] == 1
    assert state.attributes["last_error"] is None
    _assert_no_secrets(state)

    # the next upload moves the time on
    await advance(hass, freezer, INTERVAL)
    second: datetime = dt_util.utcnow()
    assert second > uploaded_at
    state = _state(hass)
    assert dt_util.parse_datetime(state.state) == _shown(second)
    assert state.attributes["uploads"] == 2
    _assert_no_secrets(state)


async def test_last_upload_sensor_keeps_the_time_through_errors(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    connect_entry: MockConfigEntry,
) -> None:
    await advance(hass, freezer, INTERVAL)
    uploaded_at = dt_util.utcnow()

    # an outage: the error is shown, the last good upload stays the state
    connect_sim.fail_500 = True
    await advance(hass, freezer, INTERVAL)
    state = _state(hass)
    assert dt_util.parse_datetime(state.state) == _shown(uploaded_at)
    assert state.attributes["uploads"] == 1
    assert "500" in state.attributes["last_error"]
    _assert_no_secrets(state)

    # Connect refuses the token: upload stops, the message names no secret
    connect_sim.fail_500 = False
    connect_sim.force_status = 401
    await advance(hass, freezer, 2 * INTERVAL)  # past the back-off
    uploader = connect_entry.runtime_data.connect_uploader
    assert uploader is not None
    assert uploader.auth_failed
    assert "401" in (uploader.last_error or "")
    assert uploader.uploads == 1
    # nothing is uploaded until the token is fixed: the sensor says so
    state = _state(hass)
    assert state.state == STATE_UNAVAILABLE
    _assert_no_secrets(state)
