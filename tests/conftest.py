"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Import the integration before Home Assistant looks for it, or HA searches the test
# plugin's own testing_config/custom_components and reports "Integration not found".
import custom_components.print_sentinel  # noqa: F401
from custom_components.print_sentinel.const import (
    CONF_PRINTER_TYPE,
    DOMAIN,
    PRINTER_TYPE_PRUSALINK,
)
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator

PRINTER_PASSWORD = "sim-Secret-pw-4711"
VISION_API_KEY = "sk-test-Sentinel-4b1d9e"
PRINTER_SERIAL = "10589-3742441634512345"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load custom integrations in every test."""
    yield


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config folder (blueprints are installed there)."""
    return hass_tmp_config_dir


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled (snapshot tests)."""
    with patch.object(
        Entity,
        "entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialise snapshots the Home Assistant way, into `tests/snapshots/`.

    syrupy's plugin registers after phcc's, and its plain `snapshot` wins otherwise.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def printer(socket_enabled: None) -> AsyncGenerator[PrusaLinkSimulator]:
    """A simulated Prusa MK4S with PrusaLink on a free loopback port."""
    sim = PrusaLinkSimulator(PRINTER_PASSWORD, serial=PRINTER_SERIAL)
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()


@pytest.fixture
async def vision(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """The OpenAI-compatible simulator, without random false positives."""
    sim = OpenAISimulator(VISION_API_KEY, seed=1, false_positive_rate=0.0)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def mock_config_entry(printer: PrusaLinkSimulator) -> MockConfigEntry:
    """A config entry for the simulated printer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Prusa MK4S",
        unique_id=PRINTER_SERIAL,
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration for the simulated printer."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry
