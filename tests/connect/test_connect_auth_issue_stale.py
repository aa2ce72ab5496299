"""A new token pasted (options saved) while the printer is idle: the old token's
repair issue goes with the reload."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import hashlib

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
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
from custom_components.print_sentinel.prusa_connect import auth_issue_id
from simulators.prusa_connect import PrusaConnectSimulator
from simulators.prusalink import PrusaLinkSimulator

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


async def test_a_new_token_while_idle_drops_the_old_tokens_repair(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    connect_sim: PrusaConnectSimulator,
    fake_camera: FakeCamera,
) -> None:
    printer.start_job()
    mock_config_entry.add_to_hass(hass)
    options = {
        CONF_CONNECT_ENABLED: True,
        CONF_CONNECT_TOKEN: "wrong-token-123",
        CONF_CONNECT_FINGERPRINT: FINGERPRINT,
        CONF_CONNECT_CAMERA: CAMERA,
        CONF_CONNECT_URL: connect_sim.url,
        CONF_CONNECT_INTERVAL: 10,
        CONF_CONNECT_ONLY_PRINTING: True,
    }
    hass.config_entries.async_update_entry(mock_config_entry, options=options)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, 10)
    issue_id = auth_issue_id(mock_config_entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    printer.idle()
    for _ in range(10):
        await advance(hass, freezer, 10)
    # the user pastes the right token; saving the options reloads the entry
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**options, CONF_CONNECT_TOKEN: TOKEN}
    )
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(60):  # ten idle minutes
        await advance(hass, freezer, 10)
    uploader = mock_config_entry.runtime_data.connect_uploader
    assert uploader is not None and not uploader.auth_failed
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None, (
        "the 'token rejected' repair still shows after the token was fixed"
    )
